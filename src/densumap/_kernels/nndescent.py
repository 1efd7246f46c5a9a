"""Numba kernels for a deterministic approximate k-nearest-neighbour search.

The search is random-projection trees followed by NN-descent, arranged so that the
result depends only on ``(data, k, metric, seed)`` and never on the thread count:

* every random choice comes from a counter-based hash of ``(seed, a, b, c)``, never from a
  shared generator whose state would depend on the order in which threads run;
* every parallel loop writes only rows that belong to its own iteration (a tree, a node of
  one tree, a point, a fixed block of points or of target rows), so writes never race;
* a neighbour heap keeps the ``K`` smallest candidates under the total order
  ``(distance, index)`` and refuses duplicates, so its final content is a function of the
  *set* of candidates offered to it, not of the order in which they arrive;
* an NN-descent round is "Jacobi style": its candidate lists are built from the graph as
  it was at the start of the round, its pairs are measured hub by hub while no heap is
  written, and the resulting offers are applied afterwards by owners of target rows.

The search runs on a *search array*: float32 rows, or uint16 rows quantised on one global
step (see :func:`quantize_rows`); arithmetic is float32 either way. Kernels receive it as
a pair ``(data32, data16)``, the real array and a (1, 1) placeholder of the other dtype,
with a flag ``is_float``, and read rows through :func:`_load_row`. Each kernel then has a
single signature whatever the dtype, which halves the cold compile time (parallel
kernels compile slowly); the caller's X (float32 or float64) is passed the same way.
The search compares reduced distances (squared euclidean, ``sum |x - y| ** p`` for
Minkowski). The reported distances are recomputed exactly, in float64, from the
caller's data (:func:`finalize`).

Heaps are three parallel ``(n, K)`` arrays: indices (int32, -1 for empty), distances
(float64, :data:`EMPTY` for empty) and flags (uint8: 0 old, 1 new, 2 inserted in the
current round). Entry 0 is the largest ``(distance, index)`` pair of the row, so it is
the threshold a candidate must beat.
"""
import numpy as np
from numba import get_thread_id, prange

from ._config import SUMS, kernel
from .rng import GOLDEN, mix64

# Metric codes. Cosine and correlation are searched as SQEUCLIDEAN on rows that are
# centred (correlation) and scaled to unit norm, where |x - y|^2 = 2 - 2 * similarity;
# their own codes are used only for the reported distances.
SQEUCLIDEAN = 0
MANHATTAN = 1
CHEBYSHEV = 2
MINKOWSKI = 3
COSINE = 4
CORRELATION = 5

# Largest code of the uint16 search array.
QUANT_LEVELS = 65535
# Hash streams: the second argument of :func:`hash4` starts at one of these, so the tree
# splits, the candidate sampling of each round and the random completion of short rows
# never draw from the same inputs.
_TREE_STREAM = 1 << 40
_ROUND_STREAM = 2 << 40
_FILL_STREAM = 3 << 40

# The empty-slot distance is the largest finite float64 rather than ``inf``: kernels are
# compiled with ``fastmath``, under which the compiler may assume that no value is infinite.
EMPTY = np.finfo(np.float64).max

# Coordinates are summed in blocks of this many before a distance is compared with the
# threshold, so that a candidate that cannot enter a heap costs only part of its distance.
_BLOCK = 128
# The coordinates after the last whole block are summed in sub-blocks of this many (a
# fixed trip count, vectorised like the blocks), then one by one.
_SUB = 16


# --------------------------------------------------------------------------- hashing RNG


@kernel()
def hash4(seed, a, b, c):
    """Return a uint64 that is a pseudo-random function of four non-negative integers."""
    h = mix64(np.uint64(seed) + GOLDEN)
    h = mix64(h ^ (np.uint64(a) + GOLDEN))
    h = mix64(h ^ (np.uint64(b) + GOLDEN))
    return mix64(h ^ (np.uint64(c) + GOLDEN))


# ------------------------------------------------------------------------------ distances


# Each bounded distance sums whole blocks of _BLOCK coordinates in an inner loop of fixed
# trip count, which the compiler unrolls and vectorises; a loop whose bounds vary per
# block measured 5-10x slower. Elements are converted to float32, which is free for
# float32 rows and one instruction for the uint16 search array. The sums (and the dot
# products of the tree splits) are compiled with the SUMS fast-math flags: without
# reassociation a float sum is one serial chain of additions, and the distances ran at the
# adder's latency (the whole search took 2.4x longer on Fashion-MNIST). The summation order
# is then the compiler's, fixed in the machine code, the same for every thread.


@kernel(fastmath=SUMS)
def _sqeuclidean_bounded(x, y, threshold):
    dim = x.shape[0]
    n_blocks = dim // _BLOCK
    acc = np.float32(0.0)
    for block in range(n_blocks):
        offset = block * _BLOCK
        part = np.float32(0.0)
        for j in range(_BLOCK):
            t = np.float32(x[offset + j]) - np.float32(y[offset + j])
            part += t * t
        acc += part
        if acc > threshold:
            return acc
    part = np.float32(0.0)
    start = n_blocks * _BLOCK
    while start + _SUB <= dim:
        xs = x[start:start + _SUB]
        ys = y[start:start + _SUB]
        for j in range(_SUB):
            t = np.float32(xs[j]) - np.float32(ys[j])
            part += t * t
        start += _SUB
    xs = x[start:]
    ys = y[start:]
    for j in range(xs.shape[0]):
        t = np.float32(xs[j]) - np.float32(ys[j])
        part += t * t
    return acc + part


@kernel(fastmath=SUMS)
def _manhattan_bounded(x, y, threshold):
    dim = x.shape[0]
    n_blocks = dim // _BLOCK
    acc = np.float32(0.0)
    for block in range(n_blocks):
        offset = block * _BLOCK
        part = np.float32(0.0)
        for j in range(_BLOCK):
            part += abs(np.float32(x[offset + j]) - np.float32(y[offset + j]))
        acc += part
        if acc > threshold:
            return acc
    part = np.float32(0.0)
    start = n_blocks * _BLOCK
    while start + _SUB <= dim:
        xs = x[start:start + _SUB]
        ys = y[start:start + _SUB]
        for j in range(_SUB):
            part += abs(np.float32(xs[j]) - np.float32(ys[j]))
        start += _SUB
    xs = x[start:]
    ys = y[start:]
    for j in range(xs.shape[0]):
        part += abs(np.float32(xs[j]) - np.float32(ys[j]))
    return acc + part


@kernel()
def _chebyshev_bounded(x, y, threshold):
    dim = x.shape[0]
    n_blocks = dim // _BLOCK
    acc = np.float32(0.0)
    for block in range(n_blocks):
        offset = block * _BLOCK
        for j in range(_BLOCK):
            acc = max(acc, abs(np.float32(x[offset + j]) - np.float32(y[offset + j])))
        if acc > threshold:
            return acc
    for j in range(n_blocks * _BLOCK, dim):
        acc = max(acc, abs(np.float32(x[j]) - np.float32(y[j])))
    return acc


@kernel()
def _minkowski_bounded(x, y, p, threshold):
    dim = x.shape[0]
    n_blocks = dim // _BLOCK
    acc = 0.0
    for block in range(n_blocks):
        offset = block * _BLOCK
        part = 0.0
        for j in range(_BLOCK):
            part += abs(np.float64(x[offset + j]) - np.float64(y[offset + j])) ** p
        acc += part
        if acc > threshold:
            return acc
    part = 0.0
    for j in range(n_blocks * _BLOCK, dim):
        part += abs(np.float64(x[j]) - np.float64(y[j])) ** p
    return acc + part


@kernel()
def _reduced_distance(x, y, metric, p, threshold):
    """Search distance of ``x`` and ``y``, or any value above ``threshold`` once it is exceeded.

    The value is the metric's reduced form (squared euclidean, ``sum |d| ** p`` for
    Minkowski), which orders pairs as the true metric does. Partial sums of non-negative
    terms never decrease, so stopping early never turns a pair that would beat
    ``threshold`` into one that does not. Each metric has its own function so that the
    float32 ones are not widened by type unification with Minkowski's float64.
    """
    if metric == SQEUCLIDEAN:
        return np.float64(_sqeuclidean_bounded(x, y, threshold))
    if metric == MANHATTAN:
        return np.float64(_manhattan_bounded(x, y, threshold))
    if metric == CHEBYSHEV:
        return np.float64(_chebyshev_bounded(x, y, threshold))
    # Rounded to float32 like the others, so that offers can be stored in float32.
    return np.float64(np.float32(_minkowski_bounded(x, y, p, threshold)))


@kernel(fastmath=SUMS)
def exact_distance(x, y, metric, p, shift_x, scale_x, shift_y, scale_y):
    """True distance of two rows of the caller's data (float64 buffers).

    For COSINE and CORRELATION the rows are first mapped to ``(x - shift_x) * scale_x``
    (centred, unit norm); a zero row (``scale == 0``) is at distance 1 from every row, as
    in scikit-learn. ``1 - cos`` is computed as ``|a - b|^2 / 2``, which unlike
    ``1 - a.b`` keeps full relative precision for close pairs and is exactly 0 for
    duplicates. The other metrics ignore the shifts and scales.
    """
    dim = x.shape[0]
    acc = 0.0
    if metric == SQEUCLIDEAN:
        for j in range(dim):
            t = x[j] - y[j]
            acc += t * t
        return np.sqrt(acc)
    if metric == MANHATTAN:
        for j in range(dim):
            acc += abs(x[j] - y[j])
        return acc
    if metric == CHEBYSHEV:
        for j in range(dim):
            acc = max(acc, abs(x[j] - y[j]))
        return acc
    if metric == MINKOWSKI:
        for j in range(dim):
            acc += abs(x[j] - y[j]) ** p
        return acc ** (1.0 / p)
    if scale_x == 0.0 or scale_y == 0.0:
        return 1.0
    for j in range(dim):
        t = (x[j] - shift_x) * scale_x - (y[j] - shift_y) * scale_y
        acc += t * t
    return min(0.5 * acc, 2.0)


# ------------------------------------------------------------------------ the search array


# The caller's X reaches the kernels as ``(X32, X64)`` (one of them a placeholder) with a
# flag ``x_is_f64``; rows are read into float64 buffers by :func:`_load_x_row`, so these
# kernels too compile once. They run over ROW_BLOCK-row blocks so that each block
# allocates its buffers once.
ROW_BLOCK = 256


@kernel()
def _load_x_row(X32, X64, x_is_f64, i, out):
    """Row ``i`` of the caller's data into the float64 buffer ``out``."""
    if x_is_f64:
        values = X64[i]
        for j in range(out.shape[0]):
            out[j] = values[j]
    else:
        single = X32[i]
        for j in range(out.shape[0]):
            out[j] = np.float64(single[j])


@kernel(parallel=True)
def row_moments(X32, X64, x_is_f64, dim, center, shift, scale):
    """Per row: ``shift`` = mean (if ``center``, else 0) and ``scale`` = 1 / norm of
    ``X - shift`` (0 for a zero row), in float64."""
    n = shift.shape[0]
    for block in prange((n + ROW_BLOCK - 1) // ROW_BLOCK):
        x = np.empty(dim, dtype=np.float64)
        for i in range(block * ROW_BLOCK, min(n, (block + 1) * ROW_BLOCK)):
            _load_x_row(X32, X64, x_is_f64, i, x)
            mean = 0.0
            if center:
                for j in range(dim):
                    mean += x[j]
                mean /= dim
            sq = 0.0
            for j in range(dim):
                t = x[j] - mean
                sq += t * t
            shift[i] = mean
            scale[i] = 1.0 / np.sqrt(sq) if sq > 0.0 else 0.0


@kernel(parallel=True)
def column_stats(X32, X64, x_is_f64, dim, row_shift, row_scale, mins, maxs, sums, sumsqs):
    """Per-column min, max, sum and sum of squares of ``(X - row_shift) * row_scale``.

    Row block ``b`` of ``mins.shape[0]`` equal blocks writes row ``b`` of each output; the
    caller combines the blocks in a fixed order, so the sums do not depend on the thread
    count.
    """
    n = row_shift.shape[0]
    n_blocks = mins.shape[0]
    for b in prange(n_blocks):
        x = np.empty(dim, dtype=np.float64)
        for j in range(dim):
            mins[b, j] = np.inf
            maxs[b, j] = -np.inf
            sums[b, j] = 0.0
            sumsqs[b, j] = 0.0
        for i in range(b * n // n_blocks, (b + 1) * n // n_blocks):
            _load_x_row(X32, X64, x_is_f64, i, x)
            shift = row_shift[i]
            scale = row_scale[i]
            for j in range(dim):
                v = (x[j] - shift) * scale
                mins[b, j] = min(mins[b, j], v)
                maxs[b, j] = max(maxs[b, j], v)
                sums[b, j] += v
                sumsqs[b, j] += v * v


@kernel(parallel=True)
def quantize_rows(X32, X64, x_is_f64, row_shift, row_scale, col_min, step, out):
    """``out = rint(((X - row_shift) * row_scale - col_min) / step)`` as uint16.

    One global ``step`` keeps the metric isotropic: distances between codes are the true
    ones divided by ``step`` (up to rounding), while the per-column offsets cancel in
    every difference.
    """
    n, dim = out.shape
    inv = 1.0 / step
    for block in prange((n + ROW_BLOCK - 1) // ROW_BLOCK):
        x = np.empty(dim, dtype=np.float64)
        for i in range(block * ROW_BLOCK, min(n, (block + 1) * ROW_BLOCK)):
            _load_x_row(X32, X64, x_is_f64, i, x)
            shift = row_shift[i]
            scale = row_scale[i] * inv
            for j in range(dim):
                v = (x[j] - shift) * scale - col_min[j] * inv
                # v >= 0 up to rounding, so adding 0.5 and truncating rounds to nearest.
                out[i, j] = np.uint16(min(max(v + 0.5, 0.0), QUANT_LEVELS + 0.49))


@kernel(parallel=True)
def scale_rows(X32, X64, x_is_f64, row_shift, row_scale, out):
    """``out = (X - row_shift) * row_scale`` rounded to float32."""
    n, dim = out.shape
    for block in prange((n + ROW_BLOCK - 1) // ROW_BLOCK):
        x = np.empty(dim, dtype=np.float64)
        for i in range(block * ROW_BLOCK, min(n, (block + 1) * ROW_BLOCK)):
            _load_x_row(X32, X64, x_is_f64, i, x)
            for j in range(dim):
                out[i, j] = np.float32((x[j] - row_shift[i]) * row_scale[i])


# ---------------------------------------------------------------------------------- heaps


@kernel()
def _greater(d1, i1, d2, i2):
    return d1 > d2 or (d1 == d2 and i1 > i2)


@kernel()
def _heap_replace_root(idx, dist, flag, d, j, f):
    """Put ``(d, j)`` in place of the largest entry and restore the max-heap order."""
    size = idx.shape[0]
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= size:
            break
        right = child + 1
        if right < size and _greater(dist[right], idx[right], dist[child], idx[child]):
            child = right
        if _greater(dist[child], idx[child], d, j):
            idx[pos] = idx[child]
            dist[pos] = dist[child]
            flag[pos] = flag[child]
            pos = child
        else:
            break
    idx[pos] = j
    dist[pos] = d
    flag[pos] = f


@kernel()
def _heap_offer(idx, dist, flag, d, j, f):
    """Offer ``(d, j)``, known not to be in the heap; return 1 if it entered, else 0."""
    if _greater(d, j, dist[0], idx[0]) or (d == dist[0] and j == idx[0]):
        return 0
    _heap_replace_root(idx, dist, flag, d, j, f)
    return 1


@kernel()
def _heap_contains(idx, j):
    for m in range(idx.shape[0]):
        if idx[m] == j:
            return True
    return False


@kernel()
def _sort_row(idx, dist):
    """Sort one row by ``(distance, index)`` ascending (insertion sort; rows are short)."""
    for a in range(1, idx.shape[0]):
        ja = idx[a]
        da = dist[a]
        b = a - 1
        while b >= 0 and _greater(dist[b], idx[b], da, ja):
            idx[b + 1] = idx[b]
            dist[b + 1] = dist[b]
            b -= 1
        idx[b + 1] = ja
        dist[b + 1] = da


# -------------------------------------------------------------------------- row access


@kernel()
def _load_row(data32, data16, is_float, i, out):
    """Row ``i`` of the search array into the float32 buffer ``out``."""
    if is_float:
        values = data32[i]
        for j in range(out.shape[0]):
            out[j] = values[j]
    else:
        codes = data16[i]
        for j in range(out.shape[0]):
            out[j] = np.float32(codes[j])


@kernel(fastmath=SUMS)
def _row_dot(data32, data16, is_float, i, vector):
    """Dot product of row ``i`` of the search array with the float32 ``vector``."""
    acc = np.float32(0.0)
    if is_float:
        values = data32[i]
        for j in range(vector.shape[0]):
            acc += vector[j] * values[j]
    else:
        codes = data16[i]
        for j in range(vector.shape[0]):
            acc += vector[j] * np.float32(codes[j])
    return acc


@kernel()
def _gather_rows(data32, data16, is_float, ids, m, rows):
    """Rows ``ids[:m]`` of the search array into the float32 scratch ``rows``."""
    for a in range(m):
        _load_row(data32, data16, is_float, ids[a], rows[a])


# ---------------------------------------------------------------------- random-projection trees


@kernel()
def _build_tree(data32, data16, is_float, dim, seed, tree, node_base, leaf_size, order,
                leaf_starts):
    """Split ``range(n)`` into leaves of at most ``leaf_size`` points; return the leaf count.

    ``n = order.shape[0]`` rows of the search array are split (all of it, or a float32
    scratch holding one node's rows). Each split is the perpendicular bisector of two
    random points of the node (for unit rows that is the angular split). Points exactly
    on the hyperplane, including every point of a node of duplicates, go to a side
    chosen by hash. Node ``c`` of this call draws from hash ``(seed, tree stream,
    node_base + c, .)``. ``order`` receives the points so that each leaf is a contiguous
    run; ``leaf_starts[l]`` is where leaf ``l`` begins and ``leaf_starts[n_leaves]`` is
    ``n``.
    """
    n = order.shape[0]
    for i in range(n):
        order[i] = i
    scratch = np.empty(n, dtype=order.dtype)
    normal = np.empty(dim, dtype=np.float32)
    xa = np.empty(dim, dtype=np.float32)
    xb = np.empty(dim, dtype=np.float32)
    stack_lo = np.empty(n + 1, dtype=np.int64)
    stack_hi = np.empty(n + 1, dtype=np.int64)
    top = 0
    stack_lo[0] = 0
    stack_hi[0] = n
    top = 1
    n_leaves = 0
    node = 0
    while top > 0:
        top -= 1
        lo = stack_lo[top]
        hi = stack_hi[top]
        size = hi - lo
        if size <= leaf_size:
            leaf_starts[n_leaves] = lo
            n_leaves += 1
            continue
        node += 1
        key = node_base + node
        r = hash4(seed, _TREE_STREAM + tree, key, 0)
        a = lo + np.int64(r % np.uint64(size))
        r = hash4(seed, _TREE_STREAM + tree, key, 1)
        b = lo + np.int64(r % np.uint64(size - 1))
        if b >= a:
            b += 1
        _load_row(data32, data16, is_float, order[a], xa)
        _load_row(data32, data16, is_float, order[b], xb)
        # float32 arithmetic, like the distances: it only decides the side of a point.
        offset = np.float32(0.0)
        for j in range(dim):
            normal[j] = xa[j] - xb[j]
            offset += (xa[j] - xb[j]) * (xa[j] + xb[j])
        offset *= np.float32(0.5)
        n_left = 0
        n_right = 0
        for m in range(lo, hi):
            point = order[m]
            margin = _row_dot(data32, data16, is_float, point, normal) - offset
            if margin > 0:
                left = True
            elif margin < 0:
                left = False
            else:
                left = (hash4(seed, _TREE_STREAM + tree, key, 2 + point) & np.uint64(1)) == 0
            if left:
                scratch[n_left] = point
                n_left += 1
            else:
                n_right += 1
                scratch[size - n_right] = point
        if n_left == 0 or n_right == 0:
            # A degenerate split (e.g. a node of near-duplicates): halve the node instead.
            n_left = size // 2
        for m in range(size):
            order[lo + m] = scratch[m]
        # Right child pushed first so that leaves come out left to right.
        stack_lo[top] = lo + n_left
        stack_hi[top] = hi
        stack_lo[top + 1] = lo
        stack_hi[top + 1] = lo + n_left
        top += 2
    leaf_starts[n_leaves] = n
    return n_leaves


@kernel()
def _offer_both(a, b, d, heap_idx, heap_dist, heap_flag):
    # The threshold test first: it rejects most pairs without scanning a row.
    if d <= heap_dist[a, 0] and not _heap_contains(heap_idx[a], b):
        _heap_offer(heap_idx[a], heap_dist[a], heap_flag[a], d, b, 1)
    if d <= heap_dist[b, 0] and not _heap_contains(heap_idx[b], a):
        _heap_offer(heap_idx[b], heap_dist[b], heap_flag[b], d, a, 1)


@kernel(parallel=True)
def build_forest(data32, data16, is_float, dim, seed, node_size, orders, node_starts, n_nodes):
    """The top levels of ``orders.shape[0]`` trees, in parallel: split until nodes have at
    most ``node_size`` points (a node's rows then fit in a thread's scratch, where
    :func:`finish_tree` splits it further from cache).

    Parameters
    ----------
    data32, data16 : float32 / uint16 ndarray of shape (n, d)
        The search array, and a placeholder of the other dtype.
    is_float : bool
        Whether the search array is ``data32`` (else ``data16``).
    dim : int
        Number of coordinates ``d``.
    seed : int
    node_size : int
    orders : int32 ndarray of shape (n_trees, n), output
        Each tree's points, node by node.
    node_starts : int64 ndarray of shape (n_trees, n + 1), output
    n_nodes : int64 ndarray of shape (n_trees,), output
    """
    for t in prange(orders.shape[0]):
        n_nodes[t] = _build_tree(data32, data16, is_float, dim, seed, t, 0, node_size,
                                 orders[t], node_starts[t])


@kernel()
def _leaf_join(rows, local, ids, lo, hi, metric, p, heap_idx, heap_dist, heap_flag):
    """Offer every pair of one leaf to both points' heaps, measured from the scratch.

    The leaf's points are ``ids[local[lo:hi]]``, their rows ``rows[local[lo:hi]]``; pairs
    are measured four at a time, as in :func:`_local_join`.
    """
    four = metric == SQEUCLIDEAN or metric == MANHATTAN
    for a in range(lo, hi - 1):
        x = rows[local[a]]
        ia = ids[local[a]]
        b = a + 1
        while four and b + 4 <= hi:
            ta = heap_dist[ia, 0]
            i0 = ids[local[b]]
            i1 = ids[local[b + 1]]
            i2 = ids[local[b + 2]]
            i3 = ids[local[b + 3]]
            t0 = max(ta, heap_dist[i0, 0])
            t1 = max(ta, heap_dist[i1, 0])
            t2 = max(ta, heap_dist[i2, 0])
            t3 = max(ta, heap_dist[i3, 0])
            y0 = rows[local[b]]
            y1 = rows[local[b + 1]]
            y2 = rows[local[b + 2]]
            y3 = rows[local[b + 3]]
            if metric == SQEUCLIDEAN:
                d0, d1, d2, d3 = _sqeuclidean_four(x, y0, y1, y2, y3, t0, t1, t2, t3)
            else:
                d0, d1, d2, d3 = _manhattan_four(x, y0, y1, y2, y3, t0, t1, t2, t3)
            _offer_both(ia, i0, d0, heap_idx, heap_dist, heap_flag)
            _offer_both(ia, i1, d1, heap_idx, heap_dist, heap_flag)
            _offer_both(ia, i2, d2, heap_idx, heap_dist, heap_flag)
            _offer_both(ia, i3, d3, heap_idx, heap_dist, heap_flag)
            b += 4
        while b < hi:
            ib = ids[local[b]]
            d = _reduced_distance(x, rows[local[b]], metric, p,
                                  max(heap_dist[ia, 0], heap_dist[ib, 0]))
            _offer_both(ia, ib, d, heap_idx, heap_dist, heap_flag)
            b += 1


@kernel(parallel=True)
def finish_tree(data32, data16, is_float, dim, metric, p, seed, tree, leaf_size, order,
                node_starts, n_nodes, heap_idx, heap_dist, heap_flag, rows):
    """Split the nodes of tree ``tree`` into leaves and offer every leaf pair to the heaps.

    Each node's rows are copied once to the thread's float32 scratch ``rows`` (which
    holds ``node_size`` rows); the node is split there (node ``c`` of top-level node ``v``
    hashes as ``(v + 1) * 2**32 + c``, so the splits do not depend on the scheduling) and
    its leaves are joined from cache. ``order`` is rewritten leaf by leaf. The nodes of
    one tree are disjoint, so the iteration of a node is the only writer of its points'
    heaps.
    """
    for v in prange(n_nodes):
        lo = node_starts[v]
        m = node_starts[v + 1] - lo
        ids = order[lo:lo + m].copy()
        scratch = rows[get_thread_id()]
        _gather_rows(data32, data16, is_float, ids, m, scratch)
        local = np.empty(m, dtype=np.int32)
        leaf_starts = np.empty(m + 1, dtype=np.int64)
        n_leaves = _build_tree(scratch, data16, True, dim, seed, tree, (v + 1) << 32,
                               leaf_size, local, leaf_starts)
        for leaf in range(n_leaves):
            _leaf_join(scratch, local, ids, leaf_starts[leaf], leaf_starts[leaf + 1], metric,
                       p, heap_idx, heap_dist, heap_flag)
        for a in range(m):
            order[lo + a] = ids[local[a]]


@kernel()
def fill_random(data32, data16, is_float, dim, metric, p, seed, heap_idx, heap_dist, heap_flag):
    """Complete every row that the trees left short with pseudo-random points.

    A row of a small leaf would otherwise keep empty slots, and a group of points that
    only ever meet each other could never be left by NN-descent. The random points come
    from hash ``(seed, _FILL_STREAM, i, attempt)``; after ``4 K`` attempts the remaining
    points are scanned in order, so a row always fills when ``n - 1 >= K``. Serial: few
    rows are short, and a parallel kernel would compile for seconds.
    """
    n, size = heap_idx.shape
    x = np.empty(dim, dtype=np.float32)
    y = np.empty(dim, dtype=np.float32)
    for i in range(n):
        if heap_idx[i, 0] >= 0:  # an empty slot sorts above every real entry
            continue
        _load_row(data32, data16, is_float, i, x)
        attempt = 0
        while heap_idx[i, 0] < 0:
            if attempt < 4 * size:
                w = np.int64(hash4(seed, _FILL_STREAM, i, attempt) % np.uint64(n))
            else:
                w = (i + 1 + attempt - 4 * size) % n
            attempt += 1
            if w == i or _heap_contains(heap_idx[i], w):
                continue
            _load_row(data32, data16, is_float, w, y)
            d = _reduced_distance(x, y, metric, p, EMPTY)
            _heap_offer(heap_idx[i], heap_dist[i], heap_flag[i], d, w, 1)


# ------------------------------------------------------------------------------ NN-descent


@kernel()
def reverse_edges(heap_idx, heap_flag, starts, sources, flags):
    """Counting sort of the graph's edges by target: the reverse graph in CSR form.

    ``sources[starts[u]:starts[u + 1]]`` are the points whose rows contain ``u``, in
    increasing order, and ``flags`` the "new" flag that ``u`` carries in each of those rows.
    Serial on purpose: it is O(n K) integer work and its order must be fixed.
    """
    n, k = heap_idx.shape
    starts[:] = 0
    for v in range(n):
        for m in range(k):
            u = heap_idx[v, m]
            if u >= 0:
                starts[u + 1] += 1
    for u in range(n):
        starts[u + 1] += starts[u]
    fill = starts[:-1].copy()
    for v in range(n):
        for m in range(k):
            u = heap_idx[v, m]
            if u >= 0:
                sources[fill[u]] = v
                flags[fill[u]] = heap_flag[v, m]
                fill[u] += 1


@kernel()
def _select_insert(cand, prio, count, cap, j, pr):
    """Keep in ``cand[:count]`` the ``cap`` entries of smallest ``(priority, index)``.

    ``cand`` is kept as a max-heap on ``(prio, cand)``; duplicates are refused. Returns the
    new count.
    """
    for m in range(count):
        if cand[m] == j:
            return count
    if count < cap:
        # sift up
        pos = count
        while pos > 0:
            parent = (pos - 1) // 2
            if prio[parent] < pr or (prio[parent] == pr and cand[parent] < j):
                cand[pos] = cand[parent]
                prio[pos] = prio[parent]
                pos = parent
            else:
                break
        cand[pos] = j
        prio[pos] = pr
        return count + 1
    if pr > prio[0] or (pr == prio[0] and j > cand[0]):
        return count
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= count:
            break
        right = child + 1
        if right < count and (
            prio[right] > prio[child] or (prio[right] == prio[child] and cand[right] > cand[child])
        ):
            child = right
        if prio[child] > pr or (prio[child] == pr and cand[child] > j):
            cand[pos] = cand[child]
            prio[pos] = prio[child]
            pos = child
        else:
            break
    cand[pos] = j
    prio[pos] = pr
    return count


@kernel(parallel=True)
def build_candidates(heap_idx, heap_flag, rev_starts, rev_sources, rev_flags, seed, round_,
                     new_cand, old_cand, n_new_out, n_old_out):
    """Per point, sample at most ``cap`` new and ``cap`` old neighbours (forward or reverse).

    The sample keeps the entries of smallest hash ``(seed, round_, u, v)`` (in the rounds'
    stream), so it is a fixed function of the graph. Forward "new" entries that made it
    into the sample are marked old in the point's own row: they are being joined now.
    ``n_new_out`` and ``n_old_out`` receive the list lengths; unused slots hold -1.
    """
    n, k = heap_idx.shape
    cap = new_cand.shape[1]
    for u in prange(n):
        new_row = new_cand[u]
        old_row = old_cand[u]
        new_prio = np.empty(cap, dtype=np.uint64)
        old_prio = np.empty(cap, dtype=np.uint64)
        n_new = 0
        n_old = 0
        for m in range(k):
            v = heap_idx[u, m]
            if v < 0:
                continue
            pr = hash4(seed, _ROUND_STREAM + round_, u, v)
            if heap_flag[u, m]:
                n_new = _select_insert(new_row, new_prio, n_new, cap, v, pr)
            else:
                n_old = _select_insert(old_row, old_prio, n_old, cap, v, pr)
        for e in range(rev_starts[u], rev_starts[u + 1]):
            v = rev_sources[e]
            pr = hash4(seed, _ROUND_STREAM + round_, u, v)
            if rev_flags[e]:
                n_new = _select_insert(new_row, new_prio, n_new, cap, v, pr)
            else:
                n_old = _select_insert(old_row, old_prio, n_old, cap, v, pr)
        for m in range(n_new, cap):
            new_row[m] = -1
        for m in range(n_old, cap):
            old_row[m] = -1
        n_new_out[u] = n_new
        n_old_out[u] = n_old
        for m in range(k):
            if heap_flag[u, m]:
                v = heap_idx[u, m]
                for c in range(n_new):
                    if new_row[c] == v:
                        heap_flag[u, m] = 0
                        break


@kernel(fastmath=SUMS)
def _sqeuclidean_four(x, y0, y1, y2, y3, t0, t1, t2, t3):
    """Squared distances of ``x`` to four rows at once, sharing the loads of ``x``.

    Four independent streams keep more memory requests in flight than one, which is what
    the join is bound by. Stops after a block once every sum exceeds its own threshold
    (partial sums only grow, so such a pair cannot enter any heap).
    """
    dim = x.shape[0]
    n_blocks = dim // _BLOCK
    zero = np.float32(0.0)
    a0 = zero
    a1 = zero
    a2 = zero
    a3 = zero
    for block in range(n_blocks):
        offset = block * _BLOCK
        s0 = zero
        s1 = zero
        s2 = zero
        s3 = zero
        for j in range(_BLOCK):
            xv = np.float32(x[offset + j])
            d = xv - np.float32(y0[offset + j])
            s0 += d * d
            d = xv - np.float32(y1[offset + j])
            s1 += d * d
            d = xv - np.float32(y2[offset + j])
            s2 += d * d
            d = xv - np.float32(y3[offset + j])
            s3 += d * d
        a0 += s0
        a1 += s1
        a2 += s2
        a3 += s3
        if a0 > t0 and a1 > t1 and a2 > t2 and a3 > t3:
            return np.float64(a0), np.float64(a1), np.float64(a2), np.float64(a3)
    s0 = zero
    s1 = zero
    s2 = zero
    s3 = zero
    start = n_blocks * _BLOCK
    while start + _SUB <= dim:
        stop = start + _SUB
        xs, z0, z1 = x[start:stop], y0[start:stop], y1[start:stop]
        z2, z3 = y2[start:stop], y3[start:stop]
        for j in range(_SUB):
            xv = np.float32(xs[j])
            d = xv - np.float32(z0[j])
            s0 += d * d
            d = xv - np.float32(z1[j])
            s1 += d * d
            d = xv - np.float32(z2[j])
            s2 += d * d
            d = xv - np.float32(z3[j])
            s3 += d * d
        start += _SUB
    xs, z0, z1, z2, z3 = x[start:], y0[start:], y1[start:], y2[start:], y3[start:]
    for j in range(xs.shape[0]):
        xv = np.float32(xs[j])
        d = xv - np.float32(z0[j])
        s0 += d * d
        d = xv - np.float32(z1[j])
        s1 += d * d
        d = xv - np.float32(z2[j])
        s2 += d * d
        d = xv - np.float32(z3[j])
        s3 += d * d
    return np.float64(a0 + s0), np.float64(a1 + s1), np.float64(a2 + s2), np.float64(a3 + s3)


@kernel(fastmath=SUMS)
def _manhattan_four(x, y0, y1, y2, y3, t0, t1, t2, t3):
    """Manhattan analogue of :func:`_sqeuclidean_four`."""
    dim = x.shape[0]
    n_blocks = dim // _BLOCK
    zero = np.float32(0.0)
    a0 = zero
    a1 = zero
    a2 = zero
    a3 = zero
    for block in range(n_blocks):
        offset = block * _BLOCK
        s0 = zero
        s1 = zero
        s2 = zero
        s3 = zero
        for j in range(_BLOCK):
            xv = np.float32(x[offset + j])
            s0 += abs(xv - np.float32(y0[offset + j]))
            s1 += abs(xv - np.float32(y1[offset + j]))
            s2 += abs(xv - np.float32(y2[offset + j]))
            s3 += abs(xv - np.float32(y3[offset + j]))
        a0 += s0
        a1 += s1
        a2 += s2
        a3 += s3
        if a0 > t0 and a1 > t1 and a2 > t2 and a3 > t3:
            return np.float64(a0), np.float64(a1), np.float64(a2), np.float64(a3)
    s0 = zero
    s1 = zero
    s2 = zero
    s3 = zero
    start = n_blocks * _BLOCK
    while start + _SUB <= dim:
        stop = start + _SUB
        xs, z0, z1 = x[start:stop], y0[start:stop], y1[start:stop]
        z2, z3 = y2[start:stop], y3[start:stop]
        for j in range(_SUB):
            xv = np.float32(xs[j])
            s0 += abs(xv - np.float32(z0[j]))
            s1 += abs(xv - np.float32(z1[j]))
            s2 += abs(xv - np.float32(z2[j]))
            s3 += abs(xv - np.float32(z3[j]))
        start += _SUB
    xs, z0, z1, z2, z3 = x[start:], y0[start:], y1[start:], y2[start:], y3[start:]
    for j in range(xs.shape[0]):
        xv = np.float32(xs[j])
        s0 += abs(xv - np.float32(z0[j]))
        s1 += abs(xv - np.float32(z1[j]))
        s2 += abs(xv - np.float32(z2[j]))
        s3 += abs(xv - np.float32(z3[j]))
    return np.float64(a0 + s0), np.float64(a1 + s1), np.float64(a2 + s2), np.float64(a3 + s3)


@kernel()
def _emit(a, b, d, threshold_a, threshold_b, out_target, out_source, out_dist, pos):
    """Write the offers of the pair ``(a, b)`` that may enter a row; return the new end."""
    if a == b:
        return pos
    if d <= threshold_a:
        out_target[pos] = a
        out_source[pos] = b
        out_dist[pos] = d
        pos += 1
    if d <= threshold_b:
        out_target[pos] = b
        out_source[pos] = a
        out_dist[pos] = d
        pos += 1
    return pos


@kernel()
def _hub_offers(m_new, m_old):
    """Most offers one hub can write: two per new-new and new-old pair."""
    return m_new * (m_new - 1) + 2 * m_new * m_old


@kernel()
def _local_join(data32, data16, is_float, metric, p, u, new_cand, old_cand, n_new, n_old,
                roots, rows, ids, thresholds, out_target, out_source, out_dist, start):
    """The local join of hub ``u``: compare its new candidates with each other and with
    its old ones, writing offers from ``start``; return the number written.

    The candidates' rows are first copied to the float32 scratch ``rows``; the pairs are
    then measured from cache, four at a time. Loading each row once per hub rather than
    once per pair is what makes the join cheap: it is bound by memory traffic.
    ``thresholds`` are the rows' current worst distances, from ``roots`` (a compact copy
    of ``heap_dist[:, 0]``: one cache line serves eight rows); heaps are not written while
    offers are produced, so they are read without races.
    """
    m_new = n_new[u]
    m = m_new + n_old[u]
    for a in range(m):
        if a < m_new:
            ids[a] = new_cand[u, a]
        else:
            ids[a] = old_cand[u, a - m_new]
        thresholds[a] = roots[ids[a]]
    _gather_rows(data32, data16, is_float, ids, m, rows)
    pos = start
    four = metric == SQEUCLIDEAN or metric == MANHATTAN
    for a in range(m_new):
        x = rows[a]
        ia = ids[a]
        ta = thresholds[a]
        b = a + 1
        while four and b + 4 <= m:
            t0 = max(ta, thresholds[b])
            t1 = max(ta, thresholds[b + 1])
            t2 = max(ta, thresholds[b + 2])
            t3 = max(ta, thresholds[b + 3])
            if metric == SQEUCLIDEAN:
                d0, d1, d2, d3 = _sqeuclidean_four(x, rows[b], rows[b + 1], rows[b + 2],
                                                   rows[b + 3], t0, t1, t2, t3)
            else:
                d0, d1, d2, d3 = _manhattan_four(x, rows[b], rows[b + 1], rows[b + 2],
                                                 rows[b + 3], t0, t1, t2, t3)
            pos = _emit(ia, ids[b], d0, ta, thresholds[b], out_target, out_source, out_dist,
                        pos)
            pos = _emit(ia, ids[b + 1], d1, ta, thresholds[b + 1], out_target, out_source,
                        out_dist, pos)
            pos = _emit(ia, ids[b + 2], d2, ta, thresholds[b + 2], out_target, out_source,
                        out_dist, pos)
            pos = _emit(ia, ids[b + 3], d3, ta, thresholds[b + 3], out_target, out_source,
                        out_dist, pos)
            b += 4
        while b < m:
            tb = thresholds[b]
            d = _reduced_distance(x, rows[b], metric, p, max(ta, tb))
            pos = _emit(ia, ids[b], d, ta, tb, out_target, out_source, out_dist, pos)
            b += 1
    return pos - start


@kernel(parallel=True)
def join_round(data32, data16, is_float, metric, p, visit_order, n_target_blocks, new_cand,
               old_cand, n_new, n_old, heap_idx, heap_dist, heap_flag, rows, ids, thresholds,
               out_target, out_source, out_dist, sorted_target, sorted_source, sorted_dist):
    """One NN-descent round: the local join of every hub, offers buffered and applied.

    Hubs are taken in ``visit_order`` (a tree's leaf order, so that consecutive hubs share
    candidates still in cache), in chunks of consecutive hubs whose offers fit the offer
    buffers ``out_*`` (the chunks depend on the graph and the buffer size only, never on
    the threads). For a chunk,
    every hub writes the offers of its pairs that can beat the current worst distance of
    their target row (:func:`_local_join`; heaps are only read); the offers are then
    bucketed by blocks of target index (a counting sort, serial and fixed) and applied, one
    block per iteration, so no row has two writers.

    A row ends the round as the ``K`` smallest ``(distance, index)`` of its old entries and
    of every pair offered to it; offers skipped or cut short could not have entered.
    Entries inserted in the round carry flag 2, so the count of changed entries does not
    depend on the order of the offers. ``rows``, ``ids`` and ``thresholds`` are scratch
    indexed by thread id (shapes (n_threads, 2 cap, d), (n_threads, 2 cap) twice); they
    never influence the result. The offer buffers must hold the offers of any one hub
    (``_hub_offers(cap, cap)``); they are reused across rounds so that their pages are
    faulted in once. Returns that count; flags 2 become 1.
    """
    n = heap_idx.shape[0]
    k = heap_idx.shape[1]
    budget = out_target.shape[0]
    roots = heap_dist[:, 0].copy()
    # Offsets of each hub's offers (in visit order), and the chunk boundaries.
    offsets = np.empty(n + 1, dtype=np.int64)
    chunk_ends = np.empty(n, dtype=np.int64)
    n_chunks = 0
    chunk_first = 0
    offsets[0] = 0
    for a in range(n):
        u = visit_order[a]
        bound = _hub_offers(n_new[u], n_old[u])
        if a > chunk_first and offsets[a] - offsets[chunk_first] + bound > budget:
            chunk_ends[n_chunks] = a
            n_chunks += 1
            chunk_first = a
        offsets[a + 1] = offsets[a] + bound
    chunk_ends[n_chunks] = n
    n_chunks += 1
    n_out = np.empty(n, dtype=np.int64)
    block_width = (n + n_target_blocks - 1) // n_target_blocks
    block_start = np.empty(n_target_blocks + 1, dtype=np.int64)
    lo = 0
    for c in range(n_chunks):
        hi = chunk_ends[c]
        base = offsets[lo]
        for a in prange(lo, hi):
            t = get_thread_id()
            n_out[a] = _local_join(data32, data16, is_float, metric, p, visit_order[a],
                                   new_cand, old_cand, n_new, n_old, roots, rows[t], ids[t],
                                   thresholds[t], out_target, out_source, out_dist,
                                   offsets[a] - base)
        block_start[:] = 0
        for a in range(lo, hi):
            for e in range(offsets[a] - base, offsets[a] - base + n_out[a]):
                block_start[out_target[e] // block_width + 1] += 1
        for b in range(n_target_blocks):
            block_start[b + 1] += block_start[b]
        fill = block_start[:-1].copy()
        for a in range(lo, hi):
            for e in range(offsets[a] - base, offsets[a] - base + n_out[a]):
                b = out_target[e] // block_width
                sorted_target[fill[b]] = out_target[e]
                sorted_source[fill[b]] = out_source[e]
                sorted_dist[fill[b]] = out_dist[e]
                fill[b] += 1
        for b in prange(n_target_blocks):
            for e in range(block_start[b], block_start[b + 1]):
                w = sorted_target[e]
                i = sorted_source[e]
                d = np.float64(sorted_dist[e])
                if d <= heap_dist[w, 0] and not _heap_contains(heap_idx[w], i):
                    _heap_offer(heap_idx[w], heap_dist[w], heap_flag[w], d, i, 2)
                    roots[w] = heap_dist[w, 0]
        lo = hi
    changed = 0
    for i in prange(n):
        row_changed = 0
        for m in range(k):
            if heap_flag[i, m] == 2:
                heap_flag[i, m] = 1
                row_changed += 1
        changed += row_changed
    return changed


@kernel(parallel=True)
def finalize(X32, X64, x_is_f64, metric, p, row_shift, row_scale, visit_order, heap_idx, out_idx,
             out_dist):
    """Write the output rows: self first at 0, then the ``k - 1`` nearest of the heap.

    The heap's entries are re-measured exactly on the caller's ``X`` (see
    :func:`exact_distance`), so the search array's rounding or quantisation never reaches
    the output, and each row is sorted by ``(distance, index)``. Rows are taken in
    ``visit_order`` so that neighbouring rows of ``X`` are reused from cache.
    """
    n, k_out = out_idx.shape
    size = heap_idx.shape[1]
    dim = X64.shape[1] if x_is_f64 else X32.shape[1]
    for block in prange((n + ROW_BLOCK - 1) // ROW_BLOCK):
        x = np.empty(dim, dtype=np.float64)
        y = np.empty(dim, dtype=np.float64)
        row_idx = np.empty(size, dtype=heap_idx.dtype)
        row_dist = np.empty(size, dtype=np.float64)
        for position in range(block * ROW_BLOCK, min(n, (block + 1) * ROW_BLOCK)):
            i = visit_order[position]
            _load_x_row(X32, X64, x_is_f64, i, x)
            for m in range(size):
                j = heap_idx[i, m]
                row_idx[m] = j
                _load_x_row(X32, X64, x_is_f64, j, y)
                row_dist[m] = exact_distance(x, y, metric, p, row_shift[i], row_scale[i],
                                             row_shift[j], row_scale[j])
            _sort_row(row_idx, row_dist)
            out_idx[i, 0] = i
            out_dist[i, 0] = 0.0
            for m in range(k_out - 1):
                out_idx[i, m + 1] = row_idx[m]
                out_dist[i, m + 1] = row_dist[m]
