"""Kernels for the fuzzy simplicial set: smooth kNN distances and memberships."""
import numpy as np
from numba import prange

from ._config import kernel
from .rng import mix64

_SMOOTH_TOL = 1e-5
# Floor of sigma relative to the mean neighbour distance; keeps memberships finite
# when all neighbours sit at the same distance (UMAP paper, section 3).
_MIN_SIGMA_SCALE = 1e-3


@kernel(parallel=True)
def smooth_knn_dist(distances, k, n_iter, local_connectivity, bandwidth, mean_all):
    """Per-row rho (distance to the nearest neighbours) and sigma (bandwidth).

    Parameters
    ----------
    distances : ndarray of shape (n, n_neighbors), float32
        Sorted kNN distances; column 0 is the point itself and is ignored.
    k : float
        Number of neighbours that defines the target ``log2(k) * bandwidth``.
    n_iter : int
        Binary-search iterations.
    local_connectivity : float
        Number of nearest neighbours assumed connected; fractional values interpolate.
    bandwidth : float
    mean_all : float
        Mean of all distances, used for the sigma floor of rows whose rho is zero.

    Returns
    -------
    sigmas, rhos : ndarray of shape (n,), float32
    """
    n, m = distances.shape
    target = np.log2(k) * bandwidth
    sigmas = np.zeros(n, dtype=np.float32)
    rhos = np.zeros(n, dtype=np.float32)
    for i in prange(n):
        # rho: the local_connectivity-th smallest positive distance, interpolated.
        n_pos = 0
        for j in range(1, m):
            if distances[i, j] > 0.0:
                n_pos += 1
        rho = 0.0
        if n_pos >= local_connectivity:
            index = int(np.floor(local_connectivity))
            interp = local_connectivity - index
            seen = 0
            lower = 0.0
            upper = 0.0
            for j in range(1, m):
                d = distances[i, j]
                if d > 0.0:
                    seen += 1
                    if seen == index:
                        lower = d
                    if seen == index + 1:
                        upper = d
                        break
            if index > 0:
                rho = lower
                if interp > _SMOOTH_TOL:
                    rho += interp * (upper - lower)
            else:
                rho = interp * upper
        elif n_pos > 0:
            for j in range(m - 1, 0, -1):
                if distances[i, j] > 0.0:
                    rho = distances[i, j]
                    break
        lo = 0.0
        hi = np.inf
        mid = 1.0
        for _ in range(n_iter):
            psum = 0.0
            for j in range(1, m):
                d = distances[i, j] - rho
                if d > 0.0:
                    psum += np.exp(-(d / mid))
                else:
                    psum += 1.0
            if abs(psum - target) < _SMOOTH_TOL:
                break
            if psum > target:
                hi = mid
                mid = (lo + hi) / 2.0
            else:
                lo = mid
                if hi == np.inf:
                    mid *= 2.0
                else:
                    mid = (lo + hi) / 2.0
        row_mean = 0.0
        for j in range(1, m):
            row_mean += distances[i, j]
        row_mean /= max(m - 1, 1)
        floor = _MIN_SIGMA_SCALE * (row_mean if rho > 0.0 else mean_all)
        if mid < floor:
            mid = floor
        sigmas[i] = mid
        rhos[i] = rho
    return sigmas, rhos


@kernel(parallel=True)
def membership_strengths(indices, distances, sigmas, rhos):
    """Directed membership of each kNN edge, ``exp(-(d - rho) / sigma)``.

    Parameters
    ----------
    indices : ndarray of shape (n, n_neighbors), int32
        Neighbour indices; ``-1`` marks a removed edge.
    distances : ndarray of shape (n, n_neighbors), float32
    sigmas, rhos : ndarray of shape (n,), float32

    Returns
    -------
    values : ndarray of shape (n, n_neighbors), float32
        Zero for self-loops and removed edges.
    """
    n, m = indices.shape
    values = np.zeros((n, m), dtype=np.float32)
    for i in prange(n):
        for j in range(m):
            nb = indices[i, j]
            if nb < 0 or nb == i:
                continue
            d = distances[i, j] - rhos[i]
            if d <= 0.0 or sigmas[i] == 0.0:
                values[i, j] = 1.0
            else:
                values[i, j] = np.exp(-(d / sigmas[i]))
    return values


@kernel(parallel=True)
def shuffle_rows(indptr, indices, data, seed):
    """Put the entries of every CSR row in a fixed pseudo-random order, in place.

    The SGD applies a vertex's attractions one after the other in the order of its
    row, so an order that follows the geometry (column indices of data sorted along
    an axis, say) would bias every step the same way; a hash of ``(seed, row,
    column)`` decides the order instead. It depends on the row and column indices
    only, never on the thread count.

    Parameters
    ----------
    indptr : ndarray of shape (n + 1,)
    indices : ndarray of shape (nnz,)
        Updated in place.
    data : ndarray of shape (nnz,)
        Updated in place, with ``indices``.
    seed : uint64
    """
    n = indptr.shape[0] - 1
    for i in prange(n):
        lo = indptr[i]
        hi = indptr[i + 1]
        if hi - lo < 2:
            continue
        keys = np.empty(hi - lo, dtype=np.uint64)
        row_key = mix64(seed ^ mix64(np.uint64(i)))
        for e in range(lo, hi):
            keys[e - lo] = mix64(row_key ^ np.uint64(indices[e]))
        order = np.argsort(keys)
        cols = indices[lo:hi].copy()
        vals = data[lo:hi].copy()
        for t in range(hi - lo):
            indices[lo + t] = cols[order[t]]
            data[lo + t] = vals[order[t]]


@kernel(parallel=True)
def row_levels(indptr, indices, part):
    """The level of every row: where the row's vertex and all its neighbours first
    share one part of a nested bisection (``densumap.partition``).

    The level of edge ``(i, j)`` is the number of bits of ``part[i] ^ part[j]`` (0 when
    both ends are in one finest part); a row's level is the highest of its edges'.

    Parameters
    ----------
    indptr : ndarray of shape (n + 1,)
    indices : ndarray of shape (nnz,)
    part : ndarray of shape (n,), int64
        Finest part of each vertex, in ``[0, 2**L)``.

    Returns
    -------
    level : ndarray of shape (n,), int64
    """
    n = indptr.shape[0] - 1
    level = np.zeros(n, dtype=np.int64)
    for i in prange(n):
        x = 0
        for e in range(indptr[i], indptr[i + 1]):
            x |= part[i] ^ part[indices[e]]
        lev = 0
        while x > 0:
            x >>= 1
            lev += 1
        level[i] = lev
    return level


@kernel(parallel=True)
def neighbour_extent(indptr, indices, data, coords, group):
    """Smallest and largest coordinates over each vertex and its neighbours of its group.

    Parameters
    ----------
    indptr, indices, data : CSR graph with ``n`` vertices; entries of weight 0 are
        not edges.
    coords : ndarray of shape (n, dim), float64
    group : ndarray of shape (n,), int64
        Only neighbours ``j`` with ``group[j] == group[i]`` count for vertex ``i``.

    Returns
    -------
    lo, hi : ndarrays of shape (n, dim), float64
        On axis ``ax``, a cut ``coords[:, ax] > t`` separates ``i`` from one of those
        neighbours exactly when ``lo[i, ax] <= t < hi[i, ax]``.
    """
    n, dim = coords.shape
    lo = coords.copy()
    hi = coords.copy()
    for i in prange(n):
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            if group[j] == group[i] and data[e] != 0:
                for ax in range(dim):
                    c = coords[j, ax]
                    if c < lo[i, ax]:
                        lo[i, ax] = c
                    if c > hi[i, ax]:
                        hi[i, ax] = c
    return lo, hi


@kernel(parallel=True)
def edge_knn_distances(indptr, indices, knn_indices, knn_dists, out):
    """Input distance of every stored edge of a graph, looked up in the kNN lists.

    The distance of edge ``(i, j)`` is found in ``i``'s list (``j`` among its
    neighbours) or in ``j``'s list (``i`` among its); where both hold it, the larger
    is kept. Values are formed as ``max(d_ij + 1, d_ji + 1) - 1`` in float64, clipped at
    0, with a missing side counting 0 and a neighbour listed twice summed, which is how
    the earlier sparse-matrix form built them, so the two agree bit for bit.

    Parameters
    ----------
    indptr, indices : ndarray
        CSR structure of the graph, shape (n + 1,) and (nnz,).
    knn_indices : ndarray of shape (n, n_neighbors), int
        Neighbour lists; negative entries are empty slots.
    knn_dists : ndarray of shape (n, n_neighbors), float
    out : ndarray of shape (nnz,), float64
        Filled with the distances, aligned with the graph's entries.

    Returns
    -------
    int
        Number of edges found in neither list (their ``out`` entries are 0).
    """
    n = indptr.shape[0] - 1
    m = knn_indices.shape[1]
    missing = 0
    for i in prange(n):
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            forward = 0.0
            for p in range(m):
                if knn_indices[i, p] == j:
                    forward += np.float64(knn_dists[i, p]) + 1.0
            backward = 0.0
            for p in range(m):
                if knn_indices[j, p] == i:
                    backward += np.float64(knn_dists[j, p]) + 1.0
            if forward == 0.0 and backward == 0.0:
                missing += 1
            out[e] = max(max(forward, backward) - 1.0, 0.0)
    return missing


@kernel()
def knn_rows(indices, values):
    """The kNN lists as CSR rows: entries with ``values > 0`` (and a neighbour ``>= 0``),
    each row sorted by column, repeated neighbours summed in list order.

    Returns
    -------
    indptr : ndarray of shape (n + 1,), int64
    cols : ndarray, int32
    vals : ndarray, float32
    """
    n, m = indices.shape
    indptr = np.zeros(n + 1, dtype=np.int64)
    cols = np.empty(n * m, dtype=np.int32)
    vals = np.empty(n * m, dtype=np.float32)
    row_c = np.empty(m, dtype=np.int32)
    row_v = np.empty(m, dtype=np.float32)
    pos = 0
    for i in range(n):
        cnt = 0
        for j in range(m):
            c = indices[i, j]
            v = values[i, j]
            if c < 0 or not v > 0.0:
                continue
            # Insertion sort by column; a repeated column goes after its equals.
            k = cnt
            while k > 0 and row_c[k - 1] > c:
                row_c[k] = row_c[k - 1]
                row_v[k] = row_v[k - 1]
                k -= 1
            row_c[k] = c
            row_v[k] = v
            cnt += 1
        for k in range(cnt):
            if k > 0 and row_c[k] == cols[pos - 1]:
                vals[pos - 1] += row_v[k]
            else:
                cols[pos] = row_c[k]
                vals[pos] = row_v[k]
                pos += 1
        indptr[i + 1] = pos
    return indptr, cols[:pos].copy(), vals[:pos].copy()


@kernel()
def csr_transpose(n_cols, indptr, indices, data):
    """The transpose of a CSR matrix, as CSR with every row sorted (a counting sort)."""
    n_rows = indptr.shape[0] - 1
    nnz = indptr[n_rows]
    t_indptr = np.zeros(n_cols + 1, dtype=np.int64)
    for jj in range(nnz):
        t_indptr[indices[jj] + 1] += 1
    for c in range(n_cols):
        t_indptr[c + 1] += t_indptr[c]
    fill = t_indptr[:-1].copy()
    t_indices = np.empty(nnz, dtype=np.int32)
    t_data = np.empty(nnz, dtype=data.dtype)
    for i in range(n_rows):
        for jj in range(indptr[i], indptr[i + 1]):
            c = indices[jj]
            dst = fill[c]
            t_indices[dst] = i
            t_data[dst] = data[jj]
            fill[c] = dst + 1
    return t_indptr, t_indices, t_data


@kernel()
def fuzzy_union_rows(indptr, indices, data, t_indptr, t_indices, t_data, mix, co_mix):
    """``mix * (A + A^T - A * A^T) + co_mix * (A * A^T)`` entry by entry, in float32.

    ``A`` is a canonical float32 CSR matrix (sorted rows, no repeated column) and
    ``A^T`` its transpose (:func:`csr_transpose`); ``mix`` and ``co_mix`` are float32.
    Each step rounds to float32 as scipy's sparse sum, product and scalar products of
    float32 matrices do, so the result is the same to the last bit; zeros are dropped.

    Returns
    -------
    indptr : ndarray of shape (n + 1,), int64
    indices : ndarray, int32, sorted in every row
    data : ndarray, float32
    """
    n = indptr.shape[0] - 1
    out_indptr = np.zeros(n + 1, dtype=np.int64)
    for i in range(n):  # first pass: the size of every merged row
        a, a_end = indptr[i], indptr[i + 1]
        b, b_end = t_indptr[i], t_indptr[i + 1]
        cnt = 0
        while a < a_end or b < b_end:
            if b == b_end or (a < a_end and indices[a] < t_indices[b]):
                a += 1
            elif a == a_end or t_indices[b] < indices[a]:
                b += 1
            else:
                a += 1
                b += 1
            cnt += 1
        out_indptr[i + 1] = out_indptr[i] + cnt
    out_indices = np.empty(out_indptr[n], dtype=np.int32)
    out_data = np.empty(out_indptr[n], dtype=np.float32)
    pos = 0
    for i in range(n):
        a, a_end = indptr[i], indptr[i + 1]
        b, b_end = t_indptr[i], t_indptr[i + 1]
        start = pos
        while a < a_end or b < b_end:
            if b == b_end or (a < a_end and indices[a] < t_indices[b]):
                col = indices[a]
                val = mix * data[a]
                a += 1
            elif a == a_end or t_indices[b] < indices[a]:
                col = t_indices[b]
                val = mix * t_data[b]
                b += 1
            else:
                col = indices[a]
                x = data[a]
                y = t_data[b]
                both = x * y
                val = mix * ((x + y) - both) + co_mix * both
                a += 1
                b += 1
            if val != 0.0:
                out_indices[pos] = col
                out_data[pos] = val
                pos += 1
        out_indptr[i] = start
    out_indptr[n] = pos
    return out_indptr, out_indices[:pos].copy(), out_data[:pos].copy()
