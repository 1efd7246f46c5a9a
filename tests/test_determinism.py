import numpy as np
import pytest

import densumap


@pytest.mark.parametrize("densmap", [False, True])
def test_same_seed_same_embedding(digits, densmap):
    X = digits[0][:600]
    a = densumap.UMAP(densmap=densmap, random_state=7, n_epochs=120).fit(X).embedding_
    b = densumap.UMAP(densmap=densmap, random_state=7, n_epochs=120).fit(X).embedding_
    assert np.array_equal(a, b)


@pytest.mark.parametrize("densmap", [False, True])
def test_thread_count_does_not_change_embedding(digits, densmap):
    X = digits[0][:600]
    one = densumap.UMAP(densmap=densmap, random_state=3, n_jobs=1, n_epochs=120).fit(X)
    two = densumap.UMAP(densmap=densmap, random_state=3, n_jobs=2, n_epochs=120).fit(X)
    assert np.array_equal(one.embedding_, two.embedding_)


def test_different_seeds_differ(digits):
    X = digits[0][:400]
    a = densumap.UMAP(random_state=1, n_epochs=60).fit(X).embedding_
    b = densumap.UMAP(random_state=2, n_epochs=60).fit(X).embedding_
    assert not np.array_equal(a, b)


def test_approximate_neighbours_path_is_thread_count_independent():
    # Above neighbors.EXACT_MAX_SAMPLES the deterministic approximate search is used.
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=6.0, size=(8, 20))
    X = (centres[rng.integers(0, 8, 5000)] + rng.normal(size=(5000, 20))).astype(np.float32)
    kw = dict(densmap=True, random_state=11, n_epochs=30)
    one = densumap.UMAP(n_jobs=1, **kw).fit(X).embedding_
    two = densumap.UMAP(n_jobs=2, **kw).fit(X).embedding_
    assert np.array_equal(one, two)
    assert np.all(np.isfinite(one))


@pytest.mark.parametrize("densmap", [True, False])
def test_partitioned_sweep_is_thread_count_independent(densmap):
    """From 8,192 points the Gauss-Seidel sweep (DensMAP's, and plain UMAP's above
    layout.SWEEP_MIN points) splits the vertices into parts that run on a pool of
    threads; the parts of a level move disjoint vertices, so the result is
    bit-identical to one thread running the same parts in order."""
    from densumap.layout import SWEEP_MIN
    from densumap.partition import n_levels_for

    n = SWEEP_MIN + 500
    assert n_levels_for(n) >= 1
    rng = np.random.default_rng(5)
    centres = rng.normal(scale=5.0, size=(6, 10))
    X = (centres[rng.integers(0, 6, n)] + rng.normal(size=(n, 10))).astype(np.float32)
    kw = dict(densmap=densmap, random_state=4, n_epochs=25)
    one = densumap.UMAP(n_jobs=1, **kw).fit(X).embedding_
    two = densumap.UMAP(n_jobs=2, **kw).fit(X).embedding_
    assert np.array_equal(one, two)
    assert np.all(np.isfinite(one))


def test_default_epochs_follow_the_optimiser():
    from densumap.layout import DENSMAP_LONG_MIN, SWEEP_MIN, default_n_epochs

    assert default_n_epochs(SWEEP_MIN, False) == default_n_epochs(SWEEP_MIN, True) == 500
    assert default_n_epochs(SWEEP_MIN + 1, True) == 200  # DensMAP
    assert default_n_epochs(DENSMAP_LONG_MIN, True) == 200
    assert default_n_epochs(DENSMAP_LONG_MIN + 1, True) == 400  # umap-learn's DensMAP count
    assert default_n_epochs(DENSMAP_LONG_MIN + 1, False) == 120
    assert default_n_epochs(SWEEP_MIN + 1, False) == 120  # plain UMAP's sweep
    assert default_n_epochs(SWEEP_MIN + 1, False, euclidean=False) == 200  # Jacobi


def test_large_densmap_runs_its_plain_phase_in_fewer_epochs():
    """Above DENSMAP_LONG_MIN points DensMAP follows umap-learn's 400-epoch schedule,
    its 120 density epochs one for one, its 280 plain ones in 120 bigger steps."""
    from densumap.layout import (DENSMAP_LONG_MIN, LayoutParams, density_active,
                                 resolve_epochs, schedule_positions)

    big = DENSMAP_LONG_MIN + 1
    assert resolve_epochs(None, big, True, True, 2.0, 0.3) == (240, 400)
    assert resolve_epochs(None, big, True, True, 2.0, 0.5) == (320, 400)
    assert resolve_epochs(None, big, True, True, 2.0, 1.0) == (400, 400)  # no plain phase
    assert resolve_epochs(None, DENSMAP_LONG_MIN, True, True, 2.0, 0.3) == (200, 200)
    assert resolve_epochs(None, big, False) == (120, 120)
    assert resolve_epochs(300, big, True, True, 2.0, 0.3) == (300, 300)  # as asked

    steps = schedule_positions(LayoutParams(240, 1.0, 1.0, dens_lambda=2.0, dens_frac=0.3,
                                            schedule_epochs=400))
    positions = [pos for pos, _ in steps]
    assert [dense for _, dense in steps] == [False] * 120 + [True] * 120
    assert positions[120:] == list(range(280, 400))
    assert positions[0] == 0 and np.allclose(np.diff(positions[:121]), 280 / 120)
    # Every epoch of umap-learn's schedule, as before, when nothing is compressed.
    for kw in (dict(), dict(dens_lambda=2.0, dens_frac=0.3), dict(dens_lambda=2.0, dens_frac=1.0)):
        for schedule in (0, 200):
            prm = LayoutParams(200, 1.0, 1.0, schedule_epochs=schedule, **kw)
            assert schedule_positions(prm) == [(e, density_active(e, prm)) for e in range(200)]
    with pytest.raises(ValueError, match="cannot follow"):
        schedule_positions(LayoutParams(100, 1.0, 1.0, dens_lambda=2.0, dens_frac=0.3,
                                        schedule_epochs=400))


# A child process: seeded fits whose SHA-1s must not depend on whether the kernels
# were compiled in this process or loaded from numba's on-disk cache. It also reports
# whether the SGD epoch came from the cache, so the test cannot pass vacuously.
_CACHE_CHILD = r"""
import hashlib, json
import numpy as np
from sklearn.datasets import load_digits
import densumap
from densumap._kernels import sgd
from densumap.neighbors import nearest_neighbors

sha = lambda a: hashlib.sha1(np.ascontiguousarray(a).tobytes()).hexdigest()
X = load_digits().data.astype(np.float32)[:400]
out = {}
out["umap"] = sha(densumap.UMAP(random_state=42, n_epochs=40).fit(X[:350]).embedding_)
dm = densumap.UMAP(densmap=True, random_state=42, n_epochs=40).fit(X[:350])
out["densmap"] = sha(dm.embedding_)
out["densmap_transform"] = sha(dm.transform(X[350:]))
rng = np.random.default_rng(0)
Y = (rng.normal(scale=6.0, size=(8, 20))[rng.integers(0, 8, 4500)]
     + rng.normal(size=(4500, 20))).astype(np.float32)
idx, dist = nearest_neighbors(Y, 10, seed=3, exact=False)
out["approximate_knn"] = sha(idx) + sha(dist)
# 784-d rows (searched as uint16 codes): with fused multiply-adds allowed, the float32
# distances of the trees' leaf joins rounded differently in the compiling process (at
# this size only the heaps' distances showed it; at 70,000 Fashion-MNIST images one
# row's neighbours), so the heaps after the trees are compared too.
import densumap.nndescent as nd
plant = nd._plant_forest
forests = []
def hashed_plant(*args, **kwargs):
    order = plant(*args, **kwargs)
    forests.append(sha(args[5][0]) + sha(args[5][1]))
    return order
nd._plant_forest = hashed_plant
Z = (rng.normal(scale=3.0, size=(10, 784))[rng.integers(0, 10, 6000)]
     + rng.normal(size=(6000, 784))).astype(np.float32)
idx, dist = nd.approximate_knn(Z, 15, random_state=0)
out["approximate_knn_784"] = sha(idx) + sha(dist)
out["forest_heaps_784"] = forests
out["sgd_blocks_cache_hits"] = sum(sgd.sgd_blocks.stats.cache_hits.values())
print(json.dumps(out))
"""


@pytest.mark.slow
def test_compiled_and_cached_kernels_give_the_same_embedding(tmp_path):
    """The process that compiles the kernels and a process that loads them from the
    cache give bit-identical seeded results (UMAP, DensMAP, DensMAP transform,
    approximate kNN). numba runs a parallel loop's body in the compiling process from
    the copy optimised on its own, and stores the copy linked into (and optimised
    again with) the kernel; fast-math flags that let a second optimisation change
    values made the two differ (``_kernels/_config.py``). Slow: the first child
    compiles every kernel of a fit (about a minute and a half on 2 busy cores)."""
    import json
    import os
    import subprocess
    import sys

    src = os.path.dirname(os.path.dirname(densumap.__file__))
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba_cache"),
               PYTHONPATH=os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]))

    def child():
        done = subprocess.run([sys.executable, "-c", _CACHE_CHILD], env=env,
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout.strip().splitlines()[-1])

    compiled = child()
    cached = child()
    # fit's and transform's SGD kernel
    assert compiled.pop("sgd_blocks_cache_hits") == 0
    assert cached.pop("sgd_blocks_cache_hits") > 0
    assert cached == compiled


def test_kernel_refuses_fast_math_flags_a_reoptimisation_could_change():
    from densumap._kernels._config import FAST, SUMS, kernel

    for bad in (True, {"nsz"}, {"reassoc", "arcp"}, "fast"):
        with pytest.raises(ValueError, match="fastmath must be False or a subset"):
            kernel(fastmath=bad)
    kernel(fastmath=FAST)
    kernel(fastmath=SUMS)
