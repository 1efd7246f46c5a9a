"""Nearest-neighbour search: exact for small data, approximate for large.

All searches return ``(indices, distances)`` of shape ``(n, n_neighbors)``, int32
and float32, rows sorted by distance with the query point itself in column 0.
"""
import logging
import warnings

import numpy as np
import scipy.sparse as sp

from . import metrics as metrics_mod

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
    "linfty": "chebyshev",
    "minkowski": "minkowski",
    "correlation": "correlation",
    "precomputed": "precomputed",
}

# Largest distance a bounded metric can give; neighbours at that distance carry no
# information and are disconnected by default (as umap-learn does).
DEFAULT_DISCONNECTION = {"cosine": 2.0, "correlation": 2.0, **metrics_mod.DISCONNECTION}


def canonical_metric(metric, what="metric"):
    """Canonical name of ``metric``, or ``metric`` itself when it is a function.

    Built-in names (:data:`METRIC_ALIASES`) and the named metrics of
    :mod:`densumap.metrics` are accepted in any case; anything else raises
    ``ValueError``.
    """
    if callable(metric):
        return metric
    if isinstance(metric, str):
        if metric.lower() in METRIC_ALIASES:
            return METRIC_ALIASES[metric.lower()]
        if metrics_mod.is_named(metric):
            return metrics_mod.canonical_name(metric)
    error = metrics_mod.not_provided_error(metric, what)
    if error is not None:
        raise error
    raise ValueError(
        f"Unknown {what} {metric!r}; supported: "
        f"{sorted(set(METRIC_ALIASES) | set(metrics_mod.NAMED_ALIASES))} or a numba "
        f"function f(x, y) -> float."
    )


def is_builtin(metric):
    """True for a canonical built-in name (searched by the dedicated kernels)."""
    return isinstance(metric, str) and metric in METRIC_ALIASES.values()


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


def _approximate(X, n_neighbors, metric, metric_kwds, seed, low_memory=True):
    if not sp.issparse(X):
        from .nndescent import approximate_knn

        return approximate_knn(
            X, n_neighbors, metric=metric, metric_kwds=metric_kwds, random_state=seed
        )
    from pynndescent import NNDescent

    # Sparse input: the deterministic search works on dense rows only.
    warnings.warn(
        "Approximate neighbours for sparse input come from pynndescent, whose result "
        "can vary with the number of threads.",
        UserWarning,
        stacklevel=3,
    )
    index = NNDescent(X, n_neighbors=n_neighbors, metric=metric, metric_kwds=metric_kwds,
                      random_state=seed, low_memory=low_memory)
    indices, dists = index.neighbor_graph
    return indices.astype(np.int32), dists.astype(np.float32)


def _generic_spec(X, metric, metric_kwds, what):
    """The resolved metric of the generic search; sparse input is refused."""
    if sp.issparse(X):
        name = metric if isinstance(metric, str) else getattr(metric, "__name__", metric)
        raise ValueError(
            f"{what}={name!r} needs dense input; densumap searches sparse data only with "
            f"{sorted(set(METRIC_ALIASES) - {'precomputed'})}. Use X.toarray() (if it fits "
            f"in memory) or one of those metrics."
        )
    return metrics_mod.resolve(metric, metric_kwds, what)


def _generic(X, n_neighbors, metric, metric_kwds, seed, exact, what):
    from . import metric_search

    spec = _generic_spec(X, metric, metric_kwds, what)
    if exact:
        return metric_search.exact_knn(X, n_neighbors, spec)
    return metric_search.approximate_knn(X, n_neighbors, spec, random_state=seed)


def nearest_neighbors(X, n_neighbors, metric="euclidean", metric_kwds=None, seed=0,
                      exact=None, what="metric", low_memory=True):
    """k nearest neighbours of every row of ``X`` among the rows of ``X``.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n, d), or (n, n) distances if
        ``metric="precomputed"``.
    n_neighbors : int
        Neighbours per point, the point itself included.
    metric : str or callable, default="euclidean"
        Canonical metric name or a user's function (see :func:`canonical_metric`).
    metric_kwds : dict or None
        Extra metric arguments, e.g. ``{"p": 3}`` for minkowski.
    seed : int, default=0
        Seed of the approximate search.
    exact : bool or None
        Force exact (True) or approximate (False) search; None chooses by size
        (exact up to :data:`EXACT_MAX_SAMPLES` rows).
    what : str, default="metric"
        Name of the parameter the metric came from, for error messages.
    low_memory : bool, default=True
        pynndescent's option of that name, for the approximate search of sparse
        ``X`` with a built-in metric; the dense searches have no such choice (their
        memory is bounded).

    Returns
    -------
    indices : ndarray of shape (n, n_neighbors), int32
    distances : ndarray of shape (n, n_neighbors), float32
    """
    n = X.shape[0]
    if exact is None:
        exact = n <= EXACT_MAX_SAMPLES
    if metric == "precomputed":
        indices, dists = _precomputed(X, n_neighbors)
    elif not is_builtin(metric):
        indices, dists = _generic(X, n_neighbors, metric, metric_kwds, seed, exact, what)
    else:
        if exact:
            indices, dists = _exact(X, n_neighbors, metric, metric_kwds)
        else:
            indices, dists = _approximate(X, n_neighbors, metric, metric_kwds, seed,
                                          low_memory)
    indices, dists = _self_first(indices, dists)
    return np.ascontiguousarray(indices), np.ascontiguousarray(dists)


_QUERY_CODES = {
    "euclidean": 0,
    "manhattan": 1,
    "chebyshev": 2,
    "minkowski": 3,
    "cosine": 4,
    "correlation": 5,
}

# Rows of a sparse query handled per call of scikit-learn's pairwise_distances.
_SPARSE_CHUNK = 256


def _stable_topk(D, n_neighbors):
    indices = np.argsort(D, axis=1, kind="stable")[:, :n_neighbors]
    dists = np.take_along_axis(D, indices, axis=1)
    return indices.astype(np.int32), dists.astype(np.float32)


def query_neighbors(train_X, X_new, n_neighbors, metric="euclidean", metric_kwds=None):
    """Exact ``n_neighbors`` nearest training rows of every row of ``X_new``.

    Brute force, row by row: each query row's answer depends only on that row and
    ``train_X`` (not on the other rows of ``X_new`` nor on the thread count), so
    querying in chunks gives identical results.  Ties go to the lower training
    index.

    Parameters
    ----------
    train_X : ndarray or sparse CSR matrix of shape (n_train, n_features), or None
        The fitted rows; None for ``metric="precomputed"``.
    X_new : ndarray or sparse CSR matrix of shape (n_new, n_features)
        Dense input must have the dtype of ``train_X`` (no copy is made of either).
        For ``metric="precomputed"``: distances to the training rows, shape
        (n_new, n_train).
    n_neighbors : int
        ``1 <= n_neighbors <= n_train``.
    metric : str or callable, default="euclidean"
        Canonical metric name or a user's function (see :func:`canonical_metric`).
    metric_kwds : dict or None
        The metric's keyword arguments (e.g. ``{"p": p}`` for minkowski).

    Returns
    -------
    indices : ndarray of shape (n_new, n_neighbors), int32
    distances : ndarray of shape (n_new, n_neighbors), float32
        Sorted by increasing distance.
    """
    if metric == "precomputed":
        D = X_new.toarray() if sp.issparse(X_new) else np.asarray(X_new)
        return _stable_topk(D, n_neighbors)
    if not is_builtin(metric):
        from . import metric_search

        spec = _generic_spec(X_new, metric, metric_kwds, "metric")
        return metric_search.query_knn(train_X, X_new, n_neighbors, spec)
    kw = dict(metric_kwds or {})
    if sp.issparse(train_X) or sp.issparse(X_new):
        from sklearn.metrics import pairwise_distances

        if metric == "minkowski":
            kw.setdefault("p", 2)
        parts_i, parts_d = [], []
        for start in range(0, X_new.shape[0], _SPARSE_CHUNK):
            D = pairwise_distances(X_new[start:start + _SPARSE_CHUNK], train_X, metric=metric,
                                   **kw)
            i, d = _stable_topk(D, n_neighbors)
            parts_i.append(i)
            parts_d.append(d)
        return np.concatenate(parts_i), np.concatenate(parts_d)
    from ._kernels import distances as _kd

    if X_new.dtype != train_X.dtype:
        raise TypeError(
            f"X_new has dtype {X_new.dtype} but the training rows have {train_X.dtype}."
        )
    code = _QUERY_CODES[metric]
    p = float(kw.get("p", 2.0))
    new_means, new_norms = _kd.row_stats(X_new, code)
    train_means, train_norms = _kd.row_stats(train_X, code)
    return _kd.query_knn(X_new, train_X, int(n_neighbors), code, p, new_means, new_norms,
                         train_means, train_norms)


def precomputed_knn_arrays(precomputed_knn, n_samples, n_neighbors):
    """Check a user's ``precomputed_knn`` and cut it to ``n_neighbors`` columns.

    Parameters
    ----------
    precomputed_knn : None or tuple ``(knn_indices, knn_dists[, knn_search_index])``
        As umap-learn's parameter of that name. ``knn_indices`` (integers) and
        ``knn_dists`` (non-negative, finite) have shape (n_samples, k), each row
        sorted by distance with the point itself in column 0 (a duplicate at
        distance 0 may come first; the point is then moved to column 0); ``-1``
        marks a missing neighbour. A third element (umap-learn's search index) is
        accepted and not used: densumap's ``transform`` searches the training rows.
        ``None``, ``(None, None)`` and ``(None, None, None)`` mean "search".
    n_samples : int
        Rows of the data being fitted.
    n_neighbors : int
        Neighbours the fit uses (the point itself included).

    Returns
    -------
    None when there is nothing to use (no kNN given, or fewer than
    ``n_neighbors`` columns: a ``UserWarning`` says so and the fit searches), else
    ``(indices, distances)`` of shape (n_samples, n_neighbors), int32 and float32.

    Raises
    ------
    ValueError
        When the tuple or its arrays do not have the form above.
    """
    if precomputed_knn is None:
        return None
    if not isinstance(precomputed_knn, (tuple, list)) or len(precomputed_knn) not in (2, 3):
        raise ValueError(
            "precomputed_knn must be a tuple (knn_indices, knn_dists) or (knn_indices, "
            f"knn_dists, knn_search_index); got {type(precomputed_knn).__name__}"
            + (f" of length {len(precomputed_knn)}" if isinstance(precomputed_knn,
                                                                  (tuple, list)) else "")
            + "."
        )
    indices, dists = precomputed_knn[0], precomputed_knn[1]
    if indices is None and dists is None:
        return None
    indices, dists = np.asarray(indices), np.asarray(dists)
    if indices.ndim != 2 or indices.shape != dists.shape:
        raise ValueError(
            f"precomputed_knn[0] (indices) and precomputed_knn[1] (distances) must be 2-D "
            f"arrays of the same shape (n_samples, k); got shapes {indices.shape} and "
            f"{dists.shape}."
        )
    if indices.shape[0] != n_samples:
        raise ValueError(
            f"precomputed_knn has {indices.shape[0]} rows but X has {n_samples} samples; "
            f"the kNN must be that of the data being fitted."
        )
    if indices.dtype.kind not in "iu":
        raise ValueError(f"precomputed_knn[0] (indices) must hold integers; got dtype "
                         f"{indices.dtype}.")
    if dists.dtype.kind not in "iuf":
        raise ValueError(f"precomputed_knn[1] (distances) must be numeric; got dtype "
                         f"{dists.dtype}.")
    k = indices.shape[1]
    if k < n_neighbors:
        warnings.warn(
            f"precomputed_knn has {k} neighbours per point but n_neighbors={n_neighbors}; "
            f"it is not used and the neighbours are searched instead.",
            UserWarning, stacklevel=4,
        )
        return None
    indices = indices.astype(np.int64, copy=False)
    if indices.size and (indices.min() < -1 or indices.max() >= n_samples):
        raise ValueError(
            f"precomputed_knn[0] (indices) must lie in [0, {n_samples}) or be -1 "
            f"(missing); found values from {indices.min()} to {indices.max()}."
        )
    dists = dists.astype(np.float32)
    present = indices >= 0
    if not np.all(np.isfinite(dists[present])) or np.any(dists[present] < 0):
        raise ValueError("precomputed_knn[1] (distances) must be finite and non-negative.")
    masked = np.where(present, dists, np.inf)
    if np.any(np.diff(masked, axis=1) < 0):
        row = int(np.nonzero(np.any(np.diff(masked, axis=1) < 0, axis=1))[0][0])
        raise ValueError(
            f"precomputed_knn rows must be sorted by increasing distance (missing "
            f"neighbours, -1, last); row {row} is not."
        )
    rows = np.arange(n_samples)
    is_self = indices == rows[:, None]
    if not np.all(is_self.any(axis=1)):
        row = int(np.nonzero(~is_self.any(axis=1))[0][0])
        raise ValueError(
            f"precomputed_knn must list each point as its own first neighbour (column 0, "
            f"distance 0), as umap-learn's does; row {row} does not contain {row}. A "
            f"graph without the points themselves (e.g. scanpy's obsp['distances']) "
            f"needs them added: densumap.anndata does this."
        )
    self_at = is_self.argmax(axis=1)
    if np.any(dists[rows, self_at] != 0):
        raise ValueError("precomputed_knn gives some points a non-zero distance to themselves.")
    if not present.all():
        # A missing neighbour has no distance; give it the row's largest so that the
        # row stays sorted and finite (its edge is dropped by the -1 in any case).
        dists = np.where(present, dists, np.max(np.where(present, dists, 0), axis=1,
                                                keepdims=True))
    indices, dists = indices.astype(np.int32), np.ascontiguousarray(dists)
    if np.any(self_at != 0):  # a duplicate at distance 0 came first
        indices, dists = _self_first(indices, dists)
    return (np.ascontiguousarray(indices[:, :n_neighbors]),
            np.ascontiguousarray(dists[:, :n_neighbors]))
