"""NN-descent rounds.

Reverse edges, candidate lists, the stages of the Jacobi-style join round and the exact
distances of the final graph.
"""
import numpy as np

from .._config import kernel
from .common import _ROUND_STREAM, hash4
from .distances import exact_distance
from .rows import ROW_BLOCK, _load_x_row
from .heaps import _heap_contains, _heap_offer, _select_insert, _sort_row
from .join import _hub_offers, _local_join


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


# The kernels below run on a range of rows, hubs or target blocks each: the drivers
# (:mod:`densumap._nn_rounds`, :mod:`densumap.nndescent`) share the ranges out to a pool
# of Python threads (:mod:`densumap._threads`). They are serial and compiled with
# numba's numpy error model (no zero test before divisions), as the bodies of parallel
# loops are.


@kernel(error_model="numpy")
def build_candidates(u0, u1, heap_idx, heap_flag, rev_starts, rev_sources, rev_flags, seed,
                     round_, new_cand, old_cand, n_new_out, n_old_out):
    """For points ``u0 <= u < u1``, sample at most ``cap`` new and ``cap`` old neighbours
    (forward or reverse).

    The sample keeps the entries of smallest hash ``(seed, round_, u, v)`` (in the rounds'
    stream), so it is a fixed function of the graph. Forward "new" entries that made it
    into the sample are marked old in the point's own row: they are being joined now.
    ``n_new_out`` and ``n_old_out`` receive the list lengths; unused slots hold -1.
    """
    k = heap_idx.shape[1]
    cap = new_cand.shape[1]
    new_prio = np.empty(cap, dtype=np.uint64)
    old_prio = np.empty(cap, dtype=np.uint64)
    for u in range(u0, u1):
        new_row = new_cand[u]
        old_row = old_cand[u]
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
            is_new = rev_flags[e] != 0
            # A reverse entry also in u's own row with the same flag has the same key as
            # the forward one, so its list already refused it: skipped without a hash.
            # Entries of one row, and of one reverse list, are distinct, so the lists
            # need no duplicate test of their own.
            seen = False
            for m in range(k):
                if heap_idx[u, m] == v and (heap_flag[u, m] != 0) == is_new:
                    seen = True
                    break
            if seen:
                continue
            pr = hash4(seed, _ROUND_STREAM + round_, u, v)
            if is_new:
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


@kernel()
def plan_chunks(visit_order, n_new, n_old, budget, offsets, chunk_ends):
    """Cut the hubs, taken in ``visit_order``, into chunks whose offers fit ``budget``.

    ``offsets[a]`` receives where the offers of the ``a``-th hub would start if the
    whole round were buffered (each hub reserves :func:`_hub_offers` slots), and
    ``chunk_ends`` the position after each chunk's last hub. The chunks depend on the
    graph and the budget only, never on the threads. Returns the number of chunks.
    """
    n = visit_order.shape[0]
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
    return n_chunks + 1


@kernel(error_model="numpy")
def join_hubs(a0, a1, base, data32, data16, is_float, metric, p, visit_order, new_cand,
              old_cand, n_new, n_old, roots, rows, ids, thresholds, offsets, out_target,
              out_source, out_dist, n_out):
    """The local joins of the hubs ``visit_order[a0:a1]``: hub ``a`` writes its offers to
    the buffers from ``offsets[a] - base`` and their count to ``n_out[a]``.

    Heaps are only read (through ``roots``), so hubs run side by side without races.
    ``rows``, ``ids`` and ``thresholds`` are the calling thread's scratch (``2 cap``
    rows); they never influence the result.
    """
    for a in range(a0, a1):
        # The hub as int64: with an int32 hub the join's loops ran ~1.6x slower.
        hub = np.int64(visit_order[a])
        n_out[a] = _local_join(data32, data16, is_float, metric, p, hub, new_cand, old_cand,
                               n_new, n_old, roots, rows, ids, thresholds, out_target,
                               out_source, out_dist, offsets[a] - base)


@kernel(error_model="numpy")
def bucket_part(a0, a1, base, offsets, n_out, shift, out_target, out_source, out_dist,
                part_start, sorted_target, sorted_source, sorted_dist):
    """Counting sort of the offers of hubs ``a0 <= a < a1`` (one part of a chunk) by
    block of their target row, into the part's own range of the ``sorted_*`` buffers
    (from ``offsets[a0] - base``, where the part's offers were written).

    Row ``w`` is in block ``(w >> shift) % n_blocks`` (``n_blocks = part_start.shape[0]
    - 1``, a power of two): blocks interleave groups of ``2 ** shift`` rows, so each
    block gets a like share of a chunk's offers however close together their targets
    lie. ``part_start[b]`` receives where the part's offers to block ``b`` begin, in hub
    order. Parts write disjoint ranges, so they run side by side.
    """
    mask = part_start.shape[0] - 2
    start = offsets[a0] - base
    part_start[:] = 0
    for a in range(a0, a1):
        for e in range(offsets[a] - base, offsets[a] - base + n_out[a]):
            part_start[((out_target[e] >> shift) & mask) + 1] += 1
    part_start[0] = start
    for b in range(part_start.shape[0] - 1):
        part_start[b + 1] += part_start[b]
    fill = part_start[:-1].copy()
    for a in range(a0, a1):
        for e in range(offsets[a] - base, offsets[a] - base + n_out[a]):
            b = (out_target[e] >> shift) & mask
            sorted_target[fill[b]] = out_target[e]
            sorted_source[fill[b]] = out_source[e]
            sorted_dist[fill[b]] = out_dist[e]
            fill[b] += 1


@kernel(error_model="numpy")
def apply_offers(b0, b1, n_parts, part_starts, sorted_target, sorted_source, sorted_dist,
                 heap_idx, heap_dist, heap_flag, roots):
    """Offer the offers bucketed by :func:`bucket_part` to the rows of target blocks
    ``b0 <= b < b1``, part by part (so in hub order).

    A block's rows have no other writer. Entries inserted get flag 2 (so that the count
    of changed entries does not depend on the order of the offers); ``roots`` follows
    each row's new threshold.
    """
    for b in range(b0, b1):
        for q in range(n_parts):
            for e in range(part_starts[q, b], part_starts[q, b + 1]):
                w = sorted_target[e]
                i = sorted_source[e]
                d = np.float64(sorted_dist[e])
                if d <= heap_dist[w, 0] and not _heap_contains(heap_idx[w], i):
                    _heap_offer(heap_idx[w], heap_dist[w], heap_flag[w], d, i, 2)
                    roots[w] = heap_dist[w, 0]


@kernel()
def settle_flags(heap_flag):
    """Turn the round's flags 2 into 1 (new); return how many entries changed."""
    changed = 0
    n, k = heap_flag.shape
    for i in range(n):
        for m in range(k):
            if heap_flag[i, m] == 2:
                heap_flag[i, m] = 1
                changed += 1
    return changed


@kernel(error_model="numpy")
def finalize(b0, b1, X32, X64, x_is_f64, metric, p, row_shift, row_scale, visit_order,
             heap_idx, out_idx, out_dist):
    """Write the output rows of the visit-order blocks ``b0 <= block < b1`` (of
    ``ROW_BLOCK`` rows): self first at 0, then the ``k - 1`` nearest of the heap.

    The heap's entries are re-measured exactly on the caller's ``X`` (see
    :func:`exact_distance`), so the search array's rounding or quantisation never reaches
    the output, and each row is sorted by ``(distance, index)``. Rows are taken in
    ``visit_order`` so that neighbouring rows of ``X`` are reused from cache.
    """
    n, k_out = out_idx.shape
    size = heap_idx.shape[1]
    dim = X64.shape[1] if x_is_f64 else X32.shape[1]
    x = np.empty(dim, dtype=np.float64)
    row_idx = np.empty(size, dtype=heap_idx.dtype)
    row_dist = np.empty(size, dtype=np.float64)
    for block in range(b0, b1):
        for position in range(block * ROW_BLOCK, min(n, (block + 1) * ROW_BLOCK)):
            i = visit_order[position]
            _load_x_row(X32, X64, x_is_f64, i, x)
            for m in range(size):
                j = heap_idx[i, m]
                row_idx[m] = j
                # The neighbour's row is read in place (float32 widened exactly as it
                # is read): a float64 copy of each row cost ~20% of this kernel.
                if x_is_f64:
                    d = exact_distance(x, X64[j], metric, p, row_shift[i], row_scale[i],
                                       row_shift[j], row_scale[j])
                else:
                    d = exact_distance(x, X32[j], metric, p, row_shift[i], row_scale[i],
                                       row_shift[j], row_scale[j])
                row_dist[m] = d
            _sort_row(row_idx, row_dist)
            out_idx[i, 0] = i
            out_dist[i, 0] = 0.0
            for m in range(k_out - 1):
                out_idx[i, m + 1] = row_idx[m]
                out_dist[i, m + 1] = row_dist[m]
