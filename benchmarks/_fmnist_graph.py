"""The fuzzy graph of the first N Fashion-MNIST images, for the kernel-level scripts.

The kNN (k=15, densumap's search, seed 0) is cached in ``/tmp/knn_N.npz`` so that
repeated runs time only what they are about.
"""
import os

import numpy as np

from densumap import graph as G
from densumap.datasets import load_fashion_mnist
from densumap.neighbors import nearest_neighbors


def fmnist_graph(n):
    """Return the fuzzy graph (CSR, not pruned) of the first ``n`` images."""
    cache = f"/tmp/knn_{n}.npz"
    if os.path.exists(cache):
        z = np.load(cache)
        idx, d = z["i"], z["d"]
    else:
        X, _ = load_fashion_mnist(os.environ.get("FMNIST", "../shared/data/fashion-mnist"))
        idx, d = nearest_neighbors(X[:n], 15, seed=0)
        np.savez(cache, i=idx, d=d)
    graph, _, _ = G.fuzzy_simplicial_set(idx, d, 15)
    return graph
