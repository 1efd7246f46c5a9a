"""Static (matplotlib) plots: points, connectivity, the DensMAP density figure, show.

* :func:`points` draws a 2-D embedding, coloured by categorical ``labels`` (with a
  legend) or continuous ``values`` (with a colour bar). Large inputs are drawn by
  density aggregation at pixel resolution, so tens of thousands of points do not
  hide each other: with datashader when it is installed, otherwise with NumPy.
* :func:`connectivity` draws the fuzzy graph's edges over the embedding.
* :func:`density` shows how well a DensMAP model kept the local density of the
  data (models fitted with ``output_dens=True``).
"""
import logging
import warnings

import numpy as np

from . import _common
from ._common import (
    _DPI, add_caption, as_1d, check_2d, check_alpha, check_size, embedding_of,
    encode_labels, new_figure, style_axes, subset_mask,
)
from ._themes import (
    category_colors, check_theme, density_ramp, foreground, get_cmap, to_rgb,
)

logger = logging.getLogger(__name__)

_MIN_ALPHA = 0.4  # opacity of the sparsest non-empty pixel in aggregated images
_MIN_ALPHA_VALUES = 0.6  # the same when colouring by values
_MAX_LEGEND_ENTRIES = 30


# --------------------------------------------------------------------------- aggregation


def _eq_hist(x):
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
    t = _eq_hist(count[hit])

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


def _layout(fig, width, height, colorbar):
    """Axes (and colour-bar axes) placed in pixels, so margins do not scale."""
    m = 6
    if not colorbar:
        return fig.add_axes([m / width, m / height, 1 - 2 * m / width, 1 - 2 * m / height]), None
    bar, gap, room = max(12, round(0.02 * width)), 8, 52  # room: the tick labels
    ax_w = width - 2 * m - gap - bar - room
    ax = fig.add_axes([m / width, m / height, ax_w / width, 1 - 2 * m / height])
    cax = fig.add_axes([(m + ax_w + gap) / width, 0.1, bar / width, 0.8], label="<colorbar>")
    return ax, cax


def _add_colorbar(ax, cmap, norm, fg, label=None, cax=None):
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


def _add_legend(ax, categories, colors, background_rgb, fg):
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


class _Colouring:
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


def _extent(emb):
    lo, hi = emb.min(axis=0), emb.max(axis=0)
    span = hi - lo
    pad = np.where(span > 0, 0.02 * span, 0.5)
    (x0, y0), (x1, y1) = lo - pad, hi + pad
    return float(x0), float(x1), float(y0), float(y1)


def _pixels(ax):
    bbox = ax.get_window_extent()
    return max(int(round(bbox.width)), 1), max(int(round(bbox.height)), 1)


def _draw(ax, emb, col, width, height, point_size, alpha, extent=None):
    """Draw the points into ``ax``: a scatter, or an aggregated image when many."""
    n = emb.shape[0]
    if n > width * height / 10:
        if extent is None:
            extent = _extent(emb)
        nx, ny = _pixels(ax)
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


def _resolve_points(umap_object, points, func):
    """The array to draw and whether it came from a model."""
    if points is not None:
        emb, _ = embedding_of(points, func)
        return emb, False
    if umap_object is None:
        raise ValueError(f"{func}() needs a fitted model or points=.")
    return embedding_of(umap_object, func)


def points(
    umap_object=None,
    points=None,
    labels=None,
    values=None,
    theme=None,
    cmap="Blues",
    color_key=None,
    color_key_cmap="Spectral",
    background="white",
    width=800,
    height=800,
    show_legend=True,
    subset_points=None,
    ax=None,
    alpha=None,
    point_size=None,
):
    """Draw a 2-D embedding as points, like ``umap.plot.points``.

    Parameters
    ----------
    umap_object : fitted model or array-like of shape (n_samples, 2)
        A model with an ``embedding_`` attribute (e.g. a fitted
        ``densumap.UMAP(n_components=2)``), or the embedding itself. A model's
        parameters are written in the bottom right corner, as umap-learn does.
    points : array-like of shape (n_samples, 2), optional
        Draw these coordinates instead of ``umap_object.embedding_`` (e.g. the
        result of ``transform``).
    labels : array-like of shape (n_samples,), optional
        Categorical labels (integers or strings). Each distinct label gets a
        colour and, if ``show_legend``, a legend entry.
    values : array-like of shape (n_samples,), optional
        Continuous values, shown with ``cmap`` and a colour bar. Points whose
        value is NaN are drawn in grey. Cannot be combined with ``labels``.
    theme : str, optional
        One of ``"fire"``, ``"viridis"``, ``"inferno"``, ``"blue"``, ``"red"``,
        ``"green"``, ``"darkblue"``, ``"darkred"``, ``"darkgreen"``. Sets
        ``cmap``, ``color_key_cmap`` and ``background`` together, overriding
        those arguments, as in umap-learn.
    cmap : str or matplotlib.colors.Colormap, default="Blues"
        Colour map for ``values`` and for the density of unlabelled points.
    color_key : dict or sequence of colours, optional
        Colours for the labels: a dict ``{label: colour}``, or one colour per
        distinct label in sorted label order. Overrides ``color_key_cmap``.
    color_key_cmap : str or matplotlib.colors.Colormap, default="Spectral"
        The palette that label colours are taken from: a qualitative map (tab10,
        Paired, ...) in order, any other map sampled evenly.
    background : colour, default="white"
        Background of the plot.
    width, height : int, default=800
        Size in pixels of the figure, when this function creates it: the figure
        is ``width / 100`` x ``height / 100`` inches at 100 dpi, so
        ``ax.figure.savefig(path)`` writes exactly ``width`` x ``height``
        pixels. ``width * height / 10`` is also the number of points above which
        the points are drawn by aggregation (see Notes).
    show_legend : bool, default=True
        Draw a legend for ``labels`` (skipped, with a warning, beyond 30
        distinct labels).
    subset_points : array-like of bool of shape (n_samples,) or of int, optional
        Draw only these points (a mask, as in umap-learn, or indices);
        ``labels`` and ``values`` are given for all points and subset alike.
    ax : matplotlib.axes.Axes, optional
        Draw into these axes instead of a new figure; ``width`` and ``height``
        then only set the aggregation threshold.
    alpha : float in [0, 1], optional
        Opacity of the points (of every pixel, when aggregated).
    point_size : float, optional
        Marker area in points^2 for the scatter drawing. By default
        ``100 / sqrt(n_samples)`` (as in umap-learn) times
        ``sqrt(width * height) / 800``. Ignored when points are aggregated.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn into; ``ax.figure`` is the figure.

    Raises
    ------
    ValueError
        If the embedding is not of shape (n_samples, 2) or holds non-finite
        values, ``labels``, ``values`` or ``subset_points`` have the wrong
        length, both labels and values are given, ``alpha`` is outside [0, 1],
        or ``theme``, ``cmap``, ``color_key_cmap`` or ``color_key`` are not
        understood.

    Notes
    -----
    With more than ``width * height / 10`` points, a scatter plot would be a
    solid blob in which the last points drawn hide the rest. The points are then
    counted per pixel of the axes instead (with datashader when it is
    installed, otherwise with NumPy), and each pixel's opacity follows the
    histogram-equalised count, so sparse outskirts stay visible and dense cores
    keep their inner structure. A pixel holding several labels shows the mean of
    their colours weighted by their counts; with ``values``, its colour is the
    mean value of its points.

    Examples
    --------
    >>> import densumap, densumap.plot
    >>> mapper = densumap.UMAP().fit(X)                          # doctest: +SKIP
    >>> ax = densumap.plot.points(mapper, labels=y, theme="fire")  # doctest: +SKIP
    >>> ax.figure.savefig("embedding.png")                        # doctest: +SKIP
    """
    _common._import_matplotlib()
    check_size(width, height)
    alpha = check_alpha(alpha, "points")
    emb, is_model = _resolve_points(umap_object, points, "points")
    check_2d(emb, is_model)
    n = emb.shape[0]
    mask = None
    if subset_points is not None:
        mask = subset_mask(subset_points, n, "points")
    th = check_theme(theme)
    if th is not None:
        cmap, color_key_cmap, background = th["cmap"], th["color_key_cmap"], th["background"]
    background_rgb = to_rgb(background, "background")
    fg = foreground(background_rgb)
    col = _Colouring(n, labels, values, cmap, color_key, color_key_cmap, background_rgb, mask)
    if mask is not None:
        emb = emb[mask]

    cax = None
    if ax is None:
        fig = new_figure(width, height, background_rgb)
        ax, cax = _layout(fig, width, height, colorbar=col.mode == "values")
    style_axes(ax, background_rgb)
    if col.mode == "values":
        _add_colorbar(ax, col.cmap, col.norm, fg, cax=cax)
    _draw(ax, emb, col, width, height, point_size, alpha)
    if col.mode == "labels" and show_legend:
        _add_legend(ax, col.categories, col.colors, background_rgb, fg)
    add_caption(ax, umap_object, fg)
    return ax


# --------------------------------------------------------------------------- connectivity


def _edge_counts(x0s, y0s, x1s, y1s, weights, extent, nx, ny, chunk=100_000):
    """Sum of the weights of the segments crossing each pixel, shape (ny, nx).

    Each segment is sampled once per pixel step along its longer axis (a DDA
    line), so a pixel receives a segment's weight once, as datashader's
    ``Canvas.line(agg=sum)`` does.
    """
    x0, x1, y0, y1 = extent
    sx, sy = nx / (x1 - x0), ny / (y1 - y0)
    agg = np.zeros(nx * ny)
    for s in range(0, len(weights), chunk):
        ax_, ay = (x0s[s:s + chunk] - x0) * sx, (y0s[s:s + chunk] - y0) * sy
        dx, dy = (x1s[s:s + chunk] - x0) * sx - ax_, (y1s[s:s + chunk] - y0) * sy - ay
        w = weights[s:s + chunk]
        steps = np.ceil(np.maximum(np.abs(dx), np.abs(dy))).astype(np.int64) + 1
        idx = np.repeat(np.arange(len(w)), steps)
        start = np.cumsum(steps) - steps
        t = (np.arange(idx.size) - start[idx]) / np.maximum(steps - 1, 1)[idx]
        ix = np.clip((ax_[idx] + t * dx[idx]).astype(np.int64), 0, nx - 1)
        iy = np.clip((ay[idx] + t * dy[idx]).astype(np.int64), 0, ny - 1)
        agg += np.bincount(iy * nx + ix, weights=w[idx], minlength=nx * ny)
    return agg.reshape(ny, nx)


def _graph_edges(umap_object, n):
    import scipy.sparse as sp

    graph = getattr(umap_object, "graph_", None)
    if graph is None:
        raise ValueError(
            "connectivity() needs a fitted model with graph_ (the fuzzy simplicial set); "
            f"got {type(umap_object).__name__} without one."
        )
    graph = sp.csr_matrix(graph)
    if graph.shape != (n, n):
        raise ValueError(
            f"connectivity(): graph_ has shape {graph.shape} but the embedding has {n} "
            "points."
        )
    # Each undirected edge once, with the larger of its two directed weights.
    coo = sp.triu(graph.maximum(graph.T), k=1).tocoo()
    return coo.row, coo.col, coo.data.astype(np.float64)


def _hammer_segments(emb, rows, cols, weights):
    """Bundled edges as segments, with datashader's hammer bundling."""
    import importlib

    missing = []
    for module in ("datashader.bundling", "pandas", "skimage"):
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(module.split(".")[0].replace("skimage", "scikit-image"))
    if missing:
        raise ImportError(
            "connectivity(edge_bundling='hammer') needs datashader, pandas and "
            f"scikit-image ({', '.join(missing)} missing): pip install 'densumap[plot]'."
        )
    pd = importlib.import_module("pandas")
    bd = importlib.import_module("datashader.bundling")
    if len(weights) > 100_000:
        warnings.warn(
            f"connectivity(): hammer edge bundling of {len(weights)} edges takes long; "
            "edge_bundling=None draws them straight in seconds.",
            UserWarning, stacklevel=3,
        )
    nodes = pd.DataFrame({"x": emb[:, 0], "y": emb[:, 1]})
    edges = pd.DataFrame({"source": rows.astype(np.int64), "target": cols.astype(np.int64),
                          "weight": weights})
    paths = bd.hammer_bundle(nodes, edges, weight="weight")
    xy = paths[["x", "y"]].to_numpy(dtype=np.float64)
    w = paths["weight"].to_numpy(dtype=np.float64)
    # Rows separated by NaN rows are one path each; consecutive finite rows are segments.
    ok = np.isfinite(xy).all(axis=1)
    seg = ok[:-1] & ok[1:]
    return xy[:-1][seg, 0], xy[:-1][seg, 1], xy[1:][seg, 0], xy[1:][seg, 1], w[:-1][seg]


def connectivity(
    umap_object,
    edge_bundling=None,
    edge_cmap="gray_r",
    show_points=False,
    labels=None,
    values=None,
    theme=None,
    cmap="Blues",
    color_key=None,
    color_key_cmap="Spectral",
    background="white",
    width=800,
    height=800,
    ax=None,
):
    """Draw the edges of a model's fuzzy graph over its embedding, like ``umap.plot``.

    Parameters
    ----------
    umap_object : fitted model
        With ``embedding_`` of shape (n_samples, 2) and ``graph_`` (n_samples,
        n_samples), the fuzzy simplicial set the layout was optimised for.
    edge_bundling : {None, "hammer"}, default=None
        None draws each edge as a straight line. ``"hammer"`` bundles them with
        datashader's hammer bundling (needs datashader, pandas and scikit-image:
        ``pip install 'densumap[plot]'``); it costs seconds for a few thousand
        edges and much longer for large graphs.
    edge_cmap : str or Colormap, default="gray_r"
        Colour map of the edges; the summed edge weight per pixel selects the
        colour (histogram-equalised) and the opacity.
    show_points : bool, default=False
        Draw the points over the edges, coloured as :func:`points` would.
    labels, values, theme, cmap, color_key, color_key_cmap, background, width, height
        As in :func:`points`; a ``theme`` also sets ``edge_cmap``.
    ax : matplotlib.axes.Axes, optional
        Draw into these axes instead of a new figure.

    Returns
    -------
    ax : matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If the model has no ``graph_`` or a graph of the wrong size, or
        ``edge_bundling`` is not None or "hammer".
    ImportError
        For ``edge_bundling="hammer"`` without datashader, pandas or scikit-image.
    """
    _common._import_matplotlib()
    if edge_bundling not in (None, "hammer"):
        raise ValueError(
            f"edge_bundling must be None (straight edges) or 'hammer', got {edge_bundling!r}."
        )
    check_size(width, height)
    emb, is_model = embedding_of(umap_object, "connectivity")
    check_2d(emb, is_model, "connectivity")
    n = emb.shape[0]
    rows, cols, weights = _graph_edges(umap_object, n)
    th = check_theme(theme)
    if th is not None:
        cmap, color_key_cmap = th["cmap"], th["color_key_cmap"]
        background, edge_cmap = th["background"], th["edge_cmap"]
    background_rgb = to_rgb(background, "background")
    fg = foreground(background_rgb)
    edge_ramp = density_ramp(get_cmap(edge_cmap, "edge_cmap"), background_rgb)
    col = None
    if show_points:
        col = _Colouring(n, labels, values, cmap, color_key, color_key_cmap, background_rgb,
                         func="connectivity")

    if ax is None:
        fig = new_figure(width, height, background_rgb)
        ax, _ = _layout(fig, width, height, colorbar=False)
    style_axes(ax, background_rgb)
    extent = _extent(emb)
    nx, ny = _pixels(ax)
    if edge_bundling == "hammer":
        segments = _hammer_segments(emb, rows, cols, weights)
    else:
        segments = (emb[rows, 0], emb[rows, 1], emb[cols, 0], emb[cols, 1], weights)
    agg = _edge_counts(*segments, extent, nx, ny)
    hit = agg > 0
    image = np.zeros((ny, nx, 4))
    if hit.any():
        if show_points:  # edges as a quiet backdrop, on a log scale as umap.plot does
            v = np.log1p(agg[hit] / agg[hit].min())
            t = v / v.max() if v.max() > 0 else np.ones_like(v)
        else:
            t = _eq_hist(agg[hit])
        image[hit, :3] = edge_ramp(t)
        top = 0.6 if show_points else 1.0
        image[hit, 3] = top * (0.25 + 0.75 * t)
    ax.imshow(image, origin="lower", extent=extent, aspect="auto", interpolation="nearest")
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    if show_points:
        _draw(ax, emb, col, width, height, None, None, extent=extent)
    add_caption(ax, umap_object, fg)
    return ax


# --------------------------------------------------------------------------- show


def show(plot_to_show):
    """Display a plot: a matplotlib Axes or Figure, or a Bokeh figure or layout.

    As ``umap.plot.show``: matplotlib plots go to ``matplotlib.pyplot.show()``;
    Bokeh ones to ``bokeh.plotting.show`` (into the notebook after
    :func:`output_notebook`, into the file named by :func:`output_file`, or a
    new browser tab).

    Raises
    ------
    ValueError
        If ``plot_to_show`` is neither.
    """
    module = type(plot_to_show).__module__ or ""
    if module.startswith("matplotlib"):
        import matplotlib.pyplot as plt

        plt.show()
        return None
    if module.startswith("bokeh"):
        from bokeh.plotting import show as bokeh_show

        bokeh_show(plot_to_show)
        return None
    raise ValueError(
        "show() displays a matplotlib Axes/Figure or a Bokeh figure/layout (what "
        f"points(), interactive() and the other functions return); got "
        f"{type(plot_to_show).__name__}."
    )


# --------------------------------------------------------------------------- density


def density(mapper, cmap="viridis", width=1300, height=600, point_size=None):
    """Compare local density in input and embedding space for a DensMAP model.

    Parameters
    ----------
    mapper : fitted model
        A model fitted with ``output_dens=True``, i.e. with ``rad_orig_`` and
        ``rad_emb_`` (the log local radii of each point in input and embedding
        space, shape (n_samples,)) and ``embedding_`` (n_samples, 2 or more).
    cmap : str or matplotlib.colors.Colormap, default="viridis"
        Colour map for the input-space radius in the right panel.
    width, height : int, default=1300, 600
        Figure size in pixels (at 100 dpi).
    point_size : float, optional
        Marker size for the right panel, see :func:`points`.

    Returns
    -------
    fig : matplotlib.figure.Figure
        Left: embedding log radius against input log radius (scatter, or a
        hexbin of counts for more than 2,000 points), with the least-squares
        line and the Pearson and Spearman correlations. Right: the embedding
        (its first two components) coloured by input log radius, with a colour
        bar. A faithful DensMAP embedding shows a high correlation.

    Raises
    ------
    ValueError
        If the model lacks ``rad_orig_`` / ``rad_emb_`` (fit it with
        ``output_dens=True``), or the arrays have inconsistent lengths.
    """
    _common._import_matplotlib()
    from scipy import stats

    check_size(width, height)

    missing = [a for a in ("rad_orig_", "rad_emb_") if getattr(mapper, a, None) is None]
    if missing:
        raise ValueError(
            f"density() needs the local radii of a model fitted with output_dens=True; "
            f"{type(mapper).__name__} has no {' or '.join(missing)}. Fit with e.g. "
            "densumap.UMAP(densmap=True, output_dens=True).fit(X)."
        )
    emb, _ = embedding_of(mapper, func="density")
    rad_orig = np.asarray(mapper.rad_orig_, dtype=np.float64).ravel()
    rad_emb = np.asarray(mapper.rad_emb_, dtype=np.float64).ravel()
    if not (rad_orig.shape[0] == rad_emb.shape[0] == emb.shape[0]):
        raise ValueError(
            f"density(): rad_orig_ has {rad_orig.shape[0]} entries, rad_emb_ "
            f"{rad_emb.shape[0]} and embedding_ {emb.shape[0]} rows; they must match."
        )
    if emb.ndim != 2 or emb.shape[1] < 2:
        raise ValueError(
            f"density() draws the embedding in 2-D: embedding_ has shape {emb.shape}."
        )

    ok = np.isfinite(rad_orig) & np.isfinite(rad_emb)
    r_in, r_out = rad_orig[ok], rad_emb[ok]
    n_ok = int(ok.sum())

    fig = new_figure(width, height, "white")
    ax_r, ax_e = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.15]})
    fig.subplots_adjust(left=0.07, right=0.93, bottom=0.11, top=0.9, wspace=0.18)

    lines = [f"n = {n_ok}"]
    if n_ok >= 3 and np.ptp(r_in) > 0 and np.ptp(r_out) > 0:
        pearson = np.corrcoef(r_in, r_out)[0, 1]
        spearman = stats.spearmanr(r_in, r_out)[0]
        lines = [f"Pearson r = {pearson:.3f}", f"Spearman \u03c1 = {spearman:.3f}"] + lines
        slope, intercept = np.polyfit(r_in, r_out, 1)
        xs = np.array([r_in.min(), r_in.max()])
        ax_r.plot(xs, slope * xs + intercept, color="#d62728", lw=1.2, label="least squares")
    else:
        lines = ["correlation undefined (constant or too few radii)"] + lines
    if n_ok < ok.size:
        lines.append(f"{ok.size - n_ok} non-finite radii left out")
    if n_ok > 2000:
        hb = ax_r.hexbin(r_in, r_out, gridsize=70, bins="log", cmap="Greys", mincnt=1, linewidths=0)
        fig.colorbar(hb, ax=ax_r, fraction=0.046, pad=0.02, label="points (log scale)")
    elif n_ok:
        ax_r.scatter(r_in, r_out, s=8, color="#333333", alpha=0.6, linewidths=0)
    ax_r.text(
        0.03, 0.97, "\n".join(lines), transform=ax_r.transAxes, va="top", ha="left",
        fontsize="medium", bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "#999999"},
    )
    ax_r.set_xlabel("input-space log radius (rad_orig_)")
    ax_r.set_ylabel("embedding log radius (rad_emb_)")
    ax_r.set_title("Local radius: input vs embedding")

    title = "Embedding coloured by input-space log radius"
    if emb.shape[1] > 2:
        title += f"\n(components 1 and 2 of {emb.shape[1]})"
    points(
        points=emb[:, :2], values=rad_orig, cmap=cmap, ax=ax_e, point_size=point_size,
        width=width // 2, height=height,
    )
    ax_e.set_title(title)
    fig.axes[-1].set_ylabel("input-space log radius")  # the colour bar points() added
    return fig
