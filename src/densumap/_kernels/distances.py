"""Exact k-nearest-neighbour queries of new rows against training rows.

Each query row is handled by one thread: it computes its distance to every
training row in a fixed order and keeps the ``k`` smallest in a sorted array by
insertion (:mod:`.topk`; ties go to the lower training index, as a stable sort
would).  A row's answer therefore depends only on that row and the training data,
never on the other query rows or on the thread count.  Memory is ``O(n_new * k)``.
"""
import numpy as np
from numba import prange

from ._config import FAST, kernel
from .topk import EMPTY, keep_smallest

# Metric codes shared with densumap.neighbors.
EUCLIDEAN = 0
MANHATTAN = 1
CHEBYSHEV = 2
MINKOWSKI = 3
COSINE = 4
CORRELATION = 5


@kernel(fastmath=FAST)
def _pair(x, y, code, p, x_norm, y_norm, x_mean, y_mean):
    """Distance between two dense rows; norms/means are only used by cosine/correlation."""
    d = x.shape[0]
    acc = 0.0
    if code == EUCLIDEAN:
        for c in range(d):
            diff = np.float64(x[c]) - np.float64(y[c])
            acc += diff * diff
        return np.sqrt(acc)
    if code == MANHATTAN:
        for c in range(d):
            acc += abs(np.float64(x[c]) - np.float64(y[c]))
        return acc
    if code == CHEBYSHEV:
        for c in range(d):
            v = abs(np.float64(x[c]) - np.float64(y[c]))
            if v > acc:
                acc = v
        return acc
    if code == MINKOWSKI:
        for c in range(d):
            acc += abs(np.float64(x[c]) - np.float64(y[c])) ** p
        return acc ** (1.0 / p)
    # cosine / correlation: 1 - <x - mx, y - my> / (|x - mx| |y - my|)
    for c in range(d):
        acc += (np.float64(x[c]) - x_mean) * (np.float64(y[c]) - y_mean)
    if x_norm == 0.0 or y_norm == 0.0:
        return 1.0  # as scikit-learn: a zero vector is orthogonal to everything
    return max(1.0 - acc / (x_norm * y_norm), 0.0)


@kernel(parallel=True)
def row_stats(X, code):
    """Per-row mean and norm needed by cosine (mean 0) and correlation (centred)."""
    n, d = X.shape
    means = np.zeros(n, dtype=np.float64)
    norms = np.zeros(n, dtype=np.float64)
    if code != COSINE and code != CORRELATION:
        return means, norms
    for i in prange(n):
        m = 0.0
        if code == CORRELATION:
            for c in range(d):
                m += np.float64(X[i, c])
            m /= d
        s = 0.0
        for c in range(d):
            v = np.float64(X[i, c]) - m
            s += v * v
        means[i] = m
        norms[i] = np.sqrt(s)
    return means, norms


@kernel(parallel=True)
def query_knn(X_new, X_train, k, code, p, new_means, new_norms, train_means, train_norms):
    """The ``k`` nearest training rows of every query row.

    Parameters
    ----------
    X_new : ndarray of shape (n_new, d)
    X_train : ndarray of shape (n_train, d), same dtype as ``X_new``
    k : int
        ``1 <= k <= n_train``.
    code : int
        Metric code (module constants).
    p : float
        Minkowski exponent (ignored by the other metrics).
    new_means, new_norms, train_means, train_norms : ndarray
        From :func:`row_stats` (zeros unless cosine/correlation).

    Returns
    -------
    indices : ndarray of shape (n_new, k), int32
    distances : ndarray of shape (n_new, k), float32
        Sorted by increasing distance, ties by increasing index.
    """
    n_new = X_new.shape[0]
    n_train = X_train.shape[0]
    indices = np.empty((n_new, k), dtype=np.int32)
    distances = np.empty((n_new, k), dtype=np.float32)
    for i in prange(n_new):
        top_d = np.full(k, EMPTY)
        top_i = np.full(k, -1, dtype=np.int64)
        for j in range(n_train):
            d = _pair(X_new[i], X_train[j], code, p, new_norms[i], train_norms[j],
                      new_means[i], train_means[j])
            keep_smallest(top_d, top_i, d, j)
        for c in range(k):
            indices[i, c] = top_i[c]
            distances[i, c] = top_d[c]
    return indices, distances
