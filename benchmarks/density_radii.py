"""DensMAP's per-epoch embedding radii: libm ``powf`` in one chain against fast powers
in vector lanes (``_kernels.density.embedding_radii`` / ``embedding_radii32``).

Usage::

    PYTHONPATH=src python benchmarks/density_radii.py [N] [--reps R]

On the fuzzy graph of the first N Fashion-MNIST images (default 70,000; kNN cached by
``_fmnist_graph``) and its spectral layout rescaled to 10 (the spread of an embedding),
with the vertices renumbered by the same nested bisection as the layout's sweep (so
that memory access is as in a fit), prints the median time of one pass of each kernel
over all rows on this thread, the largest relative difference of their ``m_i``, and the
median time of a whole ``density.correlation_state`` call (two threads, its own pool).
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _fmnist_graph import fmnist_graph  # noqa: E402

from densumap import graph as G  # noqa: E402
from densumap import layout  # noqa: E402
from densumap._kernels import density as K  # noqa: E402
from densumap.density import DensityTarget, correlation_state  # noqa: E402
from densumap.init import rescale, spectral_layout  # noqa: E402
from densumap.partition import bisect, n_levels_for  # noqa: E402


def median_ms(fn, reps):
    fn()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * float(np.median(times))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("n", type=int, nargs="?", default=70_000)
    p.add_argument("--reps", type=int, default=20)
    args = p.parse_args(argv)
    graph = G.layout_graph(fmnist_graph(args.n), 200)
    emb = rescale(spectral_layout(graph, 2, np.random.default_rng(0))).astype(np.float32)
    plan = bisect(emb, graph, n_levels_for(args.n), 42)
    graph, emb, _ = layout._renumber(graph, emb, None, plan.perm)
    n = emb.shape[0]
    a, b = (np.float32(v) for v in G.find_ab_params(1.0, 0.1))
    print(f"n = {n}, edges = {graph.nnz}, a = {a:.4f}, b = {b:.4f}")
    out = {}
    for kern in (K.embedding_radii, K.embedding_radii32):
        mean_sq, phi_sum = np.empty(n), np.empty(n)

        def one_pass():
            kern(0, n, emb, graph.indptr, graph.indices, a, b, mean_sq, phi_sum)

        ms = median_ms(one_pass, args.reps)
        out[kern.__name__] = mean_sq.copy()
        print(f"{kern.__name__:>18}: {ms:7.2f} ms per pass (one thread), "
              f"{1e6 * ms / graph.nnz:.1f} ns per edge")
    ref, fast = out["embedding_radii"], out["embedding_radii32"]
    print(f"largest relative difference of m_i: {np.max(np.abs(fast - ref) / ref):.2e}")
    rng = np.random.default_rng(0)
    R = rng.standard_normal(n)
    target = DensityTarget(R, R, np.ones(n, dtype=bool), 0.0, 1.0)
    ms = median_ms(lambda: correlation_state(emb, graph, target, a, b, 0.1), args.reps)
    print(f"correlation_state (float32, own pool of threads): {ms:.2f} ms per call")


if __name__ == "__main__":
    main()
