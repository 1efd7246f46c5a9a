"""The NN-descent rounds of :mod:`densumap.nndescent` and the recall probe.

A round builds every point's candidate lists, joins them hub by hub and applies the
offers so that no heap row has two writers (:func:`descend`); the probe measures the
recall of the heaps on rows scanned exactly and, below its target, runs a wider
descent from the trees' graph (:func:`widen_until_recalled`). Every split of the work
is fixed, so the result never depends on the number of threads.
"""
import logging
from typing import NamedTuple

import numpy as np

from ._kernels import nndescent as _k
from ._threads import share_out

logger = logging.getLogger("densumap")

# Stop the descent once a round changes fewer than this fraction of the n * K entries: the
# recall left to gain is then about a quarter of it (measured on Fashion-MNIST).
_DELTA = 0.02
# Most offers buffered at once in a join round (24 bytes each), and the blocks of target
# rows the offers are bucketed into: 256 blocks (a power of two), each taking every 256th
# group of 2 ** 6 rows. All fixed, so that the work split never depends on the thread count.
_OFFER_BUDGET = 1 << 20
_TARGET_BLOCKS = 256
_TARGET_SHIFT = 6
# Work per task shared out to the threads: hubs of a join round, target blocks of its
# offers and rows of the candidate lists.
_HUB_TASK = 64
_BLOCK_TASK = 16
_CANDIDATE_TASK = 4096
# The recall probe (:func:`widen_until_recalled`): rows scanned exactly, the recall@k they
# must show, the widenings allowed, and the heap slots added and candidate lists of the
# widened rounds.
_PROBE_ROWS = 32
_TARGET_RECALL = 0.95
MAX_WIDENINGS = 1
_WIDEN_BY = 9
# Lists of 80, not 60, in the wide descent: 50-d mixture recall@15 0.967 -> 0.973 at
# 200,000 points and 0.897 -> 0.911 at 1,000,000, in about the same time.
_WIDE_CANDIDATES = 80


class Descent(NamedTuple):
    """What every descent round reads: the search array, the options (the
    ``_Search`` of :mod:`densumap.nndescent`), the order in which hubs are visited and
    the pool the work is shared out to."""

    data32: np.ndarray
    data16: np.ndarray
    is_float: bool
    s: tuple
    visit_order: np.ndarray
    pool: object


def descend(search, cap, heaps, rows, first_round):
    """NN-descent rounds with candidate lists of ``cap`` entries, until a round changes
    fewer than ``_DELTA`` of the entries or ``s.n_iters`` rounds ran; return the number
    of the next round (rounds are numbered across calls, so each draws its own sample)."""
    s, pool = search.s, search.pool
    heap_idx, heap_dist, heap_flag = heaps
    n, K = heap_idx.shape
    rev_starts = np.empty(n + 1, dtype=np.int64)
    rev_sources = np.empty(n * K, dtype=np.int32)
    rev_flags = np.empty(n * K, dtype=np.uint8)
    cand = (np.empty((n, cap), dtype=np.int32), np.empty((n, cap), dtype=np.int32),
            np.empty(n, dtype=np.int64), np.empty(n, dtype=np.int64))
    scratch = (rows, np.empty((rows.shape[0], 2 * cap), dtype=np.int32),
               np.empty((rows.shape[0], 2 * cap), dtype=np.float64))
    # Offer buffers of the join rounds, allocated once: (target, source, distance) as
    # written, then as bucketed by target. Reused across rounds so that their pages are
    # faulted in once.
    size = min(_OFFER_BUDGET, n * (3 * cap * cap))
    offers = tuple(np.empty(size, dtype=dtype)
                   for dtype in (np.int32, np.int32, np.float32) * 2)
    round_ = first_round
    for _ in range(s.n_iters):
        _k.reverse_edges(heap_idx, heap_flag, rev_starts, rev_sources, rev_flags)
        share_out(pool, range(0, n, _CANDIDATE_TASK), lambda u0, _, r=round_: (
            _k.build_candidates(u0, min(u0 + _CANDIDATE_TASK, n), heap_idx, heap_flag,
                                rev_starts, rev_sources, rev_flags, s.seed, r, *cand)))
        changed = _join_round(search, cand, heaps, scratch, offers)
        round_ += 1
        if changed < _DELTA * n * K:
            break
    return round_


def _join_round(search, cand, heaps, scratch, offers):
    """One NN-descent round: the local join of every hub, offers buffered and applied;
    returns the number of heap entries that changed.

    Hubs are taken in ``visit_order`` (a tree's leaf order, so that consecutive hubs
    share candidates still in cache), in chunks of consecutive hubs whose offers fit the
    offer buffers (:func:`_k.plan_chunks`; the chunks never depend on the threads). For a
    chunk, every hub writes the offers of its pairs that can beat the current worst
    distance of their target row while heaps are only read (:func:`_k.join_hubs`), and
    each task of ``_HUB_TASK`` hubs (a part) then sorts its own offers by block of target
    rows (:func:`_k.bucket_part`). The offers are applied block by block, each block
    reading the parts in order, so no row has two writers and every row sees its offers
    in hub order (:func:`_k.apply_offers`). The blocks interleave groups of ``2 **
    _TARGET_SHIFT`` rows, so a chunk's offers, whose targets lie close together, spread
    over all of them (BENCHMARKS.md, nineteenth session: the mixture's kNN -17%).

    A row ends the round as the ``K`` smallest ``(distance, index)`` of its old entries
    and of every pair offered to it; offers skipped or cut short could not have entered.
    """
    data32, data16, is_float, s, visit_order, pool = search
    new_cand, old_cand, n_new, n_old = cand
    heap_idx, heap_dist, heap_flag = heaps
    rows, ids, thresholds = scratch
    out_target, out_source, out_dist, sorted_target, sorted_source, sorted_dist = offers
    n = heap_idx.shape[0]
    offsets = np.empty(n + 1, dtype=np.int64)
    chunk_ends = np.empty(n, dtype=np.int64)
    n_chunks = _k.plan_chunks(visit_order, n_new, n_old, out_target.shape[0], offsets,
                              chunk_ends)
    roots = heap_dist[:, 0].copy()
    n_out = np.empty(n, dtype=np.int64)
    ends = chunk_ends[:n_chunks]
    widest = int(np.diff(ends, prepend=0).max())
    part_starts = np.empty((-(-widest // _HUB_TASK), _TARGET_BLOCKS + 1), dtype=np.int64)
    lo = 0
    for hi in ends.tolist():
        base = int(offsets[lo])

        def join(a0, slot, lo=lo, hi=hi, base=base):
            a1 = min(a0 + _HUB_TASK, hi)
            _k.join_hubs(a0, a1, base, data32, data16, is_float, s.search_metric, s.p,
                         visit_order, new_cand, old_cand, n_new, n_old, roots, rows[slot],
                         ids[slot], thresholds[slot], offsets, out_target, out_source,
                         out_dist, n_out)
            _k.bucket_part(a0, a1, base, offsets, n_out, _TARGET_SHIFT, out_target,
                           out_source, out_dist, part_starts[(a0 - lo) // _HUB_TASK],
                           sorted_target, sorted_source, sorted_dist)

        share_out(pool, range(lo, hi, _HUB_TASK), join)
        n_parts = -(-(hi - lo) // _HUB_TASK)
        share_out(pool, range(0, _TARGET_BLOCKS, _BLOCK_TASK), lambda b0, _, m=n_parts: (
            _k.apply_offers(b0, min(b0 + _BLOCK_TASK, _TARGET_BLOCKS), m, part_starts,
                            sorted_target, sorted_source, sorted_dist, heap_idx, heap_dist,
                            heap_flag, roots)))
        lo = hi
    return _k.settle_flags(heap_flag)


def probe_truth(search):
    """``(queries, truth)``: ``_PROBE_ROWS`` rows drawn from the seed and the indices of
    their exact ``heap_size - 1`` nearest other rows, by one scan of the search array.
    Scanned once per search, whatever the number of probes."""
    data32, data16, is_float, s, _, pool = search
    n = (data32 if is_float else data16).shape[0]
    queries = np.sort(np.random.default_rng(s.seed).choice(n, _PROBE_ROWS, replace=False))
    queries = queries.astype(np.int64)
    truth = np.empty((_PROBE_ROWS, s.heap_size - 1), dtype=np.int32)
    share_out(pool, range(_PROBE_ROWS), lambda t, _: _k.probe_truth(
        t, t + 1, data32, data16, is_float, s.search_metric, s.p, queries, truth))
    return queries, truth


def probe_recall(probe, heaps):
    """Estimated recall of the heaps: the share of the exact nearest rows of the probe
    rows (:func:`probe_truth`) that their heaps hold."""
    queries, truth = probe
    return _k.probe_hits(queries, truth, heaps[0], heaps[1]) / truth.size


def widen_until_recalled(search, probe, heaps, forest, rows, rounds, hard=False):
    """Descend again from the forest's graph, with wider heaps and candidate lists, while
    the probe's recall is below target; return the heaps to report from.

    Step ``w`` starts from the forest's graph (the trees' neighbours) with ``w *
    _WIDEN_BY`` more slots per heap and candidate lists of ``_WIDE_CANDIDATES``. A second
    descent from the forest reached a higher recall than continuing from the settled
    graph (200,000-point Gaussian mixture, 5 more slots: 0.940 against 0.898). On data
    where the first descent already recalls enough (Fashion-MNIST: 0.99) this costs one
    probe. With ``hard`` the heaps are the forest's own and the first step is taken at once.
    """
    for step in range(1, MAX_WIDENINGS + 2):
        if hard and step == 1:
            recall = -1.0
        else:
            recall = probe_recall(probe, heaps)
            logger.info("kNN: estimated recall@%d %.3f (%d probe rows, heaps of %d)",
                        search.s.heap_size, recall, probe[0].size, heaps[0].shape[1])
        if recall >= _TARGET_RECALL or step > MAX_WIDENINGS:
            return heaps
        n, K = forest[0].shape
        width = K + step * _WIDEN_BY
        heaps = (np.empty((n, width), dtype=np.int32), np.empty((n, width), dtype=np.float64),
                 np.empty((n, width), dtype=np.uint8))
        _k.widen_heaps(forest[0], forest[1], *heaps)
        if rows.shape[1] < 2 * _WIDE_CANDIDATES:  # the join's scratch holds two lists
            rows = np.empty((rows.shape[0], 2 * _WIDE_CANDIDATES, rows.shape[2]),
                            dtype=np.float32)
        rounds = descend(search, _WIDE_CANDIDATES, heaps, rows, rounds)
    return heaps
