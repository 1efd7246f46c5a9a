"""Sorted top-``k`` lists, shared by the exact nearest-neighbour kernels.

A query row's ``k`` nearest rows are kept in two arrays of length ``k``: the
distances in increasing order and the matching row indices. Reference rows are
offered in increasing index order and :func:`keep_smallest` inserts each one that
beats the current ``k``-th distance, so ties go to the lower index, as a stable
sort would, and the answer does not depend on the thread count.
"""
import numpy as np

from ._config import kernel

# Distance of an empty slot: finite, so that no comparison relies on infinities.
EMPTY = np.finfo(np.float64).max


@kernel(inline="always")
def keep_smallest(top_d, top_i, d, j):
    """Insert distance ``d`` of row ``j`` into ``top_d``/``top_i`` if it is small enough.

    Parameters
    ----------
    top_d : ndarray of shape (k,), float64
        Distances kept so far, increasing (:data:`EMPTY` in unused slots).
    top_i : ndarray of shape (k,), integer
        Their row indices.
    d : float
    j : int

    Notes
    -----
    Strict comparisons keep the lower index first among equal distances; a NaN
    distance fails them and is never kept.
    """
    k = top_d.shape[0]
    if d < top_d[k - 1]:
        pos = k - 1
        while pos > 0 and top_d[pos - 1] > d:
            top_d[pos] = top_d[pos - 1]
            top_i[pos] = top_i[pos - 1]
            pos -= 1
        top_d[pos] = d
        top_i[pos] = j
