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


def test_partitioned_densmap_sweep_is_thread_count_independent():
    """From 8,192 points DensMAP's sweep splits the vertices into parts that run on
    a pool of threads; the parts of a level move disjoint vertices, so the result is
    bit-identical to one thread running the same parts in order."""
    from densumap.partition import n_levels_for

    n = 9000
    assert n_levels_for(n) >= 1
    rng = np.random.default_rng(5)
    centres = rng.normal(scale=5.0, size=(6, 10))
    X = (centres[rng.integers(0, 6, n)] + rng.normal(size=(n, 10))).astype(np.float32)
    kw = dict(densmap=True, random_state=4, n_epochs=25)
    one = densumap.UMAP(n_jobs=1, **kw).fit(X).embedding_
    two = densumap.UMAP(n_jobs=2, **kw).fit(X).embedding_
    assert np.array_equal(one, two)
    assert np.all(np.isfinite(one))
