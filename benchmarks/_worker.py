"""One benchmark fit in a fresh process; prints one JSON line on stdout.

Not meant to be run by hand (``run.py`` and ``scaling.py`` start it), but it can be::

    PYTHONPATH=src python benchmarks/_worker.py --lib densumap --mode umap --seed 42 --n 2000

Steps, in this order:

1. load the data: the first ``n`` rows of Fashion-MNIST (raw 0..255 pixel values as
   float32, not rescaled: see README.md) or ``n`` synthetic Gaussian-mixture points;
2. a small warm-up fit of the same library and mode so that numba compiles (or loads
   from its disk cache) everything the timed fit runs; the warm-up uses 500 points, or,
   when ``n`` is above 4,096 (the approximate nearest-neighbour path that both
   libraries take above that size), ``min(n, 20,001)``: densumap's sweep epochs (above
   10,000 points) and its kNN's recall probe (from 20,000 rows) are compiled only for
   inputs that large, and after an edit under ``_kernels/`` (which makes numba
   recompile every kernel) a 5,000-point warm-up left them to the timed fit (+28 s and
   +0.9 GiB of peak RSS at a million points, BENCHMARKS.md, sixteenth session). Only
   ``permute_rows`` (from 100,000 rows, a small kernel) is still left to the fit;
3. reset the kernel's peak-RSS counter (``/proc/self/clear_refs``), then time the real
   fit with ``time.perf_counter``; read the peak RSS of the fit with
   ``resource.getrusage`` right after it, before any metric is computed;
4. the quality metrics on a fixed sample of 5,000 points (indices drawn with seed 0,
   so the same for both libraries), unless ``--no-metrics``.

For densumap the timed fit runs with ``verbose=True`` and a logging handler on the
``"densumap"`` logger records the time of each stage it logs.
"""
import argparse
import gc
import json
import logging
import os
import platform
import re
import resource
import sys
import time
import warnings

import numpy as np

SAMPLE_SEED = 0
SEEDED_STATE = 42
EXACT_LIMIT = 4096  # both libraries search neighbours exactly up to about this size
# Warm-up size for larger inputs: above densumap's sweep threshold (10,000 points) and
# its kNN probe's (20,000 rows), so that those kernels are compiled before the timed fit.
WARMUP_LARGE = 20_001


# --------------------------------------------------------------------------- memory


def _status_kb(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def rss_mb():
    """Current resident set size in MiB (None where /proc is unavailable)."""
    kb = _status_kb("VmRSS")
    return None if kb is None else kb / 1024.0


def maxrss_mb():
    """Peak RSS of this process in MiB, from getrusage (Linux reports KiB)."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":  # bytes there
        kb /= 1024.0
    return kb / 1024.0


def reset_peak_rss():
    """Reset the peak-RSS counter to the current RSS (Linux >= 4.0); True if it worked."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    return True


# --------------------------------------------------------------------------- data


def synthetic_mixture(n, dim=50, n_clusters=20, seed=0, chunk=100_000):
    """``n`` points of a Gaussian mixture in ``dim`` dimensions, float32, with labels.

    Clusters have different spreads (0.5 to 2) so local density varies; centres are
    far enough apart (N(0, 3^2) per coordinate) that the clusters are separate.
    The rows are generated in chunks directly as float32 so that the peak memory is
    close to that of the result.
    """
    rng = np.random.default_rng(seed)
    centres = rng.normal(0.0, 3.0, size=(n_clusters, dim)).astype(np.float32)
    scales = rng.uniform(0.5, 2.0, size=n_clusters).astype(np.float32)
    y = rng.integers(0, n_clusters, size=n)
    X = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        lab = y[start:stop]
        noise = rng.standard_normal(size=(stop - start, dim), dtype=np.float32)
        X[start:stop] = centres[lab] + scales[lab, None] * noise
    return X, y


def load_data(args):
    if args.synthetic:
        return synthetic_mixture(args.n, dim=args.synthetic_dim)
    if args.npz:
        # The first n rows of a prepared set (benchmarks/make_fmnist_1m.py).
        with np.load(args.npz) as z:
            if args.n > z["X"].shape[0]:
                raise SystemExit(f"--n {args.n} exceeds the {z['X'].shape[0]} rows of {args.npz}")
            return np.ascontiguousarray(z["X"][: args.n]), z["y"][: args.n].copy()
    from densumap.datasets import load_fashion_mnist

    X_all, y_all = load_fashion_mnist(args.data)
    if args.n > X_all.shape[0]:
        raise SystemExit(f"--n {args.n} exceeds the {X_all.shape[0]} rows of {args.data}")
    # A copy, so that the full 70,000-row array can be freed before the fit.
    X = np.ascontiguousarray(X_all[: args.n], dtype=np.float32).copy()
    y = y_all[: args.n].copy()
    del X_all, y_all
    return X, y


# --------------------------------------------------------------------------- fits


def make_estimator(lib, densmap, random_state, verbose, n_epochs=None):
    if lib == "densumap":
        import densumap

        return densumap.UMAP(densmap=densmap, random_state=random_state, verbose=verbose,
                             n_epochs=n_epochs)
    if lib == "umap-learn":
        import umap

        return umap.UMAP(densmap=densmap, random_state=random_state, verbose=verbose,
                         n_epochs=n_epochs)
    raise SystemExit(f"unknown --lib {lib!r}")


def lib_version(lib):
    if lib == "densumap":
        import densumap

        return densumap.__version__
    import umap

    return getattr(umap, "__version__", "?")


class StageRecorder(logging.Handler):
    """Records ``"<stage>: <seconds> s"`` INFO records from densumap's stage timer."""

    _pattern = re.compile(r"^(?P<name>.+): (?P<sec>[0-9.]+) s$")

    def __init__(self):
        super().__init__(level=logging.INFO)
        self.stages = {}

    def emit(self, record):
        name = sec = None
        args = record.args
        # Prefer the unrounded arguments; fall back to parsing the message.
        if (isinstance(args, tuple) and len(args) == 2 and isinstance(args[0], str)
                and isinstance(args[1], (int, float))):
            name, sec = args[0], float(args[1])
        else:
            m = self._pattern.match(record.getMessage())
            if m:
                name, sec = m.group("name"), float(m.group("sec"))
        if name is not None:
            self.stages[name] = self.stages.get(name, 0.0) + sec


# --------------------------------------------------------------------------- metrics


def quality_metrics(X, y, emb, sample_size, k_acc=10, k_trust=15, k_dens=15):
    """10-NN accuracy, trustworthiness and density correlation on a fixed sample.

    * ``knn_acc``: mean 5-fold stratified CV accuracy of a ``k_acc``-NN classifier on
      the embedded sample (labels = classes / mixture components);
    * ``trustworthiness``: sklearn's, ``n_neighbors=k_trust``, input sample vs
      embedded sample;
    * ``dens_corr``: Spearman correlation, over the sample points, of the log mean
      distance to their ``k_dens`` nearest neighbours among all ``n`` points (the point
      itself excluded), in the input vs in the embedding.
    """
    from scipy.stats import spearmanr
    from sklearn.manifold import trustworthiness
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors

    n = X.shape[0]
    m = min(sample_size, n)
    idx = np.sort(np.random.default_rng(SAMPLE_SEED).choice(n, size=m, replace=False))
    Xs, Es, ys = X[idx], np.asarray(emb, dtype=np.float64)[idx], y[idx]

    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    acc = cross_val_score(KNeighborsClassifier(n_neighbors=k_acc), Es, ys, cv=cv).mean()
    trust = trustworthiness(Xs, Es, n_neighbors=k_trust)

    def log_mean_knn_dist(data, queries):
        nn = NearestNeighbors(n_neighbors=k_dens + 1).fit(data)
        d, _ = nn.kneighbors(queries)
        return np.log(d[:, 1:].mean(axis=1) + 1e-12)

    r_in = log_mean_knn_dist(X, Xs)
    r_emb = log_mean_knn_dist(np.asarray(emb, dtype=np.float64), Es)
    dens = spearmanr(r_in, r_emb).statistic
    return {
        "sample_size": int(m),
        "knn_acc": float(acc),
        "trustworthiness": float(trust),
        "dens_corr": float(dens),
    }


# --------------------------------------------------------------------------- main


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lib", required=True, choices=["densumap", "umap-learn"])
    p.add_argument("--mode", required=True, choices=["umap", "densmap"])
    p.add_argument("--seed", default="42",
                   help="random_state: an int, or 'none' for an unseeded run")
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--data", default=None, help="Fashion-MNIST directory")
    p.add_argument("--synthetic", action="store_true",
                   help="use n synthetic Gaussian-mixture points instead of Fashion-MNIST")
    p.add_argument("--synthetic-dim", type=int, default=50)
    p.add_argument("--npz", default=None,
                   help="use the first n rows of X (and labels y) of this .npz file")
    p.add_argument("--warmup-n", type=int, default=None,
                   help="points in the warm-up fit (default 500, or min(n, 20001) when "
                        "n > 4096)")
    p.add_argument("--warmup-epochs", type=int, default=10)
    p.add_argument("--no-metrics", dest="metrics", action="store_false")
    p.add_argument("--sample-size", type=int, default=5000)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    random_state = None if args.seed.lower() == "none" else int(args.seed)
    densmap = args.mode == "densmap"
    t_start = time.perf_counter()

    X, y = load_data(args)
    gc.collect()
    load_s = time.perf_counter() - t_start

    # Warm-up: same library and mode, a few epochs, on the first rows of the data.
    warmup_n = args.warmup_n
    if warmup_n is None:
        warmup_n = min(args.n, WARMUP_LARGE) if args.n > EXACT_LIMIT else 500
    warmup_n = min(warmup_n, X.shape[0])
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        make_estimator(args.lib, densmap, random_state, False,
                       n_epochs=args.warmup_epochs).fit(X[:warmup_n])
    warmup_s = time.perf_counter() - t0
    gc.collect()

    process_peak_before_mb = maxrss_mb()
    peak_reset = reset_peak_rss()
    rss_before_mb = rss_mb()

    recorder = None
    verbose = False
    if args.lib == "densumap":
        verbose = True
        recorder = StageRecorder()
        logging.getLogger("densumap").addHandler(recorder)

    import numba

    threads = numba.get_num_threads()  # before the fit, which may change it
    est = make_estimator(args.lib, densmap, random_state, verbose)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        est.fit(X)
        fit_s = time.perf_counter() - t0
    peak_mb = maxrss_mb()
    if recorder is not None:
        logging.getLogger("densumap").removeHandler(recorder)

    result = {
        "lib": args.lib,
        "version": lib_version(args.lib),
        "mode": args.mode,
        "seeded": random_state is not None,
        "random_state": random_state,
        "n": int(X.shape[0]),
        "dim": int(X.shape[1]),
        "data": ("synthetic" if args.synthetic
                 else "npz:" + os.path.basename(args.npz) if args.npz else "fashion-mnist"),
        "fit_s": fit_s,
        "warmup_s": warmup_s,
        "warmup_n": int(warmup_n),
        "load_s": load_s,
        # Peak RSS of the timed fit (data included); if the reset failed this is the
        # whole process's peak, warm-up and data loading included.
        "peak_rss_mb": peak_mb,
        "peak_rss_reset": peak_reset,
        "rss_before_fit_mb": rss_before_mb,
        "process_peak_rss_before_fit_mb": process_peak_before_mb,
        "numba_threads": threads,
        "n_epochs": getattr(est, "n_epochs_", None),  # None: umap-learn does not expose it
        "stages": recorder.stages if recorder is not None else None,
        "warnings": sorted({f"{w.category.__name__}: {str(w.message)[:200]}"
                            for w in caught}),
        "python": platform.python_version(),
    }
    if args.metrics:
        t0 = time.perf_counter()
        result.update(quality_metrics(X, y, est.embedding_, args.sample_size))
        result["metrics_s"] = time.perf_counter() - t0
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
