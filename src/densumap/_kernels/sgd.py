"""The UMAP stochastic-gradient epoch, parallel and deterministic.

Design
------
Vertices are processed in parallel; vertex ``i`` is the only writer of ``head[i]``
and of the sampling state of the edges in its CSR row.  Every other position it
reads comes from ``tail``, which the caller keeps fixed during the epoch (a
snapshot of the embedding taken at the start of the epoch during ``fit``; the
training embedding during ``transform``).  Negative samples come from a
counter-based stream keyed by ``(seed, epoch, row_keys[i])``.  Hence the result
of an epoch depends on the inputs only, never on the number of threads or on how
the vertices are split between them.

The fuzzy graph is symmetric, so each undirected edge appears in the rows of both
of its endpoints.  umap-learn moves both endpoints of every sampled edge, so each
endpoint receives two attractive updates per sample of an undirected edge; here
each endpoint is moved only from its own row, with ``attract_scale=2`` during
``fit`` to keep the same balance between attraction and repulsion.

The negative samples that follow one attraction are all evaluated at the vertex's
position after that attraction and their clipped steps summed, rather than applied
one after the other: they no longer wait on each other, which made the epochs ~15%
cheaper (BENCHMARKS.md) with the same quality.

DensMAP's correlation gradient rides on the sampled edges, as in umap-learn: an
edge sampled with probability proportional to its membership ``mu_e`` carries
``lambda * mu_tot / (mu_e * n * s) * (w_i dr_i/dd + w_j dr_j/dd)``, so that in
expectation every epoch applies ``2 * lambda * (mu_tot / mu_max) * dC/dd`` per
edge, the same strength per ``dens_lambda`` as umap-learn.
"""
from typing import NamedTuple

import numpy as np
from numba import prange

from ._config import kernel
from .density import edge_density_coeff
from .rng import next_index, stream_start

_CLIP = 4.0
# Added to the squared distance in the repulsive gradient; avoids division by
# zero when a negative sample coincides with the vertex.
_REPULSION_EPS = 0.001
# Rows per parallel task (each task allocates one scratch); no effect on the result.
_ROW_BLOCK = 256


class EdgeSchedule(NamedTuple):
    """CSR rows of the layout graph and the per-edge sampling clocks.

    ``next_sample`` and ``next_negative`` are updated in place by the epochs.
    """

    indptr: np.ndarray  # (n_head + 1,) int64
    indices: np.ndarray  # (n_edges,) int32, column (tail) of each edge
    epochs_per_sample: np.ndarray  # (n_edges,) float64
    next_sample: np.ndarray  # (n_edges,) float64
    epochs_per_negative: np.ndarray  # (n_edges,) float64
    next_negative: np.ndarray  # (n_edges,) float64


class DensityTerms(NamedTuple):
    """Per-vertex DensMAP quantities frozen for one epoch (see ``_kernels.density``).

    ``scale == 0`` switches the density term off.
    """

    terms: np.ndarray  # (n_tail, 3), from _kernels.density.vertex_terms
    scale: float  # lambda * mu_tot / (mu_max * n_active * s)


# The density term switched off (read only: the kernels never write ``terms``).
NO_DENSITY = DensityTerms(np.zeros((1, 3)), 0.0)


class SGDParams(NamedTuple):
    """Scalars of one epoch."""

    a: float
    b: float
    gamma: float  # repulsion strength
    alpha: float  # learning rate of this epoch
    attract_scale: float
    epoch: int
    seed: np.uint64
    n_negative_pool: int  # negative samples are drawn from tail[0:n_negative_pool]
    skip_self: bool  # True when head and tail are the same points (fit)


@kernel()
def _clip(v):
    if v > _CLIP:
        return _CLIP
    if v < -_CLIP:
        return -_CLIP
    return v


@kernel(fastmath=True, inline="always")
def _sgd_row(i, state, acc, head, tail, indptr, indices, epochs_per_sample, next_sample,
             epochs_per_negative, next_negative, a, b, gamma, alpha, attract_scale, n,
             pool, skip_self, terms, dscale):
    """One epoch for head row ``i``: due attractions (plus the density term when
    ``dscale > 0``), then their negative samples.

    ``state`` is the row's random stream; ``acc`` a scratch of ``dim`` floats; ``n`` the
    epoch as a float.
    """
    dim = head.shape[1]
    # Single precision throughout the hot loop: positions are float32 anyway, and
    # powf is markedly cheaper than pow.
    a = np.float32(a)
    b = np.float32(b)
    gamma2b = np.float32(2.0 * gamma) * b
    eps32 = np.float32(_REPULSION_EPS)
    one = np.float32(1.0)
    zero = np.float32(0.0)
    for e in range(indptr[i], indptr[i + 1]):
        if next_sample[e] > n:
            continue
        j = indices[e]
        d2 = zero
        for c in range(dim):
            diff = head[i, c] - tail[j, c]
            d2 += diff * diff
        if d2 > zero:
            db = d2**b
            coeff = np.float32(-2.0) * a * b * db / d2 / (a * db + one)
            dcoeff = 0.0
            if dscale > 0.0:
                dcoeff = dscale * epochs_per_sample[e] * edge_density_coeff(
                    d2, db, a, b, terms, i, j)
            for c in range(dim):
                diff = head[i, c] - tail[j, c]
                g = _clip(coeff * diff)
                if dcoeff != 0.0:
                    g += _clip(dcoeff * diff)
                head[i, c] += attract_scale * g * alpha
        next_sample[e] += epochs_per_sample[e]

        n_neg = int((n - next_negative[e]) / epochs_per_negative[e])
        # The negative samples of this edge are all evaluated at the same position of
        # the vertex and their (clipped) steps summed, so that they do not wait on each
        # other: the power in each is the longest latency of the loop.
        for c in range(dim):
            acc[c] = zero
        for _ in range(n_neg):
            state, k = next_index(state, pool)
            if skip_self and k == i:
                continue
            d2 = zero
            for c in range(dim):
                diff = head[i, c] - tail[k, c]
                d2 += diff * diff
            if d2 > zero:
                coeff = gamma2b / ((eps32 + d2) * (a * d2**b + one))
                for c in range(dim):
                    acc[c] += _clip(coeff * (head[i, c] - tail[k, c]))
            else:
                # Coincident points: push apart by the largest allowed step.
                for c in range(dim):
                    acc[c] += _CLIP
        for c in range(dim):
            head[i, c] += acc[c] * alpha
        next_negative[e] += n_neg * epochs_per_negative[e]


@kernel(parallel=True, fastmath=True)
def sgd_epoch(head, tail, sched, p, dens, row_keys):
    """Run one epoch of attraction along due edges plus negative sampling.

    Parameters
    ----------
    head : ndarray of shape (n_head, dim), float32
        Positions being optimised; updated in place.
    tail : ndarray of shape (n_tail, dim), float32
        Fixed positions of edge endpoints and negative samples.
    sched : EdgeSchedule
    p : SGDParams
    dens : DensityTerms
        When ``dens.scale > 0``, every sampled edge also carries the DensMAP
        correlation gradient of that edge, importance-weighted by
        ``epochs_per_sample`` (edges are sampled in proportion to their weight) so
        that its expectation over an epoch is the full gradient, and clipped like
        the attraction.
    row_keys : ndarray of shape (n_head,), uint64
        Key of each row's random stream: the vertex index during ``fit``, a hash of
        the point itself when placing new points, so that a new point's stream,
        and hence its position, does not depend on the rest of its batch.
    """
    n_head = head.shape[0]
    # Unpack the bundles: parallel loops cannot index through NamedTuple fields.
    indptr = sched.indptr
    indices = sched.indices
    epochs_per_sample = sched.epochs_per_sample
    next_sample = sched.next_sample
    epochs_per_negative = sched.epochs_per_negative
    next_negative = sched.next_negative
    a = p.a
    b = p.b
    gamma = p.gamma
    alpha = p.alpha
    attract_scale = p.attract_scale
    epoch = p.epoch
    seed = p.seed
    pool = p.n_negative_pool
    skip_self = p.skip_self
    terms = dens.terms
    dscale = dens.scale
    n = float(epoch)
    dim = head.shape[1]
    n_blocks = (n_head + _ROW_BLOCK - 1) // _ROW_BLOCK
    for blk in prange(n_blocks):
        acc = np.empty(dim, dtype=np.float32)
        for i in range(blk * _ROW_BLOCK, min(n_head, (blk + 1) * _ROW_BLOCK)):
            state = stream_start(seed, epoch, row_keys[i])
            _sgd_row(i, state, acc, head, tail, indptr, indices, epochs_per_sample,
                     next_sample, epochs_per_negative, next_negative, a, b, gamma, alpha,
                     attract_scale, n, pool, skip_self, terms, dscale)
