"""Which part of the SGD's dynamics decides DensMAP's quality? (Fashion-MNIST)

Usage::

    python benchmarks/densmap_dynamics.py N SEED VARIANT

Every variant fits ``densumap.UMAP(densmap=True, random_state=SEED)`` on the first N
Fashion-MNIST images and prints the harness's quality metrics
(``_worker.quality_metrics``). The kNN graph, fuzzy graph, input radii and
initialisation are densumap's in every variant; only the optimiser differs:

* ``densumap``: the library as it is;
* ``umap-learn``: umap-learn's ``optimize_layout_euclidean`` (sequential,
  ``move_other=True``) run on densumap's graph, initial layout and standardised
  input radii: isolates the optimiser;
* ``seq:OPTS``: a plain sequential loop (numba, float64, this script) with the same
  per-edge updates as the library and switches, e.g.
  ``seq:fresh=1,both=1,negsnap=1,sumneg=1,order=rows``:

  - ``fresh``: read neighbours' current positions (1) or the epoch's snapshot (0);
  - ``both``: a sampled edge moves both ends (1) or only its row's vertex, twice as
    far (0);
  - ``negsnap``: negative samples read from the snapshot (1) or current positions;
  - ``sumneg``: the negative samples of one attraction summed at one position (1) or
    applied one after the other (0);
  - ``order``: ``rows`` (rows in index order, each row's due edges in a burst),
    ``randrows`` (rows in a random order) or ``pairs`` (vertex pairs in a random
    order, both directions of a pair one after the other).

Slow (single-threaded): about 30 s per variant at N=20,000.
"""
import os
import sys
import time
import warnings

import numba
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _worker import quality_metrics  # noqa: E402

import densumap.layout as layout_mod  # noqa: E402
from densumap._kernels.density import edge_density_coeff, vertex_terms  # noqa: E402
from densumap._kernels.graph import shuffle_rows  # noqa: E402
from densumap._kernels.sgd import _clip  # noqa: E402  (the library's step clip, +-4)
from densumap.datasets import load_fashion_mnist  # noqa: E402
from densumap.density import correlation_state  # noqa: E402


@numba.njit(fastmath=True)
def _seq_epoch(pos, snap, heads, lo, hi, indices, eps, nxt, epsn, nxtn, a, b, alpha, n,
               terms, dscale, fresh, both, negsnap, sumneg, block, rs):
    """Items t = 0..len(heads)-1: vertex heads[t], its entries lo[t]:hi[t].

    ``block`` > 0 (``umap_dynamics.py``): fresh reads and moving the other end only for
    edges whose ends lie in one block of ``block`` consecutive rows; 0: every edge.
    """
    npts, dim = pos.shape
    acc = np.zeros(dim)
    one = 1.0
    for t in range(heads.shape[0]):
        i = heads[t]
        for e in range(lo[t], hi[t]):
            if nxt[e] > n:
                continue
            j = indices[e]
            local = block == 0 or (i // block) == (j // block)
            src = pos if (fresh and local) else snap
            mv = both and local
            d2 = 0.0
            for c in range(dim):
                diff = pos[i, c] - src[j, c]
                d2 += diff * diff
            if d2 > 0.0:
                db = d2**b
                coeff = -2.0 * a * b * db / d2 / (a * db + 1.0)
                dco = 0.0
                if dscale > 0.0:
                    dco = dscale * eps[e] * edge_density_coeff(d2, db, a, b, one, terms, i, j)
                for c in range(dim):
                    diff = pos[i, c] - src[j, c]
                    g = _clip(coeff * diff) + (_clip(dco * diff) if dco != 0.0 else 0.0)
                    pos[i, c] += (1.0 if mv else 2.0) * g * alpha
                    if mv:
                        pos[j, c] -= g * alpha
            nxt[e] += eps[e]
            n_neg = int((n - nxtn[e]) / epsn[e])
            nsrc = snap if (negsnap or not fresh) else pos
            for c in range(dim):
                acc[c] = 0.0
            for _ in range(n_neg):
                rs = (rs * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
                k = (rs >> 33) % npts
                if k == i:
                    continue
                d2 = 0.0
                for c in range(dim):
                    diff = pos[i, c] - nsrc[k, c]
                    d2 += diff * diff
                if d2 > 0.0:
                    coeff = 2.0 * b / ((0.001 + d2) * (a * d2**b + 1.0))
                    for c in range(dim):
                        g = _clip(coeff * (pos[i, c] - nsrc[k, c]))
                        if sumneg:
                            acc[c] += g
                        else:
                            pos[i, c] += g * alpha
            for c in range(dim):
                pos[i, c] += acc[c] * alpha
            nxtn[e] += n_neg * epsn[e]
    return rs


def _items(graph, order, seed):
    """(heads, lo, hi) of the sweep: whole rows, or single entries of vertex pairs."""
    n = graph.shape[0]
    rng = np.random.default_rng(seed)
    if order in ("rows", "randrows"):
        rows = np.arange(n) if order == "rows" else rng.permutation(n)
        return rows, graph.indptr[rows], graph.indptr[rows + 1]
    coo = graph.tocoo()
    entry = np.arange(coo.nnz)
    lo_v, hi_v = np.minimum(coo.row, coo.col), np.maximum(coo.row, coo.col)
    pair_id = np.unique(lo_v * np.int64(n) + hi_v, return_inverse=True)[1]
    pair_order = rng.permutation(pair_id.max() + 1)[pair_id]  # pairs random, directions together
    seq = np.lexsort((entry, pair_order))
    return coo.row[seq], entry[seq], entry[seq] + 1


def umap_clocks(graph, negative_sample_rate):
    """umap-learn's per-edge clocks for ``graph``'s edges: ``(indices, eps, next, eps_neg,
    next_neg)``, the periods ``w_max / w`` and their first due epochs (the sequential
    loops here emulate umap-learn's, so they keep its stateful clocks)."""
    w = graph.data.astype(np.float64)
    eps = w.max() / w
    epsn = eps / negative_sample_rate
    return graph.indices.astype(np.int32), eps, eps.copy(), epsn, epsn.copy()


def sequential_optimizer(opts):
    def optimize(embedding, graph, params, seed, target=None, progress=None, output=None):
        graph = graph.copy()
        shuffle_rows(graph.indptr, graph.indices, graph.data, np.uint64(seed))
        clocks = umap_clocks(graph, params.negative_sample_rate)
        heads, lo, hi = _items(graph, opts.get("order", "rows"), seed)
        w = graph.data.astype(np.float64)
        mu_tot, mu_max = w.sum(), w.max()
        pos = embedding.astype(np.float64)
        rs = 12345 + seed
        for epoch in range(params.n_epochs):
            alpha = params.learning_rate * (1.0 - epoch / params.n_epochs)
            snap = pos.copy()
            terms, dscale = np.zeros((1, 3)), 0.0
            if target is not None and layout_mod.density_active(epoch, params):
                st = correlation_state(snap, graph, target, params.a, params.b,
                                       params.dens_var_shift)
                dscale = params.dens_lambda * mu_tot / (mu_max * st.n_active * st.s)
                terms = vertex_terms(st.mean_sq, st.phi_sum, st.weight)
            rs = _seq_epoch(pos, snap, heads, lo, hi, *clocks, params.a, params.b, alpha,
                            float(epoch),
                            terms, dscale, opts.get("fresh", 1) == 1, opts.get("both", 1) == 1,
                            opts.get("negsnap", 0) == 1, opts.get("sumneg", 0) == 1, 0, rs)
        embedding[:] = pos
        return embedding
    return optimize


def umap_learn_optimizer(embedding, graph, params, seed, target=None, progress=None,
                         output=None):
    from umap.layouts import optimize_layout_euclidean
    from umap.umap_ import make_epochs_per_sample

    coo = graph.tocoo()
    mu_sum = np.zeros(graph.shape[0], dtype=np.float32)
    np.add.at(mu_sum, coo.row, coo.data)
    np.add.at(mu_sum, coo.col, coo.data)
    kw = {"lambda": params.dens_lambda, "frac": params.dens_frac,
          "var_shift": params.dens_var_shift, "mu": coo.data, "mu_sum": mu_sum,
          "R": target.standardized.astype(np.float32)}
    rng_state = np.random.RandomState(seed).randint(-2**31 + 1, 2**31 - 1, 3).astype(np.int64)
    out = optimize_layout_euclidean(
        embedding, embedding, coo.row, coo.col, params.n_epochs, graph.shape[0],
        make_epochs_per_sample(coo.data, params.n_epochs), params.a, params.b, rng_state,
        params.repulsion_strength, params.learning_rate, params.negative_sample_rate,
        parallel=False, densmap=True, densmap_kwds=kw, move_other=True)
    embedding[:] = out
    return embedding


def main():
    n, seed, variant = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    X, y = load_fashion_mnist(os.environ.get("FMNIST", "../shared/data/fashion-mnist"))
    X, y = X[:n], y[:n]
    if variant == "umap-learn":
        warnings.simplefilter("ignore")
        layout_mod.optimize_layout = umap_learn_optimizer
    elif variant.startswith("seq:"):
        opts = {}
        for kv in filter(None, variant[4:].split(",")):
            key, value = kv.split("=")
            opts[key] = value if key == "order" else int(value)
        layout_mod.optimize_layout = sequential_optimizer(opts)
    elif variant != "densumap":
        raise SystemExit(f"unknown variant {variant!r}")
    from densumap import UMAP

    t = time.perf_counter()
    emb = UMAP(densmap=True, random_state=seed).fit(X).embedding_
    elapsed = time.perf_counter() - t
    q = quality_metrics(X, y, emb, 5000)
    print(variant, f"n={n} seed={seed} fit {elapsed:.1f} s",
          {k: round(v, 4) for k, v in q.items() if k != "sample_size"})


if __name__ == "__main__":
    main()
