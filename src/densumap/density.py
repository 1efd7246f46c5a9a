"""DensMAP statistics: local radii in the input and in the embedding.

Definition used throughout densumap (both spaces on the same scale): the *log
local radius* of point ``i`` is::

    log( sum_j mu_ij * d_ij**2 / sum_j mu_ij )

the membership-weighted mean **squared** distance to its neighbours ``j`` in the
fuzzy graph, with ``d`` the input metric (input radius) or the euclidean distance
in the embedding (embedding radius).  A point without edges (e.g. cut off by
``disconnection_distance``) has no graph neighbourhood; its radius is then the
unweighted mean squared distance to its k nearest neighbours, so that radii are
always finite.

During optimisation DensMAP uses, as in Narayan, Berger & Cho (2021), the
embedding radius weighted by the embedding affinities ``phi`` instead of ``mu``
(see :mod:`densumap._kernels.density`).
"""
import contextlib
from typing import NamedTuple

import numpy as np

from ._kernels import density as _k
from ._threads import pool_threads, share_out, task_pool
from .graph import sq_edge_distances

# Vertices per task of the embedding radii shared out to threads.
_RADII_TASK = 8192


class DensityTarget(NamedTuple):
    """Frozen input-space statistics the density term aims at."""

    log_radii: np.ndarray  # (n,) input log radii
    standardized: np.ndarray  # (n,) zero mean, unit variance over `active`
    active: np.ndarray  # (n,) bool, vertices with edges in the layout graph
    mean: float
    std: float


def _knn_fallback(log_radii, knn_dists, sq=True):
    """Fill NaN radii from the unweighted mean squared kNN distance."""
    missing = np.isnan(log_radii)
    if missing.any():
        d = knn_dists[missing, 1:].astype(np.float64)
        log_radii[missing] = np.log(_k.RADIUS_EPS + (d**2).mean(axis=1))
    return log_radii


def input_log_radii(graph, knn_indices, knn_dists):
    """Input-space log local radius of every point (module docstring).

    Parameters
    ----------
    graph : csr_matrix of shape (n, n)
        Symmetric fuzzy graph with sorted indices.
    knn_indices, knn_dists : ndarray of shape (n, n_neighbors)

    Returns
    -------
    ndarray of shape (n,), float64, finite.
    """
    sq = sq_edge_distances(graph, knn_indices, knn_dists)
    out = _k.weighted_log_radii(graph.indptr, graph.indices, graph.data.astype(np.float64), sq)
    return _knn_fallback(out, knn_dists)


def embedding_log_radii(graph, embedding, knn_indices):
    """Embedding log local radius of every point, same definition as the input's.

    Parameters
    ----------
    graph : csr_matrix of shape (n, n)
    embedding : ndarray of shape (n, dim)
    knn_indices : ndarray of shape (n, n_neighbors)
        Used only for points without graph edges.

    Returns
    -------
    ndarray of shape (n,), float64, finite.
    """
    emb = np.ascontiguousarray(embedding)
    sq = _k.edge_sq_dists(graph.indptr, graph.indices, emb)
    out = _k.weighted_log_radii(graph.indptr, graph.indices, graph.data.astype(np.float64), sq)
    missing = np.isnan(out)
    if missing.any():
        nb = knn_indices[missing, 1:]
        diff = emb[nb].astype(np.float64) - emb[missing][:, None, :]
        valid = nb >= 0
        sqd = np.where(valid, (diff**2).sum(axis=2), 0.0)
        out[missing] = np.log(_k.RADIUS_EPS + sqd.sum(axis=1) / np.maximum(valid.sum(axis=1), 1))
    return out


def density_target(graph, knn_indices, knn_dists):
    """Input radii of the layout graph, standardised over vertices with edges.

    A constant radius (e.g. all points identical) has no density to preserve: the
    standardised values are then zero, which makes the density gradient vanish.
    """
    log_radii = input_log_radii(graph, knn_indices, knn_dists)
    active = np.diff(graph.indptr) > 0
    values = log_radii[active]
    mean = float(values.mean()) if values.size else 0.0
    std = float(values.std()) if values.size else 0.0
    standardized = np.zeros_like(log_radii)
    if std > 1e-12:
        standardized[active] = (values - mean) / std
    return DensityTarget(log_radii, standardized, active, mean, std)


class CorrelationState(NamedTuple):
    """Embedding-side quantities of the density correlation at one epoch."""

    mean_sq: np.ndarray  # (n,) phi-weighted mean squared distance, 0 if no edge
    phi_sum: np.ndarray  # (n,)
    weight: np.ndarray  # (n,) w_i = R_i - cov / s^2 * (r_i - mean r)
    n_active: int
    s: float  # sqrt(var(r) + var_shift)
    corr: float  # cov(r, R) / s


def correlation_state(embedding, graph, target, a, b, var_shift, pool=None):
    """Evaluate the DensMAP correlation and the per-vertex weights of its gradient.

    The sums run in a fixed order, so the result is the same for any thread count.
    ``pool`` is a task pool (:mod:`densumap._threads`) the rows are shared out to;
    None makes one of ``numba.get_num_threads()`` threads for the call.
    """
    real = np.float32 if embedding.dtype == np.float32 else np.float64
    emb = np.ascontiguousarray(embedding, dtype=real)
    n = emb.shape[0]
    mean_sq = np.empty(n, dtype=np.float64)
    phi_sum = np.empty(n, dtype=np.float64)
    with contextlib.ExitStack() as stack:
        if pool is None:
            pool = task_pool(pool_threads(oversubscribe=False), stack)
        # float32 (the SGD's epochs): fast powers in vector lanes; float64 (the exact
        # gradient and its tests): libm's pow.
        radii = _k.embedding_radii32 if real is np.float32 else _k.embedding_radii
        share_out(pool, range(0, n, _RADII_TASK), lambda r0, _: radii(
            r0, min(r0 + _RADII_TASK, n), emb, graph.indptr, graph.indices, real(a), real(b),
            mean_sq, phi_sum))
    active = target.active & (phi_sum > 0)
    n_active = int(active.sum())
    weight = np.zeros(mean_sq.shape[0])
    if n_active == 0:
        return CorrelationState(mean_sq, phi_sum, weight, 0, 1.0, 0.0)
    r = np.log(mean_sq[active])
    R = target.standardized[active]
    r_centered = r - r.mean()
    # Plain sums, not np.dot: BLAS threads spin on after a call and took a core from
    # the SGD kernel that follows every epoch (70,000 points, 2 cores: the density
    # epochs' sweep 120 -> 48 ms).
    var = float((r_centered * r_centered).sum()) / n_active
    cov = float((r_centered * R).sum()) / n_active
    s = float(np.sqrt(var + var_shift))
    if s == 0.0:
        return CorrelationState(mean_sq, phi_sum, weight, n_active, 1.0, 0.0)
    weight[active] = R - cov / (s * s) * r_centered
    return CorrelationState(mean_sq, phi_sum, weight, n_active, s, cov / s)


def correlation_gradient(embedding, graph, state, a, b):
    """Exact gradient ``dC/dY`` of the density correlation (for tests and tools).

    Returns
    -------
    ndarray of shape (n, dim), float64
    """
    emb = np.ascontiguousarray(embedding, dtype=np.float64)
    out = np.zeros_like(emb)
    if state.n_active:
        terms = _k.vertex_terms(state.mean_sq, state.phi_sum, state.weight)
        _k.density_step(out, emb, graph.indptr, graph.indices, terms, a, b,
                        2.0 / (state.n_active * state.s), 1e300)
    return out


# ------------------------------------------------------------- one-sided radii
# ``transform`` sees a new point only through its own (one-sided) memberships to
# the training points, so the statistics it is compared with are computed the same
# way for the training points: from each point's directed kNN memberships, before
# symmetrisation.


def one_sided_log_radii(memberships, sq_dists):
    """``log(eps + sum_j w_j d_j**2 / sum_j w_j)`` per row of a dense neighbour table.

    Rows whose memberships are all zero (every neighbour disconnected) fall back
    to equal weights over the listed neighbours, so the result is always finite.

    Parameters
    ----------
    memberships : ndarray of shape (n, k)
        One-sided memberships of each row's neighbours (0 for removed edges).
    sq_dists : ndarray of shape (n, k)
        Squared distance to each neighbour.

    Returns
    -------
    ndarray of shape (n,), float64
    """
    w = np.asarray(memberships, dtype=np.float64)
    empty = w.sum(axis=1) <= 0.0
    if empty.any():
        w = w.copy()
        w[empty] = 1.0
    d = np.asarray(sq_dists, dtype=np.float64)
    return np.log(_k.RADIUS_EPS + (w * d).sum(axis=1) / w.sum(axis=1))


def embedding_sq_dists(points, train_embedding, neighbor_indices):
    """Squared euclidean distance from each point to each of its listed neighbours.

    Parameters
    ----------
    points : ndarray of shape (n, dim)
    train_embedding : ndarray of shape (n_train, dim)
    neighbor_indices : ndarray of shape (n, k), valid indices into ``train_embedding``

    Returns
    -------
    ndarray of shape (n, k), float64
    """
    points = np.asarray(points)
    nb = np.asarray(neighbor_indices)
    out = np.empty(nb.shape, dtype=np.float64)
    if out.size:
        _k.neighbour_sq_dists(np.ascontiguousarray(points), np.ascontiguousarray(train_embedding),
                              np.ascontiguousarray(nb, dtype=np.int64), out)
    return out


class DensityRelation(NamedTuple):
    """Frozen training statistics that give a new point its target embedding radius.

    With ``R`` the one-sided input log radius and ``r`` the one-sided embedding log
    radius of the training points (:func:`one_sided_log_radii`)::

        z = (R - mean) / std
        r ~ intercept + slope * z          (least squares over the training points)

    A new point with input log radius ``R_new`` aims at
    ``intercept + slope * (R_new - mean) / std``: the embedding radius that training
    points of the same standardised input density have, on average.
    """

    mean: float
    std: float
    intercept: float
    slope: float

    def target(self, input_log_radii):
        """Target embedding log radius of points with the given input log radii."""
        if self.std <= 1e-12:
            return np.full(np.shape(input_log_radii), self.intercept)
        return self.intercept + self.slope * (np.asarray(input_log_radii) - self.mean) / self.std


def fit_density_relation(memberships, input_sq_dists, embedding_sq_dists_):
    """Fit :class:`DensityRelation` on the training points.

    Parameters
    ----------
    memberships : ndarray of shape (n, k)
        Directed kNN memberships of the training points (self excluded).
    input_sq_dists, embedding_sq_dists_ : ndarray of shape (n, k)
        Squared distances to the same neighbours in the input and the embedding.

    Returns
    -------
    DensityRelation
    """
    use = np.asarray(memberships).sum(axis=1) > 0
    if not use.any():
        return DensityRelation(0.0, 0.0, 0.0, 0.0)
    R = one_sided_log_radii(memberships[use], input_sq_dists[use])
    r = one_sided_log_radii(memberships[use], embedding_sq_dists_[use])
    mean, std = float(R.mean()), float(R.std())
    if std <= 1e-12:
        return DensityRelation(mean, 0.0, float(r.mean()), 0.0)
    z = (R - mean) / std
    slope = float(np.dot(z, r - r.mean()) / z.size)
    return DensityRelation(mean, std, float(r.mean()), slope)


def training_density_relation(knn_indices, knn_dists, sigmas, rhos, embedding):
    """:class:`DensityRelation` of a fitted model, from its kNN and embedding.

    Parameters
    ----------
    knn_indices : ndarray of shape (n, n_neighbors), int32
        Column 0 is the point itself; -1 marks a disconnected neighbour.
    knn_dists : ndarray of shape (n, n_neighbors)
    sigmas, rhos : ndarray of shape (n,)
        From :func:`densumap.graph.smooth_knn_dist`.
    embedding : ndarray of shape (n, dim)

    Returns
    -------
    DensityRelation
    """
    from ._kernels.graph import membership_strengths

    w = membership_strengths(np.ascontiguousarray(knn_indices, dtype=np.int32),
                             np.ascontiguousarray(knn_dists, dtype=np.float32), sigmas, rhos)
    w = w[:, 1:].astype(np.float64)
    nb = np.maximum(knn_indices[:, 1:], 0)
    in_sq = knn_dists[:, 1:].astype(np.float64) ** 2
    emb_sq = embedding_sq_dists(embedding, embedding, nb)
    return fit_density_relation(w, in_sq, emb_sq)
