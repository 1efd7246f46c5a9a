"""Deterministic approximate k-nearest neighbours: random-projection trees + NN-descent.

The result depends only on ``(X, n_neighbors, metric, metric_kwds, random_state)`` and the
three size parameters, never on the number of numba threads or on their scheduling (see
:mod:`densumap._kernels.nndescent` for how). The serial kernels run on ranges of the work
shared out to a pool of Python threads (:mod:`densumap._threads`): twice
``numba.get_num_threads()`` when that is every core, so that on a busy machine no
thread waits at a barrier for one that has lost its core.

This module validates the options, prepares the searched array and plants the trees;
the NN-descent rounds and the recall probe are in :mod:`densumap._nn_rounds`.
"""
import contextlib
import logging
import math
import numbers
from typing import NamedTuple

import numpy as np
from sklearn.utils import check_random_state

from . import _nn_rounds as _rounds
from ._kernels import nndescent as _k
from ._threads import n_slots, pool_threads, share_out, task_pool

logger = logging.getLogger("densumap")

_METRICS = ("euclidean", "cosine", "correlation", "manhattan", "chebyshev", "minkowski")
_ALIASES = {"l2": "euclidean", "l1": "manhattan", "taxicab": "manhattan",
            "cityblock": "manhattan", "linfinity": "chebyshev", "linf": "chebyshev"}

# Work per task shared out to the threads: tree nodes and row blocks of the final
# distances (the descent's own in :mod:`densumap._nn_rounds`).
_NODE_TASK = 1
_FINAL_TASK = 8
# The search runs on uint16 codes when rows have at least this many coordinates (below,
# memory traffic is not what limits it) and the quantisation step is at most this
# fraction of the root-mean-square spread of the coordinates.
_QUANTIZE_MIN_DIM = 32
_QUANTIZE_MAX_STEP = 2e-4
# Searches of at most this many rows are not probed for their recall (the scan would
# cost a large share; :func:`densumap._nn_rounds.widen_until_recalled`), and data whose
# trees' graph recalls less than _FOREST_HARD skip the first descent.
_PROBE_MIN_ROWS = 20000
_FOREST_HARD = 0.4
# Bytes of float32 rows in a thread's scratch: a tree node this small is split from cache.
_SCRATCH_BYTES = 1 << 20
# The search array is stored in a tree's order (:func:`_store_by_tree`) from this many rows,
# the caller's float32 X (when searched in place) through a copy of at most this many
# bytes; that tree's hash stream is apart from the forest's (trees 0, 1, ...).
_STORE_MIN_ROWS = 100_000
_STORE_COPY_BYTES = 1 << 30
_ORDER_TREE = (1 << 40) - 1
# Float32 search rows must have magnitudes between 1 / this and this (squared sums stay
# finite, small differences stay normal numbers); others are rescaled by a power of two.
_FLOAT32_SAFE = 1e15


class _Search(NamedTuple):
    """Resolved parameters of one search, in the form the kernels take them."""

    search_metric: int   # code the trees and the descent compare with
    output_metric: int   # code the reported distances are computed with
    p: float             # Minkowski exponent (unused by the other metrics)
    seed: int
    n_trees: int
    leaf_size: int
    n_iters: int
    max_candidates: int
    heap_size: int


def approximate_knn(X, n_neighbors, metric="euclidean", metric_kwds=None, random_state=0,
                    n_trees=None, n_iters=None, leaf_size=None):
    """Approximate k nearest neighbours of every row of ``X`` among the rows of ``X``.

    The output is a deterministic function of the inputs: it is bit-identical for any
    number of numba threads.

    Searches of more than 20,000 rows with a metric searched as squared euclidean
    (euclidean, cosine, correlation) measure their own recall: the exact neighbours of
    32 rows drawn from the seed are compared with what the descent found. Below 0.95 the
    descent is run once more from the trees' graph with wider heaps (24 entries for
    ``n_neighbors=15``) and candidate lists of 80, which costs about twice the first
    descent; when the trees' own graph recalls below 0.4 (data of high intrinsic
    dimension), as many trees again are planted and only the wide descent is run.
    Data of low intrinsic dimension (Fashion-MNIST: 0.99) pay only the scan, about
    0.25 s at 70,000 x 784. The estimate is logged at INFO level.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features), float32 or float64
        Data, finite; not modified. A C-contiguous float32 or float64 array is read in
        place, other arrays are converted once. The search itself runs on one extra array
        of the same shape: uint16 codes (a quarter of float64 ``X``, half of float32) when
        ``n_features >= 32`` and the values quantise finely enough, else a float32 copy;
        float32 ``X`` with a metric other than cosine / correlation is searched in place
        when it cannot be quantised. From 100,000 rows the searched array is stored in
        the node order of a random-projection tree of its own (close rows side by side),
        which makes the search faster where it outgrows the caches; float32 ``X``
        searched in place is then copied first, if the copy takes at most 1 GiB.
    n_neighbors : int
        Number of neighbours per row, the point itself included, ``1 <= n_neighbors <=
        n_samples``.
    metric : {"euclidean", "cosine", "correlation", "manhattan", "chebyshev", \
"minkowski"}, default="euclidean"
        Also accepted: "l2", "l1", "cityblock", "taxicab", "linf", "linfinity".
    metric_kwds : dict or None, default=None
        ``{"p": p}`` with ``p > 0`` for ``"minkowski"`` (default 2). Ignored otherwise.
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None, default=0
        Seed of the tree splits and of the candidate sampling. An int is used as is; a
        generator or None draws one int from it (so None is not reproducible).
    n_trees : int or None, default=None
        Number of random-projection trees; None chooses from ``n_samples`` (see
        :func:`default_parameters`).
    n_iters : int or None, default=None
        Maximum number of NN-descent rounds; the descent stops earlier once a round changes
        fewer than 2% of the entries. None chooses from ``n_samples``.
    leaf_size : int or None, default=None
        Maximum number of points in a tree leaf; None chooses from ``n_neighbors``.

    Returns
    -------
    indices : int32 ndarray of shape (n_samples, n_neighbors)
        Row ``i`` starts with ``i`` itself, then its neighbours by increasing distance,
        ties broken by smaller index.
    distances : float32 ndarray of shape (n_samples, n_neighbors)
        The metric's true distances, recomputed in float64 from ``X`` (euclidean, not
        squared; cosine is ``1 - cos``; correlation is ``1 - r``), 0 in column 0. A zero
        row (cosine) or constant row (correlation) is at distance 1 from every other row,
        as in scikit-learn.
    """
    X = _check_data(X)
    n = X.shape[0]
    k = _check_int(n_neighbors, "n_neighbors", 1)
    if k > n:
        raise ValueError(f"n_neighbors={n_neighbors} must not exceed n_samples={n}.")
    search = _resolve(n, k, metric, metric_kwds, random_state, n_trees, n_iters, leaf_size)
    indices = np.empty((n, k), dtype=np.int32)
    distances = np.empty((n, k), dtype=np.float32)
    if k == 1:
        indices[:, 0] = np.arange(n, dtype=np.int32)
        distances[:, 0] = 0.0
        return indices, distances
    row_shift, row_scale = _row_transform(X, search.output_metric)
    data = _search_array(X, row_shift, row_scale, search.output_metric)
    data, order = _store_by_tree(data, X, search)
    with contextlib.ExitStack() as stack:
        pool = task_pool(pool_threads(), stack)
        heap_idx, visit_order = _search_graph(data, search, pool)
        del data
        if order is not None:
            heap_idx, visit_order = _renumber_back(heap_idx, visit_order, order)
        X32, X64, is_f32 = _dtype_pair(X, np.float32, np.float64)
        n_blocks = -(-n // _k.ROW_BLOCK)
        share_out(pool, range(0, n_blocks, _FINAL_TASK), lambda b0, _: _k.finalize(
            b0, min(b0 + _FINAL_TASK, n_blocks), X32, X64, not is_f32, search.output_metric,
            search.p, row_shift, row_scale, visit_order, heap_idx, indices, distances))
    return indices, distances


def default_parameters(n_samples, n_neighbors):
    """Return the ``(n_trees, leaf_size, n_iters)`` chosen when they are None.

    ``n_iters`` is only a cap: the descent stops once a round changes fewer than 2% of
    the graph's entries, which on Fashion-MNIST (70,000 x 784, k = 15) happens after 3
    rounds at a recall of 0.99, while harder data (e.g. isotropic noise in 30+
    dimensions) keeps descending for 5 to 8 rounds. The trees have leaves of up to
    ``20 k / 3`` points (100 for k = 15; at least 30, at most 256), 4 to 6 trees at
    2,000 to 100,000 points, and the first descent offers each row candidate lists of
    ``2 k`` (at most 60). Against leaves of 30 and lists of k, these leaves hold more of
    each neighbourhood and the descent settles in fewer rounds at a higher recall@15,
    in about the same time (2 threads, within this machine's run-to-run spread):
    Fashion-MNIST 70,000 x 784 recall 0.985 -> 0.994 (medians of 3 alternating runs
    5.08 -> 4.70 s); augmented Fashion-MNIST (50 PCs) 200,000 rows 0.987 -> 0.996; 50-d
    mixture 200,000 rows 0.965 -> 0.966 (13.6-17.9 s against 17.1-20.2 s), 1M rows
    0.889 -> 0.895 (115 s either way). Both counts of trees and rounds grow with
    ``log2(n)``.
    """
    log_n = math.log2(max(n_samples, 2))
    n_trees = min(10, max(3, int(round(log_n / 2.5))))
    leaf_size = min(256, max(30, (20 * n_neighbors) // 3))
    n_iters = max(5, int(round(log_n)))
    return n_trees, leaf_size, n_iters


# ------------------------------------------------------------------------------- helpers


def _check_data(X):
    if not isinstance(X, np.ndarray):
        X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array; got an array of shape {X.shape}.")
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"X must have at least one row and one column; got shape {X.shape}.")
    if X.dtype not in (np.float32, np.float64):
        X = X.astype(np.float64 if X.dtype.itemsize > 4 else np.float32)
    X = np.ascontiguousarray(X)
    # Chunked so that the check does not allocate a boolean copy of a large X.
    step = max(1, (1 << 22) // X.shape[1])
    for start in range(0, X.shape[0], step):
        if not np.isfinite(X[start:start + step]).all():
            raise ValueError("X contains NaN or infinity.")
    return X


def _check_int(value, name, low):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int; got {value!r}.")
    if value < low:
        raise ValueError(f"{name} must be >= {low}; got {value!r}.")
    return int(value)


def _resolve(n, k, metric, metric_kwds, random_state, n_trees, n_iters, leaf_size):
    """Validate the options and return the resolved :class:`_Search`."""
    if not isinstance(metric, str):
        raise ValueError(f"metric must be one of {_METRICS}; got {metric!r}.")
    name = _ALIASES.get(metric.lower(), metric.lower())
    if name not in _METRICS:
        raise ValueError(f"metric must be one of {_METRICS}; got {metric!r}.")
    p = 2.0
    if name == "minkowski":
        p = float((metric_kwds or {}).get("p", 2.0))
        if not p > 0:
            raise ValueError(f"metric_kwds['p'] must be > 0 for minkowski; got {p!r}.")
        if p == 1.0:
            name = "manhattan"
        elif p == 2.0:
            name = "euclidean"
        elif math.isinf(p):
            name = "chebyshev"
    codes = {
        "euclidean": (_k.SQEUCLIDEAN, _k.SQEUCLIDEAN),
        "cosine": (_k.SQEUCLIDEAN, _k.COSINE),
        "correlation": (_k.SQEUCLIDEAN, _k.CORRELATION),
        "manhattan": (_k.MANHATTAN, _k.MANHATTAN),
        "chebyshev": (_k.CHEBYSHEV, _k.CHEBYSHEV),
        "minkowski": (_k.MINKOWSKI, _k.MINKOWSKI),
    }
    search_metric, output_metric = codes[name]

    d_trees, d_leaf, d_iters = default_parameters(n, k)
    n_trees = d_trees if n_trees is None else _check_int(n_trees, "n_trees", 1)
    n_iters = d_iters if n_iters is None else _check_int(n_iters, "n_iters", 0)
    leaf_size = d_leaf if leaf_size is None else _check_int(leaf_size, "leaf_size", 2)

    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        seed = int(random_state) & 0x7FFFFFFFFFFFFFFF
    else:
        seed = int(check_random_state(random_state).randint(0, 2**31 - 1))

    return _Search(search_metric, output_metric, p, seed, n_trees, leaf_size, n_iters,
                   max_candidates=min(60, 2 * k), heap_size=min(k, n - 1))


def _dtype_pair(array, first, second):
    """``(as_first, as_second, is_first)``: ``array`` in the slot of its dtype, a (1, 1)
    placeholder in the other.

    Kernels take both slots and a flag, so that each compiles once for both dtypes.
    """
    if array.dtype == first:
        return array, np.zeros((1, 1), dtype=second), True
    return np.zeros((1, 1), dtype=first), array, False


def _row_transform(X, output_metric):
    """``(shift, scale)`` per row, float64: centring and unit norm for cosine/correlation,
    the identity otherwise."""
    n = X.shape[0]
    if output_metric in (_k.COSINE, _k.CORRELATION):
        shift = np.empty(n, dtype=np.float64)
        scale = np.empty(n, dtype=np.float64)
        X32, X64, is_f32 = _dtype_pair(X, np.float32, np.float64)
        _k.row_moments(X32, X64, not is_f32, X.shape[1], output_metric == _k.CORRELATION,
                       shift, scale)
        return shift, scale
    return np.zeros(n, dtype=np.float64), np.ones(n, dtype=np.float64)


def _search_array(X, row_shift, row_scale, output_metric):
    """The array the search reads: uint16 codes, ``X`` itself, or a float32 copy.

    The search is bound by memory traffic, so rows of 32 or more coordinates are
    quantised to uint16 on one global step, provided the step is tiny next to the spread
    of the data (an extreme outlier would make it coarse; the data are then kept in
    float32). The codes only choose candidates: reported distances are exact.
    """
    n, dim = X.shape
    n_blocks = min(n, 64)
    mins = np.empty((n_blocks, dim))
    maxs = np.empty((n_blocks, dim))
    sums = np.empty((n_blocks, dim))
    sumsqs = np.empty((n_blocks, dim))
    X32, X64, is_f32 = _dtype_pair(X, np.float32, np.float64)
    _k.column_stats(X32, X64, not is_f32, dim, row_shift, row_scale, mins, maxs, sums, sumsqs)
    col_min = mins.min(axis=0)
    col_max = maxs.max(axis=0)
    variance = np.maximum(sumsqs.sum(axis=0) / n - (sums.sum(axis=0) / n) ** 2, 0.0)
    rms_spread = math.sqrt(variance.mean())
    step = float((col_max - col_min).max()) / _k.QUANT_LEVELS
    if dim >= _QUANTIZE_MIN_DIM and 0.0 < step <= _QUANTIZE_MAX_STEP * rms_spread:
        codes = np.empty((n, dim), dtype=np.uint16)
        _k.quantize_rows(X32, X64, not is_f32, row_shift, row_scale, col_min, step, codes)
        return codes
    largest = float(max(np.abs(col_min).max(), np.abs(col_max).max()))
    transformed = output_metric in (_k.COSINE, _k.CORRELATION)
    in_range = largest == 0.0 or 1.0 / _FLOAT32_SAFE <= largest <= _FLOAT32_SAFE
    if X.dtype == np.float32 and not transformed and in_range:
        return X
    if not transformed and not in_range:
        # A power of two rescales exactly; it keeps float32 squares finite and tiny values
        # clear of float32's subnormals.
        row_scale = np.full(n, 2.0 ** -math.ceil(math.log2(largest)))
    data = np.empty((n, dim), dtype=np.float32)
    _k.scale_rows(X32, X64, not is_f32, row_shift, row_scale, data)
    return data


def _node_size(s, dim):
    """Points of a tree node whose float32 rows fit a thread's scratch (and at least
    a leaf, and two candidate lists)."""
    return max(s.leaf_size, 2 * s.max_candidates, _SCRATCH_BYTES // (4 * dim))


def _store_by_tree(data, X, s):
    """The search array with close points stored close together, and its order
    (``data[i]`` is the old row ``order[i]``); ``(data, None)`` where nothing was
    reordered.

    The order is the node order of one more random-projection tree (its own hash
    stream), split down to scratch-sized nodes. The search is bound by fetching rows:
    the candidates of a join are near one another, so with this storage they share
    pages and cache lines more often. From ``_STORE_MIN_ROWS`` rows the search's own
    copy (uint16 codes or float32) is reordered in place; where the search would read
    the caller's float32 ``X`` itself, a reordered copy is made if it takes at most
    ``_STORE_COPY_BYTES`` (``X`` is never written). Measured (kNN alone, alternating):
    50-d mixture (uint16 codes), 200,000 rows 20.8 -> 18.4 s, 1,000,000 rows 152.6 ->
    116.6-122.8 s; augmented Fashion-MNIST, 1,000,000 x 50 float32 searched in place
    before, 57.0 -> 46.4-47.3 s with the copy; recall unchanged within the seeds'
    spread. Fashion-MNIST, 70,000 x 784: no gain (6.5 s either way), hence the
    threshold.
    """
    n, dim = data.shape
    if n < _STORE_MIN_ROWS:
        return data, None
    if data is X:
        if X.nbytes > _STORE_COPY_BYTES:
            return data, None
        data = X.copy()
    data32, data16, is_float = _dtype_pair(data, np.float32, np.uint16)
    order = np.empty(n, dtype=np.int32)
    node_starts = np.empty(n + 1, dtype=np.int64)
    _k.split_top(data32, data16, is_float, dim, s.seed, _ORDER_TREE, _node_size(s, dim),
                 order, node_starts)
    _k.permute_rows(data, order)
    return data, order


def _renumber_back(heap_idx, visit_order, order):
    """The search's results in the caller's row numbers (see :func:`_store_by_tree`);
    every heap row is full by now (``fill_random``), as ``finalize`` also needs."""
    restored = np.empty_like(heap_idx)
    restored[order] = order[heap_idx]
    return restored, order[visit_order]


def _search_graph(search_array, s, pool):
    """Run trees + NN-descent on the search array (float32 or uint16 rows), the work
    shared out to ``pool`` (None: this thread).

    Returns the heap indices, shape (n, K), and the leaf order of the first tree, in which
    consecutive points are close (the order in which rows are best visited).
    """
    n, dim = search_array.shape
    data32, data16, is_float = _dtype_pair(search_array, np.float32, np.uint16)
    K = s.heap_size
    heap_idx = np.full((n, K), -1, dtype=np.int32)
    heap_dist = np.full((n, K), _k.EMPTY, dtype=np.float64)
    heap_flag = np.zeros((n, K), dtype=np.uint8)

    # Trees are split over the whole array down to nodes of `node_size` points, whose
    # rows fit a thread's scratch; each such node is then split and its leaves joined
    # from cache. The scratch (one per thread of the pool) also serves the local joins;
    # it never influences the result.
    cap = s.max_candidates
    node_size = _node_size(s, dim)
    rows = np.empty((n_slots(pool), node_size, dim), dtype=np.float32)
    heaps = (heap_idx, heap_dist, heap_flag)
    visit_order = _plant_forest(data32, data16, is_float, s, node_size, heaps, rows, pool)
    _k.fill_random(data32, data16, is_float, dim, s.search_metric, s.p, s.seed, heap_idx,
                   heap_dist, heap_flag)
    search = _rounds.Descent(data32, data16, is_float, s, visit_order, pool)
    if not (s.search_metric == _k.SQEUCLIDEAN and n > _PROBE_MIN_ROWS and s.n_iters > 0):
        _rounds.descend(search, cap, heaps, rows, 0)
        return heap_idx, visit_order
    # The trees' graph already tells hard data apart: with leaves of 100 points its recall
    # was 0.75-0.76 and 0.75 on Fashion-MNIST (70,000 x 784, and the 200,000-row augmented
    # set), whose first descent then reached 0.99-0.996, against 0.35 / 0.31 / 0.27 /
    # 0.23 / 0.12 on 50 / 100 / 150 / 200 / 1,000 thousand points of a 50-dimensional
    # mixture, whose first descent stopped at 0.86-0.92. Below _FOREST_HARD the first
    # descent is skipped.
    probe = _rounds.probe_truth(search)
    forest_recall = _rounds.probe_recall(probe, heaps)
    logger.info("kNN: trees' graph recall@%d %.3f (%d probe rows)", s.heap_size,
                forest_recall, probe[0].size)
    if forest_recall < _FOREST_HARD and _rounds.MAX_WIDENINGS > 0:
        # Hard data: as many trees again first. Their pairs are cheap next to the wide
        # descent's joins, which they shorten (50-d mixture, 200,000 points: median of 3
        # 32.8 -> 28.7 s, recall@15 0.964 -> 0.968; 1,000,000: 225.5 -> 206.4 s, 0.884 ->
        # 0.889). Data past _FOREST_HARD (Fashion-MNIST) never get them.
        _plant_forest(data32, data16, is_float, s, node_size, heaps, rows, pool,
                      first=s.n_trees)
        wide = _rounds.widen_until_recalled(search, probe, heaps, heaps, rows, 0, hard=True)
        return wide[0], visit_order
    forest = tuple(h.copy() for h in heaps)  # for a wider second descent, if needed
    rounds = _rounds.descend(search, cap, heaps, rows, 0)
    heaps = _rounds.widen_until_recalled(search, probe, heaps, forest, rows, rounds)
    return heaps[0], visit_order


def _plant_forest(data32, data16, is_float, s, node_size, heaps, rows, pool, first=0):
    """Build random-projection trees ``first`` to ``first + s.n_trees - 1`` and offer
    every pair of each leaf to the heaps; return the leaf order of tree ``first``.

    Each tree is split over the whole array down to nodes of ``node_size`` points
    (one task per tree), then its nodes are split further and their leaves joined, one
    task per node, from the thread's scratch ``rows``.
    """
    n_trees = s.n_trees
    n, dim = (data32 if is_float else data16).shape
    orders = np.empty((n_trees, n), dtype=np.int32)
    node_starts = np.empty((n_trees, n + 1), dtype=np.int64)
    n_nodes = np.empty(n_trees, dtype=np.int64)

    def split(t, _):
        n_nodes[t] = _k.split_top(data32, data16, is_float, dim, s.seed, first + t, node_size,
                                  orders[t], node_starts[t])

    share_out(pool, range(n_trees), split)
    for t in range(n_trees):
        share_out(pool, range(0, n_nodes[t], _NODE_TASK), lambda v0, slot, t=t: _k.finish_nodes(
            v0, min(v0 + _NODE_TASK, n_nodes[t]), data32, data16, is_float, dim,
            s.search_metric, s.p, s.seed, first + t, s.leaf_size, orders[t], node_starts[t],
            *heaps, rows[slot]))
    return orders[0].copy()
