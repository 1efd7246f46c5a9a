"""Time densumap.anndata.embed (reusing sc.pp.neighbors' graph) against a plain fit.

On scanpy's bundled pbmc68k_reduced (700 cells; shipped inside scanpy): after
``sc.pp.pca`` and ``sc.pp.neighbors(n_neighbors=15)``, compare

* ``densumap.anndata.embed(adata, random_state=S)`` (DensMAP, kNN from ``.obsp``),
* ``densumap.UMAP(densmap=True, random_state=S).fit_transform(adata.obsm["X_pca"])``
  (searches the kNN itself),

each repeated in this process after one warm-up fit (so numba compilation is not
timed), and report the median wall times, the kNN stage and the density
correlations. ``--cells N`` tiles the data N/700 times with small jitter to see a
larger n (sc.pp.neighbors is then run on the tiled data).

    PYTHONPATH=src python benchmarks/anndata_reuse.py --repeats 5
"""
import argparse
import statistics
import time
import warnings

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cells", type=int, default=None,
                    help="tile pbmc68k_reduced to about this many cells")
    args = ap.parse_args()

    import scanpy as sc

    import densumap
    from densumap import anndata as dad

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        adata = sc.datasets.pbmc68k_reduced()
        if args.cells and args.cells > adata.n_obs:
            import anndata

            reps = int(np.ceil(args.cells / adata.n_obs))
            rng = np.random.default_rng(0)
            X = np.vstack([adata.X] * reps)[:args.cells]
            X = X + rng.normal(0, 0.05, size=X.shape).astype(X.dtype)
            adata = anndata.AnnData(X)
        sc.pp.pca(adata, n_comps=50, random_state=0)
        t = time.perf_counter()
        sc.pp.neighbors(adata, n_neighbors=15, random_state=0)
        t_neighbors = time.perf_counter() - t
    X_pca = adata.obsm["X_pca"]
    print(f"cells: {adata.n_obs}, X_pca: {X_pca.shape}, sc.pp.neighbors: {t_neighbors:.2f} s")

    def run_embed():
        a = adata.copy()
        with warnings.catch_warnings():
            warnings.simplefilter("error", dad.NeighborsNotReusedWarning)
            t = time.perf_counter()
            model = dad.embed(a, random_state=args.seed)
            return time.perf_counter() - t, model

    def run_plain():
        t = time.perf_counter()
        model = densumap.UMAP(densmap=True, output_dens=True, random_state=args.seed)
        model.fit_transform(X_pca)
        return time.perf_counter() - t, model

    run_embed(), run_plain()  # warm-up: compile the kernels once
    times = {"embed (graph reuse)": [], "UMAP(densmap=True).fit_transform(X_pca)": []}
    models = {}
    for _ in range(args.repeats):
        for name, fn in zip(times, (run_embed, run_plain)):
            dt, models[name] = fn()
            times[name].append(dt)
    for name, ts in times.items():
        m = models[name]
        corr = float(np.corrcoef(m.rad_orig_, m.rad_emb_)[0, 1])
        print(f"{name}: median {statistics.median(ts):.2f} s "
              f"(runs: {', '.join(f'{t:.2f}' for t in ts)}), density corr {corr:.3f}")
    # The kNN stage alone, on the same data.
    from densumap.neighbors import nearest_neighbors

    t = time.perf_counter()
    for _ in range(args.repeats):
        nearest_neighbors(X_pca, 15, seed=args.seed)
    print(f"densumap kNN search alone: {(time.perf_counter() - t) / args.repeats:.3f} s per call")


if __name__ == "__main__":
    main()
