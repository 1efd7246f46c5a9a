"""umap-learn's ``umap.umap_`` module: the estimator and the stage functions its docs call.

Code written for umap-learn imports from here (``from umap.umap_ import
nearest_neighbors``); these are thin wrappers over densumap's own stages
(:mod:`densumap.neighbors`, :mod:`densumap.graph`) with umap-learn's signatures and
return values. They compute what ``UMAP.fit`` computes, so their results can be fed
back to it: ``UMAP(precomputed_knn=nearest_neighbors(X, ...))`` gives the same
embedding as ``UMAP().fit(X)`` with the same ``n_neighbors`` and ``random_state``.
"""
import copy

import numpy as np

from . import graph as graph_mod
from ._runtime import numba_threads, resolve_seed, stage, verbosity
from .estimator import UMAP
from .graph import find_ab_params
from .neighbors import nearest_neighbors as _search

__all__ = ["UMAP", "nearest_neighbors", "fuzzy_simplicial_set", "smooth_knn_dist",
           "find_ab_params"]


def _peek_seed(random_state):
    """The seed ``fit`` would draw from ``random_state``, without advancing a RandomState."""
    if isinstance(random_state, np.random.RandomState):
        random_state = copy.deepcopy(random_state)
    return resolve_seed(random_state)


def nearest_neighbors(X, n_neighbors, metric, metric_kwds, angular, random_state,
                      low_memory=True, use_pynndescent=True, n_jobs=-1, verbose=False):
    """The ``n_neighbors`` nearest rows of every row of ``X``, as ``UMAP.fit`` finds them.

    Exact for up to 4,096 rows, approximate (densumap's deterministic NN-descent;
    pynndescent for sparse ``X``) above, as in ``fit``.

    Parameters
    ----------
    X : array-like or sparse matrix of shape (n_samples, n_features)
        Or a square distance matrix with ``metric="precomputed"``.
    n_neighbors : int
        Neighbours per row, the row itself (column 0) included; at most
        ``n_samples``.
    metric : str
        Any metric ``UMAP`` accepts.
    metric_kwds : dict or None
    angular : bool
        No effect (as in umap-learn 0.5.12; see ``UMAP(angular_rp_forest=...)``).
    random_state : int, RandomState instance or None
        Seed of the approximate search, drawn as ``fit`` draws it. A RandomState
        instance is not advanced, so passing the same instance on as
        ``UMAP(random_state=...)`` reproduces ``UMAP(random_state=seed).fit(X)``,
        as umap-learn's "Precomputed k-NN" page does.
    low_memory : bool, default=True
        As ``UMAP(low_memory=...)``.
    use_pynndescent : bool, default=True
        No effect (as in umap-learn 0.5.12).
    n_jobs : int, default=-1
        Threads, as ``UMAP(n_jobs=...)``.
    verbose : bool, default=False

    Returns
    -------
    knn_indices : ndarray of shape (n_samples, n_neighbors), int32
    knn_dists : ndarray of shape (n_samples, n_neighbors), float32
    knn_search_index : None
        umap-learn returns its pynndescent index; densumap searches the training
        rows directly when it needs to (``transform``), so there is none.
    """
    est = UMAP(n_neighbors=n_neighbors, metric=metric, metric_kwds=metric_kwds,
               low_memory=low_memory, n_jobs=n_jobs, verbose=verbose)
    est._check_params()
    X, canonical = est._validate_input(X)
    if n_neighbors > X.shape[0]:
        raise ValueError(f"n_neighbors={n_neighbors} must not exceed the number of samples, "
                         f"{X.shape[0]}.")
    seed = _peek_seed(random_state)
    with numba_threads(n_jobs), verbosity(verbose), stage("nearest neighbours"):
        indices, dists = _search(X, n_neighbors, canonical, metric_kwds, seed,
                                 low_memory=low_memory)
    return indices, dists, None


def fuzzy_simplicial_set(X, n_neighbors, random_state, metric, metric_kwds=None,
                         knn_indices=None, knn_dists=None, angular=False, set_op_mix_ratio=1.0,
                         local_connectivity=1.0, apply_set_operations=True, verbose=False,
                         return_dists=None):
    """UMAP's fuzzy graph of ``X``, as ``UMAP.fit`` builds its ``graph_``.

    Parameters
    ----------
    X : array-like or sparse matrix of shape (n_samples, n_features)
        Searched for neighbours when ``knn_indices``/``knn_dists`` are not given;
        otherwise only its number of rows is used.
    n_neighbors : int
    random_state : int, RandomState instance or None
        As in :func:`nearest_neighbors`.
    metric : str
    metric_kwds : dict or None, default=None
    knn_indices, knn_dists : ndarray of shape (n_samples, k), default=None
        Precomputed neighbours (each row's own index first, ``-1`` for a missing
        neighbour); every column is used, ``n_neighbors`` sets the bandwidth.
    angular : bool, default=False
        No effect.
    set_op_mix_ratio, local_connectivity : float, default=1.0
        As the ``UMAP`` parameters.
    apply_set_operations : bool, default=True
        False returns the directed membership graph (row ``i``: the memberships
        of ``i``'s neighbours), before the fuzzy union.
    verbose : bool, default=False
    return_dists : bool or None, default=None
        None returns three values; otherwise a fourth: with True, the input
        distance of every edge (a CSR matrix of the graph's structure, as
        ``UMAP.graph_dists_``), with False, None.

    Returns
    -------
    graph : scipy.sparse.csr_matrix of shape (n_samples, n_samples), float32
    sigmas, rhos : ndarray of shape (n_samples,), float32
    dists : scipy.sparse.csr_matrix or None
        Only when ``return_dists`` is not None.

    Notes
    -----
    ``fit`` also cuts neighbours at ``disconnection_distance`` (2 by default for
    "cosine" and "correlation"); like umap-learn's function, this one does not,
    so the graphs agree when no neighbour is that far.
    """
    if knn_indices is None or knn_dists is None:
        knn_indices, knn_dists, _ = nearest_neighbors(
            X, n_neighbors, metric, metric_kwds, angular, random_state, verbose=verbose)
    knn_indices, knn_dists = np.asarray(knn_indices), np.asarray(knn_dists)
    n = np.shape(X)[0]
    if knn_indices.ndim != 2 or knn_indices.shape != knn_dists.shape or knn_indices.shape[0] != n:
        raise ValueError(
            f"knn_indices and knn_dists must both have shape (n_samples, k) with n_samples="
            f"{n}; got {knn_indices.shape} and {knn_dists.shape}."
        )
    knn_indices = np.ascontiguousarray(knn_indices, dtype=np.int32)
    knn_dists = np.ascontiguousarray(knn_dists, dtype=np.float32)
    with verbosity(verbose), stage("fuzzy graph"):
        sigmas, rhos = graph_mod.smooth_knn_dist(knn_dists, n_neighbors, local_connectivity)
        graph = graph_mod.membership_graph(knn_indices, knn_dists, sigmas, rhos)
        if apply_set_operations:
            graph = graph_mod.fuzzy_union(graph, set_op_mix_ratio)
        else:
            graph.eliminate_zeros()
            graph.sort_indices()
    if return_dists is None:
        return graph, sigmas, rhos
    dists = graph_mod.graph_distances(graph, knn_indices, knn_dists) if return_dists else None
    return graph, sigmas, rhos, dists


def smooth_knn_dist(distances, k, n_iter=64, local_connectivity=1.0, bandwidth=1.0):
    """Per-point ``sigma`` and ``rho`` of UMAP's fuzzy set (:func:`densumap.graph.smooth_knn_dist`).

    Parameters
    ----------
    distances : ndarray of shape (n_samples, n_neighbors)
        Sorted kNN distances, each point itself (distance 0) in column 0.
    k : float
        The target of the bandwidth search is ``log2(k) * bandwidth``.
    n_iter : int, default=64
    local_connectivity, bandwidth : float, default=1.0

    Returns
    -------
    sigmas, rhos : ndarray of shape (n_samples,), float32
    """
    return graph_mod.smooth_knn_dist(np.asarray(distances), k, local_connectivity, bandwidth,
                                     n_iter)
