"""Plotting for fitted embeddings, in the spirit of ``umap.plot``.

* :func:`points` draws a 2-D embedding, coloured by categorical ``labels`` (with a
  legend) or continuous ``values`` (with a colour bar). Large inputs are drawn by
  density aggregation at pixel resolution, so tens of thousands of points do not
  hide each other: with datashader when it is installed, otherwise with NumPy.
* :func:`density` shows how well a DensMAP model kept the local density of the
  data (models fitted with ``output_dens=True``).

Functions accept a fitted model (anything with an ``embedding_`` attribute) or an
array. matplotlib, and datashader when used, are imported inside the functions,
so ``import densumap`` stays light.
"""
import logging
import warnings

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["points", "density"]

# Themes as in umap.plot: the colour map for density / values, the palette for
# categorical labels, and the background.
_THEMES = {
    "fire": {"cmap": "fire", "color_key_cmap": "rainbow", "background": "black"},
    "viridis": {"cmap": "viridis", "color_key_cmap": "Spectral", "background": "black"},
    "inferno": {"cmap": "inferno", "color_key_cmap": "Spectral", "background": "black"},
    "blue": {"cmap": "Blues", "color_key_cmap": "tab20", "background": "white"},
    "red": {"cmap": "Reds", "color_key_cmap": "tab20b", "background": "white"},
    "green": {"cmap": "Greens", "color_key_cmap": "tab20c", "background": "white"},
    "darkblue": {"cmap": "darkblue", "color_key_cmap": "rainbow", "background": "black"},
    "darkred": {"cmap": "darkred", "color_key_cmap": "rainbow", "background": "black"},
    "darkgreen": {"cmap": "darkgreen", "color_key_cmap": "rainbow", "background": "black"},
}

# umap.plot takes these from colorcet; close look-alikes keep colorcet optional.
_CUSTOM_CMAPS = {
    "fire": ["#000000", "#5c0a00", "#b01e00", "#f04a00", "#ff8c1a", "#ffc94d", "#ffffff"],
    "darkblue": ["#000000", "#0a1a5c", "#1f3fb0", "#2a7fe0", "#5ac8f0", "#ffffff"],
    "darkred": ["#000000", "#4d0000", "#a01010", "#e04020", "#f5a030", "#ffff99"],
    "darkgreen": ["#000000", "#003300", "#0a6e1e", "#3caa3c", "#a0d264", "#ffffb3"],
}

_DPI = 100
_MIN_ALPHA = 0.4  # opacity of the sparsest non-empty pixel in aggregated images
_MIN_ALPHA_VALUES = 0.6  # the same when colouring by values
_MAX_LEGEND_ENTRIES = 30


# --------------------------------------------------------------------------- imports


def _import_matplotlib():
    try:
        import matplotlib
    except ImportError as exc:  # a hard dependency, but say what to do if it is gone
        raise ImportError(
            "densumap.plot needs matplotlib: pip install matplotlib"
        ) from exc
    return matplotlib


def _import_datashader():
    """Return the datashader modules, or None when datashader is not installed."""
    try:
        import datashader
        import datashader.transfer_functions as tf
        import pandas  # noqa: F401  (datashader's input format)
    except ImportError:
        return None
    return datashader, tf


# --------------------------------------------------------------------------- colours


def _get_cmap(cmap):
    mpl = _import_matplotlib()
    from matplotlib.colors import Colormap, LinearSegmentedColormap

    if isinstance(cmap, Colormap):
        return cmap
    if cmap in _CUSTOM_CMAPS:
        try:  # the originals, when colorcet is around
            import colorcet

            name = {"fire": "fire", "darkblue": "kbc", "darkred": "kr", "darkgreen": "kgy"}[cmap]
            return LinearSegmentedColormap.from_list(cmap, getattr(colorcet, name))
        except (ImportError, AttributeError):
            return LinearSegmentedColormap.from_list(cmap, _CUSTOM_CMAPS[cmap])
    try:
        return mpl.colormaps[cmap]
    except KeyError:
        raise ValueError(
            f"Unknown colour map {cmap!r}: use a matplotlib colour map name (e.g. "
            f"'viridis', 'Spectral', 'tab10') or one of {sorted(_CUSTOM_CMAPS)}."
        ) from None


def _to_rgb(color, what):
    from matplotlib.colors import to_rgb

    try:
        return tuple(to_rgb(color))
    except ValueError:
        raise ValueError(f"{what}: {color!r} is not a matplotlib colour.") from None


def _luminance(rgb):
    """Relative luminance (WCAG) of sRGB colours in [0, 1], shape (..., 3)."""
    rgb = np.asarray(rgb, dtype=float)[..., :3]
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return lin @ np.array([0.2126, 0.7152, 0.0722])


def _contrast(rgb, background_rgb):
    a, b = _luminance(rgb), _luminance(background_rgb)
    return (np.maximum(a, b) + 0.05) / (np.minimum(a, b) + 0.05)


def _density_ramp(cmap, background_rgb):
    """Return ``f(t) -> RGB`` for density shading, t in [0, 1] from sparse to dense.

    Dense pixels take the end of ``cmap`` that stands out most against the
    background. A sequential map (luminance monotonic along it, like 'Blues' or
    'fire') is followed from 40% of the way in to that end; a diverging or
    rainbow map (like 'Spectral') gives a single colour, since its middle would
    either vanish into the background or suggest a meaning it does not have.
    Opacity, set elsewhere, carries the density in both cases.
    """
    samples = cmap(np.linspace(0.0, 1.0, 17))[:, :3]
    lum = _luminance(samples)
    reverse = _contrast(samples[0], background_rgb) > _contrast(samples[-1], background_rgb)
    steps = np.diff(lum)
    sequential = np.all(steps >= -1e-3) or np.all(steps <= 1e-3)

    def ramp(t):
        t = np.asarray(t, dtype=float)
        s = 0.4 + 0.6 * t if sequential else np.full_like(t, 0.9)
        return cmap(1.0 - s if reverse else s)[..., :3]

    return ramp


def _category_colors(categories, color_key, palette):
    """RGB colours of shape (n_categories, 3) for the sorted ``categories``."""
    from matplotlib.colors import ListedColormap

    k = len(categories)
    if color_key is not None:
        if isinstance(color_key, dict):
            out, missing = [], []
            for cat in categories:
                for key in (cat, str(cat)):
                    if key in color_key:
                        out.append(_to_rgb(color_key[key], f"color_key[{key!r}]"))
                        break
                else:
                    missing.append(cat)
            if missing:
                plain = [m.item() if isinstance(m, np.generic) else m for m in missing]
                shown = ", ".join(map(repr, plain[:10])) + (" ..." if len(plain) > 10 else "")
                raise ValueError(f"color_key has no colour for the labels {shown}.")
            return np.array(out)
        colors = list(color_key)
        if len(colors) < k:
            raise ValueError(
                f"color_key holds {len(colors)} colours but labels have {k} distinct "
                "values; pass one colour per label (in sorted label order) or a dict."
            )
        return np.array([_to_rgb(c, "color_key") for c in colors[:k]])
    if isinstance(palette, ListedColormap) and palette.N <= 32 and k <= palette.N:
        # A qualitative palette (tab10, Set1, ...): its colours in order.
        return np.asarray(palette(np.arange(k)))[:, :3]
    positions = np.linspace(0.0, 1.0, k) if k > 1 else np.array([0.0])
    return np.asarray(palette(positions))[:, :3]


def _foreground(background_rgb):
    """Black or white, whichever reads better on the background."""
    return "black" if _luminance(background_rgb) > 0.3 else "white"


# --------------------------------------------------------------------------- inputs


def _embedding_of(mapper_or_embedding, func="points"):
    obj = mapper_or_embedding
    is_model = not isinstance(obj, np.ndarray) and (
        hasattr(obj, "embedding_") or hasattr(obj, "fit")
    )
    if is_model:
        if not hasattr(obj, "embedding_"):
            raise ValueError(
                f"{func}() needs a fitted model: {type(obj).__name__} has no embedding_ "
                "(call fit first)."
            )
        obj = obj.embedding_
    try:
        emb = np.asarray(obj, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{func}() takes a fitted model (with embedding_) or an array of shape "
            f"(n_samples, 2); got {type(mapper_or_embedding).__name__}."
        ) from None
    return emb, is_model


def _check_2d(emb, is_model, func="points"):
    if emb.ndim != 2 or emb.shape[1] != 2:
        hint = " (fit the model with n_components=2)" if is_model and emb.ndim == 2 else ""
        raise ValueError(
            f"{func}() draws 2-D embeddings: expected shape (n_samples, 2), got "
            f"{emb.shape}{hint}."
        )
    if emb.shape[0] == 0:
        raise ValueError(f"{func}(): the embedding has no points.")
    bad = ~np.isfinite(emb).all(axis=1)
    if bad.any():
        raise ValueError(
            f"{func}(): {int(bad.sum())} of {emb.shape[0]} embedding rows hold NaN or "
            "infinite coordinates."
        )


def _as_1d(arr, name, n):
    arr = np.asarray(arr)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}.")
    if arr.shape[0] != n:
        raise ValueError(
            f"{name} has {arr.shape[0]} entries but the embedding has {n} points."
        )
    return arr


def _encode_labels(labels):
    """Sorted distinct labels and each point's index into them."""
    try:
        return np.unique(labels, return_inverse=True)
    except TypeError:  # mixed types (e.g. ints and None) do not sort together
        return np.unique(labels.astype(str), return_inverse=True)


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


def _check_size(width, height):
    for name, v in (("width", width), ("height", height)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 16:
            raise ValueError(f"{name} must be an integer number of pixels >= 16, got {v!r}.")


def _new_figure(width, height, background):
    _import_matplotlib()
    import matplotlib.pyplot as plt

    # pyplot so that notebooks show the figure, as umap.plot does. A figure of
    # width/dpi x height/dpi inches saves as exactly width x height pixels.
    return plt.figure(figsize=(width / _DPI, height / _DPI), dpi=_DPI, facecolor=background)


def _style_axes(ax, background_rgb):
    ax.set_facecolor(background_rgb)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


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
            stacklevel=3,
        )
        return None
    handles = [
        Line2D([], [], marker="o", linestyle="", markersize=6, color=c, label=str(cat))
        for cat, c in zip(categories, colors)
    ]
    legend = ax.legend(
        handles=handles, loc="best", fontsize="small", frameon=True,
        facecolor=background_rgb, edgecolor=fg, labelcolor=fg, framealpha=0.8,
    )
    return legend


def points(
    mapper_or_embedding,
    labels=None,
    values=None,
    theme=None,
    cmap="Spectral",
    color_key=None,
    background="white",
    width=800,
    height=800,
    show_legend=True,
    ax=None,
    point_size=None,
):
    """Draw a 2-D embedding as points, like ``umap.plot.points``.

    Parameters
    ----------
    mapper_or_embedding : fitted model or array-like of shape (n_samples, 2)
        A model with an ``embedding_`` attribute (e.g. a fitted
        ``densumap.UMAP(n_components=2)``), or the embedding itself.
    labels : array-like of shape (n_samples,), optional
        Categorical labels (integers or strings). Each distinct label gets a
        colour and, if ``show_legend``, a legend entry.
    values : array-like of shape (n_samples,), optional
        Continuous values, shown with ``cmap`` and a colour bar. Points whose
        value is NaN are drawn in grey. Cannot be combined with ``labels``.
    theme : str, optional
        One of ``"fire"``, ``"viridis"``, ``"inferno"``, ``"blue"``, ``"red"``,
        ``"green"``, ``"darkblue"``, ``"darkred"``, ``"darkgreen"``. Sets
        ``cmap``, the label palette and ``background`` together, overriding
        those arguments, as in umap-learn.
    cmap : str or matplotlib.colors.Colormap, default="Spectral"
        Colour map for ``values`` and for the density of unlabelled points; also
        the palette that labels are sampled from when no ``theme`` is given.
    color_key : dict or sequence of colours, optional
        Colours for the labels: a dict ``{label: colour}``, or one colour per
        distinct label in sorted label order. Overrides the palette.
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
    ax : matplotlib.axes.Axes, optional
        Draw into these axes instead of a new figure; ``width`` and ``height``
        then only set the aggregation threshold.
    point_size : float, optional
        Marker area in points^2 for the scatter drawing. By default
        ``100 / sqrt(n_samples)`` (as in umap-learn) times
        ``sqrt(width * height) / 800``. Ignored when points are aggregated
        (each point then covers one pixel).

    Returns
    -------
    ax : matplotlib.axes.Axes
        The axes drawn into; ``ax.figure`` is the figure.

    Raises
    ------
    ValueError
        If the embedding is not of shape (n_samples, 2) or holds non-finite
        values, ``labels`` or ``values`` have the wrong length, both are given,
        or ``theme``, ``cmap`` or ``color_key`` are not understood.

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
    _import_matplotlib()
    from matplotlib.colors import Normalize

    _check_size(width, height)
    emb, is_model = _embedding_of(mapper_or_embedding)
    _check_2d(emb, is_model)
    n = emb.shape[0]
    if labels is not None and values is not None:
        raise ValueError(
            "Pass labels (categories, shown with a legend) or values (continuous, shown "
            "with a colour bar), not both."
        )

    palette = cmap
    if theme is not None:
        if theme not in _THEMES:
            raise ValueError(f"Unknown theme {theme!r}; choose one of {sorted(_THEMES)}.")
        cmap = _THEMES[theme]["cmap"]
        palette = _THEMES[theme]["color_key_cmap"]
        background = _THEMES[theme]["background"]
    cmap = _get_cmap(cmap)
    background_rgb = _to_rgb(background, "background")
    fg = _foreground(background_rgb)

    mode, codes, categories, colors, vals, norm = "plain", None, None, None, None, None
    if labels is not None:
        mode = "labels"
        categories, codes = _encode_labels(_as_1d(labels, "labels", n))
        colors = _category_colors(categories, color_key, _get_cmap(palette))
    elif values is not None:
        mode = "values"
        vals = _as_1d(values, "values", n)
        if vals.dtype.kind not in "biuf":
            raise ValueError(
                f"values must be numbers, got dtype {vals.dtype}; use labels= for categories."
            )
        vals = vals.astype(np.float64)
        finite = vals[np.isfinite(vals)]
        lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
        norm = Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1.0)
        cmap = cmap.with_extremes(bad="#bbbbbb")
    ramp = _density_ramp(cmap, background_rgb)

    cax = None
    if ax is None:
        fig = _new_figure(width, height, background_rgb)
        ax, cax = _layout(fig, width, height, colorbar=mode == "values")
    _style_axes(ax, background_rgb)
    if mode == "values":
        _add_colorbar(ax, cmap, norm, fg, cax=cax)

    aggregate = n > width * height / 10
    if aggregate:
        _draw_aggregated(ax, emb, mode, ramp, colors, codes, vals, cmap, norm)
    else:
        if point_size is None:
            # umap.plot's size at 800 x 800, scaled with the figure's linear
            # size (scaling with its area makes small figures' points vanish).
            point_size = max(100.0 / np.sqrt(n) * np.sqrt(width * height) / 800, 0.5)
        if mode == "labels":
            c = colors[codes]
        elif mode == "values":
            c = vals
        else:
            c = ramp(np.array([0.6]))
        ax.scatter(
            emb[:, 0], emb[:, 1], s=point_size, c=c, cmap=cmap if mode == "values" else None,
            norm=norm, linewidths=0, plotnonfinite=True,
        )
    if mode == "labels" and show_legend:
        _add_legend(ax, categories, colors, background_rgb, fg)
    return ax


def _draw_aggregated(ax, emb, mode, ramp, colors, codes, vals, cmap, norm):
    lo, hi = emb.min(axis=0), emb.max(axis=0)
    span = hi - lo
    pad = np.where(span > 0, 0.02 * span, 0.5)
    x0, y0 = lo - pad
    x1, y1 = hi + pad
    # One bin per screen pixel of the axes (after any colour bar took its share).
    bbox = ax.get_window_extent()
    nx, ny = max(int(round(bbox.width)), 1), max(int(round(bbox.height)), 1)
    args = (emb, (x0, x1, y0, y1), nx, ny, mode, ramp, colors, codes, vals, cmap, norm)
    modules = _import_datashader()
    if modules is not None:
        logger.debug("points(): aggregating %d points with datashader", emb.shape[0])
        image = _datashader_image(modules, *args)
    else:
        logger.debug("points(): aggregating %d points with NumPy", emb.shape[0])
        image = _numpy_image(*args)
    ax.imshow(
        image, origin="lower", extent=(x0, x1, y0, y1), aspect="auto",
        interpolation="nearest",
    )
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)


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
    _import_matplotlib()
    from scipy import stats

    _check_size(width, height)

    missing = [a for a in ("rad_orig_", "rad_emb_") if getattr(mapper, a, None) is None]
    if missing:
        raise ValueError(
            f"density() needs the local radii of a model fitted with output_dens=True; "
            f"{type(mapper).__name__} has no {' or '.join(missing)}. Fit with e.g. "
            "densumap.UMAP(densmap=True, output_dens=True).fit(X)."
        )
    emb, _ = _embedding_of(mapper, func="density")
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

    fig = _new_figure(width, height, "white")
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
        emb[:, :2], values=rad_orig, cmap=cmap, ax=ax_e, point_size=point_size,
        width=width // 2, height=height,
    )
    ax_e.set_title(title)
    fig.axes[-1].set_ylabel("input-space log radius")  # the colour bar points() added
    return fig
