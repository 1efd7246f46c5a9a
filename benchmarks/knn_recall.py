"""Time and recall of densumap's approximate kNN against pynndescent on Fashion-MNIST.

Usage::

    PYTHONPATH=src python benchmarks/knn_recall.py [--n 20000] [--k 15] [--queries 1000]

Recall is measured on a fixed random sample of query rows against exact brute-force
neighbours (scikit-learn), counting the point itself as a neighbour for both methods.
Each method is called once to compile before it is timed; the methods then run
alternately ``--repeats`` times and the minimum and median wall times are reported.
"""
import argparse
import gzip
import os
import time

import numpy as np
from sklearn.neighbors import NearestNeighbors

DEFAULT_PATH = "/work/shared/data/fashion-mnist/train-images-idx3-ubyte.gz"


def read_idx_images(path, n):
    """First ``n`` images of an IDX3 uint8 file (gzip), as float32 rows."""
    with gzip.open(path, "rb") as f:
        header = np.frombuffer(f.read(16), dtype=">u4")
        if header[0] != 2051:
            raise ValueError(f"{path}: not an IDX3 ubyte file (magic {header[0]}).")
        count, rows, cols = (int(v) for v in header[1:])
        n = min(n, count)
        pixels = np.frombuffer(f.read(n * rows * cols), dtype=np.uint8)
    return pixels.reshape(n, rows * cols).astype(np.float32)


def recall(found, exact):
    return float(np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(found, exact)]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--path", default=DEFAULT_PATH)
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--k", type=int, default=15)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-trees", type=int, default=None)
    parser.add_argument("--leaf-size", type=int, default=None)
    parser.add_argument("--n-iters", type=int, default=None)
    parser.add_argument("--skip-pynndescent", action="store_true")
    args = parser.parse_args()

    import numba

    from densumap.nndescent import approximate_knn, default_parameters

    X = read_idx_images(args.path, args.n)
    n, k = X.shape[0], args.k
    queries = np.sort(np.random.default_rng(0).choice(n, size=min(args.queries, n), replace=False))
    exact = NearestNeighbors(n_neighbors=k, algorithm="brute").fit(X)
    exact_idx = exact.kneighbors(X[queries], return_distance=False)
    print(f"data: {n} x {X.shape[1]} float32, k={k}, {len(queries)} queries, "
          f"numba threads={numba.get_num_threads()}, cpus={os.cpu_count()}")

    opts = dict(n_trees=args.n_trees, leaf_size=args.leaf_size, n_iters=args.n_iters)
    used = tuple(v if v is not None else d for v, d in zip(
        (args.n_trees, args.leaf_size, args.n_iters), default_parameters(n, k)))
    methods = {
        f"densumap approximate_knn {used}":
            lambda data: approximate_knn(data, k, random_state=42, **opts)[0],
    }
    if not args.skip_pynndescent:
        from pynndescent import NNDescent

        methods["pynndescent NNDescent"] = (
            lambda data: NNDescent(data, n_neighbors=k, random_state=42).neighbor_graph[0])
    for run in methods.values():
        run(X[:2000])  # compile (or load the cache)
    # Alternate the methods so that both see the same background load.
    times = {name: [] for name in methods}
    found = {}
    for _ in range(args.repeats):
        for name, run in methods.items():
            start = time.perf_counter()
            found[name] = run(X)
            times[name].append(time.perf_counter() - start)
    for name in methods:
        t = np.array(times[name])
        print(f"{name:45s} time min {t.min():6.2f} s  median {np.median(t):6.2f} s  "
              f"recall {recall(found[name][queries], exact_idx):.4f}")


if __name__ == "__main__":
    main()
