"""DensMAP's quality against its schedule (epochs, dens_frac, negative-sample blocks)
on one cached kNN graph, to choose the default number of DensMAP epochs.

Usage::

    python benchmarks/densmap_epochs.py {aug,mixture} N VARIANTS [--npz F] [--sample 5000]

``aug``: the first N rows of the augmented Fashion-MNIST set (``make_fmnist_1m.py``,
``--npz``); ``mixture``: N points of ``scaling.py``'s 50-d Gaussian mixture. The kNN
(densumap's, seed 42) is computed once and cached in ``/tmp``; every variant then fits
``densumap.UMAP(densmap=True, precomputed_knn=...)`` on it (spectral initialisation
included) and prints its time and the harness's quality metrics on a 5,000-point
sample (10-NN accuracy / trustworthiness / density correlation,
``_worker.quality_metrics``). VARIANTS is a comma-separated list; each is ``:``-joined
``key=value`` settings, empty for the defaults:

* ``E``: ``n_epochs`` (0 or absent: the library's default);
* ``dens_lambda``, ``dens_frac``, ``dens_var_shift``: as in ``UMAP``;
* ``blocks=0``: negative samples drawn from all points instead of from cache-sized
  blocks (``layout._NEG_BLOCK_FLOATS``);
* ``seed``: ``random_state`` (42);
* ``plain``: epochs run before the density phase when ``E`` is the default above
  100,000 points (``layout.DENSMAP_PLAIN_EPOCHS``, 120; the schedule stays
  umap-learn's 400 epochs, see ``layout.resolve_epochs``).

Examples (the thirteenth and sixteenth sessions' studies, BENCHMARKS.md)::

    python benchmarks/densmap_epochs.py aug 1000000 "E=200,blocks=0:E=200,E=300,E=400"
    python benchmarks/densmap_epochs.py aug 1000000 "E=400,,plain=60,plain=160,E=400:seed=7,seed=7"
"""
import argparse
import os
import sys
import time


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _million import cached_knn, data_arguments, load_rows  # noqa: E402
from _worker import quality_metrics  # noqa: E402

import densumap  # noqa: E402
from densumap import layout  # noqa: E402

p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
data_arguments(p)
p.add_argument("variants", help="comma-separated variants (module docstring); '' = default")
p.add_argument("--sample", type=int, default=5000)
args = p.parse_args()

X, y = load_rows(args.data, args.n, args.npz)
idx, d = cached_knn(args.data, args.n, args.npz, X)

block_floats, block_min = layout._NEG_BLOCK_FLOATS, layout._NEG_BLOCK_MIN_FLOATS
plain_epochs = layout.DENSMAP_PLAIN_EPOCHS
for variant in args.variants.split(","):
    opts = dict(kv.split("=") for kv in variant.split(":") if kv)
    blocks = opts.pop("blocks", "1") == "1"
    layout.DENSMAP_PLAIN_EPOCHS = int(opts.pop("plain", plain_epochs))
    layout._NEG_BLOCK_FLOATS = block_floats if blocks else 1 << 62
    layout._NEG_BLOCK_MIN_FLOATS = block_min if blocks else 1 << 62
    kw = dict(densmap=True, random_state=int(opts.pop("seed", 42)),
              n_epochs=int(opts.pop("E", 0)) or None, precomputed_knn=(idx, d, None))
    kw.update({k: float(v) for k, v in opts.items()})
    t = time.perf_counter()
    est = densumap.UMAP(**kw).fit(X)
    elapsed = time.perf_counter() - t
    q = quality_metrics(X, y, est.embedding_, args.sample)
    print(f"{variant or 'default'} ({est.n_epochs_} epochs): {elapsed:.1f} s, "
          f"{q['knn_acc']:.3f} / {q['trustworthiness']:.3f} / {q['dens_corr']:.3f}",
          flush=True)
