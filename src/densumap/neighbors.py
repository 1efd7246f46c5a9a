"""Nearest-neighbour search: exact for small data, approximate for large.

All searches return ``(indices, distances)`` of shape ``(n, n_neighbors)``, int32
and float32, rows sorted by distance with the query point itself in column 0.
"""
import logging
import warnings

import numpy as np
import scipy.sparse as sp

logger = logging.getLogger(__name__)

# Brute force costs n^2 * d; below this many samples it is both exact and fast.
EXACT_MAX_SAMPLES = 4096

# Canonical metric names, with the aliases users of scipy/sklearn/umap write.
METRIC_ALIASES = {
    "euclidean": "euclidean",
    "l2": "euclidean",
    "cosine": "cosine",
    "manhattan": "manhattan",
    "l1": "manhattan",
    "cityblock": "manhattan",
    "taxicab": "manhattan",
    "chebyshev": "chebyshev",
    "linfinity": "chebyshev",
    "linf": "chebyshev",
    "minkowski": "minkowski",
    "correlation": "correlation",
    "precomputed": "precomputed",
}

# Largest distance a bounded metric can give; neighbours at that distance carry no
# information and are disconnected by default (as umap-learn does).
DEFAULT_DISCONNECTION = {"cosine": 2.0, "correlation": 2.0}


def canonical_metric(metric):
    """Return the canonical name of ``metric`` or raise ``ValueError``."""
    if not isinstance(metric, str) or metric.lower() not in METRIC_ALIASES:
        raise ValueError(
            f"Unknown metric {metric!r}; supported: {sorted(set(METRIC_ALIASES))}."
        )
    return METRIC_ALIASES[metric.lower()]


def _self_first(indices, dists):
    """Put each row's own index in column 0 at distance 0 (ties with duplicates)."""
    n, k = indices.shape
    rows = np.arange(n)
    is_self = indices == rows[:, None]
    has_self = is_self.any(axis=1)
    out_i = np.empty_like(indices)
    out_d = np.empty_like(dists)
    out_i[:, 0] = rows
    out_d[:, 0] = 0.0
    # Rows containing self: drop that entry. Rows without it: drop the last one.
    drop = np.where(has_self, is_self.argmax(axis=1), k - 1)
    keep = np.ones((n, k), dtype=bool)
    keep[rows, drop] = False
    out_i[:, 1:] = indices[keep].reshape(n, k - 1)
    out_d[:, 1:] = dists[keep].reshape(n, k - 1)
    return out_i, out_d


def _exact(X, n_neighbors, metric, metric_kwds):
    from sklearn.neighbors import NearestNeighbors

    kw = dict(metric_kwds or {})
    if metric == "minkowski":
        p = kw.pop("p", 2)
        nn = NearestNeighbors(n_neighbors=n_neighbors, algorithm="brute", metric=metric, p=p,
                              metric_params=kw or None)
    else:
        nn = NearestNeighbors(n_neighbors=n_neighbors, algorithm="brute", metric=metric,
                              metric_params=kw or None)
    nn.fit(X)
    dists, indices = nn.kneighbors(X)
    return indices.astype(np.int32), dists.astype(np.float32)


def _precomputed(D, n_neighbors):
    if sp.issparse(D):
        D = D.toarray()
    indices = np.argsort(D, axis=1, kind="stable")[:, :n_neighbors]
    dists = np.take_along_axis(D, indices, axis=1)
    return indices.astype(np.int32), dists.astype(np.float32)


def _approximate(X, n_neighbors, metric, metric_kwds, seed):
    try:
        from ._kernels.nndescent import approximate_knn
    except ImportError:  # pragma: no cover - until the deterministic search lands
        approximate_knn = None
    if approximate_knn is not None and not sp.issparse(X):
        return approximate_knn(
            X, n_neighbors, metric=metric, metric_kwds=metric_kwds, random_state=seed
        )
    from pynndescent import NNDescent

    warnings.warn(
        "Approximate neighbours for this input come from pynndescent, whose result "
        "can vary with the number of threads.",
        UserWarning,
        stacklevel=3,
    )
    index = NNDescent(X, n_neighbors=n_neighbors, metric=metric, metric_kwds=metric_kwds,
                      random_state=seed)
    indices, dists = index.neighbor_graph
    return indices.astype(np.int32), dists.astype(np.float32)


def nearest_neighbors(X, n_neighbors, metric="euclidean", metric_kwds=None, seed=0,
                      exact=None):
    """k nearest neighbours of every row of ``X`` among the rows of ``X``.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n, d), or (n, n) distances if
        ``metric="precomputed"``.
    n_neighbors : int
        Neighbours per point, the point itself included.
    metric : str, default="euclidean"
        Canonical metric name (see :func:`canonical_metric`).
    metric_kwds : dict or None
        Extra metric arguments, e.g. ``{"p": 3}`` for minkowski.
    seed : int, default=0
        Seed of the approximate search.
    exact : bool or None
        Force exact (True) or approximate (False) search; None chooses by size.

    Returns
    -------
    indices : ndarray of shape (n, n_neighbors), int32
    distances : ndarray of shape (n, n_neighbors), float32
    """
    n = X.shape[0]
    if metric == "precomputed":
        indices, dists = _precomputed(X, n_neighbors)
    else:
        if exact is None:
            exact = n <= EXACT_MAX_SAMPLES
        if exact:
            indices, dists = _exact(X, n_neighbors, metric, metric_kwds)
        else:
            indices, dists = _approximate(X, n_neighbors, metric, metric_kwds, seed)
    indices, dists = _self_first(indices, dists)
    return np.ascontiguousarray(indices), np.ascontiguousarray(dists)
