"""Recall probe: exact neighbours of a few rows, compared with their heaps.

The search cannot see its own recall, and on data of high intrinsic dimension NN-descent
settles on a graph far from the true one (recall@15 of 0.5 to 0.7 on a 50-dimensional
Gaussian mixture of 200,000 to 1,000,000 points, against 0.99 on Fashion-MNIST). A brute
force scan for a few rows measures it; the driver widens the search where it is low.
"""
import numpy as np
from numba import prange

from .._config import kernel
from .common import EMPTY, MANHATTAN, SQEUCLIDEAN
from .distances import _manhattan_four, _reduced_distance, _sqeuclidean_four
from .heaps import _heap_offer, _sort_row
from .rows import _load_row


@kernel()
def _scan(x, ys, q, metric, p, best_idx, best_dist, best_flag):
    """Offer every row ``j != q`` of ``ys`` to the heap ``best``, by its search distance
    to the (1, d) row ``x``, in index order; four rows at a time where the metric allows.

    The four distances of a group are bounded by the heap's worst distance before the
    group, which is never below the one each is offered at, so none is cut short wrongly.
    """
    n = ys.shape[0]
    four = metric == SQEUCLIDEAN or metric == MANHATTAN
    j = 0
    while j < n:
        t = best_dist[0]
        if four and j + 4 <= n:
            if metric == SQEUCLIDEAN:
                d0, d1, d2, d3 = _sqeuclidean_four(x, 0, ys, j, j + 1, j + 2, j + 3,
                                                   t, t, t, t)
            else:
                d0, d1, d2, d3 = _manhattan_four(x, 0, ys, j, j + 1, j + 2, j + 3,
                                                 t, t, t, t)
            width = 4
        else:
            d0 = _reduced_distance(x, 0, ys, j, metric, p, t)
            d1 = d2 = d3 = d0
            width = 1
        for w in range(width):
            if j + w != q:
                d = d0 if w == 0 else (d1 if w == 1 else (d2 if w == 2 else d3))
                _heap_offer(best_idx, best_dist, best_flag, d, j + w, 0)
        j += width


@kernel(error_model="numpy")
def probe_truth(t0, t1, data32, data16, is_float, metric, p, queries, truth):
    """Per query row ``q = queries[t]``, ``t0 <= t < t1``: its exact ``truth.shape[1]``
    nearest rows (itself excluded, by the search distance and ``(distance, index)``
    order), written to ``truth[t]`` in that order.

    Each query is scanned by one thread over all rows in index order, so the result does
    not depend on the thread count (the driver shares the queries out). The scan is done
    once per search; :func:`probe_hits` then compares any state of the heaps with it.
    """
    n_out = truth.shape[1]
    dim = data32.shape[1] if is_float else data16.shape[1]
    x = np.empty((1, dim), dtype=np.float32)
    for t in range(t0, t1):
        q = queries[t]
        _load_row(data32, data16, is_float, q, x[0])
        best_idx = np.full(n_out, -1, dtype=np.int32)
        best_dist = np.full(n_out, EMPTY, dtype=np.float64)
        best_flag = np.zeros(n_out, dtype=np.uint8)
        if is_float:
            _scan(x, data32, q, metric, p, best_idx, best_dist, best_flag)
        else:
            _scan(x, data16, q, metric, p, best_idx, best_dist, best_flag)
        _sort_row(best_idx, best_dist)
        truth[t] = best_idx


@kernel()
def probe_hits(queries, truth, heap_idx, heap_dist):
    """How many of the exact nearest rows in ``truth`` (from :func:`probe_truth`) are
    among the ``truth.shape[1]`` smallest entries of the heaps of the ``queries``, in all."""
    n_out = truth.shape[1]
    count = 0
    for t in range(queries.shape[0]):
        q = queries[t]
        row_idx = heap_idx[q].copy()
        row_dist = heap_dist[q].copy()
        _sort_row(row_idx, row_dist)
        for a in range(min(n_out, row_idx.shape[0])):
            for b in range(n_out):
                if row_idx[a] >= 0 and row_idx[a] == truth[t, b]:
                    count += 1
                    break
    return count


@kernel(parallel=True)
def widen_heaps(heap_idx, heap_dist, wide_idx, wide_dist, wide_flag):
    """Copy every heap into a wider one (empty slots added), all entries flagged new, so
    that the next rounds join each point's whole neighbourhood again."""
    n, size = heap_idx.shape
    for i in prange(n):
        for m in range(wide_idx.shape[1]):
            wide_idx[i, m] = -1
            wide_dist[i, m] = EMPTY
            wide_flag[i, m] = 0
        for m in range(size):
            j = heap_idx[i, m]
            if j >= 0:
                _heap_offer(wide_idx[i], wide_dist[i], wide_flag[i], heap_dist[i, m], j, 1)
