import numpy as np
import pytest
import scipy.sparse as sp
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


def _scipy_membership(idx, vals):
    n, k = idx.shape
    rows = np.repeat(np.arange(n), k)
    keep = (idx.ravel() >= 0) & (vals.ravel() > 0)
    g = sp.csr_matrix((vals.ravel()[keep], (rows[keep], idx.ravel()[keep])), shape=(n, n),
                      dtype=np.float32)
    g.sum_duplicates()
    return g


def _scipy_union(g, mix):
    # The formulation fuzzy_union replaced: scipy's float32 sparse algebra.
    t = g.T.tocsr()
    prod = g.multiply(t)
    out = sp.csr_matrix(mix * (g + t - prod) + (1.0 - mix) * prod, dtype=np.float32)
    out.eliminate_zeros()
    out.sort_indices()
    return out


def _assert_same_csr(got, want):
    assert got.has_canonical_format and got.data.dtype == np.float32
    np.testing.assert_array_equal(got.indptr, want.indptr)
    np.testing.assert_array_equal(got.indices, want.indices)
    np.testing.assert_array_equal(got.data.view(np.uint32), want.data.view(np.uint32))


@pytest.mark.parametrize("mix", [1.0, 0.5, 0.3, 0.0])
def test_fuzzy_union_is_scipys_sparse_algebra_bit_for_bit(knn, mix):
    _, idx, d = knn
    idx = idx.copy()
    idx[::7, 5] = -1  # removed edges
    idx[::11, 3] = idx[::11, 4]  # a neighbour listed twice: summed
    sig, rho = graph.smooth_knn_dist(d, 15)
    directed = graph.membership_graph(idx, d, sig, rho)
    vals = graph._k.membership_strengths(idx, d, sig, rho)
    _assert_same_csr(directed, _scipy_membership(idx, vals))
    _assert_same_csr(graph.fuzzy_union(directed, mix), _scipy_union(directed, mix))


def test_fuzzy_union_of_a_non_canonical_float64_graph_leaves_it_alone():
    rng = np.random.default_rng(1)
    n = 200
    rows, cols = rng.integers(0, n, size=(2, 1500))
    g = sp.coo_matrix((rng.uniform(0.01, 1.0, 1500), (rows, cols)), shape=(n, n)).tocsr()
    g.data[::9] = 0.0  # explicit zeros are dropped
    g.has_canonical_format = False
    before = (g.indptr.copy(), g.indices.copy(), g.data.copy())
    want = sp.csr_matrix(g, dtype=np.float32, copy=True)
    want.sum_duplicates()
    _assert_same_csr(graph.fuzzy_union(g, 0.7), _scipy_union(want, 0.7))
    for a, b in zip(before, (g.indptr, g.indices, g.data)):
        np.testing.assert_array_equal(a, b)


def test_input_radii_match_reference(knn):
    X, idx, d = knn
    G, _, _ = graph.fuzzy_simplicial_set(idx, d, 15)
    P = G.toarray()
    sq = ((X[:, None, :].astype(np.float64) - X[None, :, :]) ** 2).sum(-1)
    np.testing.assert_allclose(input_log_radii(G, idx, d), naive.log_radii(P, sq), rtol=1e-4)


def test_edge_distances_match_reference(knn):
    X, idx, d = knn
    G, _, _ = graph.fuzzy_simplicial_set(idx, d, 15)
    got = graph.edge_distances(G, idx, d)
    np.testing.assert_array_equal(got.view(np.uint64),
                                  naive.edge_distances(G, idx, d).view(np.uint64))
    # And they are the input distances along the edges.
    rows = np.repeat(np.arange(G.shape[0]), np.diff(G.indptr))
    exact = np.sqrt(((X[rows].astype(np.float64) - X[G.indices]) ** 2).sum(-1))
    np.testing.assert_allclose(got, exact, rtol=1e-4, atol=1e-3)


def test_edge_distances_with_empty_slots_repeats_and_unsorted_rows():
    rng = np.random.default_rng(0)
    n, k = 40, 6
    idx = np.stack([rng.permutation(n)[:k] for _ in range(n)]).astype(np.int64)
    dists = rng.uniform(0.0, 3.0, size=(n, k)).astype(np.float32)
    idx[::5, -1] = -1             # empty slots
    idx[::7, 2] = idx[::7, 1]     # a neighbour listed twice
    dists[3, :] = 0.0             # duplicate points
    rows = np.repeat(np.arange(n), k)
    keep = idx.ravel() >= 0
    import scipy.sparse as sp

    A = sp.csr_matrix((np.ones(keep.sum()), (rows[keep], idx.ravel()[keep])), shape=(n, n))
    G = (A + A.T).tocsr()
    G.sum_duplicates()
    perm = rng.permutation(G.indptr[1] - G.indptr[0])  # unsort the first row
    G.indices[:perm.size] = G.indices[:perm.size][perm]
    got = graph.edge_distances(G, idx, dists)
    np.testing.assert_array_equal(got, naive.edge_distances(G, idx, dists))


def test_ab_params_known_values():
    a, b = graph.find_ab_params(1.0, 0.1)
    # umap-learn's documented values for min_dist=0.1, spread=1.
    assert a == pytest.approx(1.577, abs=0.01)
    assert b == pytest.approx(0.895, abs=0.01)


def _random_layout_graph(seed, n=3000):
    """A symmetric graph whose edges mostly join points close in a 2-D layout, plus
    a hub and some long edges; and that layout."""
    import scipy.sparse as sp
    from sklearn.neighbors import NearestNeighbors

    rng = np.random.default_rng(seed)
    coords = rng.normal(size=(n, 2)) + 4 * rng.integers(0, 3, (n, 1))
    _, idx = NearestNeighbors(n_neighbors=8).fit(coords).kneighbors(coords)
    rows = np.repeat(np.arange(n), 7)
    cols = idx[:, 1:].ravel()
    extra = rng.integers(0, n, (200, 2))  # long edges
    rows = np.concatenate([rows, extra[:, 0], np.full(60, 7)])
    cols = np.concatenate([cols, extra[:, 1], rng.integers(0, n, 60)])  # vertex 7: a hub
    keep = rows != cols
    adj = sp.csr_matrix((np.ones(keep.sum()), (rows[keep], cols[keep])), shape=(n, n))
    adj = (adj + adj.T).tocsr()
    adj.sort_indices()
    return adj, coords


@pytest.mark.parametrize("seed", [0, 1])
def test_sweep_parts_of_a_level_touch_disjoint_vertices(seed):
    """DensMAP's sweep: the rows of one level in different parts share no vertex
    (themselves or a neighbour), so the parts can run in parallel while each row
    moves its neighbours; every vertex is in exactly one finest part."""
    from densumap._kernels.sgd import LevelSweep
    from densumap.partition import bisect, level_rows, part_rows

    adj, coords = _random_layout_graph(seed)
    n = adj.shape[0]
    n_levels = 3
    plan = bisect(coords, adj, n_levels, seed)
    assert np.array_equal(np.sort(plan.perm), np.arange(n))
    assert plan.bounds[0] == 0 and plan.bounds[-1] == n and len(plan.bounds) == 2 ** 3 + 1
    g = adj[plan.perm][:, plan.perm].tocsr()
    level = level_rows(g, plan)
    assert level.min() >= 0 and level.max() <= n_levels
    # Most rows lie inside a finest part: the cuts follow the layout's gaps.
    assert np.mean(level == 0) > 0.6
    assert np.mean(level == n_levels) < 0.2
    sweep = LevelSweep(level, plan.bounds, n_levels)
    for lev in range(n_levels + 1):
        step = 1 << lev
        owner = np.full(n, -1)
        parts = set(np.flatnonzero(part_rows(sweep, lev)).tolist())
        for q in range((len(plan.bounds) - 1) >> lev):
            r0, r1 = plan.bounds[q * step], plan.bounds[(q + 1) * step]
            rows = np.arange(r0, r1)[level[r0:r1] == lev]
            assert (q in parts) == (len(rows) > 0)
            for i in rows:
                touched = np.concatenate(([i], g.indices[g.indptr[i]:g.indptr[i + 1]]))
                assert np.all((touched >= r0) & (touched < r1)), "row leaves its part"
                assert np.all((owner[touched] == -1) | (owner[touched] == q))
                owner[touched] = q


def test_part_rows_counts_each_parts_rows_of_its_level():
    from densumap._kernels.sgd import LevelSweep
    from densumap.partition import part_rows

    bounds = np.array([0, 2, 7, 7, 10])
    level = np.array([0, 0, 0, 0, 1, 0, 0, 1, 0, 0])
    sweep = LevelSweep(level, bounds, 2)
    assert part_rows(sweep, 0).tolist() == [2, 4, 0, 2]  # part 2 is empty
    assert part_rows(sweep, 1).tolist() == [1, 1]
    assert part_rows(sweep, 2).tolist() == [0]


def test_neighbour_extent_over_each_axis_ignores_other_groups_and_zero_weights():
    from densumap._kernels.graph import neighbour_extent

    rng = np.random.default_rng(4)
    adj, coords = _random_layout_graph(0)
    adj = adj.astype(np.float32)
    adj.data[::5] = 0.0  # stored zeros are not edges
    n = adj.shape[0]
    coords = np.ascontiguousarray(coords, dtype=np.float64)
    group = rng.integers(0, 3, n).astype(np.int64)
    lo, hi = neighbour_extent(adj.indptr.astype(np.int64), adj.indices, adj.data, coords, group)
    for i in range(n):
        s, e = adj.indptr[i], adj.indptr[i + 1]
        nbrs = adj.indices[s:e][(adj.data[s:e] != 0) & (group[adj.indices[s:e]] == group[i])]
        pts = coords[np.concatenate(([i], nbrs))]
        np.testing.assert_array_equal(lo[i], pts.min(axis=0))
        np.testing.assert_array_equal(hi[i], pts.max(axis=0))


@pytest.mark.parametrize("w_max", [None, 1.0])
def test_schedule_rates_are_weight_over_top_in_fixed_point(w_max):
    from densumap._kernels.clocks import ONE, negative_rate
    from densumap.layout import make_schedule

    rng = np.random.default_rng(5)
    g = sp.random(300, 300, density=0.05, random_state=5, format="csr", dtype=np.float32)
    g.data = rng.uniform(0.0, 0.9, g.nnz).astype(np.float32)
    g.data[3] = 0.0  # a zero weight: rate 0, never sampled
    sched = make_schedule(g, 5.0, w_max=w_max)
    w = g.data.astype(np.float64)
    top = w.max() if w_max is None else w_max
    assert sched.rates.dtype == np.uint32
    np.testing.assert_array_equal(sched.rates, np.floor(w / top * ONE + 0.5).astype(np.uint32))
    assert sched.rates[3] == 0
    if w_max is None:
        assert sched.rates.max() == ONE  # the largest weight is sampled every epoch
    assert sched.negative_rate == negative_rate(5.0) == 5 * ONE
    empty = make_schedule(sp.csr_matrix((4, 4), dtype=np.float32), 5.0)
    assert empty.rates.shape == (0,) and empty.indptr.tolist() == [0] * 5


@pytest.mark.parametrize("nu", [5.0, 0.0, 0.5, 2.3])
def test_schedule_samples_as_the_exact_clock(nu):
    """The k-th sample of an edge of rate r falls in the first epoch n with n r >= k
    (umap-learn's clock, in exact arithmetic), and the first k samples draw
    floor(k nu) negative samples in all."""
    from densumap._kernels.clocks import ONE, negative_rate, negatives_due, sample_due

    rng = np.random.default_rng(0)
    rates = [ONE, ONE - 1, ONE // 2, ONE // 3, 1 + ONE // 400, 0] + list(
        rng.integers(ONE // 500, ONE, 20))
    V = negative_rate(nu)
    for R in rates:
        want = [] if R == 0 else [-(-k * ONE // R) for k in range(1, 700 * R // ONE + 1)]
        got, total, k_seen = [], 0, 0
        for n in range(700):
            k = int(sample_due(n, np.uint32(R)))
            if k:
                assert k == k_seen + 1
                k_seen = k
                got.append(n)
                total += int(negatives_due(k, V))
                assert total == (k * V) >> 24
        assert got == [n for n in want if n < 700]
    assert V == (0 if nu == 0 else round(nu * ONE))
