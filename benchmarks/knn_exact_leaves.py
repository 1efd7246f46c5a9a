"""Exact neighbours inside big random-projection leaves: how much of the true kNN they hold.

Usage::

    PYTHONPATH=src python benchmarks/knn_exact_leaves.py mix 1000000 2000,8000 5
    PYTHONPATH=src python benchmarks/knn_exact_leaves.py aug 200000 500,2000 6

A study behind a decision (BENCHMARKS.md, twenty-first session), not a search: could
hard data (the 50-d mixture, where NN-descent stops at recall@15 ~0.91 at a million
rows) be searched exactly, by brute force, inside leaves of thousands of points, one
matrix product per leaf? For each leaf size, trees are split by densumap's own kernel
(``split_top``: the perpendicular bisector of two random points of a node, down to
leaves of at most L points); each of 1,000 query rows (seed 0) takes its exact 15 nearest other rows inside
its own leaf, and the script prints the recall@15 of the union over the first T trees
against the exact neighbours over all rows, with the distances a full search of that
tree would compute (the sum over leaves of size^2 / 2). Only the query rows are
searched, so the script is quick; the cost column says what a real search would pay,
and a lower bound of its time: one leaf's float32 product ``A @ A.T`` (numpy's BLAS, all
its threads) timed on random rows, times the leaves, before any selection of the 15
smallest.

With ``--descend``, the search itself: ``approximate_knn(X, 15, random_state=0)`` as
shipped, then with the hard path's second forest (the extra trees planted before the
wide descent) replaced by the exact neighbours inside the leaves of the last leaf size
and all T trees (computed with numpy on the search array, all rows; their time is left
out of the figure): does a better start lift the wide descent's recall?

Data: ``mix``, the first N rows of the 1,000,000-point mixture of
``_worker.synthetic_mixture``, or ``aug``, those of ``make_fmnist_1m.py``'s set
(``--npz``, default ``/tmp/fmnist_aug_1m.npz``).
"""
import argparse
import os
import sys
import time

import numba
import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _worker import synthetic_mixture  # noqa: E402
from knn_scale import exact_neighbours, recall  # noqa: E402

import densumap.nndescent as nd  # noqa: E402
from densumap._kernels import nndescent as _k  # noqa: E402
from densumap._kernels.nndescent.distances import _reduced_distance  # noqa: E402
from densumap._kernels.nndescent.trees import _offer_both  # noqa: E402
from densumap._kernels.nndescent.common import EMPTY, SQEUCLIDEAN  # noqa: E402


def leaves_of(X, leaf_size, tree):
    """Leaf number of every row of densumap's random-projection tree ``tree`` (seed 1),
    split by the search's own kernel down to leaves of at most ``leaf_size`` points."""
    n = X.shape[0]
    data32, data16, is_float = nd._dtype_pair(X, np.float32, np.uint16)
    order = np.empty(n, dtype=np.int32)
    starts = np.empty(n + 1, dtype=np.int64)
    n_leaves = _k.split_top(data32, data16, is_float, X.shape[1], 1, tree, leaf_size,
                            order, starts)
    leaf = np.empty(n, dtype=np.int64)
    leaf[order] = np.repeat(np.arange(n_leaves), np.diff(starts[: n_leaves + 1]))
    return leaf


def leaf_neighbours(A, leaf_size, trees, k):
    """Each row's exact ``k`` nearest other rows inside its leaf of each tree: an
    (n, k * trees) array, -1 where a leaf has fewer than k + 1 points."""
    n = A.shape[0]
    out = np.full((n, k * trees), -1, dtype=np.int64)
    for tree in range(trees):
        leaf = leaves_of(A, leaf_size, tree)
        order = np.argsort(leaf, kind="stable")
        bounds = np.flatnonzero(np.r_[True, np.diff(leaf[order]) != 0, True])
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            idx = order[lo:hi]
            B = A[idx]
            sq = (B * B).sum(axis=1)
            d = sq[:, None] + sq[None, :] - 2.0 * (B @ B.T)
            np.fill_diagonal(d, np.inf)
            m = min(k, idx.size - 1)
            if m > 0:
                part = np.argpartition(d, m - 1, axis=1)[:, :m]
                out[idx, tree * k:tree * k + m] = idx[part]
    return out


@numba.njit(nogil=True)
def _offer_lists(A, lists, heap_idx, heap_dist, heap_flag):
    """Offer every listed pair, at the search's distance on ``A``, to both rows' heaps."""
    n, m = lists.shape
    for i in range(n):
        for c in range(m):
            j = lists[i, c]
            if j >= 0 and j != i:
                d = _reduced_distance(A, i, A, j, SQEUCLIDEAN, 2.0, EMPTY)
                _offer_both(i, j, d, heap_idx, heap_dist, heap_flag)


def descend_from_leaves(X, queries, exact, leaf_size, trees, k):
    """The search as shipped, then with its second forest replaced by exact leaves."""
    shipped = nd._plant_forest
    spent = [0.0]

    def plant(data32, data16, is_float, s, node_size, heaps, rows, pool, first=0):
        if first == 0:
            return shipped(data32, data16, is_float, s, node_size, heaps, rows, pool)
        t0 = time.perf_counter()
        A = (data32 if is_float else data16).astype(np.float32)
        _offer_lists(A, leaf_neighbours(A, leaf_size, trees, k), *heaps)
        spent[0] += time.perf_counter() - t0

    nd.approximate_knn(X[:3000], k)
    for name, planter in (("shipped", shipped), ("exact leaves", plant)):
        nd._plant_forest = planter
        spent[0] = 0.0
        t0 = time.perf_counter()
        indices, _ = nd.approximate_knn(X, k, random_state=0)
        wall = time.perf_counter() - t0 - spent[0]
        print(f"search, {name}: {wall:.1f} s (numpy leaves left out: {spent[0]:.1f} s), "
              f"recall@{k}={recall(indices[queries], exact):.4f}", flush=True)
    nd._plant_forest = shipped


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("data", choices=("mix", "aug"))
    p.add_argument("n", type=int)
    p.add_argument("leaf_sizes", help="comma-separated, e.g. 2000,8000")
    p.add_argument("trees", type=int)
    p.add_argument("--npz", default="/tmp/fmnist_aug_1m.npz")
    p.add_argument("--k", type=int, default=15)
    p.add_argument("--descend", action="store_true")
    args = p.parse_args(argv)
    if args.data == "mix":
        X = synthetic_mixture(1_000_000)[0][: args.n]
    else:
        with np.load(args.npz) as z:
            X = np.ascontiguousarray(z["X"][: args.n], dtype=np.float32)
    k = args.k
    queries = np.random.default_rng(0).choice(X.shape[0], 1000, replace=False)
    exact = exact_neighbours(X, queries, k + 1)
    gaps = X[exact].astype(np.float64) - X[queries][:, None, :]
    exact = np.take_along_axis(exact, np.argsort((gaps ** 2).sum(axis=2), axis=1), axis=1)
    truth = [[j for j in row if j != q][:k] for row, q in zip(exact, queries)]
    for leaf_size in (int(s) for s in args.leaf_sizes.split(",")):
        block = X[np.random.default_rng(2).choice(X.shape[0], leaf_size, replace=False)]
        block @ block.T
        t0 = time.perf_counter()
        for _ in range(5):
            block @ block.T
        per_pair = (time.perf_counter() - t0) / 5 / leaf_size ** 2
        found = [set() for _ in queries]
        pairs = 0
        t0 = time.perf_counter()
        for tree in range(args.trees):
            leaf = leaves_of(X, leaf_size, tree)
            pairs += int((np.bincount(leaf).astype(np.float64) ** 2).sum() / 2)
            for f, q in zip(found, queries):
                members = np.flatnonzero(leaf == leaf[q])
                members = members[members != q]
                d = ((X[members] - X[q]) ** 2).sum(axis=1)
                m = min(k, members.size)
                if m:
                    f.update(members[np.argpartition(d, m - 1)[:m]].tolist())
            hits = np.mean([len(f.intersection(t)) / k for f, t in zip(found, truth)])
            print(f"{args.data} n={args.n} leaves<={leaf_size} trees={tree + 1} "
                  f"recall@{k}={hits:.4f} pair distances={pairs / 1e9:.2f}e9, their products "
                  f">= {2 * pairs * per_pair:.1f} s ({time.perf_counter() - t0:.0f} s)",
                  flush=True)
    if args.descend:
        descend_from_leaves(X, queries, exact[:, :k], leaf_size, args.trees, k)


if __name__ == "__main__":
    main()
