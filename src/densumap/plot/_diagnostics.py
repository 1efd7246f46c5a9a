"""Diagnostic plots of a fitted model, as ``umap.plot.diagnostic`` draws them.

They need the training data, which a fitted ``densumap.UMAP`` keeps (not for
``metric="precomputed"``), and its nearest neighbours in input space, which are
searched again here with the model's metric (exactly below 4,096 points).
"""
import warnings

import numpy as np

from . import _common
from ._common import add_caption, check_2d, embedding_of, new_figure, style_axes
from ._themes import foreground, get_cmap, to_rgb

_DIAGNOSTIC_TYPES = ("pca", "ica", "vq", "local_dim", "neighborhood")
_TITLES = {
    "pca": "Colored by RGB coords of PCA embedding",
    "ica": "Colored by RGB coords of FastICA embedding",
    "vq": "Colored by RGB coords of Vector Quantization",
    "local_dim": "Colored by approx local dimension",
    "neighborhood": "Colored by neighborhood Jaccard index",
}


def _training_data(model, func):
    """The rows the model was fitted on, one per row of ``embedding_``."""
    X = getattr(model, "_raw_data", None)  # umap-learn's name
    if X is None:
        X = getattr(model, "_train_X", None)
        inverse = getattr(model, "unique_inverse_", None)
        if X is not None and inverse is not None and X.shape[0] != len(inverse):
            X = X[inverse]  # duplicates were fitted once; give each row back its own
    if X is None:
        raise ValueError(
            f"{func} needs the training data, which {type(model).__name__} does not keep "
            "(a model fitted with metric='precomputed' keeps only its graph)."
        )
    return X


def _seed(model):
    rs = getattr(model, "random_state", None)
    return int(rs) if isinstance(rs, (int, np.integer)) else 0


def _input_knn(model, X, k):
    """Indices and distances of the k nearest training rows (self first)."""
    from ..neighbors import canonical_metric, nearest_neighbors

    metric = getattr(model, "metric", "euclidean")
    if isinstance(metric, str):
        metric = canonical_metric(metric)
    k = int(min(k, X.shape[0]))
    return nearest_neighbors(X, k, metric, getattr(model, "metric_kwds", None), _seed(model))


def _unit_columns(proj):
    """Each column scaled to [0, 1], padded to three columns (an RGB colour)."""
    proj = np.asarray(proj, dtype=np.float64)
    lo, span = proj.min(axis=0), np.ptp(proj, axis=0)
    proj = (proj - lo) / np.where(span > 0, span, 1.0)
    if proj.shape[1] < 3:
        proj = np.hstack([proj, np.full((proj.shape[0], 3 - proj.shape[1]), 0.5)])
    return proj


def _colour_projection(model, kind):
    import scipy.sparse as sp
    from sklearn.exceptions import ConvergenceWarning

    X = _training_data(model, f"diagnostic({kind!r})")
    k = max(1, min(3, X.shape[1], X.shape[0] - 1))
    seed = _seed(model)
    if kind == "pca":
        from sklearn.decomposition import PCA, TruncatedSVD

        est = TruncatedSVD(k, random_state=seed) if sp.issparse(X) else PCA(k)
        return _unit_columns(est.fit_transform(X))
    if sp.issparse(X):
        X = X.toarray()
    if kind == "ica":
        from sklearn.decomposition import FastICA

        with warnings.catch_warnings():  # colours need no converged unmixing
            warnings.simplefilter("ignore", ConvergenceWarning)
            proj = FastICA(k, random_state=seed, whiten="unit-variance").fit_transform(X)
        return _unit_columns(proj)
    from sklearn.cluster import KMeans
    from sklearn.metrics import pairwise_distances

    centres = KMeans(n_clusters=min(3, X.shape[0]), n_init=3, random_state=seed).fit(X)
    return _unit_columns(pairwise_distances(X, centres.cluster_centers_))


def _local_dimension(X, indices, threshold, chunk=2048):
    """Number of principal components of each kNN neighbourhood that explain more
    than ``threshold`` of its variance; -1 where the neighbourhood has none."""
    import scipy.sparse as sp

    n, out = X.shape[0], np.empty(X.shape[0], dtype=np.int64)
    for s in range(0, n, chunk):
        idx = indices[s:s + chunk]
        rows = X[idx.ravel()]
        rows = rows.toarray() if sp.issparse(rows) else np.asarray(rows, dtype=np.float64)
        nb = rows.reshape(idx.shape[0], idx.shape[1], -1)
        nb = nb - nb.mean(axis=1, keepdims=True)
        # The Gram matrix (k x k) has the covariance's non-zero eigenvalues.
        eig = np.linalg.eigvalsh(nb @ nb.transpose(0, 2, 1))[:, ::-1]
        eig = np.clip(eig, 0.0, None)
        total = eig.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.cumsum(eig, axis=1) / total
        above = ratio > threshold
        out[s:s + chunk] = np.where(above.any(axis=1), above.argmax(axis=1) + 1, -1)
    return out


def _jaccard_rows(a, b):
    """Jaccard index of the sets in each row of a and b, shape (n,)."""
    inter = (a[:, :, None] == b[:, None, :]).any(axis=2).sum(axis=1)
    return inter / (a.shape[1] + b.shape[1] - inter)


def _neighbourhood_preservation(model, emb, nhood_size):
    from sklearn.neighbors import NearestNeighbors

    X = _training_data(model, "diagnostic('neighborhood')")
    high, _ = _input_knn(model, X, nhood_size)
    k = high.shape[1]
    low = NearestNeighbors(n_neighbors=k).fit(emb).kneighbors(emb, return_distance=False)
    return _jaccard_rows(high.astype(np.int64), low.astype(np.int64))


def _compute(model, emb, kind, nhood_size, local_variance_threshold):
    if kind in ("pca", "ica", "vq"):
        return _colour_projection(model, kind)
    if kind == "neighborhood":
        return _neighbourhood_preservation(model, emb, nhood_size)
    X = _training_data(model, "diagnostic('local_dim')")
    k = getattr(model, "n_neighbors_", None) or getattr(model, "n_neighbors", 15)
    indices, _ = _input_knn(model, X, k)
    return _local_dimension(X, indices, local_variance_threshold)


def _draw(ax, model, emb, kind, data, cmap, point_size, background_rgb):
    import matplotlib.cm
    from matplotlib.colors import Normalize

    fg = foreground(background_rgb)
    style_axes(ax, background_rgb)
    if kind in ("pca", "ica", "vq"):
        ax.scatter(emb[:, 0], emb[:, 1], s=point_size, c=data, alpha=0.66, linewidths=0)
    else:
        finite = data[data >= 0] if kind == "local_dim" else data
        finite = finite if finite.size else data
        vmin, vmax = np.percentile(finite, 5), np.percentile(finite, 95)
        if vmax <= vmin:
            vmax = vmin + 1.0
        norm = Normalize(vmin=vmin, vmax=vmax)
        ax.scatter(emb[:, 0], emb[:, 1], s=point_size, c=data, cmap=cmap, norm=norm,
                   linewidths=0)
        bar = ax.figure.colorbar(matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax,
                                 fraction=0.046, pad=0.02)
        bar.ax.tick_params(colors=fg, labelsize="small")
        bar.set_label("local dimension" if kind == "local_dim" else "Jaccard index",
                      color=fg)
    ax.set_title(_TITLES[kind], color=fg)
    add_caption(ax, model, fg)


def diagnostic(
    umap_object,
    diagnostic_type="pca",
    nhood_size=15,
    local_variance_threshold=0.8,
    ax=None,
    cmap="viridis",
    point_size=None,
    background="white",
    width=800,
    height=800,
    return_diagnostics=False,
    plot_result=True,
):
    """Colour the embedding by a diagnostic of how it represents the data.

    Parameters
    ----------
    umap_object : fitted model
        With ``embedding_`` of shape (n_samples, 2) and its training data.
    diagnostic_type : {"pca", "ica", "vq", "local_dim", "neighborhood", "all"}
        ``"pca"``, ``"ica"``, ``"vq"``: each point coloured by its position in a
        3-D linear embedding of the data (PCA; FastICA; distances to 3 k-means
        centres) read as RGB -- global structure shows as smooth colour
        gradients, a flipped cluster as a colour discontinuity.
        ``"local_dim"``: the number of principal components of each point's
        ``n_neighbors`` input neighbourhood needed to explain more than
        ``local_variance_threshold`` of its variance (umap-learn reports that
        number minus one). ``"neighborhood"``: the Jaccard index of each point's
        ``nhood_size`` nearest neighbours in input and embedding space.
        ``"all"``: the five in a grid.
    nhood_size : int, default=15
        Neighbourhood size for ``"neighborhood"`` (the point itself included).
    local_variance_threshold : float, default=0.8
        Variance fraction for ``"local_dim"``.
    ax : matplotlib.axes.Axes, optional
        Draw into these axes (not for ``"all"``).
    cmap : str or Colormap, default="viridis"
        Colour map for ``"local_dim"`` and ``"neighborhood"``, scaled to the 5th
        to 95th percentile, with a colour bar.
    point_size : float, optional
        Marker area; by default ``100 / sqrt(n_samples)`` (a quarter in "all").
    background : colour, default="white"
    width, height : int, default=800
        Figure size in pixels (at 100 dpi).
    return_diagnostics : bool, default=False
        Also return the computed data: RGB colours (n_samples, 3), local
        dimensions (n_samples,) int, Jaccard indices (n_samples,), or for
        ``"all"`` a dict of them by type.
    plot_result : bool, default=True
        Draw nothing when False (then only the data is returned, if asked for).

    Returns
    -------
    ax, or (ax, data), or data, or None
        As umap-learn: the axes drawn (for ``"all"``, the last panel; its
        ``figure`` holds all five), with the data if ``return_diagnostics``.

    Raises
    ------
    ValueError
        For an unknown ``diagnostic_type``, a model without embedding or
        training data (``metric="precomputed"``), or an embedding that is not 2-D.
    """
    if diagnostic_type not in _DIAGNOSTIC_TYPES + ("all",):
        raise ValueError(
            f"Unknown diagnostic_type {diagnostic_type!r}; choose one of "
            f"{', '.join(map(repr, _DIAGNOSTIC_TYPES))} or 'all'."
        )
    if plot_result:
        _common._import_matplotlib()
    emb, is_model = embedding_of(umap_object, "diagnostic")
    if not is_model:
        raise ValueError(
            "diagnostic() needs a fitted model (it reads the training data), not an array."
        )
    check_2d(emb, True, "diagnostic")
    n = emb.shape[0]
    if point_size is None:
        point_size = 100.0 / np.sqrt(n)
    if not (isinstance(nhood_size, (int, np.integer)) and nhood_size >= 2):
        raise ValueError(f"nhood_size must be an integer >= 2, got {nhood_size!r}.")
    if not 0.0 < local_variance_threshold < 1.0:
        raise ValueError(
            f"local_variance_threshold must be in (0, 1), got {local_variance_threshold!r}."
        )
    kinds = _DIAGNOSTIC_TYPES if diagnostic_type == "all" else (diagnostic_type,)
    data = {kind: _compute(umap_object, emb, kind, nhood_size, local_variance_threshold)
            for kind in kinds}
    result = data if diagnostic_type == "all" else data[diagnostic_type]
    if not plot_result:
        return result if return_diagnostics else None

    background_rgb = to_rgb(background, "background")
    cmap = get_cmap(cmap)
    if diagnostic_type == "all":
        fig = new_figure(width, height, background_rgb)
        axes = fig.subplots(2, 3).ravel()
        axes[-1].remove()
        for panel, kind in zip(axes, kinds):
            _draw(panel, umap_object, emb, kind, data[kind], cmap, point_size / 4.0,
                  background_rgb)
        fig.tight_layout()
        ax = axes[len(kinds) - 1]
    else:
        if ax is None:
            wide = 1.1 if diagnostic_type in ("local_dim", "neighborhood") else 1.0
            fig = new_figure(int(width * wide), height, background_rgb)
            ax = fig.add_subplot(111)
        _draw(ax, umap_object, emb, diagnostic_type, result, cmap, point_size, background_rgb)
    return (ax, result) if return_diagnostics else ax


def _mean_neighbour_distance(model):
    import scipy.sparse as sp

    dists = getattr(model, "graph_dists_", None)
    if dists is not None and sp.issparse(dists):
        dists = sp.csr_matrix(dists)
        counts = np.diff(dists.indptr)
        sums = np.asarray(dists.sum(axis=1)).ravel()
        with np.errstate(invalid="ignore", divide="ignore"):
            return sums / counts
    X = _training_data(model, "nearest_neighbour_distribution()")
    k = getattr(model, "n_neighbors_", None) or getattr(model, "n_neighbors", 15)
    _, d = _input_knn(model, X, k)
    return d[:, 1:].mean(axis=1) if d.shape[1] > 1 else np.zeros(d.shape[0])


def nearest_neighbour_distribution(umap_object, bins=25, ax=None):
    """Histogram of each point's mean distance to its nearest neighbours.

    Parameters
    ----------
    umap_object : fitted model
        Its ``graph_dists_`` when it has them; otherwise the ``n_neighbors - 1``
        nearest training rows of each row are searched with the model's metric.
        (umap-learn averages the graph's membership strengths here, despite the
        axis label; this shows distances in input space.)
    bins : int or sequence, default=25
        As ``matplotlib.axes.Axes.hist``.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    ax : matplotlib.axes.Axes
    """
    _common._import_matplotlib()
    if not hasattr(umap_object, "embedding_") and not hasattr(umap_object, "graph_dists_"):
        raise ValueError(
            "nearest_neighbour_distribution() needs a fitted model (call fit first); got "
            f"{type(umap_object).__name__}."
        )
    means = _mean_neighbour_distance(umap_object)
    means = means[np.isfinite(means)]
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.figure().add_subplot(111)
    ax.hist(means, bins=bins)
    ax.set_xlabel("Average distance to nearest neighbors")
    ax.set_ylabel("Frequency")
    return ax
