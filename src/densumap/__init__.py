"""densumap: UMAP and DensMAP embeddings.

``import densumap as umap`` runs code written for umap-learn::

    mapper = densumap.UMAP(densmap=True, dens_lambda=2.0, random_state=42).fit(X)
    mapper.embedding_
    densumap.save(mapper, "model.npz")     # arrays + JSON, no pickle
    mapper = densumap.load("model.npz")

Submodules and ``UMAP`` load on first use (PEP 562), so ``import densumap`` stays
fast and compiles nothing.
"""
import importlib

__version__ = "0.1.0"
__all__ = ["UMAP", "AlignedUMAP", "save", "load", "plot", "datasets", "__version__"]

_SUBMODULES = {"plot", "datasets", "estimator", "neighbors", "graph", "density", "init",
               "layout", "transform", "cli", "dask", "persist", "anndata", "partition",
               "aligned_umap", "alignment", "umap_", "utils", "compose", "update",
               "output_metric"}


def __getattr__(name):
    if name == "UMAP":
        from .estimator import UMAP

        return UMAP
    if name == "AlignedUMAP":
        from .aligned_umap import AlignedUMAP

        return AlignedUMAP
    if name in ("save", "load"):
        from . import persist

        return getattr(persist, name)
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'densumap' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
