"""Long-running check (``-m slow``, outside the default run): 1,000,000 x 50 float32
points fit and transform within the 24 GiB of the reference machine, peak memory recorded.

Run with ``PYTHONPATH=src python -m pytest tests/test_slow_memory.py -m slow -s``.  The fit
runs in a child process so that its peak resident set size (``ru_maxrss``) is its own,
not the test runner's; the number is printed, attached to the test report
(``record_property``) and written to ``peak_memory.json`` in the test's tmp dir.
"""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

N_SAMPLES = 1_000_000
N_FEATURES = 50
N_NEW = 1_000
MEMORY_LIMIT_GIB = 24.0

_CHILD = textwrap.dedent("""
    import json, resource, sys, time
    import numpy as np
    import densumap

    path, out = sys.argv[1], sys.argv[2]
    X = np.load(path, mmap_mode="r")  # the fit must not need a second copy of X
    rng = np.random.default_rng(1)
    X_new = np.asarray(X[rng.integers(0, X.shape[0], %(n_new)d)]) + np.float32(0.05)
    t0 = time.perf_counter()
    model = densumap.UMAP(random_state=0).fit(X)
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    Z = model.transform(X_new)
    t_transform = time.perf_counter() - t0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    json.dump({
        "n_samples": int(X.shape[0]), "n_features": int(X.shape[1]),
        "peak_rss_gib": peak_kib / 2**20, "fit_s": t_fit, "transform_s": t_transform,
        "embedding_finite": bool(np.isfinite(model.embedding_).all()),
        "embedding_shape": list(model.embedding_.shape),
        "transform_finite": bool(np.isfinite(Z).all()), "transform_shape": list(Z.shape),
        "train_rows_share_file": bool(np.shares_memory(model._train_X, X)),
    }, open(out, "w"))
""") % {"n_new": N_NEW}


def _write_blobs(path, n, d, n_centres=20, chunk=100_000, seed=0):
    """Gaussian blobs in float32, written in chunks straight to a .npy file."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=6.0, size=(n_centres, d)).astype(np.float32)
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, d))
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        labels = rng.integers(0, n_centres, stop - start)
        X[start:stop] = centres[labels] + rng.standard_normal((stop - start, d),
                                                               dtype=np.float32)
    X.flush()
    del X


@pytest.mark.slow
def test_million_points_fit_and_transform_peak_memory(tmp_path, record_property):
    data = os.fspath(tmp_path / "blobs.npy")
    out = os.fspath(tmp_path / "peak_memory.json")
    _write_blobs(data, N_SAMPLES, N_FEATURES)
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [src] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    subprocess.run([sys.executable, "-c", _CHILD, data, out], env=env, check=True,
                   timeout=4 * 3600)
    result = json.load(open(out))
    print("\n[slow] 1M x 50 float32:", json.dumps(result))
    for key in ("peak_rss_gib", "fit_s", "transform_s"):
        record_property(key, result[key])
    assert result["embedding_shape"] == [N_SAMPLES, 2] and result["embedding_finite"]
    assert result["transform_shape"] == [N_NEW, 2] and result["transform_finite"]
    assert result["train_rows_share_file"]  # kept by reference to the memmap, not copied
    assert result["peak_rss_gib"] < MEMORY_LIMIT_GIB, result
