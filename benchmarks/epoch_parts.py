"""Where one sweep epoch's CPU time goes at scale: the edge scan and per-row set-up,
the attractions, the negative samples.

Usage::

    python benchmarks/epoch_parts.py {aug,mixture} N [--npz F] [--label L]

On one cached kNN graph (the one ``densmap_epochs.py`` caches in ``/tmp``: densumap's,
seed 42, of the first N augmented Fashion-MNIST rows or of N mixture points) and its
spectral initial layout (cached in ``/tmp`` too), builds the layout the way a fit does
(``layout.prepare_layout``, the 400-epoch layout graph, seed 0) and sweeps plain-UMAP
epochs (learning rate 0.5) on the calling thread, every part of the nested bisection
called from Python in level order. Epochs 1-24 bring the layout to a mid-fit state;
then, each from a copy of that state, CPU seconds of epochs 25-34 are measured:

* ``full``: ``negative_sample_rate=5``, as a fit runs them;
* ``no negatives``: rate 0, the same edges due, no negative samples drawn;
* ``nothing due``: epoch 0, in which no edge is due (the scan of every edge's
  schedule and each row's set-up: its random stream and negative-sample block).

So ``no negatives - nothing due`` is the attractions' share and ``full - no
negatives`` the negative samples'. Pin it to one core (``taskset -c 1``). To compare a
kernel change, run it alternately with ``PYTHONPATH`` pointing at each version's
``src``; the printed SHA-1 of the layout after the full epochs tells whether the two
give the same result.
"""
import argparse
import hashlib
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _million import cached_knn, data_arguments, cached_spectral_init  # noqa: E402

from densumap import graph as G  # noqa: E402
from densumap.layout import make_schedule, negative_blocks, prepare_layout  # noqa: E402
from densumap._kernels.sgd import NO_DENSITY, SGDParams, sweep_part  # noqa: E402

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
data_arguments(p)
p.add_argument("--label", default="")
args = p.parse_args()

n = args.n
idx, d = cached_knn(args.data, n, args.npz)
g = G.fuzzy_simplicial_set(idx, d, 15)[0]
lg = G.layout_graph(g, 400)
emb0 = cached_spectral_init(g, f"/tmp/epoch_parts_init_{args.data}_{n}.npy")
a, b = G.find_ab_params(1.0, 0.1)
setup = prepare_layout(emb0, lg, 0, None, True)
sweep = setup.sweep
useed = np.uint64(0)
n_blocks, order, where = negative_blocks(n, 2, useed)


def epoch(work, sched, ep):
    """One sweep epoch on this thread; its CPU seconds. Negative samples are read from
    a copy of the positions taken before it, as in a fit."""
    negs = work.copy() if order is None else work[order]
    prm = SGDParams(a, b, 1.0, 0.5, 1.0, ep, useed, n, True, n_blocks)
    t = time.process_time()
    for level in range(sweep.n_levels + 1):
        for q in range(1 << (sweep.n_levels - level)):
            sweep_part(work, negs, sched, prm, NO_DENSITY, setup.row_keys, sweep, level, q,
                       where)
    return time.process_time() - t


full = make_schedule(setup.graph, 5.0)
bare = make_schedule(setup.graph, 0.0)
work = setup.work.copy()
for ep in range(1, 25):
    epoch(work, full, ep)
mid = work.copy()
res = {}
for name, sched, epochs in (("full", full, range(25, 35)), ("no negatives", bare, range(25, 35)),
                            ("nothing due", full, [0] * 5)):
    w = mid.copy()
    res[name] = np.median([epoch(w, sched, ep) for ep in epochs]) * 1e3
    if name == "full":
        sha = hashlib.sha1(w.tobytes()).hexdigest()[:12]
print(f"{args.label} {args.data} n={n}, {setup.graph.nnz} edges, CPU ms per epoch (median): "
      f"full {res['full']:.0f}, no negatives {res['no negatives']:.0f}, nothing due "
      f"{res['nothing due']:.0f} -> scan and row set-up {res['nothing due']:.0f}, attractions "
      f"{res['no negatives'] - res['nothing due']:.0f}, negative samples "
      f"{res['full'] - res['no negatives']:.0f}; sha1 {sha}", flush=True)
