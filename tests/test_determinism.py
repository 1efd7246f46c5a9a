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
