"""Neighbour searches under the metrics of :mod:`densumap.metrics` (named and users').

Exact search is brute force, parallel over query rows
(:func:`densumap._kernels.metric_knn.exact_knn`); approximate search is
random-projection trees and NN-descent on the raw rows
(:mod:`densumap._kernels.metric_descent`). Both are deterministic functions of their
inputs, bit-identical for any number of threads. Rows are dense arrays or CSR
matrices, float32 or float64.
"""
import math
import numbers

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from . import metrics as metrics_mod
from ._kernels import metric_descent as _kd
from ._kernels.metric_knn import exact_knn as _exact_kernel
from ._kernels.nndescent import reverse_edges

# Stop the descent once a round changes fewer than this fraction of the n * K entries.
_DELTA = 0.002


def prepare(X):
    """``X`` as the search reads it: a C-contiguous, writable float32/float64 array, or a
    CSR matrix with sorted, unique column indices (copied only if needed)."""
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64 if X.dtype.itemsize > 4 else np.float32)
        if not X.has_canonical_format:
            X = X.copy()
            X.sum_duplicates()
        return X
    X = np.asarray(X)
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64 if X.dtype.itemsize > 4 else np.float32)
    return np.require(X, requirements=["C", "W"])


def rows_tuple(X):
    """The kernels' *rows* tuple of prepared data (:mod:`densumap._kernels.metric_rows`)."""
    if sp.issparse(X):
        return (np.zeros((1, 1), dtype=X.dtype), X.indptr.astype(np.int64),
                np.ascontiguousarray(X.indices, dtype=np.int32),
                np.require(X.data, requirements=["C", "W"]), np.int64(X.shape[1]), True)
    return (X, np.zeros(2, dtype=np.int64), np.zeros(1, dtype=np.int32),
            np.zeros(1, dtype=X.dtype), np.int64(X.shape[1]), False)


def _checked(indices, distances, spec):
    """Raise when the metric gave NaN, infinite or negative distances."""
    if np.any(indices < 0) or not np.all(np.isfinite(distances)):
        raise ValueError(
            f"{spec.label}={spec.name!r} gave NaN or infinite distances between some rows "
            f"(fewer finite neighbours than asked for); check the data and the metric."
        )
    if np.any(distances < 0):
        raise ValueError(
            f"{spec.label}={spec.name!r} gave negative distances (smallest "
            f"{distances.min():g}); a metric must return values >= 0."
        )
    return indices, distances.astype(np.float32)


def exact_knn(X, n_neighbors, spec):
    """Exact ``n_neighbors`` nearest rows of ``X`` to each row of ``X``.

    Returns ``(indices int32, distances float32)`` of shape (n, n_neighbors), sorted
    by increasing distance, ties by increasing index.
    """
    X = prepare(X)
    metrics_mod.check_data(spec, X)
    metric = metrics_mod.kernel_metric(spec, X)
    rows = rows_tuple(X)
    indices, distances = _exact_kernel(rows, rows, int(n_neighbors), metric)
    return _checked(indices, distances, spec)


def query_knn(train_X, X_new, n_neighbors, spec):
    """Exact ``n_neighbors`` nearest training rows of each row of ``X_new``.

    A row's answer depends only on that row and ``train_X``, so querying in chunks
    gives identical results. ``X_new`` must have the dtype of ``train_X``.
    """
    if X_new.dtype != train_X.dtype:
        raise TypeError(
            f"X_new has dtype {X_new.dtype} but the training rows have {train_X.dtype}."
        )
    # Both sides in the training data's form (dense or sparse).
    if sp.issparse(train_X) and not sp.issparse(X_new):
        X_new = sp.csr_matrix(X_new)
    elif sp.issparse(X_new) and not sp.issparse(train_X):
        X_new = X_new.toarray()
    train_X = prepare(train_X)
    X_new = prepare(X_new)
    metrics_mod.check_data(spec, X_new)
    metric = metrics_mod.kernel_metric(spec, train_X)
    indices, distances = _exact_kernel(rows_tuple(X_new), rows_tuple(train_X),
                                       int(n_neighbors), metric)
    return _checked(indices, distances, spec)


def default_parameters(n_samples, n_neighbors):
    """``(n_trees, leaf_size, n_iters, max_candidates)`` chosen when None.

    ``n_iters`` is a cap: the descent stops once a round changes fewer than 0.2% of
    the graph's entries.
    """
    log_n = math.log2(max(n_samples, 2))
    n_trees = min(8, max(3, int(round(log_n / 3))))
    leaf_size = max(24, 2 * n_neighbors)
    n_iters = max(5, int(round(log_n)))
    max_candidates = max(8, min(n_neighbors, 30))
    return n_trees, leaf_size, n_iters, max_candidates


def approximate_knn(X, n_neighbors, spec, random_state=0, n_trees=None, leaf_size=None,
                    n_iters=None, max_candidates=None):
    """Approximate ``n_neighbors`` nearest rows of ``X`` to each row of ``X``.

    Bit-identical for any number of numba threads.

    Parameters
    ----------
    X : ndarray or CSR matrix of shape (n_samples, n_features), float32 or float64
    n_neighbors : int
        Neighbours per row, the row itself included; ``2 <= n_neighbors <= n_samples``.
    spec : densumap.metrics.MetricSpec
    random_state : int, RandomState, Generator or None, default=0
        Seed of the tree splits and the candidate sampling (an int is used as is).
    n_trees, leaf_size, n_iters, max_candidates : int or None
        Size parameters; None chooses them (:func:`default_parameters`).

    Returns
    -------
    indices : int32 ndarray of shape (n_samples, n_neighbors)
        Row ``i`` starts with ``i``, then its neighbours by increasing distance, ties
        broken by smaller index.
    distances : float32 ndarray of shape (n_samples, n_neighbors)
    """
    X = prepare(X)
    metrics_mod.check_data(spec, X)
    rows = rows_tuple(X)
    n = X.shape[0]
    k = int(n_neighbors)
    d_trees, d_leaf, d_iters, d_cand = default_parameters(n, k)
    n_trees = d_trees if n_trees is None else int(n_trees)
    leaf_size = d_leaf if leaf_size is None else int(leaf_size)
    n_iters = d_iters if n_iters is None else int(n_iters)
    cap = d_cand if max_candidates is None else int(max_candidates)
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        seed = int(random_state) & 0x7FFFFFFFFFFFFFFF
    else:
        seed = int(check_random_state(random_state).randint(0, 2**31 - 1))
    metric = metrics_mod.kernel_metric(spec, X)

    K = min(k - 1, n - 1)
    heap_idx = np.full((n, K), -1, dtype=np.int32)
    heap_dist = np.full((n, K), _kd.EMPTY, dtype=np.float64)
    heap_flag = np.zeros((n, K), dtype=np.uint8)
    orders = np.empty((n_trees, n), dtype=np.int32)
    leaf_starts = np.empty((n_trees, n + 1), dtype=np.int64)
    n_leaves = np.empty(n_trees, dtype=np.int64)
    _kd.build_forest(rows, seed, leaf_size, orders, leaf_starts, n_leaves)
    for t in range(n_trees):
        _kd.join_leaves(rows, metric, orders[t], leaf_starts[t], n_leaves[t], heap_idx,
                        heap_dist, heap_flag)
    del orders, leaf_starts
    _kd.fill_random(rows, metric, seed, heap_idx, heap_dist, heap_flag)

    rev_starts = np.empty(n + 1, dtype=np.int64)
    rev_sources = np.empty(n * K, dtype=np.int32)
    rev_flags = np.empty(n * K, dtype=np.uint8)
    new_cand = np.empty((n, cap), dtype=np.int32)
    old_cand = np.empty((n, cap), dtype=np.int32)
    n_new = np.empty(n, dtype=np.int64)
    n_old = np.empty(n, dtype=np.int64)
    for round_ in range(n_iters):
        reverse_edges(heap_idx, heap_flag, rev_starts, rev_sources, rev_flags)
        _kd.build_candidates(heap_idx, heap_flag, rev_starts, rev_sources, rev_flags, seed,
                             round_, new_cand, old_cand, n_new, n_old)
        changed = _kd.pull_round(rows, metric, new_cand, old_cand, n_new, n_old, heap_idx,
                                 heap_dist, heap_flag)
        if changed < _DELTA * n * K:
            break
    indices = np.empty((n, K + 1), dtype=np.int32)
    distances = np.empty((n, K + 1), dtype=np.float64)
    _kd.sorted_rows(heap_idx, heap_dist, indices, distances)
    if K + 1 < k:  # only when n < k, which callers exclude
        raise ValueError(f"n_neighbors={k} must not exceed n_samples={n}.")
    return _checked(indices, distances, spec)
