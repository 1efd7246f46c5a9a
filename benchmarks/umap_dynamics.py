"""Why is plain UMAP's quality below umap-learn's at large n? Graph+init or optimiser?

Usage::

    python benchmarks/umap_dynamics.py prep-densumap   --npz F --n N
    python benchmarks/umap_dynamics.py prep-umap-learn --npz F --n N
    python benchmarks/umap_dynamics.py opt --npz F --n N --inputs {densumap,umap-learn} VARIANT

``prep-densumap`` fits ``densumap.UMAP(random_state=42, n_epochs=200)`` on the first N
rows of ``X`` in the ``.npz`` and saves the layout graph (pruned), the initial layout and
a, b to ``/tmp/qs_densumap_N.npz``; ``prep-umap-learn`` does the same for
``umap.UMAP`` (graph as the ``head``, ``tail``, ``epochs_per_sample`` its optimiser
gets, initial layout after umap-learn's rescaling and noise) into
``/tmp/qs_umap-learn_N.npz``. Both print the quality of their own full fit.

``opt`` loads one of those inputs and runs one optimiser on it (200 epochs, seed 42,
negative_sample_rate 5, learning rate 1), then prints ``_worker.quality_metrics``
(5,000-point sample, the harness's) and the optimiser's wall time:

* ``densumap``: ``densumap.layout.optimize_layout`` (the library: Jacobi sweep);
* ``umap-learn``: ``umap.layouts.optimize_layout_euclidean`` (sequential, move_other);
* ``sweep``: the library's DensMAP Gauss-Seidel level sweep (nested bisection,
  both ends of an edge moved, fresh reads), the density term off;
* ``seq:OPTS``: a sequential numba loop (float64) with switches
  ``fresh, both, negsnap, sumneg, order`` as in ``densmap_dynamics.py``, plus

  - ``z=1``: vertices renumbered in the library's Z-order of the initial layout first;
  - ``block=B``: fresh reads and moving the other end only for edges whose two ends
    lie in the same block of B consecutive rows; other edges read the epoch's
    snapshot and move only the row's vertex, twice as far (a model of a parallel,
    thread-count-independent kernel whose tasks own row blocks; use with negsnap=1).
"""
import argparse
import os
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _worker import quality_metrics  # noqa: E402
# The sequential reference loop (density term off here) and its item orders.
from densmap_dynamics import _items, _seq_epoch, umap_clocks  # noqa: E402

SEED = 42
N_EPOCHS = 200
NEG_RATE = 5.0


def load(npz, n):
    d = np.load(npz)
    return np.ascontiguousarray(d["X"][:n]), np.asarray(d["y"][:n])


def report(label, X, y, emb, seconds, cpu=None):
    q = quality_metrics(X, y, emb, 5000)
    cpu_txt = "" if cpu is None else f" (CPU {cpu:.1f} s, all threads)"
    print(label, f"optimiser/fit {seconds:.1f} s{cpu_txt}",
          {k: round(v, 4) for k, v in q.items() if k != "sample_size"}, flush=True)


# ------------------------------------------------------------------ prep


def _fit_and_save(which, UMAP, X, y, n, saved):
    """Fit ``UMAP`` (its optimiser patched to fill ``saved``), save the captured inputs
    to ``/tmp/qs_WHICH_N.npz`` and report the full fit."""
    t = time.perf_counter()
    emb = UMAP(random_state=SEED, n_epochs=N_EPOCHS).fit(X).embedding_
    fit_s = time.perf_counter() - t
    np.savez(f"/tmp/qs_{which}_{n}.npz", **saved)
    print(f"optimiser {saved['opt_s']:.1f} s")
    report(f"prep-{which} (full fit)", X, y, emb, fit_s)


def prep_densumap(X, y, n):
    import densumap.layout as layout_mod
    from densumap import UMAP

    real = layout_mod.optimize_layout
    saved = {}

    def capture(embedding, graph, params, seed, target=None, progress=None, output=None):
        saved.update(indptr=graph.indptr, indices=graph.indices, data=graph.data,
                     init=embedding.copy(), a=params.a, b=params.b)
        t = time.perf_counter()
        out = real(embedding, graph, params, seed, target, progress, output)
        saved["opt_s"] = time.perf_counter() - t
        return out

    layout_mod.optimize_layout = capture
    _fit_and_save("densumap", UMAP, X, y, n, saved)


def prep_umap_learn(X, y, n):
    import umap.umap_ as umap_mod
    from umap import UMAP

    real = umap_mod.optimize_layout_euclidean
    saved = {}

    def capture(head_embedding, tail_embedding, head, tail, n_epochs, n_vertices,
                epochs_per_sample, a, b, rng_state, *args, **kw):
        saved.update(head=head, tail=tail, eps=epochs_per_sample,
                     init=head_embedding.copy(), a=a, b=b)
        t = time.perf_counter()
        out = real(head_embedding, tail_embedding, head, tail, n_epochs, n_vertices,
                   epochs_per_sample, a, b, rng_state, *args, **kw)
        saved["opt_s"] = time.perf_counter() - t
        return out

    umap_mod.optimize_layout_euclidean = capture
    warnings.simplefilter("ignore")
    _fit_and_save("umap-learn", UMAP, X, y, n, saved)


def load_inputs(which, n):
    """(csr graph with sorted indices, float32 init, a, b)."""
    d = np.load(f"/tmp/qs_{which}_{n}.npz")
    if which == "densumap":
        g = sp.csr_matrix((d["data"], d["indices"], d["indptr"]), shape=(n, n))
    else:
        # epochs_per_sample = w_max / w: weights up to a factor, which no schedule sees.
        w = (1.0 / d["eps"]).astype(np.float32)
        g = sp.csr_matrix((w, (d["head"], d["tail"])), shape=(n, n))
    g.sort_indices()
    init = np.ascontiguousarray(d["init"], dtype=np.float32)
    return g, init, float(d["a"]), float(d["b"])


# ------------------------------------------------------------------ optimisers


def run_densumap(emb, g, a, b):
    import densumap.layout as layout_mod
    p = layout_mod.LayoutParams(n_epochs=N_EPOCHS, a=a, b=b, negative_sample_rate=NEG_RATE)
    return layout_mod.optimize_layout(emb, g, p, SEED)


def run_sweep(emb, g, a, b):
    """The library's DensMAP sweep (optimize_layout's ``swept`` branch), no density."""
    import contextlib

    import densumap.layout as L

    p = L.LayoutParams(n_epochs=N_EPOCHS, a=a, b=b, negative_sample_rate=NEG_RATE)
    graph, work, _, row_keys, sweep, perm = L.prepare_layout(emb, g, SEED)
    print("sweep levels", sweep.n_levels, "rows per level",
          np.bincount(sweep.level, minlength=sweep.n_levels + 1).tolist(), flush=True)
    sched = L.make_schedule(graph, NEG_RATE)
    with contextlib.ExitStack() as stack:
        pool = L._epoch_pool(True, None, stack)
        L._epochs(work, graph, sched, p, np.uint64(SEED), None, sweep, row_keys, pool, None)
    emb[perm] = work
    return emb


def run_umap_learn(emb, g, a, b):
    from umap.layouts import optimize_layout_euclidean
    from umap.umap_ import make_epochs_per_sample

    warnings.simplefilter("ignore")
    coo = g.tocoo()
    rng_state = np.random.RandomState(SEED).randint(-2**31 + 1, 2**31 - 1, 3).astype(np.int64)
    return optimize_layout_euclidean(
        emb, emb, coo.row, coo.col, N_EPOCHS, g.shape[0],
        make_epochs_per_sample(coo.data, N_EPOCHS), a, b, rng_state, 1.0, 1.0, NEG_RATE,
        parallel=False, move_other=True)




def run_seq(emb, g, a, b, opts):
    from densumap._kernels.graph import shuffle_rows
    from densumap.partition import locality_order

    perm = None
    graph = g.copy()
    if opts.get("z", 0):
        perm = locality_order(emb)
        graph = graph[perm][:, perm].tocsr()
        graph.sort_indices()
        emb_w = emb[perm]
    else:
        emb_w = emb
    shuffle_rows(graph.indptr, graph.indices, graph.data, np.uint64(SEED))
    clocks = umap_clocks(graph, NEG_RATE)
    heads, lo, hi = _items(graph, opts.get("order", "rows"), SEED)
    pos = emb_w.astype(np.float64)
    rs = 12345 + SEED
    for epoch in range(N_EPOCHS):
        alpha = 1.0 - epoch / N_EPOCHS
        snap = pos.copy()
        rs = _seq_epoch(pos, snap, heads, lo, hi, *clocks, a, b, alpha, float(epoch),
                        np.zeros((1, 3)), 0.0,
                        opts.get("fresh", 1) == 1, opts.get("both", 1) == 1,
                        opts.get("negsnap", 0) == 1, opts.get("sumneg", 0) == 1,
                        int(opts.get("block", 0)), rs)
    out = pos.astype(np.float32)
    if perm is not None:
        emb[perm] = out
    else:
        emb[:] = out
    return emb


def main():
    global N_EPOCHS, SEED
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cmd", choices=["prep-densumap", "prep-umap-learn", "opt"])
    ap.add_argument("variant", nargs="?", default="densumap")
    ap.add_argument("--npz", default="/tmp/fmnist_aug_1m.npz")
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--inputs", default="densumap", choices=["densumap", "umap-learn"])
    ap.add_argument("--epochs", type=int, default=200,
                    help="epochs of the optimiser in ``opt`` (the prep fits use 200)")
    ap.add_argument("--seed", type=int, default=SEED,
                    help="seed of the optimiser in ``opt`` (densumap's fit passes "
                         "resolve_seed(42) = 1608637542 to optimize_layout)")
    args = ap.parse_args()
    SEED = args.seed
    N_EPOCHS = args.epochs
    X, y = load(args.npz, args.n)
    if args.cmd == "prep-densumap":
        return prep_densumap(X, y, args.n)
    if args.cmd == "prep-umap-learn":
        return prep_umap_learn(X, y, args.n)
    g, init, a, b = load_inputs(args.inputs, args.n)
    v = args.variant
    emb = init.copy()
    t, c = time.perf_counter(), time.process_time()
    if v == "densumap":
        emb = run_densumap(emb, g, a, b)
    elif v == "umap-learn":
        emb = run_umap_learn(emb, g, a, b)
    elif v == "sweep":
        emb = run_sweep(emb, g, a, b)
    elif v.startswith("seq:"):
        opts = {}
        for kv in filter(None, v[4:].split(",")):
            key, value = kv.split("=")
            opts[key] = value if key == "order" else int(value)
        emb = run_seq(emb, g, a, b, opts)
    else:
        raise SystemExit(f"unknown variant {v!r}")
    report(f"opt inputs={args.inputs} epochs={N_EPOCHS} seed={SEED} {v}", X, y, emb, time.perf_counter() - t,
           time.process_time() - c)


if __name__ == "__main__":
    main()
