import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from densumap import graph
from densumap.density import input_log_radii
from densumap.neighbors import nearest_neighbors

from . import naive


@pytest.fixture(scope="module")
def knn(digits):
    X = digits[0][:300]
    idx, d = nearest_neighbors(X, 15)
    return X, idx, d


def test_knn_is_exact_and_self_first(knn):
    X, idx, d = knn
    ref_d, _ = NearestNeighbors(n_neighbors=15).fit(X).kneighbors(X)
    assert np.all(idx[:, 0] == np.arange(len(X)))
    assert np.allclose(d, ref_d, rtol=1e-4, atol=1e-3)


def test_self_first_with_duplicates():
    X = np.repeat(np.arange(10, dtype=np.float32)[:, None], 3, axis=0)
    idx, d = nearest_neighbors(X, 4)
    assert np.all(idx[:, 0] == np.arange(len(X)))
    assert np.all(d[:, :3] == 0)


@pytest.mark.parametrize("local_connectivity", [1.0, 1.5, 0.5])
def test_smooth_knn_dist_matches_reference(knn, local_connectivity):
    _, _, d = knn
    sig, rho = graph.smooth_knn_dist(d, 15, local_connectivity)
    ref_sig, ref_rho = naive.smooth_knn_dist(d, 15, local_connectivity)
    np.testing.assert_allclose(rho, ref_rho, rtol=1e-5)
    np.testing.assert_allclose(sig, ref_sig, rtol=1e-4)


@pytest.mark.parametrize("mix", [1.0, 0.3])
def test_fuzzy_graph_matches_reference(knn, mix):
    _, idx, d = knn
    G, sig, rho = graph.fuzzy_simplicial_set(idx, d, 15, set_op_mix_ratio=mix)
    ref = naive.fuzzy_graph(idx, d, sig, rho, mix)
    np.testing.assert_allclose(G.toarray(), ref, atol=1e-4)
    assert (G != G.T).nnz == 0


def test_input_radii_match_reference(knn):
    X, idx, d = knn
    G, _, _ = graph.fuzzy_simplicial_set(idx, d, 15)
    P = G.toarray()
    sq = ((X[:, None, :].astype(np.float64) - X[None, :, :]) ** 2).sum(-1)
    np.testing.assert_allclose(input_log_radii(G, idx, d), naive.log_radii(P, sq), rtol=1e-4)


def test_ab_params_known_values():
    a, b = graph.find_ab_params(1.0, 0.1)
    # umap-learn's documented values for min_dist=0.1, spread=1.
    assert a == pytest.approx(1.577, abs=0.01)
    assert b == pytest.approx(0.895, abs=0.01)


@pytest.mark.parametrize("seed", [0, 1])
def test_row_sweep_phases_move_disjoint_vertices(seed):
    """DensMAP's sweep: the rows of a phase share no vertex, so a phase can run in
    parallel while each row moves its neighbours; every vertex is in one phase."""
    import scipy.sparse as sp

    from densumap.layout import row_sweep

    rng = np.random.default_rng(seed)
    n = 300
    rows = rng.integers(0, n, 2000)
    cols = (rows + rng.integers(1, n, 2000)) % n  # no self-loops
    cols[:40] = 7  # a hub
    adj = sp.csr_matrix((np.ones(2000), (rows, cols)), shape=(n, n))
    adj = (adj + adj.T).tocsr()
    adj.sort_indices()
    order, phase_ptr = row_sweep(adj, seed)
    assert np.array_equal(np.sort(order), np.arange(n))
    assert phase_ptr[0] == 0 and phase_ptr[-1] == n and np.all(np.diff(phase_ptr) > 0)
    max_degree = np.diff(adj.indptr).max()
    assert len(phase_ptr) - 1 >= max_degree + 1
    for p in range(len(phase_ptr) - 1):
        members = order[phase_ptr[p]:phase_ptr[p + 1]]
        touched = np.concatenate([members] + [adj.indices[adj.indptr[i]:adj.indptr[i + 1]]
                                              for i in members])
        assert np.unique(touched).size == touched.size, f"phase {p} touches a vertex twice"
