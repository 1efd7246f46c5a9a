"""Recall probe: exact neighbours of a few rows, compared with their heaps.

The search cannot see its own recall, and on data of high intrinsic dimension NN-descent
settles on a graph far from the true one (recall@15 of 0.5 to 0.7 on a 50-dimensional
Gaussian mixture of 200,000 to 1,000,000 points, against 0.99 on Fashion-MNIST). A brute
force scan for a few rows measures it; the driver widens the search where it is low.
"""
import numpy as np
from numba import prange

from .._config import kernel
from .common import EMPTY
from .distances import _reduced_distance
from .heaps import _heap_offer, _sort_row
from .rows import _load_row


@kernel(error_model="numpy")
def probe_truth(t0, t1, data32, data16, is_float, metric, p, queries, truth):
    """Per query row ``q = queries[t]``, ``t0 <= t < t1``: its exact ``truth.shape[1]``
    nearest rows (itself excluded, by the search distance and ``(distance, index)``
    order), written to ``truth[t]`` in that order.

    Each query is scanned by one thread over all rows in index order, so the result does
    not depend on the thread count (the driver shares the queries out). The scan is done
    once per search; :func:`probe_hits` then compares any state of the heaps with it.
    """
    n = data32.shape[0] if is_float else data16.shape[0]
    n_out = truth.shape[1]
    dim = data32.shape[1] if is_float else data16.shape[1]
    for t in range(t0, t1):
        q = queries[t]
        x = np.empty(dim, dtype=np.float32)
        _load_row(data32, data16, is_float, q, x)
        best_idx = np.full(n_out, -1, dtype=np.int32)
        best_dist = np.full(n_out, EMPTY, dtype=np.float64)
        best_flag = np.zeros(n_out, dtype=np.uint8)
        for j in range(n):
            if j == q:
                continue
            if is_float:
                d = _reduced_distance(x, data32[j], metric, p, best_dist[0])
            else:
                d = _reduced_distance(x, data16[j], metric, p, best_dist[0])
            _heap_offer(best_idx, best_dist, best_flag, d, j, 0)
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
