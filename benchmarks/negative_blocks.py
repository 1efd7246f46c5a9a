"""Epoch time of the sweep against the size of the negative-sample blocks, sizes
alternating in one process (the block size is a run-time setting of ``layout``).

Usage::

    python benchmarks/negative_blocks.py {mixture,npz} N [--npz F] [--reps 5]
        [--epochs 6] [--floats 131072,32768,16384] [--seed 42]

``mixture``: N points of the 50-d Gaussian mixture of ``scaling.py``; ``npz``: the
first N rows of an ``.npz`` with ``X`` (``make_fmnist_1m.py``). The kNN (densumap's,
``random_state=42``) and the spectral layout are cached in ``/tmp``. Plain UMAP's
schedule (120 epochs, the Gauss-Seidel sweep), the bisection computed once; each
round runs epochs 1..E from the same start with every block size in turn (``0``: no
blocks, every sample drawn from all points) and prints milliseconds per epoch; the
medians close the output. The tenth session chose 2**15 floats with it
(BENCHMARKS.md).
"""
import argparse
import contextlib
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _worker import synthetic_mixture  # noqa: E402
from densumap import graph as G, layout  # noqa: E402
from densumap.init import initial_layout  # noqa: E402
from densumap.neighbors import nearest_neighbors  # noqa: E402

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
p.add_argument("data", choices=["mixture", "npz"])
p.add_argument("n", type=int)
p.add_argument("--npz", default="/tmp/fmnist_aug_1m.npz")
p.add_argument("--reps", type=int, default=5)
p.add_argument("--epochs", type=int, default=6)
p.add_argument("--floats", default="131072,32768,16384")
p.add_argument("--seed", type=int, default=42)
args = p.parse_args()
sizes = [int(s) for s in args.floats.split(",")]

cache = f"/tmp/negative_blocks_{args.data}_{args.n}.npz"
if os.path.exists(cache):
    z = np.load(cache)
    idx, d, emb0 = z["idx"], z["d"], z["emb"]
else:
    X = synthetic_mixture(args.n)[0] if args.data == "mixture" else np.load(args.npz)["X"][:args.n]
    idx, d = nearest_neighbors(X, 15, seed=42)
    g0, _, _ = G.fuzzy_simplicial_set(idx, d, 15)
    emb0 = initial_layout("spectral", g0, X, 2, np.random.default_rng(42), 42)
    np.savez(cache, idx=idx, d=d, emb=emb0)
g, _, _ = G.fuzzy_simplicial_set(idx, d, 15)
lg = G.layout_graph(g, 120)
a, b = G.find_ab_params(1.0, 0.1)
params = layout.LayoutParams(120, a, b)
graph, work0, _, row_keys, sweep, _ = layout.prepare_layout(emb0, lg, args.seed)


class _Stop(Exception):
    pass


times = {s: [] for s in sizes}
min_floats = layout._NEG_BLOCK_MIN_FLOATS
for rep in range(args.reps):
    for s in sizes:
        layout._NEG_BLOCK_FLOATS = s if s else 1 << 62
        layout._NEG_BLOCK_MIN_FLOATS = min_floats if s else 1 << 62
        sched = layout.make_schedule(graph, 5.0)
        work = work0.copy()
        stamps = []

        def progress():
            stamps.append(time.perf_counter())
            if len(stamps) > args.epochs:
                raise _Stop

        with contextlib.ExitStack() as stack:
            pool = layout._epoch_pool(True, None, stack)
            try:
                layout._epochs(work, graph, sched, params, np.uint64(args.seed), None, sweep,
                               row_keys, pool, progress)
            except _Stop:
                pass
        ms = (stamps[-1] - stamps[0]) / args.epochs * 1000
        times[s].append(ms)
        print(f"round {rep}: {s or 'no'} floats per block: {ms:.0f} ms/epoch", flush=True)
for s in sizes:
    print(f"{s or 'no'} floats per block: median {np.median(times[s]):.0f} ms/epoch "
          f"({', '.join(f'{t:.0f}' for t in times[s])})")
