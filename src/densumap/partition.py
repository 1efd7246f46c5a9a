"""Nested partition of the vertices for DensMAP's parallel Gauss-Seidel sweep.

DensMAP's optimiser moves both ends of every sampled edge and reads positions where
the sweep has left them (``_kernels.sgd``), so two rows that share a vertex cannot run
at the same time.  The vertices are split by recursive bisection into ``2**L`` parts
(level 0: the finest parts; level ``L``: the whole graph).  A row belongs to the
lowest level at which one part holds its vertex and all its neighbours, and is swept
there, with all its edges, by the thread that owns that part.  The parts of one level
touch disjoint vertices and run in parallel; the levels run one after another.

An epoch therefore has ``L + 1`` synchronisation points whatever the graph's degrees.
The distance-2 colouring used before needed about the maximum degree (269 phases per
epoch at 70,000 Fashion-MNIST images), and every phase waited for its slowest
thread: with one other CPU-bound program on a 2-core machine that was often a thread
that had lost its core, and the DensMAP fit slowed from 43 s to 317 s.

Rows keep all their edges together (a row's attractions in one burst): splitting the
rows of boundary vertices by edge level cost 0.01-0.02 of density correlation at
70,000 points, as the colouring study had found for bursts (BENCHMARKS.md).

The bisection cuts the initial layout across one axis; see :func:`bisect`.  The
partition depends on the coordinates, the graph and ``L`` (a function of ``n``),
never on the thread count.
"""
from typing import NamedTuple

import numpy as np

from ._kernels.graph import neighbour_extent, row_levels
from ._kernels.rng import hash_keys

# Finest parts hold at least this many vertices; fewer, larger parts for small graphs.
_MIN_PART = 4096
_MAX_LEVELS = 6
# Where a part may be cut, as quantiles of its coordinates along each axis.
_CUTS = np.linspace(0.3, 0.7, 9)


class SweepPlan(NamedTuple):
    """The vertices renumbered part by part, and where each part and level starts.

    After renumbering by ``perm``, finest part ``q`` holds vertices
    ``bounds[q]:bounds[q + 1]``; the part of level ``l`` numbered ``q`` holds finest
    parts ``q * 2**l`` to ``(q + 1) * 2**l - 1``.
    """

    perm: np.ndarray  # (n,) int64: new vertex k is old vertex perm[k]
    bounds: np.ndarray  # (2**L + 1,) int64
    part: np.ndarray  # (n,) int64: finest part of each (renumbered) vertex


def n_levels_for(n):
    """Number of bisection levels ``L`` for ``n`` vertices (0 for small graphs)."""
    if n < 2 * _MIN_PART:
        return 0
    return int(min(_MAX_LEVELS, np.floor(np.log2(n / _MIN_PART))))


def bisect(coords, graph, n_levels, seed):
    """Recursive coordinate bisection into ``2**n_levels`` parts.

    Each part is cut across one axis at the position, among its quantiles 0.3, 0.35,
    ..., 0.7 on every axis, that separates the fewest of its vertices from one of
    their neighbours: those rows wait for a later level.  On the spectral layout of
    70,000 Fashion-MNIST images the first cut then leaves 2% of the rows to the last,
    serial level, where the median of the widest axis left 10%.

    Parameters
    ----------
    coords : ndarray of shape (n, dim)
        Positions used to split (the initial layout).
    graph : csr_matrix of shape (n, n)
        The layout graph: its pattern, which is symmetric for a fuzzy graph (for one
        that is not, a cut counts the edges of the crossing vertex's own row).
    n_levels : int
    seed : int
        Orders the vertices inside each finest part (a seeded pseudo-random order,
        so that the sweep does not follow the input's row order).

    Returns
    -------
    SweepPlan
    """
    n, dim = coords.shape
    coords = np.ascontiguousarray(coords, dtype=np.float64)
    indptr = np.ascontiguousarray(graph.indptr, dtype=np.int64)
    group = np.zeros(n, dtype=np.int64)
    for _ in range(n_levels):
        lo_all, hi_all = neighbour_extent(indptr, graph.indices, graph.data, coords, group)
        side = np.zeros(n, dtype=np.int64)
        order = np.argsort(group, kind="stable")
        starts = np.searchsorted(group[order], np.arange(group.max() + 2))
        for g in range(len(starts) - 1):
            members = order[starts[g]:starts[g + 1]]
            if len(members) < 2:
                continue
            best = None
            for ax in range(dim):
                x = coords[members, ax]
                lo, hi = lo_all[members, ax], hi_all[members, ax]
                for t in np.quantile(x, _CUTS):
                    crossing = int(np.count_nonzero((lo <= t) & (t < hi)))
                    upper = x > t
                    if 0 < np.count_nonzero(upper) < len(members) and (
                            best is None or crossing < best[0]):
                        best = (crossing, upper)
            if best is None:  # all coordinates equal: split by position in the list
                upper = np.arange(len(members)) >= len(members) // 2
            else:
                upper = best[1]
            side[members] = upper
        group = 2 * group + side
    keys = hash_keys(n, np.uint64(seed))
    perm = np.lexsort((keys, group)).astype(np.int64)
    sizes = np.bincount(group, minlength=2 ** n_levels).astype(np.int64)
    bounds = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    return SweepPlan(perm, bounds, group[perm])


def level_rows(graph, plan):
    """The level of every row of ``graph`` (renumbered by ``plan``).

    Row ``i`` is swept, all its edges together, by the task that owns the part of
    level ``level[i]`` holding ``i``: the smallest part that holds ``i`` and all its
    neighbours.

    Returns
    -------
    level : ndarray of shape (n,), int64
    """
    return row_levels(np.ascontiguousarray(graph.indptr, dtype=np.int64), graph.indices,
                      plan.part)


def part_rows(sweep, level):
    """The number of rows swept at ``level`` in each part of that level: its work.

    Returns
    -------
    counts : ndarray of shape (2 ** (n_levels - level),), int64
    """
    step = 1 << level
    starts = sweep.bounds[::step]
    counts = np.add.reduceat((sweep.level == level).astype(np.int64), starts[:-1]) \
        if len(sweep.level) else np.zeros(len(starts) - 1, dtype=np.int64)
    counts[np.diff(starts) == 0] = 0  # reduceat reads one element for empty parts
    return counts


# Embeddings with at least this many points are optimised in a locality-preserving
# vertex order (plain UMAP; DensMAP's sweep has its own, part by part).
LOCALITY_MIN = 2 ** 17


def _spread_bits(v):
    """Insert a zero bit after each of the 16 low bits of ``v`` (uint64 array)."""
    v = v & np.uint64(0xFFFF)
    v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
    v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
    v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
    return (v | (v << np.uint64(1))) & np.uint64(0x55555555)


def locality_order(coords):
    """Vertices in Z-order (Morton order) of their first two coordinates.

    Points close in the layout get close numbers, so the positions an SGD row reads
    (its graph neighbours, which the initial layout already places nearby) share cache
    lines and pages instead of being spread over the whole array: at 1,000,000 points
    those reads were the bulk of an epoch's cost (BENCHMARKS.md). Each coordinate is
    scaled to 16 bits over its range; ties keep the input order.

    Returns
    -------
    perm : ndarray of shape (n,), int64
        New vertex ``k`` is old vertex ``perm[k]``.
    """
    coords = np.asarray(coords, dtype=np.float64)
    code = np.zeros(coords.shape[0], dtype=np.uint64)
    for ax in range(min(2, coords.shape[1])):
        x = coords[:, ax]
        lo, hi = float(x.min()), float(x.max())
        scale = 65535.0 / (hi - lo) if hi > lo else 0.0
        q = np.clip(np.rint((x - lo) * scale), 0, 65535).astype(np.uint64)
        code |= _spread_bits(q) << np.uint64(ax)
    return np.argsort(code, kind="stable").astype(np.int64)
