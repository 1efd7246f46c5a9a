"""Interactive (Bokeh) plots: hover data, a text search, standalone offline HTML.

Bokeh is imported inside the functions (``pip install bokeh`` when missing). Every
output here inlines BokehJS, so pages and notebooks work with no network.
"""
from pathlib import Path

import numpy as np

from ._common import as_1d, check_2d, check_alpha, check_size, encode_labels, require
from ._common import embedding_of, subset_mask
from ._themes import category_colors, check_theme, density_ramp, get_cmap, to_hex, to_rgb

# Internal columns of the data source; prefixed so hover_data columns never clash.
_X, _Y, _COLOR, _ALPHA, _ALPHA0, _INDEX = "__x", "__y", "__color", "__alpha", "__alpha0", "__index"
_RADII = (("rad_orig", "rad_orig_", "input log radius"),
          ("rad_emb", "rad_emb_", "embedding log radius"))

# Text search: points whose searched columns contain the text (case-insensitive)
# get the matching alpha, the others the non-matching one; an empty box restores
# every point's own alpha.
_SEARCH_JS = """
const data = source.data;
const text = String(cb_obj.value).toLowerCase();
const n = data[alpha_col].length;
for (let i = 0; i < n; i++) {
    if (text === "") {
        data[alpha_col][i] = data[alpha0_col][i];
        continue;
    }
    let hit = false;
    for (const col of columns) {
        if (String(data[col][i]).toLowerCase().includes(text)) { hit = true; break; }
    }
    data[alpha_col][i] = hit ? matching : non_matching;
}
source.change.emit();
"""


def _hover_columns(hover_data, n):
    """``{name: array of n}`` from a pandas DataFrame or a mapping of columns."""
    if hover_data is None:
        return {}
    if hasattr(hover_data, "columns") and hasattr(hover_data, "__getitem__"):
        items = [(str(c), hover_data[c]) for c in hover_data.columns]
    elif hasattr(hover_data, "items"):
        items = [(str(k), v) for k, v in hover_data.items()]
    else:
        raise ValueError(
            "hover_data must be a pandas DataFrame or a dict of columns, got "
            f"{type(hover_data).__name__}."
        )
    out = {}
    for name, col in items:
        arr = np.asarray(col)
        if arr.ndim != 1 or arr.shape[0] != n:
            raise ValueError(
                f"hover_data column {name!r} has shape {arr.shape}; it needs one entry per "
                f"point ({n})."
            )
        out[name] = arr
    return out


def _radii(model, n):
    """The DensMAP log radii of a model fitted with output_dens, else {}."""
    out = {}
    for col, attr, _ in _RADII:
        r = getattr(model, attr, None)
        if r is None:
            return {}
        r = np.asarray(r, dtype=np.float64).ravel()
        if r.shape[0] != n:
            return {}
        out[col] = r
    return out


def interactive(
    umap_object,
    labels=None,
    values=None,
    hover_data=None,
    tools=None,
    theme=None,
    cmap="Blues",
    color_key=None,
    color_key_cmap="Spectral",
    background="white",
    width=800,
    height=800,
    point_size=None,
    subset_points=None,
    interactive_text_search=False,
    interactive_text_search_columns=None,
    interactive_text_search_alpha_contrast=0.95,
    alpha=None,
):
    """An interactive Bokeh plot of a 2-D embedding, like ``umap.plot.interactive``.

    Pan, zoom, a hover tooltip per point, and optionally a search box. Show it
    with :func:`show` (after :func:`output_notebook` in a notebook) or write it
    with :func:`save_html` as one HTML file that opens with no network.

    Parameters
    ----------
    umap_object : fitted model or array-like of shape (n_samples, 2)
    labels, values, theme, cmap, color_key, color_key_cmap, background, width, height
        As in :func:`points` (width and height are the plot's size in screen
        pixels).
    hover_data : pandas.DataFrame or dict of columns, optional
        One row per point (before ``subset_points``); every column is shown in
        the tooltip. Labels and values are shown too.
    tools : str or list, optional
        Bokeh tools; default ``"pan,wheel_zoom,box_zoom,save,reset,help"`` plus
        the hover tool. A list holding a ``HoverTool`` replaces the tooltips.
    point_size : float, optional
        Marker diameter in screen pixels; default ``100 / sqrt(n_samples)``.
    subset_points : array-like of bool of shape (n_samples,) or of int, optional
        Plot only these points.
    interactive_text_search : bool, default=False
        Add a search box above the plot: points whose searched columns contain
        the text (case-insensitive) stay opaque, the others fade.
    interactive_text_search_columns : list of str, optional
        Columns to search; default every hover_data column and the labels.
    interactive_text_search_alpha_contrast : float in [0, 1], default=0.95
        Alpha of matching points; non-matching points get ``1 -`` this.
    alpha : float in [0, 1], optional
        Opacity of the points.

    Returns
    -------
    bokeh.plotting.figure, or bokeh.models.Column (search box above the figure)

    Notes
    -----
    For a DensMAP model fitted with ``output_dens=True`` (it has ``rad_orig_``
    and ``rad_emb_``) the tooltip also shows each point's local log radius in
    input space and in the embedding, so regions the embedding compressed or
    spread can be read off point by point. All points are drawn (with WebGL
    beyond ``width * height / 10`` points) and keep their tooltips; umap-learn
    instead rasterises large inputs with holoviews and drops the hover data.

    Raises
    ------
    ImportError
        Without Bokeh.
    ValueError
        For the bad inputs :func:`points` rejects, hover_data columns of the wrong
        length, or unknown search columns.
    """
    bpl = require("bokeh.plotting", "densumap.plot.interactive()")
    from bokeh.layouts import column
    from bokeh.models import CustomJS, HoverTool, TextInput
    from bokeh.transform import linear_cmap

    require("matplotlib", "densumap.plot.interactive() (its colour maps)")
    check_size(width, height)
    alpha = check_alpha(alpha, "interactive")
    contrast = check_alpha(interactive_text_search_alpha_contrast, "interactive")
    emb, is_model = embedding_of(umap_object, "interactive")
    check_2d(emb, is_model, "interactive")
    n = emb.shape[0]
    if labels is not None and values is not None:
        raise ValueError(
            "Pass labels (categories) or values (continuous), not both."
        )
    mask = np.ones(n, dtype=bool)
    if subset_points is not None:
        mask = subset_mask(subset_points, n, "interactive")
    th = check_theme(theme)
    if th is not None:
        cmap, color_key_cmap, background = th["cmap"], th["color_key_cmap"], th["background"]
    background_rgb = to_rgb(background, "background")
    cmap = get_cmap(cmap, "cmap")

    data = {_X: emb[:, 0], _Y: emb[:, 1], _INDEX: np.arange(n)}
    tooltips = [("index", f"@{{{_INDEX}}}")]
    color = _COLOR
    if labels is not None:
        labels = as_1d(labels, "labels", n)
        categories, codes = encode_labels(labels[mask])
        palette = get_cmap("Spectral" if color_key_cmap is None else color_key_cmap,
                           "color_key_cmap")
        rgb = category_colors(categories, color_key, palette)
        hexes = np.array([to_hex(c) for c in rgb])
        data[_COLOR] = np.full(n, "#000000", dtype=object)
        data[_COLOR][mask] = hexes[codes]
        data["label"] = labels.astype(str)
        tooltips.append(("label", "@{label}"))
    elif values is not None:
        values = as_1d(values, "values", n)
        if values.dtype.kind not in "biuf":
            raise ValueError(
                f"values must be numbers, got dtype {values.dtype}; use labels= for "
                "categories."
            )
        data["value"] = values.astype(np.float64)
        shown = data["value"][mask]
        shown = shown[np.isfinite(shown)]
        lo, hi = (shown.min(), shown.max()) if shown.size else (0.0, 1.0)
        palette = [to_hex(c) for c in cmap(np.linspace(0.0, 1.0, 256))]
        color = linear_cmap("value", palette, low=lo, high=hi if hi > lo else lo + 1.0,
                            nan_color="#bbbbbb")
        tooltips.append(("value", "@{value}"))
    else:
        data[_COLOR] = np.full(n, to_hex(density_ramp(cmap, background_rgb)(np.array([0.6]))[0]),
                               dtype=object)
    hover = _hover_columns(hover_data, n)
    for name, col in hover.items():
        data[name] = col
        tooltips.append((name, f"@{{{name}}}"))
    radii = _radii(umap_object, n) if is_model else {}
    for col, _, title in _RADII:
        if col in radii:
            data[col] = radii[col]
            tooltips.append((title, f"@{{{col}}}{{0.000}}"))
    base_alpha = 1.0 if alpha is None else alpha
    data[_ALPHA] = np.full(n, base_alpha)
    data[_ALPHA0] = np.full(n, base_alpha)
    data = {k: v[mask] for k, v in data.items()}
    m = int(mask.sum())

    if point_size is None:
        point_size = max(100.0 / np.sqrt(m), 2.0)
    if tools is None:
        tools = "pan,wheel_zoom,box_zoom,save,reset,help"
    own_hover = not isinstance(tools, str) and any(isinstance(t, HoverTool) for t in tools)
    source = bpl.ColumnDataSource(data, name="densumap_points")
    plot = bpl.figure(
        width=width, height=height, tools=tools,
        tooltips=None if own_hover else tooltips,
        background_fill_color=to_hex(background_rgb),
        output_backend="webgl" if m > width * height / 10 else "canvas",
        match_aspect=True,
    )
    plot.grid.visible = False
    plot.scatter(_X, _Y, source=source, size=point_size, fill_color=color, line_color=None,
                 fill_alpha=_ALPHA, name="points")

    if not interactive_text_search:
        return plot
    if interactive_text_search_columns is None:
        search = list(hover) + (["label"] if labels is not None and "label" not in hover
                                else [])
    else:
        search = [str(c) for c in interactive_text_search_columns]
        unknown = [c for c in search if c not in data]
        if unknown:
            raise ValueError(
                f"interactive_text_search_columns {unknown} are not hover_data columns or "
                f"'label'; available: {sorted(k for k in data if not k.startswith('__'))}."
            )
    if not search:
        raise ValueError(
            "interactive_text_search needs hover_data or labels to search in."
        )
    text_input = TextInput(value="", title="Search:", name="densumap_search")
    text_input.js_on_change("value", CustomJS(
        args=dict(source=source, columns=search, matching=contrast,
                  non_matching=1.0 - contrast, alpha_col=_ALPHA, alpha0_col=_ALPHA0),
        code=_SEARCH_JS,
    ))
    return column(text_input, plot)


def _inline_resources():
    from bokeh.resources import INLINE

    return INLINE


def save_html(plot, filename, title="densumap"):
    """Write a Bokeh plot to ONE standalone HTML file that needs no network.

    BokehJS is inlined into the page (about 1-2 MB), unlike Bokeh's default of
    loading it from a CDN, so the file opens offline and keeps working when
    shared. The file is written to a temporary name and renamed, so a reader
    never sees half a page.

    Parameters
    ----------
    plot : bokeh figure or layout, e.g. from :func:`interactive`
    filename : str or path-like
    title : str, default="densumap"
        The page's title.

    Returns
    -------
    path : pathlib.Path
    """
    embed = require("bokeh.embed", "densumap.plot.save_html()")
    html = embed.file_html(plot, resources=_inline_resources(), title=title)
    from ..persist import atomic_write

    path = Path(filename)
    with atomic_write(path, "w", encoding="utf-8") as fh:
        fh.write(html)
    return path


def output_notebook(resources=None, **kwargs):
    """Show Bokeh plots inline in a Jupyter notebook (``bokeh.io.output_notebook``).

    BokehJS is inlined by default (``resources=INLINE``), so the notebook needs
    no network; other keywords go to Bokeh.
    """
    io = require("bokeh.io", "densumap.plot.output_notebook()")
    require("IPython", "densumap.plot.output_notebook() (plots inside Jupyter)")
    io.output_notebook(resources=_inline_resources() if resources is None else resources,
                       **kwargs)


def output_file(filename, title="densumap", mode="inline", **kwargs):
    """Make :func:`show` write Bokeh plots to ``filename`` (``bokeh.io.output_file``).

    ``mode="inline"`` (Bokeh's default is "cdn") puts BokehJS in the file, so
    it opens with no network.
    """
    io = require("bokeh.io", "densumap.plot.output_file()")
    io.output_file(filename, title=title, mode=mode, **kwargs)
