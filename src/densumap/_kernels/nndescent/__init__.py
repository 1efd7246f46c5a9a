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

The kernels are serial and work on a range (of rows, tree nodes, hubs, target blocks):
the driver shares the ranges out to a pool of Python threads (:mod:`densumap._threads`),
so that a thread that loses its core to another program delays one range, not a fixed
share of every parallel loop.

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

The kernels are split by stage: :mod:`.common` (constants, hashing), :mod:`.distances`,
:mod:`.rows` (the search array), :mod:`.heaps`, :mod:`.join` (the local join),
:mod:`.trees` (random-projection forest), :mod:`.descent` (NN-descent rounds and the
final exact distances) and :mod:`.probe` (the recall probe). This package re-exports
what the drivers (:mod:`densumap.nndescent`, :mod:`densumap._nn_rounds`) call.
"""
from .common import (CHEBYSHEV, CORRELATION, COSINE, EMPTY, MANHATTAN, MINKOWSKI,
                     QUANT_LEVELS, SQEUCLIDEAN, hash4)
from .descent import (apply_offers, bucket_part, build_candidates, finalize, join_hubs,
                      plan_chunks, reverse_edges, settle_flags)
from .distances import exact_distance
from .probe import probe_hits, probe_truth, widen_heaps
from .rows import (ROW_BLOCK, column_stats, permute_rows, quantize_rows, row_moments,
                   scale_rows)
from .trees import fill_random, finish_nodes, split_top

__all__ = ["CHEBYSHEV", "CORRELATION", "COSINE", "EMPTY", "MANHATTAN", "MINKOWSKI", "QUANT_LEVELS",
           "ROW_BLOCK", "SQEUCLIDEAN", "apply_offers", "bucket_part", "build_candidates",
           "column_stats", "exact_distance", "fill_random", "finalize", "finish_nodes", "hash4",
           "join_hubs", "permute_rows", "plan_chunks", "probe_hits", "probe_truth",
           "quantize_rows", "reverse_edges", "row_moments", "scale_rows", "settle_flags",
           "split_top", "widen_heaps"]
