"""The large data sets of the layout studies, and their kNN graphs and spectral layouts
cached in ``/tmp`` (shared by ``densmap_epochs.py``, ``epoch_parts.py`` and
``layout_stage.py``)."""
import os
import time

import numpy as np

from _worker import synthetic_mixture


def _save_atomic(path, write):
    """``write(file)`` into ``path`` through a temporary file, so that a run killed
    mid-write leaves no truncated cache behind."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        write(f)
    os.replace(tmp, path)


def data_arguments(parser):
    """The ``data`` (``aug`` or ``mixture``), ``n`` and ``--npz`` arguments of a study."""
    parser.add_argument("data", choices=["aug", "mixture"])
    parser.add_argument("n", type=int)
    parser.add_argument("--npz", default="/tmp/fmnist_aug_1m.npz",
                        help="the augmented set (make_fmnist_1m.py)")


def load_rows(data, n, npz):
    """``(X, y)``: the first ``n`` rows of the augmented Fashion-MNIST set (``data ==
    "aug"``, from ``make_fmnist_1m.py``'s ``npz``) or ``n`` points of the 50-d mixture."""
    if data == "aug":
        z = np.load(npz)
        return z["X"][:n], z["y"][:n]
    return synthetic_mixture(n)[:2]


def cached_knn(data, n, npz, X=None):
    """densumap's 15-NN (seed 42) of :func:`load_rows`'s rows: ``(indices, distances)``,
    computed once into ``/tmp/densmap_epochs_knn_{data}_{n}.npz`` (from ``X`` when the
    caller has loaded the rows already)."""
    from densumap.neighbors import nearest_neighbors

    cache = f"/tmp/densmap_epochs_knn_{data}_{n}.npz"
    if os.path.exists(cache):
        c = np.load(cache)
        return c["idx"], c["d"]
    t = time.perf_counter()
    if X is None:
        X = load_rows(data, n, npz)[0]
    idx, d = nearest_neighbors(X, 15, seed=42)
    print(f"kNN {time.perf_counter() - t:.1f} s", flush=True)
    _save_atomic(cache, lambda f: np.savez(f, idx=idx, d=d))
    return idx, d


def cached_spectral_init(graph, path):
    """The spectral initial layout of the fuzzy ``graph`` (2-D, seed 0), computed once
    into ``path``."""
    from densumap.init import initial_layout

    if os.path.exists(path):
        return np.load(path)
    emb = initial_layout("spectral", graph, None, 2, np.random.default_rng(0), 0)
    _save_atomic(path, lambda f: np.save(f, emb))
    return emb
