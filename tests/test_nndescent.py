"""Tests of the deterministic approximate kNN (densumap.nndescent.approximate_knn)."""
import numba
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.neighbors import NearestNeighbors

from densumap.nndescent import approximate_knn

K = 15


@pytest.fixture(scope="module")
def digits():
    return np.ascontiguousarray(load_digits().data)  # (1797, 64) float64


@pytest.fixture(scope="module")
def blobs():
    """A gaussian mixture, 5000 x 50 float32: 20 clusters of different spreads."""
    rng = np.random.default_rng(7)
    centers = rng.normal(scale=4.0, size=(20, 50))
    labels = rng.integers(0, 20, size=5000)
    scales = rng.uniform(0.5, 2.0, size=20)
    X = centers[labels] + rng.normal(size=(5000, 50)) * scales[labels, None]
    return X.astype(np.float32)


def exact_knn(X, k, metric, **kwds):
    nn = NearestNeighbors(n_neighbors=k, algorithm="brute", metric=metric, **kwds)
    return nn.fit(X).kneighbors(X)[1]


def recall(found, exact):
    hits = sum(len(set(a) & set(b)) for a, b in zip(found, exact))
    return hits / exact.size


def reference_distance(x, y, metric, p=2.0):
    """Slow, obviously correct float64 distances."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if metric == "euclidean":
        return np.sqrt(((x - y) ** 2).sum(-1))
    if metric == "manhattan":
        return np.abs(x - y).sum(-1)
    if metric == "chebyshev":
        return np.abs(x - y).max(-1)
    if metric == "minkowski":
        return (np.abs(x - y) ** p).sum(-1) ** (1 / p)
    if metric == "correlation":
        x = x - x.mean(-1, keepdims=True)
        y = y - y.mean(-1, keepdims=True)
    nx = np.linalg.norm(x, axis=-1)
    ny = np.linalg.norm(y, axis=-1)
    return 1 - (x * y).sum(-1) / (nx * ny)


# --------------------------------------------------------------------------- quality


@pytest.mark.parametrize("metric, threshold", [
    ("euclidean", 0.95), ("cosine", 0.95), ("manhattan", 0.9),
])
@pytest.mark.parametrize("dataset", ["digits", "blobs"])
def test_recall_against_brute_force(dataset, metric, threshold, request):
    X = request.getfixturevalue(dataset)
    indices, _ = approximate_knn(X, K, metric=metric, random_state=1)
    assert recall(indices, exact_knn(X, K, metric)) >= threshold


@pytest.mark.parametrize("metric, kwds", [
    ("correlation", None), ("chebyshev", None), ("minkowski", {"p": 3.0}),
])
def test_other_metrics_recall(digits, metric, kwds):
    indices, _ = approximate_knn(digits, K, metric=metric, metric_kwds=kwds, random_state=1)
    exact = exact_knn(digits, K, metric, **(kwds or {}))
    assert recall(indices, exact) >= 0.9


# ------------------------------------------------------------------------- output form


@pytest.mark.parametrize("metric, kwds", [
    ("euclidean", None), ("cosine", None), ("correlation", None), ("manhattan", None),
    ("chebyshev", None), ("minkowski", {"p": 3.0}),
])
def test_output_form_and_distances(digits, metric, kwds):
    X = digits[:600]
    indices, distances = approximate_knn(X, K, metric=metric, metric_kwds=kwds, random_state=3)
    assert indices.shape == distances.shape == (600, K)
    assert indices.dtype == np.int32 and distances.dtype == np.float32
    assert np.array_equal(indices[:, 0], np.arange(600))
    assert np.all(distances[:, 0] == 0)
    for row in indices:  # no repeated neighbour
        assert len(set(row)) == K
    # rows sorted by (distance, index) after the point itself
    d, i = distances[:, 1:], indices[:, 1:]
    assert np.all((d[:, 1:] > d[:, :-1]) | ((d[:, 1:] == d[:, :-1]) & (i[:, 1:] > i[:, :-1])))
    p = (kwds or {}).get("p", 2.0)
    expected = reference_distance(X[:, None, :], X[indices[:, 1:]], metric, p)
    np.testing.assert_allclose(distances[:, 1:], expected, rtol=1e-4, atol=1e-6)


def test_float32_and_float64_agree(blobs):
    i32, d32 = approximate_knn(blobs, K, random_state=5)
    i64, d64 = approximate_knn(blobs.astype(np.float64), K, random_state=5)
    assert recall(i32, i64) > 0.99
    np.testing.assert_allclose(d32[:, -1], d64[:, -1], rtol=1e-4)


# ----------------------------------------------------------------------- determinism


def test_same_seed_same_output(blobs):
    a = approximate_knn(blobs, K, random_state=11)
    b = approximate_knn(blobs, K, random_state=11)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_different_seed_different_search(blobs):
    a, _ = approximate_knn(blobs, K, random_state=11, n_trees=1, n_iters=1)
    b, _ = approximate_knn(blobs, K, random_state=12, n_trees=1, n_iters=1)
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "manhattan"])
def test_independent_of_thread_count(blobs, metric):
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = approximate_knn(blobs, K, metric=metric, random_state=42)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = approximate_knn(blobs, K, metric=metric, random_state=42)
    finally:
        numba.set_num_threads(threads)
    assert np.array_equal(one[0], two[0])
    assert np.array_equal(one[1], two[1])


# ------------------------------------------------------------- storage in tree order


@pytest.mark.parametrize("dtype", [np.float32, np.uint16])
def test_permute_rows_in_place(dtype):
    from densumap._kernels.nndescent import permute_rows

    rng = np.random.default_rng(1)
    data = (rng.random((1000, 7)) * 1000).astype(dtype)
    order = rng.permutation(1000).astype(np.int32)
    expected = data[order]
    permute_rows(data, order)
    assert np.array_equal(data, expected)


@pytest.fixture
def stored_in_tree_order(monkeypatch):
    """Store the search array in tree order from 0 rows; count the reorderings."""
    import densumap.nndescent as nd

    calls = []
    store = nd._store_by_tree

    def spy(data, X, s):
        data, order = store(data, X, s)
        calls.append(order is not None)
        return data, order

    monkeypatch.setattr(nd, "_STORE_MIN_ROWS", 0)
    monkeypatch.setattr(nd, "_store_by_tree", spy)
    return calls


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_search_in_tree_order(blobs, metric, stored_in_tree_order):
    X = blobs.copy()
    indices, distances = approximate_knn(X, K, metric=metric, random_state=3)
    assert stored_in_tree_order == [True]  # the uint16 codes were reordered
    assert np.array_equal(X, blobs)
    assert (indices[:, 0] == np.arange(len(X))).all()
    assert recall(indices, exact_knn(blobs, K, metric)) > 0.95
    expected = reference_distance(X[:, None, :], X[indices[:, 1:]], metric)
    np.testing.assert_allclose(distances[:, 1:], expected, rtol=1e-4, atol=1e-6)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = approximate_knn(X, K, metric=metric, random_state=3)
    finally:
        numba.set_num_threads(threads)
    assert np.array_equal(one[0], indices) and np.array_equal(one[1], distances)


@pytest.mark.parametrize("copy_bytes", [0, 1 << 30])
def test_callers_float32_rows_are_never_reordered(stored_in_tree_order, monkeypatch,
                                                  copy_bytes):
    import densumap.nndescent as nd

    monkeypatch.setattr(nd, "_STORE_COPY_BYTES", copy_bytes)
    X = np.random.default_rng(2).normal(size=(2000, 8)).astype(np.float32)
    before = X.copy()
    indices, distances = approximate_knn(X, K, random_state=3)
    # Searched in place (8 columns are not quantised): reordered only in a copy.
    assert stored_in_tree_order == [copy_bytes > 0]
    assert np.array_equal(X, before)
    assert (indices[:, 0] == np.arange(len(X))).all()
    assert recall(indices, exact_knn(X, K, "euclidean")) > 0.95
    expected = reference_distance(X[:, None, :], X[indices[:, 1:]], "euclidean")
    np.testing.assert_allclose(distances[:, 1:], expected, rtol=1e-4, atol=1e-6)


# ------------------------------------------------------------------------ edge cases


def test_duplicate_points():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(300, 8)).astype(np.float32)
    X = np.concatenate([base, base, base[:100]])  # every point has 1 or 2 exact copies
    for metric in ("euclidean", "cosine", "manhattan"):
        indices, distances = approximate_knn(X, K, metric=metric, random_state=0)
        assert np.all(np.isfinite(distances))
        assert np.array_equal(indices[:, 0], np.arange(len(X)))
        # the copies of a point are among its neighbours at distance 0
        copies = (indices[:300, 1:] % 300) == np.arange(300)[:, None]
        assert np.all(copies.sum(axis=1) >= 1)


@pytest.mark.parametrize("metric", ["euclidean", "cosine", "correlation", "chebyshev"])
def test_all_identical_points(metric):
    X = np.ones((200, 5))
    indices, distances = approximate_knn(X, K, metric=metric, random_state=0)
    assert np.array_equal(indices[:, 0], np.arange(200))
    assert np.all(np.isfinite(distances))
    assert np.all(distances[:, 0] == 0)
    if metric in ("euclidean", "chebyshev", "cosine"):
        assert np.all(distances == 0)
    for row in indices:
        assert len(set(row)) == K


@pytest.mark.parametrize("n", [K, K + 1, K + 5, 100])
def test_small_n(n):
    X = np.random.default_rng(n).normal(size=(n, 3))
    indices, distances = approximate_knn(X, K, random_state=0, leaf_size=4)
    exact = exact_knn(X, K, "euclidean")
    assert np.array_equal(indices[:, 0], np.arange(n))
    assert recall(indices, exact) == 1.0


def test_one_neighbour_and_one_point():
    X = np.arange(6, dtype=np.float64).reshape(3, 2)
    indices, distances = approximate_knn(X, 1)
    assert np.array_equal(indices[:, 0], [0, 1, 2]) and np.all(distances == 0)
    indices, distances = approximate_knn(X[:1], 1)
    assert indices.tolist() == [[0]]


def test_zero_rows_cosine():
    X = np.random.default_rng(0).normal(size=(100, 4))
    X[:5] = 0
    indices, distances = approximate_knn(X, 5, metric="cosine")
    assert np.all(np.isfinite(distances))
    assert np.all(distances[:5, 1:] == 1.0)


def test_does_not_modify_input(blobs):
    X = blobs[:500].copy()
    approximate_knn(X, K, metric="correlation")
    assert np.array_equal(X, blobs[:500])


# ---------------------------------------------------------------------- bad input


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(n_neighbors=0), ValueError, "n_neighbors must be >= 1"),
    (dict(n_neighbors=51), ValueError, "must not exceed n_samples=50"),
    (dict(n_neighbors=2.5), TypeError, "n_neighbors must be an int"),
    (dict(metric="hamming"), ValueError, "metric must be one of"),
    (dict(metric="minkowski", metric_kwds={"p": 0}), ValueError, "must be > 0"),
    (dict(n_trees=0), ValueError, "n_trees must be >= 1"),
    (dict(leaf_size=1), ValueError, "leaf_size must be >= 2"),
    (dict(n_iters=-1), ValueError, "n_iters must be >= 0"),
])
def test_bad_parameters(kwargs, error, match):
    X = np.random.default_rng(0).normal(size=(50, 3))
    kwargs = dict(dict(n_neighbors=5), **kwargs)
    with pytest.raises(error, match=match):
        approximate_knn(X, **kwargs)


@pytest.mark.parametrize("X, match", [
    (np.zeros(5), "2-D array"),
    (np.zeros((0, 3)), "at least one row"),
    (np.array([[0.0, np.nan], [1.0, 2.0]]), "NaN or infinity"),
    (np.array([[0.0, np.inf], [1.0, 2.0]]), "NaN or infinity"),
])
def test_bad_data(X, match):
    with pytest.raises(ValueError, match=match):
        approximate_knn(X, 1)


@pytest.mark.parametrize("scale", [1e-30, 1e30])
@pytest.mark.parametrize("dim", [4, 40])
def test_extreme_magnitudes(scale, dim):
    """Values far outside float32's comfortable range are searched on rescaled rows."""
    rng = np.random.default_rng(1)
    X = (rng.normal(size=(10, dim))[rng.integers(0, 10, 400)] * 3
         + rng.normal(size=(400, dim))) * scale
    indices, distances = approximate_knn(X, 10, random_state=0)
    assert recall(indices, exact_knn(X, 10, "euclidean")) >= 0.95
    expected = reference_distance(X[:, None, :], X[indices[:, 1:]], "euclidean")
    np.testing.assert_allclose(distances[:, 1:], expected, rtol=1e-4)


def test_outlier_keeps_precision():
    """One huge outlier must not make the quantised search coarse for everything else."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(20, 64))[rng.integers(0, 20, 2000)] * 3 + rng.normal(size=(2000, 64))
    X = X.astype(np.float32)
    X[0] = 1e6
    indices, _ = approximate_knn(X, K, random_state=0)
    assert recall(indices[1:], exact_knn(X, K, "euclidean")[1:]) >= 0.95


# ------------------------------------------------------------------------- recall probe


@pytest.fixture(scope="module")
def hard():
    """30,000 x 64 float32 gaussian mixture with wide, overlapping clusters: NN-descent's
    first descent settles near recall 0.91 here (seeds 7 and 42), below the probe's 0.95
    target. The trees' graph recalls ~0.32, below the 0.4 (``_FOREST_HARD``) that skips
    the first descent; the tests of that first descent set the bound lower."""
    rng = np.random.default_rng(3)
    centers = rng.normal(scale=2.0, size=(10, 64))
    labels = rng.integers(0, 10, size=30000)
    scales = rng.uniform(0.5, 2.0, size=10)
    X = centers[labels] + rng.normal(size=(30000, 64)) * scales[labels, None]
    return X.astype(np.float32)


def _sampled_recall(X, indices, n_queries=400):
    queries = np.random.default_rng(0).choice(X.shape[0], n_queries, replace=False)
    exact = NearestNeighbors(n_neighbors=K, algorithm="brute").fit(X).kneighbors(
        X[queries], return_distance=False)
    return recall(indices[queries], exact)


def test_probe_widens_a_search_of_low_recall(hard, monkeypatch, caplog):
    import densumap._nn_rounds as rounds
    import densumap.nndescent as nd

    monkeypatch.setattr(nd, "_FOREST_HARD", 0.2)  # the first descent runs, then widens
    with caplog.at_level("INFO", logger="densumap"):
        widened = approximate_knn(hard, K, random_state=42)[0]
    assert "heaps of 15" in caplog.text and "heaps of 24" in caplog.text  # it widened
    monkeypatch.setattr(rounds, "MAX_WIDENINGS", 0)
    first = approximate_knn(hard, K, random_state=42)[0]
    r_first, r_widened = _sampled_recall(hard, first), _sampled_recall(hard, widened)
    assert r_first < 0.95 <= r_widened, (r_first, r_widened)


def test_poor_trees_graph_goes_straight_to_the_wide_descent(hard, caplog):
    # The default bound: the fixture's trees' graph (~0.32) is below it, so the first
    # descent is skipped and the recall still reaches the target.
    with caplog.at_level("INFO", logger="densumap"):
        indices = approximate_knn(hard, K, random_state=42)[0]
    assert "heaps of 24" in caplog.text and "heaps of 15" not in caplog.text
    assert _sampled_recall(hard, indices) >= 0.95


def test_probe_truth_is_exact_and_counts_heaps(hard):
    import densumap._nn_rounds as rounds
    import densumap.nndescent as nd

    X = np.ascontiguousarray(hard[:3000])
    s = nd._resolve(X.shape[0], K, "euclidean", None, 7, None, None, None)
    data32, data16, is_float = nd._dtype_pair(X, np.float32, np.uint16)
    search = rounds.Descent(data32, data16, is_float, s, np.arange(3000, dtype=np.int32), None)
    queries, truth = rounds.probe_truth(search)
    exact = NearestNeighbors(n_neighbors=K, algorithm="brute").fit(X).kneighbors(
        X[queries], return_distance=False)
    assert (truth == exact[:, 1:]).all()  # each query's own row excluded, order kept
    heap_idx = np.full((3000, K), -1, dtype=np.int32)
    heap_dist = np.full((3000, K), np.inf)
    assert rounds.probe_recall((queries, truth), (heap_idx, heap_dist)) == 0.0
    heap_idx[queries, 1:] = truth[:, ::-1]  # unsorted heaps still count
    heap_dist[queries, 1:] = np.arange(K - 1, 0, -1)
    wrong = next(j for j in range(3000) if j != queries[0] and j not in truth[0])
    heap_idx[queries[0], 1:4] = wrong  # three entries no longer among the truth
    assert rounds.probe_recall((queries, truth), (heap_idx, heap_dist)) == pytest.approx(
        1 - 3 / truth.size)


def test_probe_leaves_an_easy_search_alone(hard, caplog):
    easy = np.ascontiguousarray(hard[:, :4])  # 4 dimensions: the first descent recalls ~1
    with caplog.at_level("INFO", logger="densumap"):
        approximate_knn(easy, K, random_state=42)
    assert "heaps of 15" in caplog.text and "heaps of 24" not in caplog.text


@pytest.mark.parametrize("skip_first", [False, True])
def test_widened_search_independent_of_thread_count(hard, caplog, monkeypatch, skip_first):
    import densumap.nndescent as nd

    # The trees' graph (~0.32) counts as hopeless below the bound: straight to the wide
    # descent; above it the first descent runs, then widens.
    monkeypatch.setattr(nd, "_FOREST_HARD", 0.99 if skip_first else 0.2)
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        with caplog.at_level("INFO", logger="densumap"):
            one = approximate_knn(hard, K, random_state=7)
        assert "heaps of 24" in caplog.text  # the widened descent is the one compared
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = approximate_knn(hard, K, random_state=7)
    finally:
        numba.set_num_threads(threads)
    assert np.array_equal(one[0], two[0]) and np.array_equal(one[1], two[1])
    assert ("heaps of 15" in caplog.text) != skip_first
    assert _sampled_recall(hard, one[0]) >= 0.95
