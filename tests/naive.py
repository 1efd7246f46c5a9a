"""Slow, obviously-correct NumPy references for the compiled kernels."""
import numpy as np


def smooth_knn_dist(dists, k, local_connectivity=1.0, n_iter=64, tol=1e-5):
    n, m = dists.shape
    target = np.log2(k)
    sigmas = np.zeros(n)
    rhos = np.zeros(n)
    mean_all = dists.mean()
    for i in range(n):
        row = dists[i, 1:].astype(np.float64)
        pos = row[row > 0]
        if pos.size >= local_connectivity:
            idx = int(np.floor(local_connectivity))
            frac = local_connectivity - idx
            if idx > 0:
                rho = pos[idx - 1]
                if frac > tol:
                    rho += frac * (pos[idx] - pos[idx - 1])
            else:
                rho = frac * pos[0]
        elif pos.size > 0:
            rho = pos.max()
        else:
            rho = 0.0

        def total(sigma):
            return np.where(row - rho > 0, np.exp(-(row - rho) / sigma), 1.0).sum()

        lo, hi, mid = 0.0, np.inf, 1.0
        for _ in range(n_iter):
            s = total(mid)
            if abs(s - target) < tol:
                break
            if s > target:
                hi = mid
                mid = (lo + hi) / 2
            else:
                lo = mid
                mid = mid * 2 if hi == np.inf else (lo + hi) / 2
        floor = 1e-3 * (row.mean() if rho > 0 else mean_all)
        sigmas[i] = max(mid, floor)
        rhos[i] = rho
    return sigmas, rhos


def fuzzy_graph(indices, dists, sigmas, rhos, mix=1.0):
    n = indices.shape[0]
    A = np.zeros((n, n))
    for i in range(n):
        for j, d in zip(indices[i], dists[i]):
            if j < 0 or j == i:
                continue
            A[i, j] = 1.0 if d - rhos[i] <= 0 else np.exp(-(d - rhos[i]) / sigmas[i])
    prod = A * A.T
    return mix * (A + A.T - prod) + (1 - mix) * prod


def log_radii(P, sqdist):
    """log of the P-weighted mean squared distance per row (dense matrices)."""
    return np.log(1e-8 + (P * sqdist).sum(1) / P.sum(1))


def density_correlation(Y, P_mask, R, a, b, var_shift):
    """DensMAP correlation computed directly from its definition."""
    D = ((Y[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    phi = np.where(P_mask, 1.0 / (1.0 + a * D**b), 0.0)
    r = np.log(1e-8 + (phi * D).sum(1) / phi.sum(1))
    rc = r - r.mean()
    return (rc * R).mean() / np.sqrt((rc**2).mean() + var_shift)


def categorical_intersection(P, labels, far_dist, unknown_dist=1.0):
    """Dense reference: scale edges by label agreement, row-max normalise, fuzzy union."""
    A = P.astype(np.float64).copy()
    n = A.shape[0]
    for i in range(n):
        for j in range(n):
            if A[i, j] == 0:
                continue
            if labels[i] < 0 or labels[j] < 0:
                A[i, j] *= np.exp(-unknown_dist)
            elif labels[i] != labels[j]:
                A[i, j] *= np.exp(-far_dist)
    return reset_local_connectivity(A)


def reset_local_connectivity(A):
    A = A.copy()
    mx = A.max(axis=1, keepdims=True)
    A = np.where(mx > 0, A / np.where(mx > 0, mx, 1), 0.0)
    return A + A.T - A * A.T


def general_intersection(L, R, weight):
    """Dense reference of the weighted fuzzy intersection (UMAP, McInnes et al.)."""
    lmin = max(L[L > 0].min() / 2, 1e-8)
    rmin = max(R[R > 0].min() / 2, 1e-8)
    out = np.zeros_like(L, dtype=np.float64)
    for i, j in zip(*np.nonzero((L > 0) | (R > 0))):
        lv = L[i, j] if L[i, j] > 0 else lmin
        rv = R[i, j] if R[i, j] > 0 else rmin
        if weight < 0.5:
            out[i, j] = lv * rv ** (weight / (1 - weight))
        else:
            out[i, j] = lv ** ((1 - weight) / weight) * rv
    return reset_local_connectivity(out)


# ------------------------------------------------------------------ input metrics
# Textbook formulas of the metrics SciPy no longer has (or never had), for
# tests/test_metrics.py. Binary metrics count non-zero entries as true.
def binary_counts(x, y):
    a, b = np.asarray(x) != 0, np.asarray(y) != 0
    return np.sum(a & b), np.sum(a & ~b), np.sum(~a & b), a.size


def kulsinski(x, y):
    tt, tf, ft, n = binary_counts(x, y)
    return (tf + ft - tt + n) / (tf + ft + n)


def sokalmichener(x, y):
    tt, tf, ft, n = binary_counts(x, y)
    ff = n - tt - tf - ft
    r = 2.0 * (tf + ft)
    return r / (tt + ff + r)


def poincare(u, v):
    u, v = np.asarray(u, np.float64), np.asarray(v, np.float64)
    delta = 2 * np.sum((u - v) ** 2) / ((1 - u @ u) * (1 - v @ v))
    return np.arccosh(1 + delta)


def edge_distances(G, knn_indices, knn_dists):
    """Distance of every stored edge of CSR ``G``: the larger of ``d_ij`` (``j`` in ``i``'s
    kNN list) and ``d_ji``, each side taken as ``sum(d + 1)`` over its matches, minus 1."""
    n = G.shape[0]
    out = np.empty(G.nnz)
    for i in range(n):
        for e in range(G.indptr[i], G.indptr[i + 1]):
            j = G.indices[e]
            fwd = sum(float(d) + 1.0 for c, d in zip(knn_indices[i], knn_dists[i]) if c == j)
            bwd = sum(float(d) + 1.0 for c, d in zip(knn_indices[j], knn_dists[j]) if c == i)
            assert fwd or bwd, (i, j)
            out[e] = max(max(fwd, bwd) - 1.0, 0.0)
    return out
