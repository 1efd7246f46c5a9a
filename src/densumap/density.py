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
from typing import NamedTuple

import numpy as np

from ._kernels import density as _k
from .graph import sq_edge_distances


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


def correlation_state(embedding, graph, target, a, b, var_shift):
    """Evaluate the DensMAP correlation and the per-vertex weights of its gradient.

    The sums run in a fixed order, so the result is the same for any thread count.
    """
    mean_sq, phi_sum = _k.embedding_radii(embedding, graph.indptr, graph.indices, a, b)
    active = target.active & (phi_sum > 0)
    n_active = int(active.sum())
    weight = np.zeros(mean_sq.shape[0])
    if n_active == 0:
        return CorrelationState(mean_sq, phi_sum, weight, 0, 1.0, 0.0)
    r = np.log(mean_sq[active])
    R = target.standardized[active]
    r_centered = r - r.mean()
    var = float(np.dot(r_centered, r_centered)) / n_active
    cov = float(np.dot(r_centered, R)) / n_active
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
        _k.density_step(out, emb, graph.indptr, graph.indices, state.mean_sq, state.phi_sum,
                        state.weight, a, b, 2.0 / (state.n_active * state.s), 1e300)
    return out
