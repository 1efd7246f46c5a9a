"""``UMAP(precomputed_knn=...)``: a kNN computed beforehand replaces the search."""
import numpy as np
import pytest

import densumap
from densumap.neighbors import nearest_neighbors


@pytest.fixture(scope="module")
def small(digits):
    X, y = digits
    return X[:400], y[:400]


FAST = dict(n_epochs=30, random_state=0)


@pytest.mark.parametrize("densmap", [False, True])
def test_same_embedding_as_search_and_no_search(small, count_searches, densmap):
    X, _ = small
    reference = densumap.UMAP(densmap=densmap, output_dens=True, **FAST).fit(X)
    assert count_searches, "the counter must see the ordinary fit's search"
    idx, dists = nearest_neighbors(X, 15)
    count_searches.clear()
    given = densumap.UMAP(densmap=densmap, output_dens=True, precomputed_knn=(idx, dists),
                          **FAST).fit(X)
    assert count_searches == []
    np.testing.assert_array_equal(given.embedding_, reference.embedding_)
    np.testing.assert_array_equal(given.rad_orig_, reference.rad_orig_)
    # The model can still place new points (transform searches the training rows).
    assert given.transform(X[:5])[0].shape == (5, 2)


def test_more_columns_are_cut_and_search_index_ignored(small, count_searches):
    X, _ = small
    idx, dists = nearest_neighbors(X, 25)
    count_searches.clear()
    a = densumap.UMAP(n_neighbors=10, precomputed_knn=(idx, dists), **FAST).fit(X)
    b = densumap.UMAP(n_neighbors=10, precomputed_knn=(idx[:, :10], dists[:, :10], object()),
                      **FAST).fit(X)
    assert count_searches == []
    np.testing.assert_array_equal(a.embedding_, b.embedding_)
    assert a.get_params()["precomputed_knn"][0] is idx  # stored as given


def test_none_tuples_mean_search(small, count_searches):
    X, _ = small
    densumap.UMAP(precomputed_knn=(None, None, None), **FAST).fit(X)
    assert count_searches


def test_fewer_neighbours_warns_and_searches(small, count_searches):
    X, _ = small
    idx, dists = nearest_neighbors(X, 5)
    with pytest.warns(UserWarning, match="has 5 neighbours per point but n_neighbors=15"):
        densumap.UMAP(precomputed_knn=(idx, dists), **FAST).fit(X)
    assert count_searches


def test_duplicate_first_is_reordered(small):
    X, _ = small
    X = np.vstack([X, X[:1]])  # row 400 duplicates row 0
    idx, dists = nearest_neighbors(X, 15)
    swapped = idx.copy()
    swapped[0, :2] = [400, 0]
    fit = densumap.UMAP(precomputed_knn=(swapped, dists), **FAST).fit(X)
    ref = densumap.UMAP(precomputed_knn=(idx, dists), **FAST).fit(X)
    np.testing.assert_array_equal(fit.embedding_, ref.embedding_)


@pytest.mark.parametrize("change, message", [
    (lambda i, d: (i[:-1], d[:-1]), "has 399 rows but X has 400 samples"),
    (lambda i, d: (i, d[:, :-1]), "must be 2-D arrays of the same shape"),
    (lambda i, d: (i.astype(float), d), "must hold integers"),
    (lambda i, d: (i + 1, d), r"must lie in \[0, 400\)"),
    (lambda i, d: (i, -d), "finite and non-negative"),
    (lambda i, d: (i, d[:, ::-1].copy()), "sorted by increasing distance"),
    (lambda i, d: (i[:, 1:], d[:, 1:]), "its own first neighbour"),
    (lambda i, d: (i,), "must be a tuple"),
])
def test_bad_knn_raises(small, change, message):
    X, _ = small
    idx, dists = nearest_neighbors(X, 16)
    knn = change(idx, dists)
    with pytest.raises(ValueError, match=message):
        densumap.UMAP(n_neighbors=15, precomputed_knn=knn, **FAST).fit(X)


def test_unique_refused(small):
    X, _ = small
    idx, dists = nearest_neighbors(X, 15)
    with pytest.raises(ValueError, match="unique=True cannot be combined with precomputed_knn"):
        densumap.UMAP(unique=True, precomputed_knn=(idx, dists), **FAST).fit(X)
