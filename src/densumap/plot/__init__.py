"""Plotting for fitted embeddings, with the API of ``umap.plot``.

Static plots (matplotlib):

* :func:`points` -- the embedding coloured by labels, values or density; large
  inputs are aggregated per pixel (datashader when installed, else NumPy).
* :func:`connectivity` -- the fuzzy graph's edges over the embedding, straight or
  hammer-bundled (datashader).
* :func:`diagnostic` -- the embedding coloured by PCA / ICA / vector-quantisation
  colours, local dimension, or neighbourhood preservation.
* :func:`nearest_neighbour_distribution` -- histogram of kNN distances.
* :func:`density` -- how well a DensMAP model kept local density.

Interactive plots (Bokeh): :func:`interactive` builds a figure with hover data and
a text search; :func:`save_html` (or :func:`output_file` then :func:`show`) writes
one standalone HTML file that opens with no network.

``plt`` is ``matplotlib.pyplot``, imported on first use, so ``umap.plot.plt``
code runs and ``import densumap.plot`` imports neither matplotlib nor Bokeh.
"""
from ._connectivity import connectivity
from ._density import density
from ._diagnostics import diagnostic, nearest_neighbour_distribution
from ._interactive import interactive, output_file, output_notebook, save_html
from ._static import points, show
from ._themes import _THEMES

__all__ = [
    "points", "connectivity", "diagnostic", "nearest_neighbour_distribution", "density",
    "interactive", "show", "output_notebook", "output_file", "save_html", "plt",
]


def __getattr__(name):
    if name == "plt":
        from ._common import require

        return require("matplotlib.pyplot", "densumap.plot.plt")
    raise AttributeError(f"module 'densumap.plot' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
