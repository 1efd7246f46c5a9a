"""Per-kernel CPU time and recall of densumap's approximate kNN (k=15), one process.

Usage (pinned, one numba thread, so that CPU seconds compare across runs)::

    taskset -c 1 env NUMBA_NUM_THREADS=1 PYTHONPATH=src \\
        python benchmarks/knn_stages.py fmnist 70000 [repeats]
    ... python benchmarks/knn_stages.py mixture 200000     # 50-d Gaussian mixture

Every kernel that ``densumap.nndescent`` calls is timed (``time.process_time``) and
counted; recall@15 is measured against exact neighbours of 1,000 random rows. A search
of 5,000 rows first compiles the kernels (or loads them from numba's cache).
"""
import os
import sys
import time

import numpy as np
from sklearn.neighbors import NearestNeighbors

import densumap.nndescent as nd
from _common import TimedKernels
from densumap.datasets import load_fashion_mnist

which, n = sys.argv[1], int(sys.argv[2])
repeats = int(sys.argv[3]) if len(sys.argv) > 3 else 1
if which == "fmnist":
    X, _ = load_fashion_mnist(os.environ.get("FMNIST", "../shared/data/fashion-mnist"))
    X = np.ascontiguousarray(X[:n])
else:
    rng = np.random.default_rng(123)
    centres = rng.normal(size=(20, 50)) * 3
    X = (centres[rng.integers(0, 20, n)] + rng.normal(size=(n, 50))).astype(np.float32)
queries = np.random.default_rng(0).choice(n, 1000, replace=False)
_, exact = NearestNeighbors(n_neighbors=15).fit(X).kneighbors(X[queries])

kernels = nd._k


nd.approximate_knn(X[:5000], 15, random_state=1)
for _ in range(repeats):
    nd._k = timed = TimedKernels(kernels, time.process_time)
    wall, cpu = time.time(), time.process_time()
    indices, _ = nd.approximate_knn(X, 15, random_state=0)
    wall, cpu = time.time() - wall, time.process_time() - cpu
    nd._k = kernels
    recall = np.mean([len(set(a) & set(b)) / 15 for a, b in zip(indices[queries], exact)])
    print(f"{which} {n}: wall {wall:.2f} s, cpu {cpu:.2f} s, recall@15 {recall:.4f}")
    print("   " + ", ".join(f"{name} {s:.2f} s x{timed.calls[name]}" for name, s in
                            sorted(timed.seconds.items(), key=lambda item: -item[1])))
