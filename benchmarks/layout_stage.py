"""The layout stage alone (SGD epochs, UMAP or DensMAP) on the first N Fashion-MNIST
images, for studies of the sweep on an idle or a busy machine.

Usage::

    python benchmarks/layout_stage.py N {umap,densmap} THREADS [--load K] [--save F]

Builds the fuzzy graph once (densumap's kNN, cached in /tmp by ``_fmnist_graph.py``)
and the spectral initial layout (cached too), compiles the kernels on a 3-epoch run,
then times 200 epochs (``dens_lambda=2``, ``dens_frac=0.3`` for DensMAP) with
``THREADS`` numba threads, with ``K`` competing busy loops running. Prints wall and
CPU seconds and the SHA-1 of the embedding (equal for any thread count).
"""
import argparse
import hashlib
import subprocess
import sys
import time

import numba
import numpy as np

from _fmnist_graph import fmnist_graph
from _million import cached_spectral_init
from densumap import density, graph as G, layout

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("n", type=int)
p.add_argument("mode", choices=["umap", "densmap"])
p.add_argument("threads", type=int)
p.add_argument("--load", type=int, default=0)
p.add_argument("--save", default=None, help="write the embedding to this .npy file")
args = p.parse_args()

g = fmnist_graph(args.n)
z = np.load(f"/tmp/knn_{args.n}.npz")
lg = G.layout_graph(g, 200)
emb0 = cached_spectral_init(g, f"/tmp/init_{args.n}.npy")
dm = args.mode == "densmap"
a, b = G.find_ab_params(1.0, 0.1)
target = density.density_target(lg, z["i"], z["d"]) if dm else None
params = layout.LayoutParams(n_epochs=200, a=a, b=b, dens_lambda=2.0 if dm else 0.0,
                             dens_frac=0.3 if dm else 0.0, dens_var_shift=0.1)
layout.optimize_layout(emb0.copy(), lg, params._replace(n_epochs=3, dens_frac=1.0 if dm else 0.0),
                       0, target)
numba.set_num_threads(args.threads)
loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(args.load)]
try:
    t, c = time.perf_counter(), time.process_time()
    e = layout.optimize_layout(emb0.copy(), lg, params, 0, target)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
finally:
    for proc in loops:
        proc.kill()
print(f"{args.mode} n={args.n} threads={args.threads} load={args.load}: wall {wall:.2f} s, "
      f"cpu {cpu:.2f} s, sha1 {hashlib.sha1(e.tobytes()).hexdigest()[:10]}")
if args.save:
    np.save(args.save, e)
