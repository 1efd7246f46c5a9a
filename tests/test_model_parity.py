"""umap-learn model parity (issue 13): constructor, graph_dists_, transform_mode and
transform of training rows."""
import io

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.spatial.distance import cdist
from sklearn.neighbors import NearestNeighbors

import densumap
from densumap.compose import input_log_radii

# umap-learn 0.5.12's constructor: every parameter with its default.
UMAP_LEARN_PARAMS = {
    "n_neighbors": 15, "n_components": 2, "metric": "euclidean", "metric_kwds": None,
    "output_metric": "euclidean", "output_metric_kwds": None, "n_epochs": None,
    "learning_rate": 1.0, "init": "spectral", "min_dist": 0.1, "spread": 1.0,
    "low_memory": True, "n_jobs": -1, "set_op_mix_ratio": 1.0, "local_connectivity": 1.0,
    "repulsion_strength": 1.0, "negative_sample_rate": 5, "transform_queue_size": 4.0,
    "a": None, "b": None, "random_state": None, "angular_rp_forest": False,
    "target_n_neighbors": -1, "target_metric": "categorical", "target_metric_kwds": None,
    "target_weight": 0.5, "transform_seed": 42, "transform_mode": "embedding",
    "force_approximation_algorithm": False, "verbose": False, "tqdm_kwds": None,
    "unique": False, "densmap": False, "dens_lambda": 2.0, "dens_frac": 0.3,
    "dens_var_shift": 0.1, "output_dens": False, "disconnection_distance": None,
    "precomputed_knn": (None, None, None),
}
def _check_defaults(expected):
    ours = densumap.UMAP().get_params()
    missing = set(expected) - set(ours)
    assert not missing, sorted(missing)
    for name, default in expected.items():
        if name in ours:
            assert ours[name] == default, (name, ours[name], default)


def test_constructor_has_every_umap_learn_parameter():
    _check_defaults(UMAP_LEARN_PARAMS)


def test_constructor_matches_installed_umap_learn():
    """Read from umap-learn's source (importing it compiles for a minute)."""
    import ast
    import importlib.util

    spec = importlib.util.find_spec("umap")
    if spec is None:
        pytest.skip("umap-learn is not installed")
    source = (importlib.util.find_spec("umap").submodule_search_locations[0]
              + "/umap_.py")
    tree = ast.parse(open(source, encoding="utf-8").read())
    init = next(node for cls in tree.body if isinstance(cls, ast.ClassDef)
                and cls.name == "UMAP" for node in cls.body
                if isinstance(node, ast.FunctionDef) and node.name == "__init__")
    args = init.args.args[1:]
    defaults = init.args.defaults
    expected = {a.arg: ast.literal_eval(d) for a, d in zip(args[len(args) - len(defaults):],
                                                          defaults)}
    assert len(expected) == len(args) and "precomputed_knn" in expected
    _check_defaults(expected)


@pytest.fixture(scope="module")
def small(digits):
    X, y = digits
    return X[:400], y[:400]


@pytest.fixture(scope="module")
def base(small):
    return densumap.UMAP(n_epochs=30, random_state=1).fit(small[0])


def test_parameters_without_effect_change_nothing(small, base):
    """angular_rp_forest, transform_queue_size and (dense data) low_memory do nothing."""
    X = small[0]
    other = densumap.UMAP(n_epochs=30, random_state=1, angular_rp_forest=True,
                          transform_queue_size=16.0, low_memory=False).fit(X)
    np.testing.assert_array_equal(other.embedding_, base.embedding_)
    np.testing.assert_array_equal(other.transform(X[:20] + 1), base.transform(X[:20] + 1))


@pytest.mark.parametrize("kwds, bad", [({"bogus": 1}, "bogus"), ({"total": 3}, "total")])
def test_tqdm_kwds_keys_are_checked(small, kwds, bad):
    with pytest.raises(ValueError, match=f"tqdm_kwds.*{bad}"):
        densumap.UMAP(tqdm_kwds=kwds).fit(small[0])


def test_tqdm_kwds_reach_the_progress_bar(small):
    buf = io.StringIO()
    densumap.UMAP(n_epochs=5, verbose=True, random_state=0,
                  tqdm_kwds={"desc": "layout epochs", "file": buf, "mininterval": 0}
                  ).fit(small[0][:100])
    assert "layout epochs" in buf.getvalue()
    # "disable" decides over verbose, as in umap-learn.
    quiet, shown = io.StringIO(), io.StringIO()
    densumap.UMAP(n_epochs=5, verbose=True, tqdm_kwds={"disable": True, "file": quiet}
                  ).fit(small[0][:100])
    densumap.UMAP(n_epochs=5, tqdm_kwds={"disable": False, "file": shown, "desc": "xyz"}
                  ).fit(small[0][:100])
    assert quiet.getvalue() == "" and "xyz" in shown.getvalue()


def test_force_approximation_algorithm(monkeypatch, small):
    from densumap import estimator as estimator_mod

    seen = []
    real = estimator_mod.nearest_neighbors

    def spy(*args, **kwargs):
        seen.append((kwargs.get("exact"), kwargs.get("low_memory")))
        return real(*args, **kwargs)

    monkeypatch.setattr(estimator_mod, "nearest_neighbors", spy)
    X = small[0]
    forced = densumap.UMAP(n_epochs=30, random_state=1, force_approximation_algorithm=True,
                           low_memory=False).fit(X)
    densumap.UMAP(n_epochs=30, random_state=1).fit(X)
    assert seen == [(False, False), (None, True)]
    # The approximate search finds (nearly) the exact neighbours here.
    exact = densumap.UMAP(n_epochs=30, random_state=1).fit(X).graph_
    shared = exact.multiply(forced.graph_ > 0).nnz
    assert shared >= 0.95 * exact.nnz, (shared, exact.nnz)


def test_low_memory_goes_to_pynndescent_for_sparse_data(monkeypatch, small):
    """Sparse data searched approximately goes to pynndescent with ``low_memory``.

    A stand-in with pynndescent's interface records the call (the real index
    compiles for minutes) and answers with the exact neighbours.
    """
    import pynndescent

    seen = []

    class Recorder:
        def __init__(self, data, n_neighbors, **kwargs):
            seen.append(kwargs.get("low_memory"))
            nn = NearestNeighbors(n_neighbors=n_neighbors).fit(data)
            dists, idx = nn.kneighbors(data)
            self.neighbor_graph = (idx, dists)

    monkeypatch.setattr(pynndescent, "NNDescent", Recorder)
    X = sp.csr_matrix(small[0][:200])
    for low_memory in (False, True):
        with pytest.warns(UserWarning, match="pynndescent"):
            densumap.UMAP(n_epochs=10, random_state=0, force_approximation_algorithm=True,
                          low_memory=low_memory).fit(X)
    assert seen == [False, True]


# ---------------------------------------------------------------- graph_dists_
@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_graph_dists_are_the_input_distances_of_the_graph_edges(small, metric):
    X = small[0]
    m = densumap.UMAP(n_epochs=10, random_state=0, metric=metric).fit(X)
    D, G = m.graph_dists_, m.graph_
    assert D.shape == G.shape and D.dtype == np.float32
    np.testing.assert_array_equal(D.indptr, G.indptr)
    np.testing.assert_array_equal(D.indices, G.indices)
    rows = np.repeat(np.arange(X.shape[0]), np.diff(D.indptr))
    full = cdist(X.astype(np.float64), X.astype(np.float64), metric=metric)
    np.testing.assert_allclose(D.data, full[rows, D.indices], rtol=1e-5, atol=1e-6)
    # Every kNN pair, in either direction, is an edge.
    nb = NearestNeighbors(n_neighbors=15, metric=metric).fit(X).kneighbors(
        X, return_distance=False)
    pairs = {(i, j) for i in range(len(X)) for j in nb[i] if i != j}
    edges = set(zip(rows.tolist(), D.indices.tolist()))
    assert len(pairs - edges) <= 2  # exact ties at the 15th neighbour may differ


def test_graph_dists_give_back_the_fitted_input_radii(small):
    m = densumap.UMAP(n_epochs=30, random_state=0, densmap=True, output_dens=True).fit(small[0])
    radii = input_log_radii(m)
    assert np.all(np.isfinite(radii))
    np.testing.assert_allclose(radii, m.rad_orig_, rtol=1e-12)


def test_graph_dists_of_supervised_fit_are_the_data_graph(small):
    X, y = small[0][:200], small[1][:200]
    plain = densumap.UMAP(n_epochs=10, random_state=0).fit(X)
    sup = densumap.UMAP(n_epochs=10, random_state=0).fit(X, y)
    assert (sup.graph_dists_ != plain.graph_dists_).nnz == 0


# ------------------------------------------------------------ transform_mode
def test_transform_mode_graph(small, base, tmp_path):
    X = small[0]
    gm = densumap.UMAP(n_epochs=30, random_state=1, transform_mode="graph")
    G = gm.fit_transform(X)
    assert not hasattr(gm, "embedding_")  # a graph builder: no layout
    assert G is gm.graph_ and (G != base.graph_).nnz == 0
    assert gm.get_feature_names_out().shape == (X.shape[0],)
    rng = np.random.default_rng(0)
    new = X[:30] + rng.normal(scale=0.5, size=(30, X.shape[1])).astype(np.float32)
    T = gm.transform(new)
    assert sp.isspmatrix_csr(T) and T.shape == (30, X.shape[0]) and T.dtype == np.float32
    nb = NearestNeighbors(n_neighbors=14).fit(X).kneighbors(new, return_distance=False)
    for i in range(30):
        row = T[i]
        assert set(row.indices) <= set(nb[i])
        assert row.data.max() == 1.0 and row.data.min() > 0  # local connectivity
        # The bandwidth search makes a row's memberships sum to log2(n_neighbors).
        assert abs(row.data.sum() - np.log2(15)) < 1e-3
    # Rows identical to training rows are their rows of graph_, batch by batch alike.
    mixed = np.vstack([new[:10], X[[5, 7]], new[10:]])
    M = gm.transform(mixed)
    assert (M[10:12] != gm.graph_[[5, 7]]).nnz == 0
    assert (M[[*range(10), *range(12, 32)]] != T).nnz == 0
    assert (gm.transform(X) != gm.graph_).nnz == 0
    with pytest.raises(ValueError, match="transform_mode='graph'"):
        gm.inverse_transform(np.zeros((2, 2)))
    back = densumap.load(densumap.save(gm, tmp_path / "graph_model.npz"))
    assert (back.transform(new) != T).nnz == 0
    on_disk = np.memmap(tmp_path / "new.dat", dtype=np.float32, mode="w+", shape=new.shape)
    on_disk[:] = new
    with pytest.raises(ValueError, match="transform_mode='graph'.*in memory"):
        gm.transform(on_disk)


# ------------------------------------------------ transform of training rows
@pytest.mark.parametrize("kw", [{}, {"densmap": True, "output_dens": True}])
def test_transform_of_training_data_is_the_embedding(small, kw):
    X = small[0]
    m = densumap.UMAP(n_epochs=30, random_state=2, **kw).fit(X)
    out = m.transform(X)
    if kw:
        emb, ro, re = out
        np.testing.assert_array_equal(ro, m.rad_orig_)
        np.testing.assert_array_equal(re, m.rad_emb_)
    else:
        emb = out
    np.testing.assert_array_equal(emb, m.embedding_)
    # Mixed with new rows, shuffled: training rows stay exact and new rows are
    # placed as they are alone.
    rng = np.random.default_rng(3)
    new = X[:40] + rng.normal(scale=0.3, size=(40, X.shape[1])).astype(np.float32)
    batch = np.vstack([X[100:160], new])
    order = rng.permutation(len(batch))
    got = m.transform(batch[order])
    alone = m.transform(new)
    back = np.argsort(order)
    if kw:
        for part, train_part, new_part in zip(got, (m.embedding_, m.rad_orig_, m.rad_emb_),
                                              alone):
            np.testing.assert_array_equal(part[back][:60], train_part[100:160])
            np.testing.assert_array_equal(part[back][60:], new_part)
    else:
        np.testing.assert_array_equal(got[back][:60], m.embedding_[100:160])
        np.testing.assert_array_equal(got[back][60:], alone)


def test_training_rows_are_matched_exactly_not_by_distance(small, base):
    X = small[0]
    near = X[:5].copy()
    near[:, 10] += 1e-3  # not identical: placed, not copied
    assert not np.any(np.all(base.transform(near) == base.embedding_[:5], axis=1))
    sparse = base.transform(sp.csr_matrix(X[:5]))  # same rows, another storage
    np.testing.assert_array_equal(sparse, base.embedding_[:5])


def test_training_rows_with_unique_and_duplicates(small):
    X = np.vstack([small[0][:200], small[0][:50]])  # 50 duplicates
    m = densumap.UMAP(n_epochs=30, random_state=0, unique=True, densmap=True,
                      output_dens=True).fit(X)
    emb, ro, re = m.transform(X)
    np.testing.assert_array_equal(emb, m.embedding_)
    np.testing.assert_array_equal(ro, m.rad_orig_)
    np.testing.assert_array_equal(re, m.rad_emb_)


def test_duplicates_without_unique_get_the_first_occurrence(small):
    X = np.vstack([small[0][:200], small[0][:3]])
    m = densumap.UMAP(n_epochs=30, random_state=0).fit(X)
    out = m.transform(X)
    np.testing.assert_array_equal(out[:200], m.embedding_[:200])
    np.testing.assert_array_equal(out[200:], m.embedding_[:3])


def test_radii_of_training_rows_when_fit_kept_none(small):
    """A model fitted without output_dens has no fitted radii: training rows then get
    their one-sided radii at their fitted position (finite, as new points')."""
    X = small[0]
    m = densumap.UMAP(n_epochs=30, random_state=0, densmap=True).fit(X)
    m.set_params(output_dens=True)
    emb, ro, re = m.transform(X[:20])
    np.testing.assert_array_equal(emb, m.embedding_[:20])
    assert np.all(np.isfinite(ro)) and np.all(np.isfinite(re))
    # They are what a new point identical to the row gets, kept at the fitted position.
    from densumap import transform as transform_mod
    from densumap.density import embedding_sq_dists, one_sided_log_radii
    from densumap.neighbors import query_neighbors

    nb, d = query_neighbors(m._train_X, X[:20], m.n_neighbors_ - 1)
    w = transform_mod.memberships(d, np.ones(d.shape, bool), m.n_neighbors_, 1.0)
    np.testing.assert_array_equal(ro, one_sided_log_radii(w, d.astype(np.float64) ** 2))
    np.testing.assert_array_equal(
        re, one_sided_log_radii(w, embedding_sq_dists(emb, m.embedding_, nb)))


def test_precomputed_training_rows(small):
    X = small[0][:150].astype(np.float64)
    D = cdist(X, X)
    m = densumap.UMAP(n_epochs=30, random_state=0, metric="precomputed").fit(D)
    np.testing.assert_array_equal(m.transform(D), m.embedding_)
    new = cdist(X[:5] + 0.5, X)
    np.testing.assert_array_equal(m.transform(np.vstack([D[:3], new]))[3:], m.transform(new))
