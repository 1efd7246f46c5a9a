import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.neighbors import NearestNeighbors

from densumap.neighbors import query_neighbors


@pytest.mark.parametrize("metric,kw", [("euclidean", {}), ("manhattan", {}), ("chebyshev", {}),
                                       ("minkowski", {"p": 3}), ("cosine", {}),
                                       ("correlation", {})])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_query_matches_sklearn(digits, metric, kw, dtype):
    X = digits[0].astype(dtype)
    train, new = X[:400], X[400:450]
    idx, d = query_neighbors(train, new, 10, metric, kw)
    ref_d, _ = NearestNeighbors(n_neighbors=10, algorithm="brute", metric=metric,
                                    **kw).fit(train).kneighbors(new)
    assert idx.dtype == np.int32 and d.dtype == np.float32
    np.testing.assert_allclose(d, ref_d, rtol=1e-4, atol=1e-4)
    # Integer-valued digits have many ties: check the returned points are at the
    # returned distances rather than comparing indices.
    from sklearn.metrics import pairwise_distances

    D = pairwise_distances(new, train, metric=metric, **kw)
    np.testing.assert_allclose(np.take_along_axis(D, idx, axis=1), d, rtol=1e-4, atol=1e-4)
    assert np.all(np.diff(d, axis=1) >= 0)


def test_query_rows_are_independent(digits):
    X = digits[0]
    train, new = X[:400], X[400:500]
    idx, d = query_neighbors(train, new, 7)
    for lo in (0, 13, 99):
        i1, d1 = query_neighbors(train, new[lo:lo + 1], 7)
        np.testing.assert_array_equal(i1[0], idx[lo])
        np.testing.assert_array_equal(d1[0], d[lo])


def test_query_sparse_and_precomputed(digits):
    X = digits[0].astype(np.float64)
    train, new = X[:300], X[300:320]
    ref_i, ref_d = query_neighbors(train, new, 5)
    i, d = query_neighbors(sp.csr_matrix(train), sp.csr_matrix(new), 5)
    np.testing.assert_allclose(d, ref_d, rtol=1e-5, atol=1e-4)
    D = np.sqrt(((new[:, None, :] - train[None]) ** 2).sum(-1))
    i, d = query_neighbors(None, D, 5, "precomputed")
    np.testing.assert_allclose(d, ref_d, rtol=1e-5, atol=1e-4)
