"""NN-descent rounds.

Reverse edges, candidate lists, the Jacobi-style join round and the exact distances of
the final graph.
"""
import numpy as np
from numba import get_thread_id, prange

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
