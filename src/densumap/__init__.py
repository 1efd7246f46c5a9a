"""densumap: UMAP and DensMAP embeddings.

``import densumap as umap`` runs code written for umap-learn::

    mapper = densumap.UMAP(densmap=True, dens_lambda=2.0, random_state=42).fit(X)
    mapper.embedding_
"""
from .estimator import UMAP

__version__ = "0.1.0"
__all__ = ["UMAP", "__version__"]
