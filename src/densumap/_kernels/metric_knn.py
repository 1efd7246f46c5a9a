"""Exact k nearest neighbours under any metric of :mod:`._kernels.metrics`.

Each query row is handled by one thread, which measures its distance to every
reference row in index order and keeps the ``k`` smallest in a sorted array by
insertion (ties go to the lower reference index, as a stable sort would). A row's
answer depends only on that row and the reference rows, never on the other query
rows nor on the thread count.
"""
import numpy as np
from numba import prange

from ._config import kernel
from .metrics import pair_distance

# Distance of an empty slot: finite, so that no comparison relies on infinities.
_EMPTY = np.finfo(np.float64).max


@kernel(parallel=True)
def exact_knn(Q, R, k, metric):
    """The ``k`` nearest rows of ``R`` to every row of ``Q``.

    Parameters
    ----------
    Q : ndarray of shape (n_query, d), C-contiguous
    R : ndarray of shape (n_ref, d), C-contiguous, same dtype as ``Q``
    k : int
        ``1 <= k <= n_ref``.
    metric : tuple ``(code, p, vec, mat, fn)``
        See :func:`densumap._kernels.metrics.pair_distance`.

    Returns
    -------
    indices : ndarray of shape (n_query, k), int32
        -1 where fewer than ``k`` reference rows have a distance that is not NaN.
    distances : ndarray of shape (n_query, k), float64
        Sorted by increasing distance, ties by increasing index.
    """
    n_q = Q.shape[0]
    n_r = R.shape[0]
    indices = np.full((n_q, k), -1, dtype=np.int32)
    distances = np.full((n_q, k), _EMPTY, dtype=np.float64)
    for i in prange(n_q):
        top_d = distances[i]
        top_i = indices[i]
        for j in range(n_r):
            d = pair_distance(Q[i], R[j], metric)
            # Strict comparisons keep the lower index first among equal distances; a
            # NaN distance fails them and is never kept.
            if d < top_d[k - 1]:
                pos = k - 1
                while pos > 0 and top_d[pos - 1] > d:
                    top_d[pos] = top_d[pos - 1]
                    top_i[pos] = top_i[pos - 1]
                    pos -= 1
                top_d[pos] = d
                top_i[pos] = j
    return indices, distances
