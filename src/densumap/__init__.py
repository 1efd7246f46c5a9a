"""densumap: UMAP and DensMAP embeddings."""
__version__ = "0.1.0"
