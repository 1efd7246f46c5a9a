"""densumap's deterministic kNN against pynndescent on Fashion-MNIST (time and recall).

Usage: python benchmarks/knn_vs_pynndescent.py N

Times three searches of the first N images (after a warm-up search that compiles;
the first timed call of a process can still load more compiled code), k=15, reports
each, and measures recall against exact neighbours for 1,000 random query rows.
"""
import os
import sys
import time

import numpy as np
from pynndescent import NNDescent
from sklearn.neighbors import NearestNeighbors

from densumap.datasets import load_fashion_mnist
from densumap.neighbors import nearest_neighbors

n = int(sys.argv[1])
X, _ = load_fashion_mnist(os.environ.get("FMNIST", "../shared/data/fashion-mnist"))
X = X[:n]
q = np.random.default_rng(0).choice(n, 1000, replace=False)
_, exact = NearestNeighbors(n_neighbors=15).fit(X).kneighbors(X[q])


def recall(idx):
    return np.mean([len(set(a) & set(b)) / 15 for a, b in zip(idx[q], exact)])


nearest_neighbors(X[:6000], 15, seed=1)
NNDescent(X[:6000], n_neighbors=15, random_state=1)
for repeat in range(3):
    t, c = time.time(), time.process_time()
    idx, _ = nearest_neighbors(X, 15, seed=0)
    print(f"densumap (all threads): wall {time.time() - t:.2f} s, "
          f"cpu {time.process_time() - c:.2f} s, recall {recall(idx):.4f}")
    t, c = time.time(), time.process_time()
    idx, _ = NNDescent(X, n_neighbors=15, random_state=42, n_jobs=1).neighbor_graph
    print(f"pynndescent (seeded, 1 thread as umap-learn runs it): wall {time.time() - t:.2f} s, "
          f"cpu {time.process_time() - c:.2f} s, recall {recall(idx):.4f}")
