"""The fuzzy graph's edges over the embedding: :func:`connectivity`, like ``umap.plot``.

Edges are drawn as an image: the weights of the segments crossing each pixel
are summed (:func:`_edge_counts`, a DDA line per segment, as datashader's
``Canvas.line(agg=sum)``), histogram-equalised and shaded with ``edge_cmap``.
``edge_bundling="hammer"`` first bundles the edges with datashader's hammer
bundling. The points can be drawn over the edges as
:func:`~densumap.plot.points` draws them.
"""
import warnings

import numpy as np

from . import _common
from ._colouring import Colouring
from ._common import add_caption, check_2d, check_size, embedding_of, new_figure, style_axes
from ._render import axes_pixels, data_extent, draw_points, eq_hist, place_axes
from ._themes import check_theme, density_ramp, foreground, get_cmap, to_rgb


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
        col = Colouring(n, labels, values, cmap, color_key, color_key_cmap, background_rgb,
                         func="connectivity")

    if ax is None:
        fig = new_figure(width, height, background_rgb)
        ax, _ = place_axes(fig, width, height, colorbar=False)
    style_axes(ax, background_rgb)
    extent = data_extent(emb)
    nx, ny = axes_pixels(ax)
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
            t = eq_hist(agg[hit])
        image[hit, :3] = edge_ramp(t)
        top = 0.6 if show_points else 1.0
        image[hit, 3] = top * (0.25 + 0.75 * t)
    ax.imshow(image, origin="lower", extent=extent, aspect="auto", interpolation="nearest")
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    if show_points:
        draw_points(ax, emb, col, width, height, None, None, extent=extent)
    add_caption(ax, umap_object, fg)
    return ax
