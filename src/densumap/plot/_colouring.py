"""How points are coloured: by categorical labels, continuous values, or density.

:class:`Colouring` checks ``labels`` / ``values`` against the number of points
and resolves the colour maps once, for :func:`~densumap.plot.points` and
:func:`~densumap.plot.connectivity`; :func:`add_legend` and
:func:`add_colorbar` draw the key that goes with labels and values.
"""
import warnings

import numpy as np

from ._common import as_1d, encode_labels
from ._themes import category_colors, density_ramp, get_cmap

_MAX_LEGEND_ENTRIES = 30


def add_colorbar(ax, cmap, norm, fg, label=None, cax=None):
    import matplotlib.cm

    mappable = matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap)
    if cax is not None:
        cbar = ax.figure.colorbar(mappable, cax=cax)
    else:
        cbar = ax.figure.colorbar(mappable, ax=ax, fraction=0.046, pad=0.02)
    cbar.ax.tick_params(colors=fg, labelsize="small")
    cbar.outline.set_edgecolor(fg)
    if label:
        cbar.set_label(label, color=fg)
    return cbar


def add_legend(ax, categories, colors, background_rgb, fg):
    from matplotlib.lines import Line2D

    if len(categories) > _MAX_LEGEND_ENTRIES:
        warnings.warn(
            f"points(): {len(categories)} distinct labels are too many for a legend "
            f"(more than {_MAX_LEGEND_ENTRIES}); drawing none. Pass show_legend=False "
            "to silence this warning.",
            UserWarning,
            stacklevel=4,
        )
        return None
    handles = [
        Line2D([], [], marker="o", linestyle="", markersize=6, color=c, label=str(cat))
        for cat, c in zip(categories, colors)
    ]
    return ax.legend(
        handles=handles, loc="best", fontsize="small", frameon=True,
        facecolor=background_rgb, edgecolor=fg, labelcolor=fg, framealpha=0.8,
    )


class Colouring:
    """How points are coloured: by labels, by values, or by density ("plain")."""

    def __init__(self, n, labels, values, cmap, color_key, color_key_cmap, background_rgb,
                 mask=None, func="points"):
        from matplotlib.colors import Normalize

        if labels is not None and values is not None:
            raise ValueError(
                "Pass labels (categories, shown with a legend) or values (continuous, "
                "shown with a colour bar), not both."
            )
        self.mode, self.codes, self.categories, self.colors = "plain", None, None, None
        self.vals, self.norm = None, None
        cmap = get_cmap(cmap, "cmap")
        if labels is not None:
            self.mode = "labels"
            labels = as_1d(labels, "labels", n)
            if mask is not None:
                labels = labels[mask]
            self.categories, self.codes = encode_labels(labels)
            palette = get_cmap("Spectral" if color_key_cmap is None else color_key_cmap,
                               "color_key_cmap")
            self.colors = category_colors(self.categories, color_key, palette)
        elif values is not None:
            self.mode = "values"
            vals = as_1d(values, "values", n)
            if vals.dtype.kind not in "biuf":
                raise ValueError(
                    f"values must be numbers, got dtype {vals.dtype}; use labels= for "
                    "categories."
                )
            vals = vals.astype(np.float64)
            if mask is not None:
                vals = vals[mask]
            finite = vals[np.isfinite(vals)]
            lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
            self.norm = Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1.0)
            self.vals = vals
            cmap = cmap.with_extremes(bad="#bbbbbb")
        self.cmap = cmap
        self.ramp = density_ramp(cmap, background_rgb)
