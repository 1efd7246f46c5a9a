"""Fuzzy simplicial sets: from kNN to the symmetric membership graph.

Verb pipeline: ``knn -> smooth_knn_dist -> membership_strengths -> fuzzy_union``,
then, for a supervised fit, ``-> intersect with the target's simplicial set ->
reset_local_connectivity``.
"""
import numpy as np
import scipy.sparse as sp
from scipy.optimize import curve_fit

from ._kernels import graph as _k

SMOOTH_N_ITER = 64


def smooth_knn_dist(knn_dists, k, local_connectivity=1.0, bandwidth=1.0, n_iter=SMOOTH_N_ITER):
    """Per-point connectivity distance ``rho`` and bandwidth ``sigma``.

    ``sigma_i`` solves ``sum_j exp(-max(0, d_ij - rho_i) / sigma_i) = log2(k) *
    bandwidth`` over the neighbours ``j`` of ``i`` (self excluded).

    Parameters
    ----------
    knn_dists : ndarray of shape (n, n_neighbors)
        Sorted distances, column 0 being the point itself.
    k : float
    local_connectivity : float, default=1.0
    bandwidth : float, default=1.0
    n_iter : int, default=64
        Steps of the bisection on ``sigma``.

    Returns
    -------
    sigmas, rhos : ndarray of shape (n,), float32
    """
    knn_dists = np.ascontiguousarray(knn_dists, dtype=np.float32)
    mean_all = float(knn_dists.mean()) if knn_dists.size else 0.0
    return _k.smooth_knn_dist(
        knn_dists, float(k), int(n_iter), float(local_connectivity), float(bandwidth), mean_all
    )


def membership_graph(knn_indices, knn_dists, sigmas, rhos):
    """Directed membership graph ``A`` (n x n CSR) from the kNN lists.

    Rows are sorted by column; a neighbour listed twice has its memberships summed.
    """
    n = knn_indices.shape[0]
    knn_indices = np.ascontiguousarray(knn_indices, dtype=np.int32)
    vals = _k.membership_strengths(
        knn_indices, np.ascontiguousarray(knn_dists, dtype=np.float32), sigmas, rhos)
    indptr, cols, data = _k.knn_rows(knn_indices, vals)
    return _csr(data, cols, indptr, n)


def _csr(data, indices, indptr, n):
    """A canonical CSR matrix (sorted rows, no repeated column) from kernel output."""
    if indptr[-1] <= np.iinfo(np.int32).max:
        indptr = indptr.astype(np.int32)
    graph = sp.csr_matrix((data, indices, indptr), shape=(n, n))
    graph.has_canonical_format = True
    return graph


def fuzzy_union(graph, set_op_mix_ratio=1.0):
    """Symmetrise: ``mix * (A + A^T - A*A^T) + (1 - mix) * (A*A^T)``, in float32.

    Returns a CSR matrix with sorted indices and no explicit zeros. Computed in one
    pass over the rows (:func:`densumap._kernels.graph.fuzzy_union_rows`), with the
    same float32 roundings as scipy's sparse sum and products: a million points took
    3.8 s through scipy and take 1.5 s (BENCHMARKS.md, sixth session).
    """
    a = sp.csr_matrix(graph, dtype=np.float32)
    if not a.has_canonical_format:
        a = a.copy()
        a.sum_duplicates()
    n = a.shape[0]
    if a.shape[1] != n:
        raise ValueError(f"fuzzy_union needs a square graph, got shape {a.shape}.")
    indptr = np.ascontiguousarray(a.indptr, dtype=np.int64)
    t_indptr, t_indices, t_data = _k.csr_transpose(n, indptr, a.indices, a.data)
    out = _k.fuzzy_union_rows(indptr, a.indices, a.data, t_indptr, t_indices, t_data,
                              np.float32(set_op_mix_ratio), np.float32(1.0 - set_op_mix_ratio))
    return _csr(out[2], out[1], out[0], n)


def fuzzy_simplicial_set(
    knn_indices, knn_dists, n_neighbors, set_op_mix_ratio=1.0, local_connectivity=1.0
):
    """The symmetric fuzzy graph of UMAP.

    Parameters
    ----------
    knn_indices : ndarray of shape (n, n_neighbors), int32
        Column 0 is the point itself; ``-1`` marks a removed edge.
    knn_dists : ndarray of shape (n, n_neighbors), float32
    n_neighbors : int
    set_op_mix_ratio, local_connectivity : float

    Returns
    -------
    graph : scipy.sparse.csr_matrix of shape (n, n), float32
    sigmas, rhos : ndarray of shape (n,), float32
    """
    sigmas, rhos = smooth_knn_dist(knn_dists, n_neighbors, local_connectivity)
    directed = membership_graph(knn_indices, knn_dists, sigmas, rhos)
    return fuzzy_union(directed, set_op_mix_ratio), sigmas, rhos


def find_ab_params(spread, min_dist):
    """Fit ``a, b`` of ``1 / (1 + a x^(2b))`` to UMAP's target membership curve.

    The target is 1 below ``min_dist`` and ``exp(-(x - min_dist) / spread)`` above.
    """
    x = np.linspace(0.0, 3.0 * spread, 300)
    y = np.where(x < min_dist, 1.0, np.exp(-(x - min_dist) / spread))

    def curve(x, a, b):
        return 1.0 / (1.0 + a * x ** (2.0 * b))

    (a, b), _ = curve_fit(curve, x, y, p0=(1.0, 1.0), maxfev=10000)
    return float(a), float(b)


def layout_graph(graph, n_epochs):
    """Drop edges too weak to be sampled once in ``n_epochs`` epochs (CSR copy)."""
    pruned = graph.copy()
    if pruned.nnz:
        pruned.data[pruned.data < pruned.data.max() / float(n_epochs)] = 0.0
        pruned.eliminate_zeros()
    return pruned


def sq_edge_distances(graph, knn_indices, knn_dists):
    """Squared input-space distance along every stored edge of ``graph``.

    The kNN lists hold the distance of each edge in at least one direction; the
    symmetric graph may hold the other direction, so both are looked up.

    Returns
    -------
    ndarray of shape (graph.nnz,), float64, aligned with ``graph.data``.
    """
    return edge_distances(graph, knn_indices, knn_dists) ** 2


def graph_distances(graph, knn_indices, knn_dists):
    """The input distance of every edge of ``graph``, as a CSR matrix of its structure.

    ``indices`` and ``indptr`` are copies of the graph's, so the two matrices line
    up entry for entry; a distance of 0 (identical rows) is stored explicitly.

    Returns
    -------
    scipy.sparse.csr_matrix of the shape of ``graph``, float32
    """
    d = edge_distances(graph, knn_indices, knn_dists).astype(np.float32)
    return sp.csr_matrix((d, graph.indices.copy(), graph.indptr.copy()), shape=graph.shape)


def edge_distances(graph, knn_indices, knn_dists):
    """Input-space distance along every stored edge of ``graph`` (see :func:`sq_edge_distances`).

    Each edge's distance is looked up in the two endpoints' kNN lists, the larger kept
    where both hold it (:func:`densumap._kernels.graph.edge_knn_distances`), so any
    order of the graph's entries lines up. It replaced a symmetrised sparse distance
    matrix masked by the graph, whose values lined up only with sorted rows (same values
    bit for bit on sorted rows; about the same CPU time, 0.5-0.8 s for 4.1 million edges).

    Returns
    -------
    ndarray of shape (graph.nnz,), float64, aligned with ``graph.data``.
    """
    out = np.empty(graph.nnz, dtype=np.float64)
    missing = _k.edge_knn_distances(
        graph.indptr, graph.indices, np.ascontiguousarray(knn_indices),
        np.ascontiguousarray(knn_dists), out,
    )
    if missing:  # pragma: no cover - every graph edge comes from a kNN list
        raise RuntimeError(f"{missing} graph edges have no kNN distance")
    return out


# ---------------------------------------------------------------- supervised
# Distance, in units of the membership's exponent, charged to an edge with an
# unlabelled (-1) endpoint: its membership is multiplied by exp(-UNKNOWN_DIST).
UNKNOWN_DIST = 1.0


def far_distance(target_weight):
    """Penalty exponent for edges between different labels (McInnes et al., UMAP).

    ``2.5 / (1 - target_weight)``: 5 at the default weight 0.5, growing without
    bound as the labels take over; at ``target_weight=1`` such edges are cut.
    """
    return 2.5 / (1.0 - target_weight) if target_weight < 1.0 else 1.0e12


def reset_local_connectivity(graph):
    """Rescale every row so its strongest edge is 1, then re-symmetrise (fuzzy union).

    After an intersection a vertex may have lost its nearest neighbour; this
    restores UMAP's assumption that every vertex is connected to at least one
    neighbour with membership 1.  Rows without edges stay empty.
    """
    g = sp.csr_matrix(graph, dtype=np.float32, copy=True)
    row_max = np.zeros(g.shape[0], dtype=np.float32)
    nonempty = np.diff(g.indptr) > 0
    if g.nnz:
        row_max[nonempty] = np.maximum.reduceat(g.data, g.indptr[:-1][nonempty])
    scale = np.where(row_max > 0, 1.0 / np.where(row_max > 0, row_max, 1.0), 0.0)
    g.data = (g.data * np.repeat(scale, np.diff(g.indptr))).astype(np.float32)
    g.eliminate_zeros()
    return fuzzy_union(g, 1.0)


def categorical_intersection(graph, labels, far_dist, unknown_dist=UNKNOWN_DIST):
    """Intersect the graph with the fuzzy set of class labels.

    Every edge ``(i, j)`` keeps its membership when ``i`` and ``j`` share a label,
    is multiplied by ``exp(-far_dist)`` when the labels differ and by
    ``exp(-unknown_dist)`` when either label is unknown (-1); then local
    connectivity is reset (:func:`reset_local_connectivity`).

    Parameters
    ----------
    graph : csr_matrix of shape (n, n)
        Symmetric fuzzy graph.
    labels : ndarray of shape (n,), int
        Class codes ``>= 0``; -1 for unlabelled points.
    far_dist : float
        See :func:`far_distance`.
    unknown_dist : float, default=1.0

    Returns
    -------
    csr_matrix of shape (n, n), float32, symmetric.
    """
    g = sp.csr_matrix(graph, dtype=np.float32, copy=True)
    rows = np.repeat(np.arange(g.shape[0]), np.diff(g.indptr))
    li = labels[rows]
    lj = labels[g.indices]
    unknown = (li < 0) | (lj < 0)
    factor = np.where(unknown, np.exp(-unknown_dist),
                      np.where(li != lj, np.exp(-far_dist), 1.0))
    g.data = (g.data * factor).astype(np.float32)
    g.eliminate_zeros()
    return reset_local_connectivity(g)


def _values_on(matrix, keys, n_cols, floor):
    """Values of ``matrix`` at flat positions ``keys`` (row * n_cols + col); ``floor`` if absent."""
    m = sp.csr_matrix(matrix)
    m.sum_duplicates()
    m.sort_indices()
    own = np.repeat(np.arange(m.shape[0], dtype=np.int64), np.diff(m.indptr)) * n_cols
    own += m.indices
    out = np.full(keys.shape, floor, dtype=np.float64)
    if own.size:
        pos = np.minimum(np.searchsorted(own, keys), own.size - 1)
        hit = own[pos] == keys
        out[hit] = m.data[pos[hit]]
    return out


def general_intersection(left, right, weight):
    """Weighted fuzzy intersection of two graphs on the same vertices.

    On the union of both edge sets, with a missing membership replaced by half
    the smallest membership of its graph (floored at 1e-8)::

        weight <  0.5:  left * right ** (weight / (1 - weight))
        weight >= 0.5:  left ** ((1 - weight) / weight) * right

    so that ``weight = 0`` keeps only ``left`` (the data) and ``weight = 1`` only
    ``right`` (the target).  Edges missing from both stay absent; local
    connectivity is then reset (:func:`reset_local_connectivity`).

    Parameters
    ----------
    left, right : csr_matrix of shape (n, n)
    weight : float in [0, 1]

    Returns
    -------
    csr_matrix of shape (n, n), float32, symmetric.
    """
    n, n_cols = left.shape
    union = sp.csr_matrix(left, dtype=np.float64) + sp.csr_matrix(right, dtype=np.float64)
    union.sum_duplicates()
    union.sort_indices()
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(union.indptr))
    keys = rows * n_cols + union.indices

    def floor(m):
        data = sp.csr_matrix(m).data
        data = data[data > 0]
        return max(float(data.min()) / 2.0, 1e-8) if data.size else 1e-8

    lv = _values_on(left, keys, n_cols, floor(left))
    rv = _values_on(right, keys, n_cols, floor(right))
    if weight < 0.5:
        vals = lv * rv ** (weight / (1.0 - weight))
    else:
        vals = lv ** ((1.0 - weight) / weight) * rv
    result = sp.csr_matrix((vals.astype(np.float32), union.indices.copy(), union.indptr.copy()),
                           shape=left.shape)
    result.eliminate_zeros()
    return reset_local_connectivity(result)
