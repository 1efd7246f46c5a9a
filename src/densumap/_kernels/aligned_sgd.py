"""The AlignedUMAP epoch: every slice's UMAP step plus the alignment pull, in one pass.

Design
------
The slices are concatenated into one array of ``N`` rows (slice ``s`` holds rows
``start[s]:start[s + 1]``) with one block-diagonal layout graph, so one parallel
loop runs them all.  Each row does exactly what a row of plain UMAP's Jacobi
sweep does (``_kernels.sgd._sgd_row``, shared, with its random stream keyed by
``(seed, epoch, row)``), with the parameters of its own slice and negative
samples drawn from its own slice only; then it is pulled toward the positions its
related points in the neighbouring slices had at the start of the epoch.  Row
``i`` is the only writer of ``head[i]`` and every other position it reads comes
from ``tail``, fixed for the epoch, so the result does not depend on the number
of threads.

The alignment pull
------------------
umap-learn applies the regulariser ``lambda_ij * (y_i - y_j)`` (``j`` a related
point of another slice) once with every attraction and every negative sample of
``i``, about ``m_i = (1 + negative_sample_rate) * sum_e w_e / w_max`` small steps
per epoch.  Here it is applied once per row and epoch, in closed form: ``m_i``
unclipped steps of rate ``alpha * Lambda_i`` toward the ``lambda``-weighted mean
``t_i`` of the related positions (``Lambda_i = sum_j lambda_ij``) move ``y_i`` by
the fraction ``f_i = 1 - (1 - alpha * Lambda_i)**m_i`` of the way to ``t_i``.  Pull
and UMAP step are both evaluated at the start-of-epoch positions and added, so
the UMAP gradient is never overwritten by the pull: with a strong pull related
points move together, along the mean of their slices' gradients.  Both ends of a
link move in the same epoch, each toward where the other was, so ``f_i`` is capped
at 1/2: they then meet half way, where a larger step would make them overshoot and
swap places (measured on digits with ``alignment_regularisation=1``: pulling the
stepped position fully onto ``t_i`` erased the UMAP step of related points and
kNN accuracy fell from 0.91-0.95 to 0.75-0.87; umap-learn keeps 0.91-0.95).
"""
from typing import NamedTuple

import numpy as np
from numba import prange

from ._config import FAST, kernel
from .rng import stream_start
from .sgd import _NB, _ROW_BLOCK, SCRATCH_ROWS, _sgd_row

# Largest fraction of the way to its related points that a point moves in one epoch.
_MAX_PULL = 0.5


class SliceTable(NamedTuple):
    """Where each slice's rows are and the parameters of its step this epoch."""

    row_slice: np.ndarray  # (N,) int64, slice of each row
    start: np.ndarray  # (S + 1,) int64, first row of each slice
    # (S, 5) float64: a, b, repulsion strength, learning rate, negative-sample rate in
    # fixed point (clocks.negative_rate; an integer, exact in float64)
    params: np.ndarray


class AlignmentLinks(NamedTuple):
    """Related points of each row in the other slices (CSR over the N rows)."""

    indptr: np.ndarray  # (N + 1,) int64
    indices: np.ndarray  # (n_links,) int64, global row of the related point
    coef: np.ndarray  # (n_links,) float64, lambda * window decay * similarity
    steps: np.ndarray  # (N,) float64, umap-learn's regulariser steps per epoch (m_i)


@kernel(fastmath=FAST, inline="always")
def _align_row(i, head, tail, indptr, indices, coef, steps, alpha, acc):
    """Add to ``head[i]`` the pull of ``tail[i]`` toward its related points in ``tail``."""
    dim = head.shape[1]
    total = 0.0
    for c in range(dim):
        acc[c] = 0.0
    for e in range(indptr[i], indptr[i + 1]):
        w = coef[e]
        k = indices[e]
        total += w
        for c in range(dim):
            acc[c] += w * tail[k, c]
    if total <= 0.0:
        return
    rate = alpha * total
    if rate > 1.0:
        rate = 1.0
    frac = 1.0 - (1.0 - rate) ** steps[i]
    if frac > _MAX_PULL:
        frac = _MAX_PULL
    for c in range(dim):
        y = np.float64(tail[i, c])
        head[i, c] += np.float32(frac * (acc[c] / total - y))


@kernel(parallel=True, fastmath=FAST)
def aligned_epoch(head, tail, sched, slices, links, dens, epoch, seed, row_lo, row_hi):
    """One epoch of rows ``row_lo:row_hi``: UMAP step, then the alignment pull.

    Parameters
    ----------
    head : ndarray of shape (N, dim), float32
        Positions of all slices, concatenated; rows ``row_lo:row_hi`` are updated
        in place (the others are frozen: ``AlignedUMAP.update`` moves only the new
        slice).
    tail : ndarray of shape (N, dim), float32
        ``head`` at the start of the epoch: attractions, negative samples and
        related points are read here.
    sched : densumap._kernels.sgd.EdgeSchedule
        Of the block-diagonal layout graph (global row and column numbers), each
        slice's rates relative to its own largest weight; its ``negative_rate`` is
        not read (each slice's is in ``slices.params``).
    slices : SliceTable
    links : AlignmentLinks
    dens : densumap._kernels.sgd.DensityTerms
        Per-vertex DensMAP terms with each slice's scale already folded into
        their first column (the coefficient is linear in it), and ``scale`` 1; or
        ``scale`` 0 for no density term.
    epoch : int
    seed : uint64
    row_lo, row_hi : int
    """
    indptr = sched.indptr
    indices = sched.indices
    rates = sched.rates
    row_slice = slices.row_slice
    start = slices.start
    params = slices.params
    l_indptr = links.indptr
    l_indices = links.indices
    l_coef = links.coef
    l_steps = links.steps
    terms = dens.terms
    dscale = dens.scale
    n = epoch
    dim = head.shape[1]
    n_blocks = (row_hi - row_lo + _ROW_BLOCK - 1) // _ROW_BLOCK
    for blk in prange(n_blocks):
        scratch = np.empty((SCRATCH_ROWS, max(dim, _NB)), dtype=np.float32)
        acc = np.empty(dim, dtype=np.float64)
        first = row_lo + blk * _ROW_BLOCK
        for i in range(first, min(row_hi, first + _ROW_BLOCK)):
            s = row_slice[i]
            lo = start[s]
            alpha = params[s, 3]
            state = stream_start(seed, epoch, i)
            _sgd_row(i, state, scratch, head, tail, tail, indptr[i], indptr[i + 1],
                     indices, rates, np.int64(params[s, 4]), params[s, 0], params[s, 1],
                     params[s, 2], alpha, 2.0, False, n, lo, start[s + 1] - lo, i, terms,
                     dscale)
            _align_row(i, head, tail, l_indptr, l_indices, l_coef, l_steps, alpha, acc)


@kernel(parallel=True)
def pair_jaccard(a_indptr, a_indices, c_indptr, c_indices, pair_row, pair_col):
    """Jaccard similarity of row ``pair_row[p]`` of A and row ``pair_col[p]`` of C.

    Both CSR structures must have sorted, duplicate-free column indices.  Two empty
    rows count as identical (1.0), as in umap-learn.

    Returns
    -------
    ndarray of shape (n_pairs,), float64
    """
    out = np.empty(pair_row.shape[0], dtype=np.float64)
    for p in prange(pair_row.shape[0]):
        i = pair_row[p]
        k = pair_col[p]
        x, x_end = a_indptr[i], a_indptr[i + 1]
        z, z_end = c_indptr[k], c_indptr[k + 1]
        union = (x_end - x) + (z_end - z)
        inter = 0
        while x < x_end and z < z_end:
            if a_indices[x] == c_indices[z]:
                inter += 1
                x += 1
                z += 1
            elif a_indices[x] < c_indices[z]:
                x += 1
            else:
                z += 1
        union -= inter
        out[p] = 1.0 if union == 0 else inter / union
    return out
