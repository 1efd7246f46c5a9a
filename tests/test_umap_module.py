"""``densumap.umap_`` and ``densumap.utils``: umap-learn's module-level names (issue 13)."""
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.neighbors import NearestNeighbors
from sklearn.utils import check_random_state

import densumap
from densumap.umap_ import fuzzy_simplicial_set, nearest_neighbors, smooth_knn_dist

from . import naive


def test_modules_are_registered():
    import densumap.umap_ as umap_
    import densumap.utils as utils

    assert densumap.umap_ is umap_ and densumap.utils is utils
    assert umap_.UMAP is densumap.UMAP
    for name in ("disconnected_vertices", "average_nn_distance", "submatrix",
                 "fast_knn_indices", "csr_unique", "ts"):
        assert callable(getattr(utils, name))


@pytest.fixture(scope="module")
def small(digits):
    return digits[0][:500]


def test_nearest_neighbors_is_the_exact_knn(small):
    idx, dists, index = nearest_neighbors(small, 10, "euclidean", None, False, 0)
    assert index is None and idx.shape == dists.shape == (500, 10)
    ref_d, ref_i = NearestNeighbors(n_neighbors=10).fit(small).kneighbors(small)
    np.testing.assert_allclose(dists, ref_d, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(idx[:, 0], np.arange(500))
    assert np.mean(idx == ref_i) > 0.99  # exact ties may be ordered differently


def test_nearest_neighbors_feed_precomputed_knn(small):
    """The doc's recipe: the same kNN and seed give the plain fit's embedding."""
    knn = nearest_neighbors(small, 15, "euclidean", None, False, 7)
    plain = densumap.UMAP(n_epochs=30, random_state=7).fit(small)
    given = densumap.UMAP(n_epochs=30, random_state=7, precomputed_knn=knn).fit(small)
    np.testing.assert_array_equal(given.embedding_, plain.embedding_)
    # The page's other use: one search with the largest n_neighbors, cut by each fit
    # to its first columns (data without distance ties, whose order may differ).
    X = small + np.random.default_rng(0).normal(scale=1e-2, size=small.shape).astype(
        np.float32)
    wide = nearest_neighbors(X, 40, "euclidean", None, False, 7)
    cut = densumap.UMAP(n_epochs=30, random_state=7, precomputed_knn=wide).fit(X)
    own = densumap.UMAP(n_epochs=30, random_state=7).fit(X)
    np.testing.assert_array_equal(cut.embedding_, own.embedding_)


def test_nearest_neighbors_approximate_path_reproduces_fit():
    """Above 4,096 rows the search is approximate and seeded; a RandomState handed to
    nearest_neighbors and then to UMAP reproduces UMAP(random_state=seed).fit(X), as
    umap-learn's "Precomputed k-NN" page shows."""
    rng = np.random.default_rng(0)
    base = rng.random((1700, 20))
    X = np.concatenate([base + 20, base, base - 20]).astype(np.float32)
    plain = densumap.UMAP(n_neighbors=10, n_epochs=10, random_state=12).fit(X)
    rs = check_random_state(12)
    knn = nearest_neighbors(X, 10, "euclidean", None, False, rs)
    given = densumap.UMAP(n_neighbors=10, n_epochs=10, random_state=rs,
                          precomputed_knn=knn).fit(X)
    np.testing.assert_array_equal(given.embedding_, plain.embedding_)


def test_nearest_neighbors_checks(small):
    with pytest.raises(ValueError, match="n_neighbors=600"):
        nearest_neighbors(small, 600, "euclidean", None, False, 0)
    with pytest.raises(ValueError, match="metric"):
        nearest_neighbors(small, 5, "no-such-metric", None, False, 0)


@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
def test_fuzzy_simplicial_set_is_the_fitted_graph(small, metric):
    m = densumap.UMAP(n_epochs=5, random_state=0, metric=metric).fit(small)
    graph, sigmas, rhos = fuzzy_simplicial_set(small, 15, 0, metric)
    assert sp.isspmatrix_csr(graph) and (graph != m.graph_).nnz == 0
    np.testing.assert_array_equal(sigmas, m._sigmas)
    np.testing.assert_array_equal(rhos, m._rhos)
    g2, s2, r2, dists = fuzzy_simplicial_set(small, 15, 0, metric, return_dists=True)
    assert (dists != m.graph_dists_).nnz == 0
    assert fuzzy_simplicial_set(small, 15, 0, metric, return_dists=False)[3] is None


def test_fuzzy_simplicial_set_with_given_knn_against_reference(small):
    """scanpy's call: X only gives the number of rows, the kNN are given."""
    idx, dists, _ = nearest_neighbors(small, 12, "euclidean", None, False, 0)
    shape_only = sp.coo_matrix(([], ([], [])), shape=(500, 1))
    graph, sigmas, rhos = fuzzy_simplicial_set(shape_only, 12, None, None, knn_indices=idx,
                                               knn_dists=dists, set_op_mix_ratio=0.7)
    ref_s, ref_r = naive.smooth_knn_dist(dists, 12)
    np.testing.assert_allclose(sigmas, ref_s, rtol=1e-4)
    np.testing.assert_allclose(rhos, ref_r, rtol=1e-6)
    ref = naive.fuzzy_graph(idx, dists, sigmas, rhos, mix=0.7)
    np.testing.assert_allclose(graph.toarray(), ref, atol=1e-6)
    directed, _, _ = fuzzy_simplicial_set(shape_only, 12, None, None, knn_indices=idx,
                                          knn_dists=dists, apply_set_operations=False)
    assert (directed != directed.T).nnz > 0
    # Each row holds the memberships of that point's own neighbours only.
    for i in range(0, 500, 50):
        assert set(directed[i].indices) <= set(idx[i]) - {i}
    s3, r3 = smooth_knn_dist(dists, 12)
    np.testing.assert_array_equal(s3, sigmas)
    np.testing.assert_array_equal(r3, rhos)


def test_utils(small):
    from densumap import utils

    X = np.vstack([small[:200], small[:1] + 1000.0])  # one far outlier
    m = densumap.UMAP(n_epochs=5, random_state=0, disconnection_distance=200.0).fit(X)
    dis = utils.disconnected_vertices(m)
    assert dis.shape == (201,) and dis[200] and dis.sum() == 1
    avg = utils.average_nn_distance(m.graph_dists_[:200])
    rows = m.graph_dists_[:200]
    np.testing.assert_allclose(avg, [rows[i].data.mean() for i in range(200)], rtol=1e-6)
    with pytest.warns(UserWarning, match="disconnected"):
        assert np.isnan(utils.average_nn_distance(m.graph_dists_)[200])
    u = densumap.UMAP(n_epochs=5, random_state=0, unique=True,
                      disconnection_distance=200.0).fit(np.vstack([X, X[:3]]))
    np.testing.assert_array_equal(utils.disconnected_vertices(u),
                                  np.concatenate([dis, dis[:3]]))
    D = np.random.default_rng(0).random((30, 30))
    knn = utils.fast_knn_indices(D, 4)
    np.testing.assert_array_equal(knn, np.argsort(D, axis=1)[:, :4])
    np.testing.assert_array_equal(utils.submatrix(D, knn, 4), np.sort(D, axis=1)[:, :4])
    M = sp.csr_matrix(np.array([[1, 0, 2], [0, 0, 0], [1, 0, 2], [0, 3, 0], [0, 0, 0]]))
    index, inverse, counts = utils.csr_unique(M)
    np.testing.assert_array_equal(index, [0, 1, 3])
    np.testing.assert_array_equal(inverse, [0, 1, 0, 2, 1])
    np.testing.assert_array_equal(counts, [2, 2, 1])
    assert len(utils.csr_unique(M, return_inverse=False, return_counts=False)) == 1
    assert isinstance(utils.ts(), str)
