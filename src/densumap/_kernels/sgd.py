"""The UMAP stochastic-gradient epoch, parallel and deterministic.

Design
------
Two sweeps share one row kernel (``_sgd_row``); in both, the result of an epoch
depends on the inputs only, never on the number of threads or on how the rows are
split between them.  Negative samples come from a counter-based stream keyed by
``(seed, epoch, row_keys[i])`` and are read from positions fixed for the epoch.

* ``sgd_blocks`` (plain UMAP ``fit`` up to ``layout.SWEEP_MIN`` points, and
  ``transform``) is a Jacobi sweep: all rows may run in parallel, row ``i`` is the only
  writer of ``head[i]``, and every other position it reads comes from ``tail``, which
  the caller keeps fixed during the epoch (a snapshot of the embedding during ``fit``;
  the training embedding during ``transform``).  The fuzzy graph is symmetric, so
  each undirected edge is sampled from the rows of both endpoints; umap-learn moves
  both endpoints of every sampled edge, so here each endpoint moves only from its own
  row with ``attract_scale=2``, keeping the same balance between attraction and
  repulsion.
* ``sweep_part`` (DensMAP ``fit``, and plain UMAP's above ``layout.SWEEP_MIN`` points,
  driven part by part by ``layout``) is a Gauss-Seidel sweep that does what umap-learn's
  sequential loop does: a sampled edge ``i -> j`` moves both ``i`` and ``j``, reading
  both where the sweep has left them.  The vertices are split by nested bisection
  (``densumap.partition``); each edge is swept at the level where its two ends first
  share a part, by the one thread that owns that part, and a part runs once the two
  parts below it are done.  With the Jacobi sweep DensMAP lost density correlation and
  kNN accuracy to umap-learn (70,000 Fashion-MNIST images: 0.654 vs 0.722 and 0.732 vs
  0.751); both ingredients, fresh reads and moving both endpoints, were needed to close
  the gap (BENCHMARKS.md).  Plain UMAP above ``layout.SWEEP_MIN`` points sweeps too:
  with Jacobi epochs its trustworthiness fell behind umap-learn's as the graph grew
  (0.957 vs 0.965 at 200,000 points, 0.948 vs 0.962 at 1,000,000; BENCHMARKS.md).  One
  thread or many, the same compiled ``sweep_part`` runs the parts: the row kernel's
  batch sums are vectorised, and a second compiled copy could order them differently.

The negative samples that follow one attraction are all evaluated at the vertex's
position after that attraction and their clipped steps summed, rather than applied
one after the other: they no longer wait on each other, which made the epochs ~15%
cheaper (BENCHMARKS.md) with the same quality.  In 2-D they are gathered in batches of
``_NB`` and computed in vector lanes, with :func:`densumap._kernels.fastpow.fast_pow`
instead of libm's ``powf`` (an epoch about 1.8x cheaper on one thread).

Which edges are due in an epoch is a function of the epoch and of each edge's rate
(:mod:`densumap._kernels.clocks`): the epochs write no per-edge state, and at a
million points they read 4 bytes per edge instead of umap-learn's 32 (one epoch
1.19-1.23x less CPU on one thread, 1.03-1.15x less wall time on two; BENCHMARKS.md,
fourteenth session).

DensMAP's correlation gradient rides on the sampled edges, as in umap-learn: an
edge sampled with probability proportional to its membership ``mu_e`` carries
``lambda * mu_tot / (mu_e * n * s) * (w_i dr_i/dd + w_j dr_j/dd)``, so that in
expectation every epoch applies ``2 * lambda * (mu_tot / mu_max) * dC/dd`` per
edge, the same strength per ``dens_lambda`` as umap-learn.  It is computed in
single precision, like the rest of the step.
"""
from typing import NamedTuple

import numpy as np

from ._config import FAST, kernel
from .clocks import ONE, negatives_due, sample_due
from .density import edge_density_coeff
from .fastpow import fast_pow
from .rng import mix64, next_index, stream_start

_CLIP = 4.0
# Added to the squared distance in the repulsive gradient; avoids division by
# zero when a negative sample coincides with the vertex.
_REPULSION_EPS = 0.001
# Rows per parallel task (each task allocates one scratch); no effect on the result.
_ROW_BLOCK = 256
# Negative samples per batch in 2-D (one vector of 8 float32 lanes with AVX2).
_NB = 8
# Rows of the float32 scratch array a row kernel takes (``_sgd_row``).
SCRATCH_ROWS = 5


class EdgeSchedule(NamedTuple):
    """CSR rows of the layout graph and each edge's samples per epoch
    (:mod:`densumap._kernels.clocks`); read only during the epochs."""

    indptr: np.ndarray  # (n_head + 1,) int64
    indices: np.ndarray  # (n_edges,) int32, column (tail) of each edge
    rates: np.ndarray  # (n_edges,) uint32, samples per epoch (w / w_max), fixed point
    negative_rate: int  # negative samples per sample, fixed point (clocks.negative_rate)


class DensityTerms(NamedTuple):
    """Per-vertex DensMAP quantities frozen for one epoch (see ``_kernels.density``).

    ``scale == 0`` switches the density term off.
    """

    terms: np.ndarray  # (n_tail, 3) float32, from _kernels.density.vertex_terms
    scale: float  # lambda * mu_tot / (mu_max * n_active * s)


# The density term switched off (read only: the kernels never write ``terms``).
NO_DENSITY = DensityTerms(np.zeros((1, 3), dtype=np.float32), 0.0)


class SGDParams(NamedTuple):
    """Scalars of one epoch."""

    a: float
    b: float
    gamma: float  # repulsion strength
    alpha: float  # learning rate of this epoch
    attract_scale: float
    epoch: int
    seed: np.uint64
    n_negative_pool: int  # negative samples are drawn from neg_tail[0:n_negative_pool]
    skip_self: bool  # True when head and tail are the same points (fit)
    neg_blocks: int = 1  # > 1: each row chunk draws from one block (_negative_block)


@kernel()
def _clip(v):
    if v > _CLIP:
        return _CLIP
    if v < -_CLIP:
        return -_CLIP
    return v


@kernel(fastmath=FAST, inline="always")
def _repel_2d(state, scratch, y0, y1, n_neg, neg_tail, neg_lo, pool, self_k, a, b, gamma2b):
    """``n_neg`` negative samples of a 2-D row at ``(y0, y1)``: the sum of their clipped
    steps, gathered ``_NB`` at a time (independent reads that overlap in memory) and
    computed in lanes (padding lanes weigh 0). Returns ``(state, ax, ay)``."""
    one = np.float32(1.0)
    zero = np.float32(0.0)
    eps32 = np.float32(_REPULSION_EPS)
    clip = np.float32(_CLIP)
    ax = zero
    ay = zero
    done = 0
    while done < n_neg:
        m_hi = min(n_neg - done, _NB)
        for m in range(m_hi):
            state, k = next_index(state, pool)
            k += neg_lo
            scratch[2, m] = neg_tail[k, 0]
            scratch[3, m] = neg_tail[k, 1]
            scratch[4, m] = zero if k == self_k else one
        for m in range(m_hi, _NB):
            scratch[2, m] = y0
            scratch[3, m] = y1
            scratch[4, m] = zero
        for m in range(_NB):
            dx = y0 - scratch[2, m]
            dy = y1 - scratch[3, m]
            d2 = dx * dx + dy * dy
            coeff = gamma2b / ((eps32 + d2) * (a * fast_pow(d2, b) + one))
            gx = min(max(coeff * dx, -clip), clip)
            gy = min(max(coeff * dy, -clip), clip)
            if not d2 > zero:
                # Coincident points: push apart by the largest allowed step.
                gx = clip
                gy = clip
            ax += scratch[4, m] * gx
            ay += scratch[4, m] * gy
        done += m_hi
    return state, ax, ay


@kernel(fastmath=FAST, inline="always")
def _sgd_row(i, state, scratch, head, tail, neg_tail, lo, hi, indices, rates, neg_rate,
             a, b, gamma, alpha, attract_scale, move_other, n, neg_lo, pool, self_k, terms,
             dscale):
    """One epoch for edges ``lo:hi`` of head row ``i``: each due edge's attraction
    (plus the density term when ``dscale > 0``), then its negative samples, all
    evaluated at the position after that attraction and their (clipped) steps summed
    (in 2-D, :func:`_repel_2d`). Which edges are due, and how many negative samples
    each draws, is :mod:`densumap._kernels.clocks`'s schedule.

    Evaluating every attraction of the row at its first position and summing them, or
    all its negative samples after all its attractions (which fills the vector lanes
    better: one epoch at a million points 1.1x cheaper), lost 0.1 and 0.03-0.05 of
    10-NN accuracy on a 3,000-point graph with hubs (``tests/compat/test_sparse.py``):
    summed clipped steps overshoot.

    Attractions read ``tail``; with ``move_other`` (``tail`` is then ``head``) each also
    moves the neighbour by the opposite step. Negative samples are read from
    ``neg_tail[neg_lo:neg_lo + pool]``, skipping row ``self_k`` (the vertex itself
    in ``neg_tail``; -1 for none). ``state`` is the row's random stream; ``scratch``
    a (``SCRATCH_ROWS``, max(dim, _NB)) float32 array; ``n`` the epoch.
    """
    dim = head.shape[1]
    # Single precision throughout the hot loop: positions are float32 anyway. Powers
    # are :func:`fast_pow`, not libm's powf (BENCHMARKS.md).
    a = np.float32(a)
    b = np.float32(b)
    m2ab = np.float32(-2.0) * a * b
    gamma2b = np.float32(2.0 * gamma) * b
    eps32 = np.float32(_REPULSION_EPS)
    one = np.float32(1.0)
    zero = np.float32(0.0)
    dscale32 = np.float32(dscale)
    alpha32 = np.float32(alpha)
    step = np.float32(attract_scale) * alpha32
    clip = np.float32(_CLIP)
    r_one = np.float32(ONE)  # a fixed-point rate's 1
    if dim == 2:
        # The row's own position is kept in locals and written back once: stores to
        # ``tail`` (the neighbours, under ``move_other``) then cannot force it to be
        # reloaded from memory, and neither can any aliasing of ``head`` and ``tail``.
        y0 = head[i, 0]
        y1 = head[i, 1]
        for e in range(lo, hi):
            k_due = sample_due(n, rates[e])
            if k_due == 0:
                continue
            j = indices[e]
            dx = y0 - tail[j, 0]
            dy = y1 - tail[j, 1]
            d2 = dx * dx + dy * dy
            if d2 > zero:
                db = fast_pow(d2, b)
                coeff = m2ab * db / d2 / (a * db + one)
                gx = min(max(coeff * dx, -clip), clip)
                gy = min(max(coeff * dy, -clip), clip)
                if dscale > 0.0:
                    dcoeff = dscale32 * r_one / np.float32(rates[e]) * edge_density_coeff(
                        d2, db, a, b, one, terms, i, j)
                    gx += min(max(dcoeff * dx, -clip), clip)
                    gy += min(max(dcoeff * dy, -clip), clip)
                y0 += gx * step
                y1 += gy * step
                if move_other:
                    tail[j, 0] -= gx * alpha32
                    tail[j, 1] -= gy * alpha32
            state, ax, ay = _repel_2d(state, scratch, y0, y1, negatives_due(k_due, neg_rate),
                                      neg_tail, neg_lo, pool, self_k, a, b, gamma2b)
            y0 += ax * alpha32
            y1 += ay * alpha32
        head[i, 0] = y0
        head[i, 1] = y1
        return
    # Any other dimension: the same steps, one sample at a time.
    for c in range(dim):
        scratch[0, c] = head[i, c]
    for e in range(lo, hi):
        k_due = sample_due(n, rates[e])
        if k_due == 0:
            continue
        j = indices[e]
        d2 = zero
        for c in range(dim):
            diff = scratch[0, c] - tail[j, c]
            d2 += diff * diff
        if d2 > zero:
            db = fast_pow(d2, b)
            coeff = m2ab * db / d2 / (a * db + one)
            dcoeff = zero
            if dscale > 0.0:
                dcoeff = dscale32 * r_one / np.float32(rates[e]) * edge_density_coeff(
                    d2, db, a, b, one, terms, i, j)
            for c in range(dim):
                diff = scratch[0, c] - tail[j, c]
                g = _clip(coeff * diff)
                if dcoeff != zero:
                    g += _clip(dcoeff * diff)
                scratch[0, c] += g * step
                if move_other:
                    tail[j, c] -= g * alpha32
        for c in range(dim):
            scratch[1, c] = zero
        for _ in range(negatives_due(k_due, neg_rate)):
            state, k = next_index(state, pool)
            k += neg_lo
            if k == self_k:
                continue
            d2 = zero
            for c in range(dim):
                diff = scratch[0, c] - neg_tail[k, c]
                d2 += diff * diff
            if d2 > zero:
                coeff = gamma2b / ((eps32 + d2) * (a * fast_pow(d2, b) + one))
                for c in range(dim):
                    scratch[1, c] += _clip(coeff * (scratch[0, c] - neg_tail[k, c]))
            else:
                for c in range(dim):
                    scratch[1, c] += _CLIP
        for c in range(dim):
            scratch[0, c] += scratch[1, c] * alpha32
    for c in range(dim):
        head[i, c] = scratch[0, c]


# Rows per chunk of the blocked negative sampling: the rows of a chunk draw their
# negative samples from one block, which then stays in the cache. No effect on the
# result's dependence on the thread count.
NEG_CHUNK = 4096
_BLOCK_MUL = np.uint64(0xA24BAED4963EE407)


@kernel(inline="always")
def _negative_block(i, epoch, seed, pool, n_blocks, neg_inv, skip_self):
    """Where row ``i`` draws its negative samples in ``epoch``: ``(lo, size, self_k)``.

    With one block, anywhere in ``neg_tail[0:pool]``.  With ``n_blocks > 1``,
    ``neg_tail`` holds the points in a fixed pseudo-random order (``neg_inv[i]`` is
    where vertex ``i`` went) cut into ``n_blocks`` equal blocks, and every chunk of
    ``NEG_CHUNK`` rows draws from one block, chosen afresh each epoch by a hash of
    ``(seed, epoch, chunk)``: each sample is still uniform over all points, but a
    thread's reads stay within a cache-sized block instead of a random spot of a
    large array (1,000,000 points: an epoch 2.8 -> 0.8 s; BENCHMARKS.md).
    """
    if n_blocks <= 1:
        return 0, pool, i if skip_self else -1
    key = mix64(seed ^ mix64(np.uint64(epoch) * _BLOCK_MUL + np.uint64(i // NEG_CHUNK)))
    blk = np.int64(key % np.uint64(n_blocks))
    lo = blk * pool // n_blocks
    hi = (blk + 1) * pool // n_blocks
    return lo, hi - lo, neg_inv[i] if skip_self else -1


@kernel(inline="always")
def _unpack(sched, p, dens):
    """The fields of the three bundles as one flat tuple: parallel loops cannot index
    through NamedTuple fields, so the parallel kernels unpack them first."""
    return (sched.indptr, sched.indices, sched.rates, sched.negative_rate, p.a, p.b,
            p.gamma, p.alpha, p.attract_scale, p.epoch, p.seed, p.n_negative_pool,
            p.skip_self, dens.terms, dens.scale, p.neg_blocks)


@kernel(fastmath=FAST, error_model="numpy")
def sgd_blocks(blk0, blk1, head, tail, sched, p, dens, row_keys, neg_tail, neg_inv):
    """Row blocks ``blk0:blk1`` (of ``ROW_BLOCK`` rows) of one Jacobi epoch: attraction
    along due edges plus negative sampling, on the calling thread.

    Blocks only read ``tail`` and ``neg_tail`` and write their own rows of ``head``,
    so any split of the blocks among threads gives the same result. ``fit`` (plain
    UMAP) and ``transform`` run their epochs through this kernel from a pool of Python
    threads (``densumap.layout.jacobi_epoch``); one compiled kernel serves every thread
    count. Compiled with numba's numpy error model, as a parallel loop's body is: the
    same embeddings as the parallel kernel it replaced (seeded digits SHA-1 compared),
    where Python's error model ran 1.7x slower and changed the last bits.

    Parameters
    ----------
    blk0, blk1 : int
        The row blocks to run.
    head : ndarray of shape (n_head, dim), float32
        Positions being optimised; updated in place.
    tail : ndarray of shape (n_tail, dim), float32
        Fixed positions of edge endpoints and negative samples.
    sched : EdgeSchedule
    p : SGDParams
    dens : DensityTerms
        When ``dens.scale > 0``, every sampled edge also carries the DensMAP
        correlation gradient of that edge, importance-weighted by
        ``1 / rate`` (edges are sampled in proportion to their weight) so
        that its expectation over an epoch is the full gradient, and clipped like
        the attraction.
    row_keys : ndarray of shape (n_head,), uint64
        Key of each row's random stream: the vertex index during ``fit``, a hash of
        the point itself when placing new points, so that a new point's stream,
        and hence its position, does not depend on the rest of its batch.
    neg_tail : ndarray of shape (n_tail, dim), float32
        Positions of the negative samples: ``tail`` itself, or with
        ``p.neg_blocks > 1`` ``tail`` in a fixed pseudo-random order.
    neg_inv : ndarray of shape (n_head,), int64
        With ``p.neg_blocks > 1``, the row of ``neg_tail`` that holds each head
        point (read only when ``p.skip_self``); otherwise unused.
    """
    n_head = head.shape[0]
    (indptr, indices, rates, neg_rate, a, b, gamma, alpha, attract_scale, epoch, seed,
     pool, skip_self, terms, dscale, neg_blocks) = _unpack(sched, p, dens)
    n = epoch
    dim = head.shape[1]
    scratch = np.empty((SCRATCH_ROWS, max(dim, _NB)), dtype=np.float32)
    for i in range(blk0 * _ROW_BLOCK, min(n_head, blk1 * _ROW_BLOCK)):
        state = stream_start(seed, epoch, row_keys[i])
        neg_lo, neg_n, self_k = _negative_block(i, epoch, seed, pool, neg_blocks, neg_inv,
                                                skip_self)
        _sgd_row(i, state, scratch, head, tail, neg_tail, indptr[i], indptr[i + 1],
                 indices, rates, neg_rate, a, b, gamma, alpha, attract_scale, False, n,
                 neg_lo, neg_n, self_k, terms, dscale)


ROW_BLOCK = _ROW_BLOCK


class LevelSweep(NamedTuple):
    """Rows by level and part (``densumap.partition``), for :func:`sweep_part`.

    Finest part ``q`` holds rows ``bounds[q]:bounds[q + 1]``; part ``q`` of level ``l``
    holds finest parts ``q * 2**l`` to ``(q + 1) * 2**l - 1``.  A row of level ``l``
    and its neighbours lie in one part of level ``l``.
    """

    level: np.ndarray  # (n,) int64
    bounds: np.ndarray  # (2**L + 1,) int64
    n_levels: int  # L


@kernel(fastmath=FAST, inline="always")
def _sweep_rows(r0, r1, level, row_level, scratch, pos, snapshot, indptr, indices,
                rates, neg_rate, a, b, gamma, alpha, attract_scale, epoch, seed, pool,
                skip_self, terms, dscale, row_keys, neg_blocks, neg_inv):
    """The rows of level ``level`` among rows ``r0:r1``, one after another."""
    n = epoch
    for i in range(r0, r1):
        if row_level[i] != level:
            continue
        state = stream_start(seed, epoch, row_keys[i])
        neg_lo, neg_n, self_k = _negative_block(i, epoch, seed, pool, neg_blocks, neg_inv,
                                                skip_self)
        _sgd_row(i, state, scratch, pos, pos, snapshot, indptr[i], indptr[i + 1], indices,
                 rates, neg_rate, a, b, gamma, alpha, attract_scale, True, n, neg_lo, neg_n,
                 self_k, terms, dscale)


# error_model="numpy": no zero test before each division (every divisor here is
# positive), as in the parallel kernels, whose loop bodies numba compiles that way. With
# Python's error model the tests kept the batch of negatives from being vectorised and
# the sweep ran at half the speed of the parallel epoch on one thread (BENCHMARKS.md).
@kernel(fastmath=FAST, error_model="numpy")
def sweep_part(pos, snapshot, sched, p, dens, row_keys, sweep, level, q, neg_inv):
    """The rows of level ``level`` in part ``q`` of that level, one after another.

    Parts of one level move disjoint sets of vertices, so they may run at the same
    time on different threads (the kernel releases the GIL).
    """
    (indptr, indices, rates, neg_rate, a, b, gamma, alpha, attract_scale, epoch, seed,
     pool, skip_self, terms, dscale, neg_blocks) = _unpack(sched, p, dens)
    bounds = sweep.bounds
    step = 1 << level
    scratch = np.empty((SCRATCH_ROWS, max(pos.shape[1], _NB)), dtype=np.float32)
    _sweep_rows(bounds[q * step], bounds[(q + 1) * step], level, sweep.level, scratch, pos,
                snapshot, indptr, indices, rates, neg_rate, a, b, gamma, alpha,
                attract_scale, epoch, seed, pool, skip_self, terms, dscale, row_keys,
                neg_blocks, neg_inv)
