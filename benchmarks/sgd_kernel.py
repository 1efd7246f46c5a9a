"""SGD epochs alone: densumap's kernel against umap-learn's on the same graph.

Usage: python benchmarks/sgd_kernel.py N   (first N Fashion-MNIST images, 200 epochs)

Builds the fuzzy graph once (densumap's kNN, cached in /tmp by _fmnist_graph.py), then times 200 epochs of
densumap's layout with 1 and 2 numba threads and umap-learn's single-threaded
optimize_layout_euclidean (what a seeded umap-learn fit runs) from the same random
initial layout. Prints wall and CPU seconds; CPU seconds are the more stable figure
on a shared machine.
"""
import sys
import time

import numba
import numpy as np

from _fmnist_graph import fmnist_graph
from densumap import graph as G, layout

n = int(sys.argv[1])
g = fmnist_graph(n)
a, b = G.find_ab_params(1.0, 0.1)
n_epochs = 200
lg = G.layout_graph(g, n_epochs)
emb0 = np.random.default_rng(0).uniform(0, 10, (n, 2)).astype(np.float32)
params = layout.LayoutParams(n_epochs=n_epochs, a=a, b=b)
layout.optimize_layout(emb0.copy(), lg, params._replace(n_epochs=2), 0)  # compile
for threads in (1, 2):
    numba.set_num_threads(threads)
    t, c = time.time(), time.process_time()
    layout.optimize_layout(emb0.copy(), lg, params, 0)
    print(f"densumap threads={threads}: wall {time.time() - t:.2f} s, "
          f"cpu {time.process_time() - c:.2f} s")

from umap.layouts import optimize_layout_euclidean  # noqa: E402
from umap.umap_ import make_epochs_per_sample  # noqa: E402

coo = lg.tocoo()
rs = np.random.RandomState(0).randint(-2**31, 2**31 - 1, 3).astype(np.int64)
e = emb0.copy()
optimize_layout_euclidean(e, e, coo.row, coo.col, 2, n, make_epochs_per_sample(coo.data, 2),
                          a, b, rs, 1.0, 1.0, 5.0, parallel=False, move_other=True)
e = emb0.copy()
t, c = time.time(), time.process_time()
optimize_layout_euclidean(e, e, coo.row, coo.col, n_epochs, n,
                          make_epochs_per_sample(coo.data, n_epochs), a, b, rs, 1.0, 1.0, 5.0,
                          parallel=False, move_other=True)
print(f"umap-learn 1 thread: wall {time.time() - t:.2f} s, cpu {time.process_time() - c:.2f} s")
