"""Inputs, optional imports and figure helpers shared by the plotting modules."""
import importlib

import numpy as np

_DPI = 100

# What to install for each optional library, named in the ImportError.
_INSTALL_HINTS = {
    "matplotlib": "pip install matplotlib",
    "bokeh": "pip install bokeh",
    "datashader": "pip install 'densumap[plot]' (datashader, pandas, scikit-image)",
    "pandas": "pip install pandas",
    "skimage": "pip install scikit-image",
    "IPython": "run it in Jupyter, or pip install ipython",
}


def require(module, purpose):
    """Import ``module`` or raise an ImportError that says what to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        hint = _INSTALL_HINTS.get(top, f"pip install {top}")
        raise ImportError(f"{purpose} needs {top}, which is not installed: {hint}.") from exc


def _import_matplotlib():
    return require("matplotlib", "densumap.plot")


def _import_datashader():
    """Return the datashader modules, or None when datashader is not installed."""
    try:
        import datashader
        import datashader.transfer_functions as tf
        import pandas  # noqa: F401  (datashader's input format)
    except ImportError:
        return None
    return datashader, tf


# --------------------------------------------------------------------------- inputs


def embedding_of(obj, func="points"):
    """The embedding array of a fitted model, or ``obj`` itself as an array."""
    is_model = not isinstance(obj, np.ndarray) and (
        hasattr(obj, "embedding_") or hasattr(obj, "fit")
    )
    original = obj
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
            f"(n_samples, 2); got {type(original).__name__}."
        ) from None
    return emb, is_model


def check_2d(emb, is_model, func="points"):
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


def as_1d(arr, name, n):
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


def subset_mask(subset_points, n, func):
    """``subset_points`` as a boolean mask of length n (umap-learn takes a mask)."""
    sub = np.asarray(subset_points)
    if sub.dtype == bool:
        if sub.shape != (n,):
            raise ValueError(
                f"{func}(): subset_points has {sub.size} entries but the embedding has "
                f"{n} points; pass one boolean per point (or an array of indices)."
            )
        mask = sub
    elif sub.dtype.kind in "iu" and sub.ndim == 1:
        if sub.size and (sub.min() < -n or sub.max() >= n):
            raise ValueError(
                f"{func}(): subset_points holds indices outside [0, {n}) for {n} points."
            )
        mask = np.zeros(n, dtype=bool)
        mask[sub] = True
    else:
        raise ValueError(
            f"{func}(): subset_points must be a boolean mask or integer indices, got "
            f"dtype {sub.dtype} and shape {sub.shape}."
        )
    if not mask.any():
        raise ValueError(f"{func}(): subset_points selects no points.")
    return mask


def check_alpha(alpha, func):
    if alpha is None:
        return None
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.number)) or not (
        0.0 <= float(alpha) <= 1.0
    ):
        raise ValueError(f"{func}(): alpha must be a number in [0, 1], got {alpha!r}.")
    return float(alpha)


def encode_labels(labels):
    """Sorted distinct labels and each point's index into them."""
    try:
        return np.unique(labels, return_inverse=True)
    except TypeError:  # mixed types (e.g. ints and None) do not sort together
        return np.unique(labels.astype(str), return_inverse=True)


def check_size(width, height):
    for name, v in (("width", width), ("height", height)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 16:
            raise ValueError(f"{name} must be an integer number of pixels >= 16, got {v!r}.")


def model_caption(model):
    """umap.plot's watermark, ``"UMAP: n_neighbors=15, min_dist=0.1"``; None for arrays."""
    if model is None or isinstance(model, np.ndarray) or not hasattr(model, "n_neighbors"):
        return None
    parts = []
    metric = getattr(model, "metric", "euclidean")
    if isinstance(metric, str) and metric != "euclidean":
        parts.append(f"metric={metric}")
    elif callable(metric):
        parts.append(f"metric={getattr(metric, '__name__', 'custom')}")
    parts.append(f"n_neighbors={model.n_neighbors}")
    if hasattr(model, "min_dist"):
        parts.append(f"min_dist={model.min_dist}")
    name = "UMAP"
    if getattr(model, "densmap", False):
        name = "DensMAP"
        parts.append(f"dens_lambda={getattr(model, 'dens_lambda', '?')}")
    return f"{name}: " + ", ".join(parts)


def add_caption(ax, model, fg):
    text = model_caption(model)
    if text is not None:
        ax.text(0.99, 0.01, text, transform=ax.transAxes, ha="right", va="bottom",
                color=fg, fontsize="x-small")


# --------------------------------------------------------------------------- figures


def new_figure(width, height, background):
    _import_matplotlib()
    import matplotlib.pyplot as plt

    # pyplot so that notebooks show the figure, as umap.plot does. A figure of
    # width/dpi x height/dpi inches saves as exactly width x height pixels.
    return plt.figure(figsize=(width / _DPI, height / _DPI), dpi=_DPI, facecolor=background)


def style_axes(ax, background_rgb):
    ax.set_facecolor(background_rgb)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
