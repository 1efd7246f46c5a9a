"""The approximate kNN with one of its knobs changed: time and recall@15, one process.

Usage::

    PYTHONPATH=src python benchmarks/knn_variants.py mix 200000 base,noextra,base,noextra
    PYTHONPATH=src python benchmarks/knn_variants.py aug 200000 base,cap30,cap30+heap18

Data: the first N rows of ``mix``, the 1,000,000-point 50-d Gaussian mixture of
``_worker.synthetic_mixture``, or of ``aug``, the augmented Fashion-MNIST set of
``make_fmnist_1m.py`` (``--npz``, default ``/tmp/fmnist_aug_1m.npz``). Each variant
is ``approximate_knn(X, 15, random_state=0)`` after a 3,000-row warm-up, with tokens
joined by ``+``:

- ``base``: as shipped;
- ``noextra``: without the extra trees that searches whose trees' graph recalls
  below 0.4 (0.25 before the seventeenth session) plant before their wide descent
  (on hard data, the code before commit 0abd142);
- ``extraF`` or ``extraFlL``: the hard-data second forest with F times the default
  number of trees (and leaves of L points);
- ``capC``: candidate lists of C (shipped: 30, 15 before the seventeenth session) in
  the first descent;
- ``heapH``: H slots per heap (shipped: 15);
- ``leafL``: tree leaves of at most L points (shipped: 100, 30 before the seventeenth
  session);
- ``treesF``: F times the default number of trees;
- ``deltaD``: stop a descent when a round changes less than D of the entries (0.02);
- ``wideW``: candidate lists of W in the wide descent (shipped: 80, 60 before the
  nineteenth session);
- ``hardR``: skip the first descent when the trees' graph recalls below R (0.4);
- ``noquant``: search float32 rows instead of uint16 codes;
- ``lateT`` or ``lateTlL``: after the first descent (the wide one, on hard data), plant
  T more trees (leaves of L points, default 30) into the settled heaps and
  descend again from what they changed.

``pynndescent`` runs pynndescent with umap-learn 0.5.12's parameters instead (its
first run in a process includes its compilation: run it twice).

Recall: the exact 15 neighbours (the row itself included) of 1,000 rows drawn with seed 0,
by brute force in float64. Run variants alternately to see the machine's noise.
"""
import argparse
import json
import logging
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _worker import synthetic_mixture  # noqa: E402
from knn_scale import exact_neighbours, pynndescent_knn, recall  # noqa: E402

import densumap._nn_rounds as rounds  # noqa: E402
import densumap.nndescent as nd  # noqa: E402

# Each knob: (module, name) and its shipped value, restored before every variant.
_KNOBS = {"_DELTA": rounds, "_WIDE_CANDIDATES": rounds, "descend": rounds,
          "_QUANTIZE_MIN_DIM": nd, "_FOREST_HARD": nd, "_resolve": nd, "_plant_forest": nd}
_DEFAULTS = {name: getattr(module, name) for name, module in _KNOBS.items()}


def _late_trees(n_late, leaf_size):
    """A ``descend`` that, after the search's first descent, plants ``n_late`` more
    trees into the settled heaps and descends again."""
    descend, plant = _DEFAULTS["descend"], _DEFAULTS["_plant_forest"]

    def patched(search, cap, heaps, rows, first_round):
        next_round = descend(search, cap, heaps, rows, first_round)
        if first_round != 0:
            return next_round
        s = search.s
        late = s._replace(n_trees=n_late, leaf_size=leaf_size)
        dim = (search.data32 if search.is_float else search.data16).shape[1]
        node_size = min(nd._node_size(late, dim), rows.shape[1])
        plant(search.data32, search.data16, search.is_float, late, node_size, heaps,
              rows[:, :node_size], search.pool, first=2 * s.n_trees)
        return descend(search, cap, heaps, rows, next_round)

    return patched


def _second_forest(fraction, leaf_size):
    """A ``_plant_forest`` whose second forest (hard data) has ``fraction`` times the
    trees and, if given, leaves of ``leaf_size`` points."""
    plant = _DEFAULTS["_plant_forest"]

    def patched(data32, data16, is_float, s, node_size, heaps, rows, pool, first=0):
        if first == 0:
            return plant(data32, data16, is_float, s, node_size, heaps, rows, pool)
        extra = s._replace(n_trees=max(1, int(round(s.n_trees * fraction))),
                           leaf_size=leaf_size or s.leaf_size)
        return plant(data32, data16, is_float, extra, node_size, heaps, rows, pool,
                     first=first)

    return patched


def configure(variant):
    """Patch ``densumap.nndescent`` for ``variant`` (after restoring the defaults)."""
    for name, value in _DEFAULTS.items():
        setattr(_KNOBS[name], name, value)
    replace, tree_factor = {}, None
    for token in variant.split("+"):
        if token == "base":
            continue
        if token == "noextra":
            plant = _DEFAULTS["_plant_forest"]
            nd._plant_forest = lambda *a, first=0, **k: (
                plant(*a, first=first, **k) if first == 0 else None)
        elif token.startswith("extra"):
            # extraF or extraFlL: the hard-data second forest with F times the trees
            # (and leaves of L points)
            fraction, _, leaf = token[5:].partition("l")
            nd._plant_forest = _second_forest(float(fraction), int(leaf) if leaf else None)
        elif token.startswith("hard"):
            nd._FOREST_HARD = float(token[4:])
        elif token == "noquant":
            nd._QUANTIZE_MIN_DIM = 1 << 30
        elif token.startswith("cap"):
            replace["max_candidates"] = int(token[3:])
        elif token.startswith("leaf"):
            replace["leaf_size"] = int(token[4:])
        elif token.startswith("heap"):
            replace["heap_size"] = int(token[4:])
        elif token.startswith("trees"):
            tree_factor = float(token[5:])
        elif token.startswith("late"):
            count, _, leaf = token[4:].partition("l")
            rounds.descend = _late_trees(int(count), int(leaf) if leaf else 30)
        elif token.startswith("wide"):
            rounds._WIDE_CANDIDATES = int(token[4:])
        elif token.startswith("delta"):
            rounds._DELTA = float(token[5:])
        else:
            raise SystemExit(f"unknown variant token {token!r}")
    resolve = _DEFAULTS["_resolve"]

    def patched(*args):
        s = resolve(*args)
        extra = dict(replace)
        if tree_factor is not None:
            extra["n_trees"] = max(1, int(round(s.n_trees * tree_factor)))
        return s._replace(**extra)

    nd._resolve = patched


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", choices=["mix", "aug"])
    p.add_argument("n", type=int)
    p.add_argument("variants", help="comma-separated, e.g. base,noextra,base,noextra")
    p.add_argument("--npz", default="/tmp/fmnist_aug_1m.npz")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="log the recall probe's estimates (INFO)")
    args = p.parse_args(argv)
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="  %(message)s")
    if args.data == "mix":
        X = np.ascontiguousarray(synthetic_mixture(1_000_000)[0][:args.n])
    else:
        with np.load(args.npz) as z:
            X = np.ascontiguousarray(z["X"][:args.n], dtype=np.float32)
    queries = np.random.default_rng(0).choice(args.n, 1000, replace=False)
    exact = exact_neighbours(X, queries, 15)
    nd.approximate_knn(X[:3000], 15)
    for variant in args.variants.split(","):
        start, cpu = time.perf_counter(), time.process_time()
        if variant == "pynndescent":
            indices = pynndescent_knn(X, 15, random_state=0)
        else:
            configure(variant)
            start, cpu = time.perf_counter(), time.process_time()
            indices, _ = nd.approximate_knn(X, 15, random_state=0)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        print(json.dumps({"data": args.data, "n": args.n, "variant": variant,
                          "time_s": round(elapsed, 2), "cpu_s": round(cpu, 2),
                          "recall": round(recall(indices[queries, :15], exact), 4)}),
              flush=True)
    configure("base")


if __name__ == "__main__":
    main()
