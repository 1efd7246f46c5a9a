"""Cost of random negative samples in a large embedding: per-epoch SGD time with the
negatives drawn from all n points or from the first n/B (a cache-sized block).

Usage: python benchmarks/negative_blocks.py N B1,B2,...

The graph is the exact 15-NN graph of N points of a 3-D Gaussian mixture (50
clusters; cached in /tmp), the layout random; epochs 1-3 of a 200-epoch schedule are
timed. Restricting the pool is not what the library does (it draws from a
pseudo-randomly ordered copy, block by block, see ``layout.negative_blocks``); it
measures what the memory traffic of the samples costs.
"""
import contextlib
import os
import sys
import time

import numpy as np
from sklearn.neighbors import NearestNeighbors

from densumap import graph as G, layout
from densumap._kernels.sgd import NO_DENSITY, SGDParams
from densumap._threads import pool_threads, task_pool

n = int(sys.argv[1])
blocks = [int(b) for b in sys.argv[2].split(",")]
cache = f"/tmp/mixture3d_knn_{n}.npz"
if os.path.exists(cache):
    z = np.load(cache)
    idx, d = z["i"], z["d"]
else:
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 5, (50, 3))
    X = (centres[rng.integers(0, 50, n)] + rng.normal(size=(n, 3))).astype(np.float32)
    d, idx = NearestNeighbors(n_neighbors=15).fit(X).kneighbors(X)
    np.savez(cache, i=idx.astype(np.int32), d=d.astype(np.float32))
g, _, _ = G.fuzzy_simplicial_set(idx, d, 15)
lg = G.layout_graph(g, 200)
a, b = G.find_ab_params(1.0, 0.1)
keys = np.arange(n, dtype=np.uint64)
for nb in blocks:
    emb = np.random.default_rng(1).uniform(0, 10, (n, 2)).astype(np.float32)
    snap = emb.copy()
    sched = layout.make_schedule(lg, 200, 5.0)
    for epoch in range(4):
        p = SGDParams(a, b, 1.0, 1.0, 2.0, epoch, np.uint64(0), n // nb, True)
        t = time.perf_counter()
        with contextlib.ExitStack() as stack:
            layout.jacobi_epoch(task_pool(pool_threads(), stack), emb, snap, sched, p,
                                NO_DENSITY, keys, snap, np.zeros(1, dtype=np.int64))
        if epoch:
            print(f"n={n} pool=n/{nb}: epoch {epoch} {time.perf_counter() - t:.3f} s")
