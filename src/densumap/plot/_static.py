"""Static (matplotlib) plots: :func:`points` and :func:`show`.

* :func:`points` draws a 2-D embedding, coloured by categorical ``labels`` (with a
  legend) or continuous ``values`` (with a colour bar). Large inputs are drawn by
  density aggregation at pixel resolution, so tens of thousands of points do not
  hide each other: with datashader when it is installed, otherwise with NumPy.
* :func:`show` displays a matplotlib or Bokeh plot, as ``umap.plot.show``.

The drawing itself is in :mod:`._render` and the colouring in :mod:`._colouring`;
the other static plots are :func:`~densumap.plot.connectivity`
(:mod:`._connectivity`), :func:`~densumap.plot.density` (:mod:`._density`) and
:func:`~densumap.plot.diagnostic` (:mod:`._diagnostics`).
"""
from . import _common
from ._colouring import Colouring, add_colorbar, add_legend
from ._common import (
    add_caption, check_2d, check_alpha, check_size, embedding_of, new_figure, style_axes,
    subset_mask,
)
from ._render import draw_points, place_axes
from ._themes import check_theme, foreground, to_rgb


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
    col = Colouring(n, labels, values, cmap, color_key, color_key_cmap, background_rgb, mask)
    if mask is not None:
        emb = emb[mask]

    cax = None
    if ax is None:
        fig = new_figure(width, height, background_rgb)
        ax, cax = place_axes(fig, width, height, colorbar=col.mode == "values")
    style_axes(ax, background_rgb)
    if col.mode == "values":
        add_colorbar(ax, col.cmap, col.norm, fg, cax=cax)
    draw_points(ax, emb, col, width, height, point_size, alpha)
    if col.mode == "labels" and show_legend:
        add_legend(ax, col.categories, col.colors, background_rgb, fg)
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
