"""kNN recall@15 and time at 200,000 and 1,000,000 rows: densumap against pynndescent.

Usage::

    PYTHONPATH=src python benchmarks/knn_scale.py --synthetic-sizes 200000,1000000 \
        --npz /tmp/fmnist_aug_1m.npz --npz-sizes 200000,1000000 [--skip-pynndescent]
    PYTHONPATH=src python benchmarks/knn_scale.py --synthetic-sizes '' \
        --fmnist-sizes 70000 --repeats 3      # the tutorial's 70,000 images

Data: the synthetic 50-dimensional Gaussian mixture of ``_worker.synthetic_mixture``,
the first n rows of the augmented Fashion-MNIST set of ``make_fmnist_1m.py``, and the
first n of the 70,000 Fashion-MNIST images themselves (784 raw pixels, ``--data``). Truth: the
exact 15 neighbours (the row itself included) of 1,000 rows drawn with seed 0, by brute
force in float64. pynndescent runs with the parameters umap-learn 0.5.12 gives it
(``n_trees = min(64, 5 + round(sqrt(n) / 20))``, ``n_iters = max(5, round(log2 n))``,
``max_candidates=60``, ``low_memory=True``), which is what a umap-learn user gets. Both use
all numba threads; each is compiled on 2,000 rows before it is timed, and the two run
alternately on each data set (``--repeats`` times) so that they see the same background
load; the medians close the output.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import DEFAULT_DATA  # noqa: E402
from _worker import synthetic_mixture  # noqa: E402


def exact_neighbours(X, queries, k, chunk=100_000):
    """Indices of the exact ``k`` nearest rows of ``X`` to each row in ``queries``."""
    Q = X[queries].astype(np.float64)
    qq = (Q * Q).sum(axis=1)
    best_d = np.full((len(queries), k), np.inf)
    best_i = np.zeros((len(queries), k), dtype=np.int64)
    for start in range(0, X.shape[0], chunk):
        B = X[start:start + chunk].astype(np.float64)
        d = qq[:, None] - 2.0 * Q @ B.T + (B * B).sum(axis=1)[None, :]
        d = np.concatenate([best_d, d], axis=1)
        i = np.concatenate([best_i, np.arange(start, start + B.shape[0])[None, :]
                            .repeat(len(queries), axis=0)], axis=1)
        part = np.argpartition(d, k - 1, axis=1)[:, :k]
        best_d = np.take_along_axis(d, part, axis=1)
        best_i = np.take_along_axis(i, part, axis=1)
    return best_i


def recall(found, exact):
    return float(np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(found, exact)]))


def load(kind, n, npz, data):
    if kind == "synthetic":
        return synthetic_mixture(n)[0]
    if kind == "fmnist":
        from densumap.datasets import load_fashion_mnist
        return np.ascontiguousarray(load_fashion_mnist(data)[0][:n])
    with np.load(npz) as z:
        return np.ascontiguousarray(z["X"][:n], dtype=np.float32)


def pynndescent_knn(X, k, random_state):
    """pynndescent's k-NN indices of every row of ``X``, with the parameters umap-learn
    0.5.12 gives it (its first call in a process includes its compilation)."""
    from pynndescent import NNDescent
    n = X.shape[0]
    return NNDescent(X, n_neighbors=k, random_state=random_state,
                     n_trees=min(64, 5 + int(round(np.sqrt(n) / 20.0))),
                     n_iters=max(5, int(round(np.log2(n)))), max_candidates=60,
                     low_memory=True).neighbor_graph[0]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--synthetic-sizes", default="200000,1000000")
    p.add_argument("--npz", default=None)
    p.add_argument("--npz-sizes", default="")
    p.add_argument("--data", default=str(DEFAULT_DATA),
                   help="Fashion-MNIST directory, for --fmnist-sizes")
    p.add_argument("--fmnist-sizes", default="", help="first n Fashion-MNIST images")
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--k", type=int, default=15)
    p.add_argument("--queries", type=int, default=1000)
    p.add_argument("--skip-pynndescent", action="store_true")
    p.add_argument("--n-trees", type=int, default=None)
    p.add_argument("--n-iters", type=int, default=None)
    args = p.parse_args(argv)

    import numba

    from densumap.nndescent import approximate_knn

    sizes = lambda s: [int(v) for v in s.split(",") if v]  # noqa: E731
    jobs = ([("synthetic", n) for n in sizes(args.synthetic_sizes)]
            + [("fmnist-aug", n) for n in sizes(args.npz_sizes)]
            + [("fmnist", n) for n in sizes(args.fmnist_sizes)])
    k = args.k

    def ours(X):
        return approximate_knn(X, k, random_state=42, n_trees=args.n_trees,
                               n_iters=args.n_iters)[0]

    def pynn(X):
        return pynndescent_knn(X, k, random_state=42)

    methods = {"densumap": ours}
    if not args.skip_pynndescent:
        methods["pynndescent"] = pynn
    warm = synthetic_mixture(2000)[0]
    for run in methods.values():
        run(warm)
    print(f"numba threads {numba.get_num_threads()}, k={k}, {args.queries} queries")
    summary = []
    for kind, n in jobs:
        X = load(kind, n, args.npz, args.data)
        queries = np.sort(np.random.default_rng(0).choice(n, size=args.queries, replace=False))
        truth = exact_neighbours(X, queries, k)
        walls = {name: [] for name in methods}
        for _ in range(args.repeats):
            for name, run in methods.items():
                start = time.perf_counter()
                idx = run(X)
                wall = time.perf_counter() - start
                walls[name].append(wall)
                score = recall(idx[queries], truth)
                print(f"{kind:10s} {n:8d} {name:12s} wall {wall:7.1f} s  "
                      f"recall@{k} {score:.4f}", flush=True)
                del idx
        summary += [f"{kind:10s} {n:8d} {name:12s} median wall {np.median(w):7.1f} s"
                    for name, w in walls.items()]
    if args.repeats > 1:
        print("\n".join(summary))


if __name__ == "__main__":
    main()
