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
