"""The approximate-kNN stage alone on the first N Fashion-MNIST images (or the augmented
million's rows), idle or beside ``--load K`` busy loops: wall seconds per kernel.

Usage::

    python benchmarks/knn_busy.py N THREADS [--load K] [--repeats R] [--npz F]

Compiles the kernels on 5,000 rows, then runs ``densumap.nndescent.approximate_knn``
(k=15, seed 1) ``R`` times with ``THREADS`` numba threads while ``K`` competing busy
loops run. Prints, per repeat, the wall and CPU seconds, the wall seconds of every kernel
the driver calls (summed over the pool's threads, so they add up to more than the
wall time), and the SHA-1 of the neighbour indices (equal for any thread count
and load).
"""
import argparse
import hashlib
import os
import subprocess
import sys
import time

import numba
import numpy as np

import densumap.nndescent as nd
from _common import TimedKernels
from densumap.datasets import load_fashion_mnist

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("n", type=int)
p.add_argument("threads", type=int)
p.add_argument("--load", type=int, default=0)
p.add_argument("--repeats", type=int, default=1)
p.add_argument("--npz", default=None, help="read rows from this .npz's array 'X' instead")
args = p.parse_args()

if args.npz:
    X = np.ascontiguousarray(np.load(args.npz)["X"][:args.n])
else:
    X, _ = load_fashion_mnist(os.environ.get("FMNIST", "../shared/data/fashion-mnist"))
    X = np.ascontiguousarray(X[:args.n])

kernels = nd._k


nd.approximate_knn(X[:5000], 15, random_state=1)
numba.set_num_threads(args.threads)
loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
         for _ in range(args.load)]
try:
    for r in range(args.repeats):
        timer = TimedKernels(kernels, time.perf_counter)
        nd._k = timer
        t, c = time.perf_counter(), time.process_time()
        idx, _ = nd.approximate_knn(X, 15, random_state=1)
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        nd._k = kernels
        parts = ", ".join(f"{k} {v:.2f}" for k, v in
                          sorted(timer.seconds.items(), key=lambda kv: -kv[1]) if v >= 0.05)
        print(f"n={args.n} threads={args.threads} load={args.load}: wall {wall:.2f} s, "
              f"cpu {cpu:.2f} s, sha1 {hashlib.sha1(idx.tobytes()).hexdigest()[:10]} "
              f"[{parts}]", flush=True)
finally:
    for proc in loops:
        proc.kill()
