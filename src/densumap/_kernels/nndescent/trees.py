"""Random-projection trees.

The forest that gives NN-descent its first graph, the joins inside its leaves and the
random completion of short rows.
"""
import numpy as np

from .._config import kernel
from .common import EMPTY, MANHATTAN, SQEUCLIDEAN, _FILL_STREAM, _TREE_STREAM, hash4
from .distances import _manhattan_four, _reduced_distance, _sqeuclidean_four
from .rows import _gather_rows, _load_row, _row_dot
from .heaps import _heap_contains, _heap_offer


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


@kernel(error_model="numpy")
def split_top(data32, data16, is_float, dim, seed, tree, node_size, order, node_starts):
    """The top levels of tree ``tree``: split until nodes have at most ``node_size``
    points (a node's rows then fit in a thread's scratch, where :func:`finish_nodes`
    splits it further from cache). Returns the number of nodes.

    Parameters
    ----------
    data32, data16 : float32 / uint16 ndarray of shape (n, d)
        The search array, and a placeholder of the other dtype.
    is_float : bool
        Whether the search array is ``data32`` (else ``data16``).
    dim : int
        Number of coordinates ``d``.
    seed, tree : int
    node_size : int
    order : int32 ndarray of shape (n,), output
        The tree's points, node by node.
    node_starts : int64 ndarray of shape (n + 1,), output
    """
    return _build_tree(data32, data16, is_float, dim, seed, tree, 0, node_size, order,
                       node_starts)


@kernel()
def _leaf_join(rows, local, ids, lo, hi, metric, p, heap_idx, heap_dist, heap_flag):
    """Offer every pair of one leaf to both points' heaps, measured from the scratch.

    The leaf's points are ``ids[local[lo:hi]]``, their rows ``rows[local[lo:hi]]``; pairs
    are measured four at a time, as in :func:`_local_join`.
    """
    four = metric == SQEUCLIDEAN or metric == MANHATTAN
    for a in range(lo, hi - 1):
        ra = np.int64(local[a])
        ia = np.int64(ids[ra])
        b = a + 1
        while b < hi:
            ta = heap_dist[ia, 0]
            if four and b + 4 <= hi:
                r0 = np.int64(local[b])
                r1 = np.int64(local[b + 1])
                r2 = np.int64(local[b + 2])
                r3 = np.int64(local[b + 3])
                t0 = max(ta, heap_dist[ids[r0], 0])
                t1 = max(ta, heap_dist[ids[r1], 0])
                t2 = max(ta, heap_dist[ids[r2], 0])
                t3 = max(ta, heap_dist[ids[r3], 0])
                if metric == SQEUCLIDEAN:
                    d0, d1, d2, d3 = _sqeuclidean_four(rows, ra, rows, r0, r1, r2, r3,
                                                       t0, t1, t2, t3)
                else:
                    d0, d1, d2, d3 = _manhattan_four(rows, ra, rows, r0, r1, r2, r3,
                                                     t0, t1, t2, t3)
                width = 4
            else:
                rb = np.int64(local[b])
                d0 = _reduced_distance(rows, ra, rows, rb, metric, p,
                                       max(ta, heap_dist[ids[rb], 0]))
                d1 = d2 = d3 = d0
                width = 1
            for q in range(width):
                d = d0 if q == 0 else (d1 if q == 1 else (d2 if q == 2 else d3))
                ib = np.int64(ids[local[b + q]])
                # The threshold tests first: they reject most pairs without a call.
                if d <= heap_dist[ia, 0] or d <= heap_dist[ib, 0]:
                    _offer_both(ia, ib, d, heap_idx, heap_dist, heap_flag)
            b += width


@kernel(error_model="numpy")
def finish_nodes(v0, v1, data32, data16, is_float, dim, metric, p, seed, tree, leaf_size,
                 order, node_starts, heap_idx, heap_dist, heap_flag, rows):
    """Split the nodes ``v0 <= v < v1`` of tree ``tree`` into leaves and offer every leaf
    pair to the heaps.

    Each node's rows are copied once to the calling thread's float32 scratch ``rows``
    (which holds ``node_size`` rows); the node is split there (node ``c`` of top-level
    node ``v`` hashes as ``(v + 1) * 2**32 + c``, so the splits do not depend on the
    scheduling) and its leaves are joined from cache. ``order`` is rewritten leaf by
    leaf. The nodes of one tree are disjoint, so a node's task is the only writer of its
    points' heaps.
    """
    for v in range(v0, v1):
        lo = node_starts[v]
        m = node_starts[v + 1] - lo
        ids = order[lo:lo + m].copy()
        _gather_rows(data32, data16, is_float, ids, m, rows)
        local = np.empty(m, dtype=np.int32)
        leaf_starts = np.empty(m + 1, dtype=np.int64)
        n_leaves = _build_tree(rows, data16, True, dim, seed, tree, (v + 1) << 32,
                               leaf_size, local, leaf_starts)
        for leaf in range(n_leaves):
            _leaf_join(rows, local, ids, leaf_starts[leaf], leaf_starts[leaf + 1], metric,
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
    x = np.empty((1, dim), dtype=np.float32)
    y = np.empty((1, dim), dtype=np.float32)
    for i in range(n):
        if heap_idx[i, 0] >= 0:  # an empty slot sorts above every real entry
            continue
        _load_row(data32, data16, is_float, i, x[0])
        attempt = 0
        while heap_idx[i, 0] < 0:
            if attempt < 4 * size:
                w = np.int64(hash4(seed, _FILL_STREAM, i, attempt) % np.uint64(n))
            else:
                w = (i + 1 + attempt - 4 * size) % n
            attempt += 1
            if w == i or _heap_contains(heap_idx[i], w):
                continue
            _load_row(data32, data16, is_float, w, y[0])
            d = _reduced_distance(x, 0, y, 0, metric, p, EMPTY)
            _heap_offer(heap_idx[i], heap_dist[i], heap_flag[i], d, w, 1)
