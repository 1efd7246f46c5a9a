"""Kernels for DensMAP: local radii and the gradient of the density correlation.

Notation (per vertex ``i`` with graph neighbours ``j``; all distances squared)::

    phi_ij = 1 / (1 + a * d_ij**b)                  embedding affinity
    Phi_i  = sum_j phi_ij
    m_i    = sum_j phi_ij * d_ij / Phi_i             phi-weighted mean squared distance
    r_i    = log(m_i)                                embedding log radius
    C      = cov(r, R) / sqrt(var(r) + var_shift)    R: standardised input log radii

With population statistics over the ``n`` vertices that have edges,
``dC/dr_i = w_i / (n * s)`` where ``s = sqrt(var(r) + var_shift)`` and
``w_i = R_i - cov(r, R) / s**2 * (r_i - mean(r))``.  A squared distance ``d``
between ``i`` and ``j`` enters both ``r_i`` and ``r_j``; differentiating ``r_i``::

    dr_i/dd = (phi / Phi_i) * ((1 - b * (1 - phi)) / m_i
                               + a * b * d**(b - 1) / (1 + a * d**b))

(the kernels add a small epsilon to ``m_i`` and carry it exactly through the
derivative).

so ``dC/dd_ij = (w_i dr_i/dd + w_j dr_j/dd) / (n s)`` and
``dC/dy_i = sum_j 2 dC/dd_ij (y_i - y_j)``.
"""
import numpy as np
from numba import prange

from ._config import FAST, kernel
from .fastpow import fast_pow

RADIUS_EPS = 1e-8


@kernel(parallel=True)
def weighted_log_radii(indptr, indices, weights, sq_dists):
    """``log(eps + sum_j w_ij d_ij / sum_j w_ij)`` per row of a CSR graph.

    Parameters
    ----------
    indptr, indices : CSR structure of the graph, n rows.
    weights : ndarray of shape (n_edges,)
        Edge weights (memberships).
    sq_dists : ndarray of shape (n_edges,)
        Squared distance along each edge.

    Returns
    -------
    log_radii : ndarray of shape (n,), float64
        ``nan`` for rows with no edge of positive weight (callers fill these).
    """
    n = indptr.shape[0] - 1
    out = np.empty(n, dtype=np.float64)
    for i in prange(n):
        wsum = 0.0
        dsum = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            wsum += weights[e]
            dsum += weights[e] * sq_dists[e]
        if wsum > 0.0:
            out[i] = np.log(RADIUS_EPS + dsum / wsum)
        else:
            out[i] = np.nan
    return out


@kernel(parallel=True)
def edge_sq_dists(indptr, indices, emb):
    """Squared embedding distance along every edge of a CSR graph."""
    n, dim = emb.shape
    out = np.empty(indices.shape[0], dtype=np.float64)
    for i in prange(n):
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            d2 = 0.0
            for c in range(dim):
                diff = emb[i, c] - emb[j, c]
                d2 += diff * diff
            out[e] = d2
    return out


@kernel(inline="always")
def _store_radius(i, s, ps, mean_sq, phi_sum):
    """Write vertex ``i``'s ``m_i = eps + s / ps`` and ``Phi_i = ps`` (0 and 0 without edges)."""
    if ps > 0.0:
        phi_sum[i] = ps
        mean_sq[i] = RADIUS_EPS + s / ps
    else:
        phi_sum[i] = 0.0
        mean_sq[i] = 0.0


@kernel(error_model="numpy")
def embedding_radii(r0, r1, emb, indptr, indices, a, b, mean_sq, phi_sum):
    """Phi-weighted mean squared distance ``m_i`` and ``Phi_i`` of vertices ``r0 <= i < r1``.

    Distances and affinities are computed in the precision of ``a`` and ``b``, which
    the caller passes in the dtype of ``emb``: float64 for the exact gradient and its
    finite-difference test (the SGD epochs use :func:`embedding_radii32`). The sums
    are always float64. Serial: the caller shares row ranges out to threads
    (:func:`densumap.density.correlation_state`).

    Parameters
    ----------
    mean_sq : ndarray of shape (n,), float64, output
        ``eps + sum_j phi_ij d_ij / Phi_i``; 0 where the vertex has no edge.
    phi_sum : ndarray of shape (n,), float64, output
        ``Phi_i``; 0 where the vertex has no edge.
    """
    dim = emb.shape[1]
    zero = a - a  # 0 and 1 in the dtype of a
    one = a / a
    for i in range(r0, r1):
        s = 0.0
        ps = 0.0
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            d2 = zero
            for c in range(dim):
                diff = emb[i, c] - emb[j, c]
                d2 += diff * diff
            phi = one / (one + a * d2**b)
            s += phi * d2
            ps += phi
        _store_radius(i, s, ps, mean_sq, phi_sum)


@kernel(fastmath=FAST, inline="always")
def _radius_sums_2d(i, emb, indptr, indices, a, b):
    """``(sum_j phi_ij d_ij, sum_j phi_ij)`` of vertex ``i`` of a 2-D float32 embedding."""
    one = np.float32(1.0)
    x0 = emb[i, 0]
    x1 = emb[i, 1]
    s = 0.0
    ps = 0.0
    for e in range(indptr[i], indptr[i + 1]):
        j = indices[e]
        d0 = x0 - emb[j, 0]
        d1 = x1 - emb[j, 1]
        d2 = d0 * d0 + d1 * d1
        phi = one / (one + a * fast_pow(d2, b))
        s += np.float64(phi * d2)
        ps += np.float64(phi)
    return s, ps


@kernel(fastmath=FAST, error_model="numpy")
def embedding_radii32(r0, r1, emb, indptr, indices, a, b, mean_sq, phi_sum):
    """:func:`embedding_radii` of a float32 embedding, as the SGD epochs need it.

    The same sums with :func:`densumap._kernels.fastpow.fast_pow` for ``d**b``
    (relative error below 1e-5) and the fast-math flags of the SGD's hot loops, so
    that a row's edges are computed in vector lanes: 2.6x cheaper than libm's
    ``powf`` in one serial chain (70,000 Fashion-MNIST images, 1.59 million edges,
    one thread: 15 ms against 39 ms; BENCHMARKS.md). Each vertex's sums are still
    taken by one thread, so the result does not depend on the thread count. A 2-D
    embedding gets its own loop (:func:`_radius_sums_2d`): with the coordinate loop,
    or with the 2-D loop written inline beside it, the edges were not vectorised
    (22-34 ms).
    """
    dim = emb.shape[1]
    a = np.float32(a)
    b = np.float32(b)
    one = np.float32(1.0)
    for i in range(r0, r1):
        s = 0.0
        ps = 0.0
        if dim == 2:
            s, ps = _radius_sums_2d(i, emb, indptr, indices, a, b)
        else:
            for e in range(indptr[i], indptr[i + 1]):
                j = indices[e]
                d2 = np.float32(0.0)
                for c in range(dim):
                    diff = emb[i, c] - emb[j, c]
                    d2 += diff * diff
                phi = one / (one + a * fast_pow(d2, b))
                s += np.float64(phi * d2)
                ps += np.float64(phi)
        _store_radius(i, s, ps, mean_sq, phi_sum)


@kernel(error_model="numpy")
def vertex_terms(mean_sq, phi_sum, weight):
    """Per-vertex factors of :func:`edge_density_coeff`, packed one row per vertex.

    Row ``i`` holds ``(w_i / Phi_i, 1 / m_i, (m_i - eps) / m_i)``, all zero for a
    vertex without edges (``Phi_i == 0``). One row per vertex keeps the random reads
    of the SGD to one cache line, and the divisions out of the per-edge work. Serial:
    a few operations per vertex, less than a parallel loop's start on a busy machine.
    """
    n = mean_sq.shape[0]
    out = np.zeros((n, 3), dtype=np.float64)
    for i in range(n):
        if phi_sum[i] > 0.0:
            out[i, 0] = weight[i] / phi_sum[i]
            out[i, 1] = 1.0 / mean_sq[i]
            out[i, 2] = (mean_sq[i] - RADIUS_EPS) / mean_sq[i]
    return out


@kernel(inline="always")
def edge_density_coeff(d2, db, a, b, one, terms, i, j):
    """``w_i dr_i/dd + w_j dr_j/dd`` for the edge (i, j) at squared distance ``d2``.

    ``db`` is ``d2**b``, passed in because the caller has it; ``terms`` comes from
    :func:`vertex_terms`. Its third column, ``(m - eps) / m``, carries the epsilon
    that keeps ``log(m)`` finite exactly through the derivative. ``one`` is 1 in the
    precision to compute in (that of ``d2``, ``a``, ``b`` and ``terms``): float32 in
    the SGD epochs, float64 for the exact gradient.
    """
    phi = one / (one + a * db)
    common = one - b * (one - phi)
    dphi = a * b * db / d2 * phi
    return phi * (terms[i, 0] * (common * terms[i, 1] + terms[i, 2] * dphi)
                  + terms[j, 0] * (common * terms[j, 1] + terms[j, 2] * dphi))


@kernel(parallel=True)
def density_step(out, emb, indptr, indices, terms, a, b, scale, clip):
    """Add ``scale * sum_j c_ij (y_i - y_j)`` to ``out`` for every vertex.

    ``c_ij = w_i dr_i/dd + w_j dr_j/dd`` (module docstring), evaluated at ``emb``.
    With ``scale = 2 / (n s)`` and a huge ``clip`` on a zero ``out`` this is exactly
    the gradient ``dC/dY`` (:func:`densumap.density.correlation_gradient`). The
    SGD epoch applies the same per-edge coefficient, :func:`edge_density_coeff`,
    along the edges it samples instead (``_kernels.sgd``).

    Parameters
    ----------
    out : ndarray of shape (n, dim)
        Updated in place; may be the array being optimised.
    emb : ndarray of shape (n, dim)
        Fixed positions at which the gradient is evaluated.
    indptr, indices : CSR structure of the layout graph.
    terms : ndarray of shape (n, 3)
        From :func:`vertex_terms`, at ``emb``.
    a, b, scale, clip : float
    """
    n, dim = emb.shape
    for i in prange(n):
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            d2 = 0.0
            for c in range(dim):
                diff = emb[i, c] - emb[j, c]
                d2 += diff * diff
            if d2 <= 0.0:
                continue
            coeff = edge_density_coeff(d2, d2**b, a, b, 1.0, terms, i, j)
            coeff *= scale
            for c in range(dim):
                g = coeff * (emb[i, c] - emb[j, c])
                if g > clip:
                    g = clip
                elif g < -clip:
                    g = -clip
                out[i, c] += g


@kernel(inline="always")
def sq_dist64(x, i, y, j):
    """``|x[i] - y[j]|**2`` with the coordinates widened to float64 first, the squares
    added axis by axis (transform's radius pull and :func:`neighbour_sq_dists`)."""
    d2 = 0.0
    for c in range(x.shape[1]):
        diff = np.float64(x[i, c]) - np.float64(y[j, c])
        d2 += diff * diff
    return d2


@kernel(parallel=True)
def radius_pull_step(head, tail, nb_indices, weights, target, strength, clip):
    """Pull each new point's embedding log radius toward its target (transform).

    Row ``i`` of ``head`` has neighbours ``j = nb_indices[i, :]`` in ``tail`` with
    one-sided memberships ``w_j``; its embedding log radius is
    ``r = log(eps + m)``, ``m = sum_j w_j |y - y_j|**2 / W``, ``W = sum_j w_j``.
    The gradient of ``(r - t)**2 / 2`` is ``(r - t) * 2 (y - c) / (eps + m)`` with
    ``c`` the membership-weighted centroid of the neighbours.  The step uses it
    preconditioned by the positive scalar ``(eps + m) / 2``::

        y <- y - strength * (r - t) * (y - c)

    which is scale-free (moving a fraction of the offset from the centroid) and
    still a descent direction.  Each axis is clipped to ``+-clip``.  Rows are
    independent: each reads only its own row of ``head`` and the fixed ``tail``.

    Parameters
    ----------
    head : ndarray of shape (n, dim), float32
        Updated in place.
    tail : ndarray of shape (n_train, dim), float32
    nb_indices : ndarray of shape (n, k), int32
    weights : ndarray of shape (n, k), float64
    target : ndarray of shape (n,), float64
        Target log radius; NaN skips the row.
    strength, clip : float
    """
    n, dim = head.shape
    k = nb_indices.shape[1]
    for i in prange(n):
        t = target[i]
        if np.isnan(t):
            continue
        wsum = 0.0
        ssum = 0.0
        for e in range(k):
            j = nb_indices[i, e]
            d2 = sq_dist64(head, i, tail, j)
            wsum += weights[i, e]
            ssum += weights[i, e] * d2
        if wsum <= 0.0:
            continue
        delta = np.log(RADIUS_EPS + ssum / wsum) - t
        for c in range(dim):
            off = 0.0
            for e in range(k):
                j = nb_indices[i, e]
                off += weights[i, e] * (np.float64(head[i, c]) - np.float64(tail[j, c]))
            g = -strength * delta * off / wsum
            if g > clip:
                g = clip
            elif g < -clip:
                g = -clip
            head[i, c] += g


@kernel(parallel=True)
def neighbour_sq_dists(points, train, nb_indices, out):
    """``out[i, e] = |points[i] - train[nb_indices[i, e]]|**2``, in float64.

    The coordinates are widened to float64 before the difference and the squares
    added one axis after the other, as the NumPy expression it replaces did (bit for
    bit below 8 dimensions, where NumPy's sum runs serially); one pass, without the
    ``(n, k, dim)`` float64 gather (a million 2-D points x 14 neighbours: 3.8 s and
    +443 MiB before, 0.46 s and +152 MiB with the caller's index conversion).
    """
    n = points.shape[0]
    k = nb_indices.shape[1]
    for i in prange(n):
        for e in range(k):
            out[i, e] = sq_dist64(points, i, train, nb_indices[i, e])
