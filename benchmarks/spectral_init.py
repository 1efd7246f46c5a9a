"""Cost of the spectral initialisation's eigensolver against its Krylov basis size.

Usage: python benchmarks/spectral_init.py N   (first N Fashion-MNIST images)

Builds densumap's fuzzy graph of the first N images (kNN cached in /tmp), then solves
for the top three eigenvectors of D^-1/2 W D^-1/2 with ARPACK (``which="LA"``,
``tol=1e-4``, as ``densumap.init`` does) for several numbers of Lanczos vectors,
``int(sqrt(N))`` (umap-learn's choice) first. Prints the time of each solve and the
cosines of the principal angles between its two non-trivial eigenvectors and those
of the sqrt(N) solve (1.0 = the same subspace).
"""
import sys
import time

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import eigsh

from _fmnist_graph import fmnist_graph

n = int(sys.argv[1])
g = fmnist_graph(n)
deg = np.asarray(g.sum(axis=1)).ravel()
d_inv_sqrt = sp.diags(1.0 / np.sqrt(deg))
M = (d_inv_sqrt @ g @ d_inv_sqrt).astype(np.float64).tocsr()
v0 = np.random.default_rng(0).uniform(-1.0, 1.0, n)
reference = None
for ncv in (int(np.sqrt(n)), 64, 32, 16):
    t = time.perf_counter()
    vals, vecs = eigsh(M, k=3, which="LA", ncv=ncv, tol=1e-4, v0=v0, maxiter=5 * n)
    elapsed = time.perf_counter() - t
    order = np.argsort(vals)[::-1]
    V = vecs[:, order[1:3]]
    if reference is None:
        reference = V
    cosines = np.linalg.svd(reference.T @ V, compute_uv=False)
    print(f"ncv={ncv:4d}: {elapsed:6.2f} s, eigenvalues {np.round(vals[order], 6)}, "
          f"subspace cosines vs ncv={int(np.sqrt(n))}: {np.round(cosines, 6)}")
