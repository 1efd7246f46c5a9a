"""Drawing a 2-D point set into matplotlib axes, for :func:`~densumap.plot.points`.

:func:`draw_points` draws a scatter plot, or, when there are many points for the
axes' size, an image aggregated per pixel, so that tens of thousands of points
do not hide each other: with datashader when it is installed, otherwise with
NumPy (:func:`_numpy_image`, the same contract). Both shade a pixel by how many
points it holds, histogram-equalised (:func:`eq_hist`), and colour it by the
mean colour or value of its points. :func:`place_axes` lays out axes (and a
colour bar's axes) with margins fixed in pixels.
"""
import logging

import numpy as np

from . import _common

logger = logging.getLogger(__name__)

_MIN_ALPHA = 0.4  # opacity of the sparsest non-empty pixel in aggregated images
_MIN_ALPHA_VALUES = 0.6  # the same when colouring by values


# --------------------------------------------------------------------------- aggregation


def eq_hist(x):
    """Histogram-equalise positive values: rank among them, in [0, 1].

    The sparsest level maps to 0 and the densest to 1, with levels spaced by how
    many pixels hold them, so both the faint outskirts and the detail inside
    dense clusters stay visible (like datashader's ``how='eq_hist'``).
    """
    levels, inverse, freq = np.unique(x, return_inverse=True, return_counts=True)
    if len(levels) == 1:
        return np.ones(x.shape)
    cdf = np.cumsum(freq) / x.size
    return (cdf[inverse] - cdf[0]) / (1.0 - cdf[0])


def _numpy_image(xy, extent, nx, ny, mode, ramp, colors, codes, values, cmap, norm):
    """RGBA image of shape (ny, nx, 4), row 0 at the bottom, by 2-D binning."""
    x0, x1, y0, y1 = extent
    ix = np.clip(((xy[:, 0] - x0) / (x1 - x0) * nx).astype(np.intp), 0, nx - 1)
    iy = np.clip(((xy[:, 1] - y0) / (y1 - y0) * ny).astype(np.intp), 0, ny - 1)
    flat = iy * nx + ix
    npix = nx * ny
    count = np.bincount(flat, minlength=npix)
    hit = count > 0
    t = eq_hist(count[hit])

    rgb = np.zeros((hit.sum(), 3))
    if mode == "labels":
        # Mean colour of the points in each pixel: a pixel shared by two
        # categories shows their mixture, weighted by how many of each it holds.
        point_rgb = colors[codes]
        for c in range(3):
            rgb[:, c] = np.bincount(flat, weights=point_rgb[:, c], minlength=npix)[hit]
        rgb /= count[hit, None]
    elif mode == "values":
        finite = np.isfinite(values)
        n_ok = np.bincount(flat[finite], minlength=npix)[hit]
        total = np.bincount(flat[finite], weights=values[finite], minlength=npix)[hit]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / n_ok
        rgb = np.asarray(cmap(norm(np.ma.masked_invalid(mean))))[:, :3]
    else:
        rgb = ramp(t)

    image = np.zeros((npix, 4))
    image[hit, :3] = rgb
    # With values the colour is the message, so opacity varies less.
    min_alpha = _MIN_ALPHA_VALUES if mode == "values" else _MIN_ALPHA
    image[hit, 3] = min_alpha + (1.0 - min_alpha) * t
    return image.reshape(ny, nx, 4)


def _datashader_image(modules, xy, extent, nx, ny, mode, ramp, colors, codes, values, cmap, norm):
    """Same contract as :func:`_numpy_image`, computed with datashader."""
    import pandas as pd
    from matplotlib.colors import to_hex

    ds, tf = modules
    x0, x1, y0, y1 = extent
    canvas = ds.Canvas(plot_width=nx, plot_height=ny, x_range=(x0, x1), y_range=(y0, y1))
    df = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1]})
    min_alpha = int(round(255 * _MIN_ALPHA))
    if mode == "labels":
        df["label"] = pd.Categorical(codes, categories=np.arange(len(colors)))
        agg = canvas.points(df, "x", "y", agg=ds.count_cat("label"))
        img = tf.shade(
            agg, color_key=[to_hex(c) for c in colors], how="eq_hist", min_alpha=min_alpha
        )
    elif mode == "values":
        df["value"] = values
        agg = canvas.points(df, "x", "y", agg=ds.mean("value"))
        palette = [to_hex(c) for c in cmap(np.linspace(0, 1, 256))]
        img = tf.shade(agg, cmap=palette, how="linear", span=(norm.vmin, norm.vmax))
    else:
        agg = canvas.points(df, "x", "y", agg=ds.count())
        palette = [to_hex(c) for c in ramp(np.linspace(0, 1, 256))]
        img = tf.shade(agg, cmap=palette, how="eq_hist", min_alpha=min_alpha)
    rgba = np.asarray(img.data, dtype=np.uint32).view(np.uint8).reshape(ny, nx, 4)
    rgba = rgba.astype(np.float64) / 255.0
    # datashader's rows run from y_range[0] upwards already, like origin="lower".
    return rgba



# --------------------------------------------------------------------------- points


def place_axes(fig, width, height, colorbar):
    """Axes (and colour-bar axes) placed in pixels, so margins do not scale."""
    m = 6
    if not colorbar:
        return fig.add_axes([m / width, m / height, 1 - 2 * m / width, 1 - 2 * m / height]), None
    bar, gap, room = max(12, round(0.02 * width)), 8, 52  # room: the tick labels
    ax_w = width - 2 * m - gap - bar - room
    ax = fig.add_axes([m / width, m / height, ax_w / width, 1 - 2 * m / height])
    cax = fig.add_axes([(m + ax_w + gap) / width, 0.1, bar / width, 0.8], label="<colorbar>")
    return ax, cax


def data_extent(emb):
    lo, hi = emb.min(axis=0), emb.max(axis=0)
    span = hi - lo
    pad = np.where(span > 0, 0.02 * span, 0.5)
    (x0, y0), (x1, y1) = lo - pad, hi + pad
    return float(x0), float(x1), float(y0), float(y1)


def axes_pixels(ax):
    bbox = ax.get_window_extent()
    return max(int(round(bbox.width)), 1), max(int(round(bbox.height)), 1)


def draw_points(ax, emb, col, width, height, point_size, alpha, extent=None):
    """Draw the points into ``ax``: a scatter, or an aggregated image when many."""
    n = emb.shape[0]
    if n > width * height / 10:
        if extent is None:
            extent = data_extent(emb)
        nx, ny = axes_pixels(ax)
        args = (emb, extent, nx, ny, col.mode, col.ramp, col.colors, col.codes, col.vals,
                col.cmap, col.norm)
        modules = _common._import_datashader()
        if modules is not None:
            logger.debug("points(): aggregating %d points with datashader", n)
            image = _datashader_image(modules, *args)
        else:
            logger.debug("points(): aggregating %d points with NumPy", n)
            image = _numpy_image(*args)
        if alpha is not None:
            image[..., 3] *= alpha
        x0, x1, y0, y1 = extent
        ax.imshow(image, origin="lower", extent=extent, aspect="auto",
                  interpolation="nearest")
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        return
    if point_size is None:
        # umap.plot's size at 800 x 800, scaled with the figure's linear
        # size (scaling with its area makes small figures' points vanish).
        point_size = max(100.0 / np.sqrt(n) * np.sqrt(width * height) / 800, 0.5)
    if col.mode == "labels":
        c = col.colors[col.codes]
    elif col.mode == "values":
        c = col.vals
    else:
        c = col.ramp(np.array([0.6]))
    ax.scatter(
        emb[:, 0], emb[:, 1], s=point_size, c=c, cmap=col.cmap if col.mode == "values" else None,
        norm=col.norm, linewidths=0, plotnonfinite=True, alpha=alpha,
    )
    if extent is not None:
        ax.set_xlim(extent[0], extent[1])
        ax.set_ylim(extent[2], extent[3])
