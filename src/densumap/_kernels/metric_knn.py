"""Exact k nearest neighbours under any metric of :mod:`._kernels.metrics`.

Each query row is handled by one thread, which measures its distance to every
reference row in index order and keeps the ``k`` smallest in a sorted array by
insertion (:mod:`.topk`; ties go to the lower reference index, as a stable sort
would). A row's answer depends only on that row and the reference rows, never on
the other query rows nor on the thread count.
"""
import numpy as np
from numba import prange

from ._config import kernel
from .metric_rows import n_rows, row_distance
from .topk import EMPTY, keep_smallest


@kernel(parallel=True)
def exact_knn(Q, R, k, metric):
    """The ``k`` nearest rows of ``R`` to every row of ``Q``.

    Parameters
    ----------
    Q, R : rows tuples (:mod:`.metric_rows`)
        Query and reference rows, both dense or both sparse, of the same dtype.
    k : int
        ``1 <= k <= n_ref``.
    metric : tuple ``(code, p, vec, mat, fn, sfn)``
        See :mod:`.metric_rows`.

    Returns
    -------
    indices : ndarray of shape (n_query, k), int32
        -1 where fewer than ``k`` reference rows have a distance that is not NaN.
    distances : ndarray of shape (n_query, k), float64
        Sorted by increasing distance, ties by increasing index.
    """
    n_q = n_rows(Q)
    n_r = n_rows(R)
    indices = np.full((n_q, k), -1, dtype=np.int32)
    distances = np.full((n_q, k), EMPTY, dtype=np.float64)
    for i in prange(n_q):
        top_d = distances[i]
        top_i = indices[i]
        for j in range(n_r):
            d = row_distance(Q, i, R, j, metric)
            keep_smallest(top_d, top_i, d, j)
    return indices, distances
