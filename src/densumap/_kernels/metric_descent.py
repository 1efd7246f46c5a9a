"""Approximate k nearest neighbours under any metric of :mod:`._kernels.metrics`.

Random-projection trees on the raw rows seed a neighbour heap per row; NN-descent
rounds then refine the heaps. The result depends only on ``(data, k, metric, seed)``
and the size parameters, never on the number of threads:

* every random choice is a hash of ``(seed, stream, a, b)`` (:func:`_hash`), never a
  draw from a shared generator;
* every parallel loop writes only the heaps of its own rows (a leaf of one tree, or a
  row), and reads other rows' state only from arrays frozen before the loop;
* a heap keeps the ``K`` smallest ``(distance, index)`` pairs offered and refuses
  duplicates, and each row is offered its candidates in a fixed order.

An NN-descent round is "Jacobi style" and *pulls*: the candidate lists of every row
(a sample of its forward and reverse neighbours, new ones apart from old ones) are
built from the heaps as they were at the start of the round; then each row measures
itself against the candidates of its candidates and updates only its own heap. Each
pair may be measured from both ends (twice the distance evaluations of a symmetric
local join), which buys a round with no shared writes and no offer buffers.

Data and metric are the *rows* and *metric* tuples of :mod:`.metric_rows` (dense or
sparse rows). The trees split on euclidean hyperplanes of the raw coordinates whatever
the metric: they only choose the first candidates.

Heaps are three ``(n, K)`` arrays: indices (int32, -1 empty), distances (float64,
:data:`EMPTY` empty) and flags (uint8, 1 new since its row last sampled it, else 0).
Entry 0 holds the largest ``(distance, index)`` pair of the row.
"""
import numpy as np
from numba import prange

from ._config import kernel
from .metric_rows import add_row, clear_row, row_distance, row_dot, row_sqnorm
from .rng import GOLDEN, mix64

EMPTY = np.finfo(np.float64).max
# Streams of the hash (its second argument), so that tree splits, random completion
# and candidate sampling never draw from the same inputs.
_TREE_STREAM = 1 << 40
_FILL_STREAM = 2 << 40
_ROUND_STREAM = 3 << 40
# Rows per iteration of a parallel loop over rows (scratch is allocated per block).
_ROW_BLOCK = 64


@kernel()
def _hash(seed, a, b, c):
    """A uint64 that is a pseudo-random function of four non-negative integers."""
    h = mix64(np.uint64(seed) + GOLDEN)
    h = mix64(h ^ (np.uint64(a) + GOLDEN))
    h = mix64(h ^ (np.uint64(b) + GOLDEN))
    return mix64(h ^ (np.uint64(c) + GOLDEN))


# ------------------------------------------------------------------------------- heaps


@kernel()
def _in_row(heap_idx, i, j):
    for s in range(heap_idx.shape[1]):
        if heap_idx[i, s] == j:
            return True
    return False


@kernel()
def _push(heap_idx, heap_dist, heap_flag, i, j, d):
    """Offer ``(d, j)`` to row ``i``; return 1 if it entered, else 0.

    The caller has checked that ``j`` is not in the row.
    """
    K = heap_idx.shape[1]
    if d > heap_dist[i, 0] or (d == heap_dist[i, 0] and j >= heap_idx[i, 0]
                               and heap_idx[i, 0] >= 0):
        return 0
    if not d <= heap_dist[i, 0]:  # NaN
        return 0
    # Replace the root and sift down under the order (distance, index).
    pos = 0
    while True:
        child = 2 * pos + 1
        if child >= K:
            break
        right = child + 1
        if right < K and (heap_dist[i, right] > heap_dist[i, child]
                          or (heap_dist[i, right] == heap_dist[i, child]
                              and heap_idx[i, right] > heap_idx[i, child])):
            child = right
        cd = heap_dist[i, child]
        ci = heap_idx[i, child]
        if cd < d or (cd == d and ci < j):
            break
        heap_dist[i, pos] = cd
        heap_idx[i, pos] = ci
        heap_flag[i, pos] = heap_flag[i, child]
        pos = child
    heap_dist[i, pos] = d
    heap_idx[i, pos] = j
    heap_flag[i, pos] = 1
    return 1


# ------------------------------------------------------------------------------- trees


@kernel()
def _split_tree(rows, seed, tree, leaf_size, order, leaf_starts, side, buf, normal):
    """Build one random-projection tree; return its number of leaves.

    ``order`` receives a permutation of the rows in which every leaf is a contiguous
    run, ``leaf_starts[:n_leaves + 1]`` the run boundaries (leaves in order).
    ``normal`` is a zeroed scratch vector of length ``n_features``, zeroed again on
    return.
    """
    n = order.shape[0]
    for q in range(n):
        order[q] = q
    stack_lo = np.empty(n + 1, dtype=np.int64)
    stack_hi = np.empty(n + 1, dtype=np.int64)
    stack_lo[0] = 0
    stack_hi[0] = n
    top = 1
    n_leaves = 0
    node = 0
    stream = _TREE_STREAM + tree
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
        h = _hash(seed, stream, node, 0)
        a = order[lo + np.int64(h % np.uint64(size))]
        h2 = _hash(seed, stream, node, 1)
        b_pos = lo + np.int64(h2 % np.uint64(size - 1))
        if order[b_pos] == a:
            b_pos = hi - 1
        b = order[b_pos]
        # The hyperplane equidistant from rows a and b: normal a - b, and the offset
        # (|a|^2 - |b|^2) / 2 of its midpoint.
        add_row(rows, a, normal, 1.0)
        add_row(rows, b, normal, -1.0)
        offset = 0.5 * (row_sqnorm(rows, a) - row_sqnorm(rows, b))
        n_left = 0
        for q in range(lo, hi):
            r = order[q]
            v = row_dot(rows, r, normal) - offset
            if v > 0.0:
                side[q] = 0
            elif v < 0.0:
                side[q] = 1
            else:
                side[q] = np.uint8(_hash(seed, stream, node, 2 + r) & np.uint64(1))
            n_left += side[q] == 0
        clear_row(rows, a, normal)
        clear_row(rows, b, normal)
        if n_left == 0 or n_left == size:
            # All rows on one side (e.g. duplicates): split at random, or in halves.
            n_left = 0
            for q in range(lo, hi):
                side[q] = np.uint8(_hash(seed, stream, node, 2 + order[q]) & np.uint64(1))
                n_left += side[q] == 0
            if n_left == 0 or n_left == size:
                n_left = size // 2
                for q in range(lo, hi):
                    side[q] = 0 if q - lo < n_left else 1
        # Stable partition: left rows first, each side in its previous order.
        w = lo
        for q in range(lo, hi):
            if side[q] == 0:
                buf[w] = order[q]
                w += 1
        for q in range(lo, hi):
            if side[q] != 0:
                buf[w] = order[q]
                w += 1
        for q in range(lo, hi):
            order[q] = buf[q]
        # Right first on the stack, so that the left child is split (and its leaves
        # listed) first.
        stack_lo[top] = lo + n_left
        stack_hi[top] = hi
        stack_lo[top + 1] = lo
        stack_hi[top + 1] = lo + n_left
        top += 2
    leaf_starts[n_leaves] = n
    return n_leaves


@kernel(parallel=True)
def build_forest(rows, seed, leaf_size, orders, leaf_starts, n_leaves):
    """Build ``orders.shape[0]`` trees, one per thread (each tree is serial)."""
    n_trees, n = orders.shape
    n_features = rows[4]
    for t in prange(n_trees):
        side = np.empty(n, dtype=np.uint8)
        buf = np.empty(n, dtype=np.int32)
        normal = np.zeros(n_features, dtype=np.float64)
        n_leaves[t] = _split_tree(rows, seed, t, leaf_size, orders[t], leaf_starts[t], side,
                                  buf, normal)


@kernel(parallel=True)
def join_leaves(rows, metric, order, leaf_starts, n_leaves, heap_idx, heap_dist, heap_flag):
    """Measure every pair within each leaf of one tree and offer it to both rows.

    A row lies in one leaf of a tree, so leaves run in parallel without shared writes.
    """
    for leaf in prange(n_leaves):
        lo = leaf_starts[leaf]
        hi = leaf_starts[leaf + 1]
        for q in range(lo, hi):
            i = order[q]
            for r in range(q + 1, hi):
                j = order[r]
                need_i = not _in_row(heap_idx, i, j)
                need_j = not _in_row(heap_idx, j, i)
                if not (need_i or need_j):
                    continue
                d = row_distance(rows, i, rows, j, metric)
                if need_i:
                    _push(heap_idx, heap_dist, heap_flag, i, j, d)
                if need_j:
                    _push(heap_idx, heap_dist, heap_flag, j, i, d)


@kernel(parallel=True)
def fill_random(rows, metric, seed, heap_idx, heap_dist, heap_flag):
    """Complete rows with fewer than ``K`` entries with hash-chosen rows."""
    n, K = heap_idx.shape
    for i in prange(n):
        filled = 0
        for s in range(K):
            filled += heap_idx[i, s] >= 0
        attempt = 0
        while filled < K and attempt < 4 * K + 64:
            j = np.int64(_hash(seed, _FILL_STREAM, i, attempt) % np.uint64(n))
            attempt += 1
            if j == i or _in_row(heap_idx, i, j):
                continue
            d = row_distance(rows, i, rows, j, metric)
            filled += _push(heap_idx, heap_dist, heap_flag, i, j, d)


# ------------------------------------------------------------------------ NN-descent


@kernel()
def _offer(cand, prio, count, cap, j, pr):
    """Keep the ``cap`` candidates of smallest priority, sorted; return the new count."""
    for s in range(count):
        if cand[s] == j:
            return count
    if count == cap and pr >= prio[count - 1]:
        return count
    pos = count if count < cap else cap - 1
    while pos > 0 and prio[pos - 1] > pr:
        if pos < cap:
            cand[pos] = cand[pos - 1]
            prio[pos] = prio[pos - 1]
        pos -= 1
    cand[pos] = j
    prio[pos] = pr
    return count + 1 if count < cap else count


@kernel(parallel=True)
def build_candidates(heap_idx, heap_flag, rev_starts, rev_sources, rev_flags, seed, round_,
                     new_cand, old_cand, n_new, n_old):
    """Sample each row's new and old candidates (forward and reverse neighbours).

    Up to ``cap`` of each kind, those of smallest hash priority. Forward entries taken
    as new candidates become old in the row's heap.
    """
    n, K = heap_idx.shape
    cap = new_cand.shape[1]
    stream = _ROUND_STREAM + round_
    for i in prange(n):
        new_prio = np.empty(cap, dtype=np.uint64)
        old_prio = np.empty(cap, dtype=np.uint64)
        c_new = 0
        c_old = 0
        for s in range(K):
            j = heap_idx[i, s]
            if j < 0:
                continue
            pr = _hash(seed, stream, i, j)
            if heap_flag[i, s] != 0:
                c_new = _offer(new_cand[i], new_prio, c_new, cap, j, pr)
            else:
                c_old = _offer(old_cand[i], old_prio, c_old, cap, j, pr)
        for r in range(rev_starts[i], rev_starts[i + 1]):
            j = rev_sources[r]
            pr = _hash(seed, stream, i, j)
            if rev_flags[r] != 0:
                c_new = _offer(new_cand[i], new_prio, c_new, cap, j, pr)
            else:
                c_old = _offer(old_cand[i], old_prio, c_old, cap, j, pr)
        n_new[i] = c_new
        n_old[i] = c_old
        for s in range(K):
            if heap_flag[i, s] != 0:
                j = heap_idx[i, s]
                for c in range(c_new):
                    if new_cand[i, c] == j:
                        heap_flag[i, s] = 0
                        break


@kernel(parallel=True)
def pull_round(rows, metric, new_cand, old_cand, n_new, n_old, heap_idx, heap_dist, heap_flag):
    """One NN-descent round; return the number of heap entries that changed.

    Row ``i`` measures itself against its new candidates and against the candidates of
    its candidates: all of those of a new candidate, the new ones of an old one. Only
    row ``i``'s heap is written; the candidate lists are read only.
    """
    n = heap_idx.shape[0]
    cap = new_cand.shape[1]
    width = cap * (1 + 2 * cap) + cap * cap
    n_blocks = (n + _ROW_BLOCK - 1) // _ROW_BLOCK
    changes = np.zeros(n_blocks, dtype=np.int64)
    for blk in prange(n_blocks):
        buf = np.empty(width, dtype=np.int32)
        changed = 0
        for i in range(blk * _ROW_BLOCK, min(n, (blk + 1) * _ROW_BLOCK)):
            m = 0
            for a in range(n_new[i]):
                u = new_cand[i, a]
                buf[m] = u
                m += 1
                for b in range(n_new[u]):
                    buf[m] = new_cand[u, b]
                    m += 1
                for b in range(n_old[u]):
                    buf[m] = old_cand[u, b]
                    m += 1
            for a in range(n_old[i]):
                u = old_cand[i, a]
                for b in range(n_new[u]):
                    buf[m] = new_cand[u, b]
                    m += 1
            cands = np.sort(buf[:m])
            prev = -1
            for c in range(m):
                j = cands[c]
                if j == prev or j == i:
                    continue
                prev = j
                if _in_row(heap_idx, i, j):
                    continue
                d = row_distance(rows, i, rows, j, metric)
                changed += _push(heap_idx, heap_dist, heap_flag, i, j, d)
        changes[blk] = changed
    return changes.sum()


@kernel(parallel=True)
def sorted_rows(heap_idx, heap_dist, indices, distances):
    """Write each row itself (column 0, distance 0), then its heap by increasing
    ``(distance, index)``."""
    n, K = heap_idx.shape
    for i in prange(n):
        order = np.argsort(heap_idx[i])  # fixed order first, then a stable sort by distance
        keys = heap_dist[i][order]
        order = order[np.argsort(keys, kind="mergesort")]
        indices[i, 0] = i
        distances[i, 0] = 0.0
        for s in range(K):
            indices[i, s + 1] = heap_idx[i, order[s]]
            distances[i, s + 1] = heap_dist[i, order[s]]
