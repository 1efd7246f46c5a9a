"""The UMAP epoch in an embedding space with its own metric (``output_metric``).

Same scheme as the euclidean kernel (:mod:`densumap._kernels.sgd`), on which the
results of any thread count agree bit for bit: a Jacobi sweep in which row ``i``
is the only writer of ``head[i]``, reading every other position from the fixed
``tail``; edges due by the same schedule (:mod:`densumap._kernels.clocks`); negative
samples drawn from the counter-based stream of ``(seed, epoch, row_keys[i])`` with the
same blocks (``sgd._negative_block``), all evaluated at the vertex's position after its
attraction and their clipped steps summed.

What changes is the geometry.  With ``d`` the metric's distance and ``grad`` its
gradient with respect to the moving point, the embedding affinity is
``w = 1 / (1 + a d**(2b))`` (umap-learn's generic optimiser) and the steps are

* attraction, the gradient of ``-log w``: ``2b (w - 1) / (d + 1e-6) * grad``,
  none when ``d <= 0``;
* repulsion, the gradient of ``-log(1 - w)``: ``gamma 2b w / (d + 1e-6) * grad``;
  at ``d <= 0`` (coincident points, or a Gaussian energy below zero) ``w = 1`` and
  the step is the largest allowed along ``grad`` (umap-learn's coefficient turns
  negative there, pulling the points together instead),

each coordinate clipped to [-4, 4] as in the euclidean kernel.  The metric is a
function argument: :func:`metric_epoch` uses the built-in metrics
(:func:`densumap._kernels.output_metrics.builtin_eval`, selected by code) and is
cached on disk like every kernel; :func:`custom_rows` calls a user's numba
function, over a range of rows that the caller shares out to threads, and is
compiled once per function and process (numba cannot cache a kernel whose
argument is a function).
"""
import numpy as np
from numba import prange

from ._config import kernel
from .clocks import negatives_due, sample_due
from .output_metrics import builtin_eval5, custom_eval
from .rng import next_index, stream_start
from .sgd import _CLIP, _ROW_BLOCK, _negative_block

# Added to the distance in both coefficients (umap-learn's generic optimiser).
_DIST_EPS = 1e-6


@kernel()
def _clip64(v):
    if v > _CLIP:
        return _CLIP
    if v < -_CLIP:
        return -_CLIP
    return v


@kernel(inline="always")
def _metric_row(i, state, scratch, grads, head, tail, neg_tail, lo, hi, indices, rates,
                neg_rate, a, b, gamma, alpha, attract_scale, n, neg_lo, pool, self_k, ev, fn,
                kw):
    """One epoch for edges ``lo:hi`` of head row ``i`` (see the module docstring).

    ``scratch`` is a (2, dim) float32 array (the row's position and a copy of the
    other point: the metric never sees the shared arrays), ``grads`` a (2, dim)
    float64 array (the gradient and the summed repulsion); ``ev(x, y, g, fn, kw)``
    returns the distance and writes the gradient.  Sample 0 of a due edge is its
    attraction, applied at once; samples 1.. its negative samples, evaluated at
    the position after the attraction and applied together.  (One call site of
    ``ev``: the metric is compiled into the kernel once, which halves the
    compilation time.)
    """
    dim = head.shape[1]
    yi = scratch[0]
    yj = scratch[1]
    g = grads[0]
    acc = grads[1]
    two_b = 2.0 * b
    for c in range(dim):
        yi[c] = head[i, c]
    for e in range(lo, hi):
        k_due = sample_due(n, rates[e])
        if k_due == 0:
            continue
        n_neg = negatives_due(k_due, neg_rate)
        for c in range(dim):
            acc[c] = 0.0
        for s in range(n_neg + 1):
            if s == 0:
                j = indices[e]
                for c in range(dim):
                    yj[c] = tail[j, c]
            else:
                state, k = next_index(state, pool)
                k += neg_lo
                if k == self_k:
                    continue
                for c in range(dim):
                    yj[c] = neg_tail[k, c]
            d = ev(yi, yj, g, fn, kw)
            if s == 0:
                if d > 0.0:
                    w = 1.0 / (1.0 + a * d ** two_b)
                    coeff = two_b * (w - 1.0) / (d + _DIST_EPS)
                    for c in range(dim):
                        yi[c] += np.float32(attract_scale * _clip64(coeff * g[c]) * alpha)
                continue
            if d > 0.0:
                w = 1.0 / (1.0 + a * d ** two_b)
                coeff = gamma * two_b * w / (d + _DIST_EPS)
            else:
                coeff = gamma * two_b / _DIST_EPS
            for c in range(dim):
                acc[c] += _clip64(coeff * g[c])
        for c in range(dim):
            yi[c] += np.float32(acc[c] * alpha)
    for c in range(dim):
        head[i, c] = yi[c]


@kernel(inline="always")
def _unpack(sched, p):
    """The fields of the schedule and the parameters as one flat tuple (parallel
    loops cannot index through NamedTuple fields)."""
    return (sched.indptr, sched.indices, sched.rates, sched.negative_rate, p.a, p.b,
            p.gamma, p.alpha, p.attract_scale, p.epoch, p.seed, p.n_negative_pool,
            p.skip_self, p.neg_blocks)


@kernel(parallel=True)
def metric_epoch(head, tail, sched, p, row_keys, neg_tail, neg_inv, kw):
    """One Jacobi epoch in the space of a built-in metric.

    Parameters
    ----------
    head, tail, sched, p, row_keys, neg_tail, neg_inv
        As for :func:`densumap._kernels.sgd.sgd_blocks` (``p.attract_scale`` 2 in
        ``fit`` and ``transform``); there is no density term.
    kw : tuple (code, p, vec, mat)
        The metric (:func:`densumap._kernels.output_metrics.builtin_eval`).
    """
    (indptr, indices, rates, neg_rate, a, b, gamma, alpha, attract_scale, epoch, seed, pool,
     skip_self, neg_blocks) = _unpack(sched, p)
    n = epoch
    n_head, dim = head.shape
    for blk in prange((n_head + _ROW_BLOCK - 1) // _ROW_BLOCK):
        # Allocated in the loop body, not in a helper: numba hoists it to the start
        # of the compiled loop body, which each thread runs for its own share of
        # blocks: one scratch per thread, fully rewritten per row.
        scratch = np.empty((2, dim), dtype=np.float32)
        grads = np.empty((2, dim), dtype=np.float64)
        for i in range(blk * _ROW_BLOCK, min(n_head, (blk + 1) * _ROW_BLOCK)):
            state = stream_start(seed, epoch, row_keys[i])
            neg_lo, neg_n, self_k = _negative_block(i, epoch, seed, pool, neg_blocks, neg_inv,
                                                    skip_self)
            _metric_row(i, state, scratch, grads, head, tail, neg_tail, indptr[i],
                        indptr[i + 1], indices, rates, neg_rate, a, b, gamma, alpha,
                        attract_scale, n, neg_lo, neg_n, self_k, builtin_eval5, None, kw)


# The kernels for a user's metric are not cached: their argument is the user's
# function, whose type numba cannot look up in a cache written by another process
# (every run would add a file).  They are not parallel either: numba's parallel
# loops cannot take a function or an empty tuple as a loop input, so the caller
# shares row ranges out to threads (the kernels release the GIL; rows are
# independent, so the result does not depend on the split).
@kernel(cache=False)
def custom_rows(fn, args, r0, r1, head, tail, sched, p, row_keys, neg_tail, neg_inv):
    """Rows ``r0:r1`` of :func:`metric_epoch` with a user's metric ``fn(x, y, *args)``."""
    (indptr, indices, rates, neg_rate, a, b, gamma, alpha, attract_scale, epoch, seed, pool,
     skip_self, neg_blocks) = _unpack(sched, p)
    n = epoch
    dim = head.shape[1]
    scratch = np.empty((2, dim), dtype=np.float32)
    grads = np.empty((2, dim), dtype=np.float64)
    for i in range(r0, r1):
        state = stream_start(seed, epoch, row_keys[i])
        neg_lo, neg_n, self_k = _negative_block(i, epoch, seed, pool, neg_blocks, neg_inv,
                                                skip_self)
        _metric_row(i, state, scratch, grads, head, tail, neg_tail, indptr[i], indptr[i + 1],
                    indices, rates, neg_rate, a, b, gamma, alpha, attract_scale, n, neg_lo,
                    neg_n, self_k, custom_eval, fn, args)


@kernel(inline="always")
def _knn_row(query, qi, train, k, ev, fn, kw, scratch, g, out_i, out_d):
    """The ``k`` nearest training rows of ``query[qi]``, sorted, by insertion."""
    dim = query.shape[1]
    for c in range(dim):
        scratch[0, c] = query[qi, c]
    filled = 0
    for t in range(train.shape[0]):
        for c in range(dim):
            scratch[1, c] = train[t, c]
        d = ev(scratch[0], scratch[1], g, fn, kw)
        if filled == k and d >= out_d[qi, k - 1]:
            continue
        pos = filled if filled < k else k - 1
        while pos > 0 and out_d[qi, pos - 1] > d:
            out_d[qi, pos] = out_d[qi, pos - 1]
            out_i[qi, pos] = out_i[qi, pos - 1]
            pos -= 1
        out_d[qi, pos] = d
        out_i[qi, pos] = t
        if filled < k:
            filled += 1


@kernel(parallel=True)
def metric_knn(query, train, k, kw):
    """Exact ``k`` nearest training rows of each query row in a built-in metric.

    Each query row is handled by one thread, scanning the training rows in order
    and keeping the ``k`` smallest by insertion (ties to the lower index), so the
    answer does not depend on the thread count.  ``k <= n_train``.

    Returns
    -------
    indices : ndarray of shape (n_query, k), int64
    dists : ndarray of shape (n_query, k), float64
    """
    n, dim = query.shape
    out_i = np.empty((n, k), dtype=np.int64)
    out_d = np.empty((n, k), dtype=np.float64)
    for qi in prange(n):
        scratch = np.empty((2, dim), dtype=np.float32)
        g = np.empty(dim, dtype=np.float64)
        _knn_row(query, qi, train, k, builtin_eval5, None, kw, scratch, g, out_i, out_d)
    return out_i, out_d


@kernel(cache=False)
def custom_knn_rows(fn, args, q0, q1, query, train, k, out_i, out_d):
    """Rows ``q0:q1`` of :func:`metric_knn` with a user's metric, into ``out_i, out_d``."""
    dim = query.shape[1]
    scratch = np.empty((2, dim), dtype=np.float32)
    g = np.empty(dim, dtype=np.float64)
    for qi in range(q0, q1):
        _knn_row(query, qi, train, k, custom_eval, fn, args, scratch, g, out_i, out_d)


@kernel(inline="always")
def _pair_dist(A, ia, B, ib, ev, fn, kw, scratch, g):
    for c in range(A.shape[1]):
        scratch[0, c] = A[ia, c]
        scratch[1, c] = B[ib, c]
    return ev(scratch[0], scratch[1], g, fn, kw)


@kernel(parallel=True)
def metric_pair_dists(A, ia, B, ib, kw):
    """``d(A[ia[e]], B[ib[e]])`` for every ``e``, in a built-in metric (float64)."""
    m = ia.shape[0]
    out = np.empty(m, dtype=np.float64)
    dim = A.shape[1]
    for blk in prange((m + _ROW_BLOCK - 1) // _ROW_BLOCK):
        scratch = np.empty((2, dim), dtype=np.float32)
        g = np.empty(dim, dtype=np.float64)
        for e in range(blk * _ROW_BLOCK, min(m, (blk + 1) * _ROW_BLOCK)):
            out[e] = _pair_dist(A, ia[e], B, ib[e], builtin_eval5, None, kw, scratch, g)
    return out


@kernel(cache=False)
def custom_pair_rows(fn, args, e0, e1, A, ia, B, ib, out):
    """Entries ``e0:e1`` of :func:`metric_pair_dists` with a user's metric, into ``out``."""
    dim = A.shape[1]
    scratch = np.empty((2, dim), dtype=np.float32)
    g = np.empty(dim, dtype=np.float64)
    for e in range(e0, e1):
        out[e] = _pair_dist(A, ia[e], B, ib[e], custom_eval, fn, args, scratch, g)
