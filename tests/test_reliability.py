"""Real-world input: every bad input gets an error naming the problem, everything else a
finite result (issue 6).  Table-driven; tiny arrays and few epochs keep it fast."""
import os
import pickle
import re
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

import densumap

FAST = dict(n_epochs=10, random_state=0)


def _X(n=20, d=3, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).normal(size=(n, d)).astype(dtype)


def _with(value, pos=(2, 1), X=None):
    X = _X() if X is None else X.copy()
    X[pos] = value
    return X


def _labels(n=20):
    return np.arange(n) % 3


def _constant_rows():
    X = _X()
    X[:4] = 1.0  # zero variance: no correlation
    return X


def _far_apart():
    # Values within range, but neighbours up to 9e17 * sqrt(2) apart.
    return 9e17 * np.array([[0, 0], [1, 0], [0, 1], [1, 1], [0.5, 0.5]])


# ---------------------------------------------------------------- bad data
# (id, estimator kwargs, X, y, exception, message regex)
BAD_FIT_DATA = [
    ("nan_in_X", {}, _with(np.nan), None, ValueError, "Input X contains NaN"),
    ("inf_in_X", {}, _with(np.inf), None, ValueError, "Input X contains infinity"),
    ("neg_inf_in_X", {}, _with(-np.inf), None, ValueError, "Input X contains infinity"),
    ("nan_in_sparse_X", {}, sp.csr_matrix(_with(np.nan)), None, ValueError,
     "Input X contains NaN"),
    ("empty_X", {}, np.empty((0, 3)), None, ValueError,
     r"Found array with 0 sample\(s\) \(shape=\(0, 3\)\) while a minimum of 2"),
    ("one_sample", {}, _X(1), None, ValueError,
     r"Found array with 1 sample\(s\) .* minimum of 2 is required"),
    ("no_features", {}, np.empty((5, 0)), None, ValueError, r"0 feature\(s\)"),
    ("X_1d", {}, _X()[:, 0], None, ValueError, "Expected 2D array, got 1D array"),
    ("X_3d", {}, _X().reshape(20, 3, 1), None, ValueError, "Found array with dim 3"),
    ("X_scalar", {}, np.float32(3.0), None, (ValueError, TypeError), "2D array"),
    ("X_strings", {}, np.array([["a", "b"], ["c", "d"], ["e", "f"]]), None, ValueError,
     "X must hold numbers only .*could not convert string to float"),
    ("X_object_dict", {}, np.array([[{"a": 1}, 1.0], [2.0, 3.0]], dtype=object), None,
     TypeError, "X must hold numbers only .*argument must be"),
    ("X_complex", {}, _X().astype(complex), None, ValueError, "Complex data not supported"),
    ("X_values_too_large", {}, _X() * 1e30, None, ValueError,
     r"largest absolute value in X is 2\.\d+e\+30, outside the range \[1e-16, 1e\+18\]"),
    ("X_values_too_small", {}, _X(dtype=np.float64) * 1e-30, None, ValueError,
     r"largest absolute value in X is 2\.\d+e-30"),
    ("X_distances_too_large", {}, _far_apart(), None, ValueError,
     r"nearest-neighbour distances of X reach 1\.27e\+18, outside the range"),
    ("correlation_of_constant_rows", {"metric": "correlation"}, _constant_rows(), None,
     ValueError, "correlation distances between the rows of X are NaN .*zero variance"),
    ("precomputed_not_square", {"metric": "precomputed"}, np.abs(_X()), None, ValueError,
     r"square distance matrix; got shape \(20, 3\)"),
    ("precomputed_negative", {"metric": "precomputed"}, -np.ones((5, 5)), None, ValueError,
     "non-negative distances; the smallest entry of X is -1"),
    ("precomputed_sparse", {"metric": "precomputed"}, sp.csr_matrix(np.ones((5, 5))), None,
     ValueError, "dense distance matrix; got a sparse one"),
    ("y_wrong_length", {}, _X(), _labels(19), ValueError,
     "y has 19 samples but X has 20 samples"),
    ("y_scalar", {}, _X(), 3, ValueError, "y has a scalar but X has 20 samples"),
    ("y_ragged", {}, _X(4), [[1], [1, 2], [3], [4]], ValueError,
     r"y must be an array of shape \(n_samples,\)"),
    ("y_nan_labels", {}, _X(), np.where(_labels() == 0, np.nan, 1.0), ValueError,
     "y contains NaN or inf; class labels must be finite"),
    ("y_none_labels", {}, _X(), np.array([None, "a"] * 10, dtype=object), ValueError,
     "y contains missing labels .*None"),
    ("y_nan_continuous", {"target_metric": "l2"}, _X(),
     np.where(_labels() == 0, np.nan, 1.0), ValueError,
     "y contains NaN or inf; a continuous target"),
    ("y_inf_continuous", {"target_metric": "l1"}, _X(),
     np.where(_labels() == 0, np.inf, 1.0), ValueError, "y contains NaN or inf"),
    ("y_strings_continuous", {"target_metric": "l1"}, _X(), np.array(["a"] * 20), ValueError,
     "target_metric='l1' needs numeric y"),
    ("y_2d_categorical", {}, _X(), np.zeros((20, 2)), ValueError,
     r"target_metric='categorical' needs y of shape \(n_samples,\); got \(20, 2\)"),
]


@pytest.mark.parametrize("kw, X, y, exc, msg",
                         [pytest.param(*c[1:], id=c[0]) for c in BAD_FIT_DATA])
def test_bad_data_is_rejected(kw, X, y, exc, msg):
    with pytest.raises(exc, match=msg):
        densumap.UMAP(**FAST, **kw).fit(X, y)


# ------------------------------------------------------------- bad params
# (parameter, bad value): each must raise InvalidParameterError naming both.
BAD_PARAMS = [
    ("n_neighbors", 1), ("n_neighbors", 2.5), ("n_neighbors", "15"),
    ("n_components", 0), ("n_components", 1.0),
    ("metric", "foo"), ("metric", None),
    ("metric_kwds", "p=3"),
    ("output_metric", "foo"), ("output_metric", None),
    ("output_metric_kwds", "p=2"),
    ("n_epochs", -1), ("n_epochs", 1.5),
    ("learning_rate", 0.0), ("learning_rate", "fast"),
    ("init", "foo"), ("init", [[0.0, 0.0]] * 20),
    ("min_dist", -0.1),
    ("spread", 0.0),
    ("set_op_mix_ratio", 1.5), ("set_op_mix_ratio", -0.5),
    ("local_connectivity", -1.0),
    ("repulsion_strength", -1.0),
    ("negative_sample_rate", -1), ("negative_sample_rate", 2.5),
    ("a", 0.0), ("b", -1.0),
    ("random_state", "seed"),
    ("n_jobs", 0), ("n_jobs", 1.5),
    ("verbose", "yes"),
    ("disconnection_distance", 0.0), ("disconnection_distance", -1.0),
    ("densmap", "yes"), ("densmap", 1),
    ("dens_lambda", -0.5),
    ("dens_frac", 1.5), ("dens_frac", -0.1),
    ("dens_var_shift", -0.1),
    ("output_dens", "no"),
    ("target_n_neighbors", 1), ("target_n_neighbors", 0),
    ("target_metric", "hamming-ish"),
    ("target_metric_kwds", [1]),
    ("target_weight", 1.5), ("target_weight", -0.5),
    ("transform_seed", "x"),
    ("unique", "yes"),
    ("precomputed_knn", "knn.npy"),
    ("low_memory", "yes"),
    ("tqdm_kwds", ["desc"]),
    ("transform_mode", "graphs"),
    ("angular_rp_forest", None),
    ("force_approximation_algorithm", 1.5),
    ("transform_queue_size", 0.0), ("transform_queue_size", "big"),
]


@pytest.mark.parametrize("name, value", BAD_PARAMS,
                         ids=[f"{n}={v!r}"[:40] for n, v in BAD_PARAMS])
def test_bad_parameter_names_parameter_and_value(name, value):
    msg = rf"The '{name}' parameter of UMAP must be .* Got {re.escape(repr(value))} instead"
    with pytest.raises(InvalidParameterError, match=msg):
        densumap.UMAP(**{**FAST, name: value}).fit(_X(), _labels())
    # InvalidParameterError is both a ValueError and a TypeError.
    assert issubclass(InvalidParameterError, ValueError)
    assert issubclass(InvalidParameterError, TypeError)


def test_every_parameter_is_constrained():
    params = densumap.UMAP().get_params()
    assert set(densumap.UMAP._parameter_constraints) == set(params)
    assert {name for name, _ in BAD_PARAMS} == set(params)


# (id, estimator kwargs, X, exception regex): combinations of parameters and data.
BAD_COMBINATIONS = [
    ("min_dist_above_spread", {"min_dist": 2.0, "spread": 1.0}, _X(),
     r"min_dist must not exceed spread; got min_dist=2.0, spread=1.0"),
    ("densmap_non_euclidean_output", {"densmap": True, "output_metric": "cosine"}, _X(),
     r"densmap=True needs output_metric='euclidean' .*got output_metric='cosine'"),
    ("init_array_wrong_shape", {"init": np.zeros((5, 2))}, _X(),
     r"init array must have shape \(n_samples, n_components\) = \(20, 2\); got \(5, 2\)"),
    ("init_array_wrong_dim", {"init": np.zeros((20, 3))}, _X(),
     r"= \(20, 2\); got \(20, 3\)"),
    ("init_array_nan", {"init": np.full((20, 2), np.nan)}, _X(), "init array contains NaN"),
    ("init_array_strings", {"init": np.array([["a", "b"]] * 20)}, _X(),
     "init array must hold numbers .*got dtype <U1"),
    ("pca_precomputed", {"init": "pca", "metric": "precomputed"}, np.ones((5, 5)),
     "init='pca' needs the input features"),
    ("pca_too_many_components", {"init": "pca", "n_components": 5}, _X(),
     r"init='pca' needs n_components <= min\(n_samples, n_features\) = 3; got n_components=5"),
    ("metric_kwds_unknown_key", {"metric_kwds": {"foo": 1}}, _X(),
     r"metric_kwds has keys that metric='euclidean' does not use: \['foo'\]"),
    ("minkowski_negative_p", {"metric": "minkowski", "metric_kwds": {"p": -1}}, _X(),
     r"metric='minkowski' needs a positive, finite p; got metric_kwds\['p'\]=-1"),
    ("target_metric_kwds_unknown", {"target_metric": "l1", "target_metric_kwds": {"q": 1}},
     _X(), r"target_metric_kwds has keys that target_metric='manhattan' does not use"),
    ("unique_precomputed", {"unique": True, "metric": "precomputed"}, np.ones((5, 5)),
     "unique=True is not defined for metric='precomputed'"),
    ("unique_precomputed_knn",
     {"unique": True, "precomputed_knn": (np.zeros((20, 15), int), np.zeros((20, 15)))}, _X(),
     "unique=True cannot be combined with precomputed_knn"),
    ("unique_all_identical", {"unique": True}, np.ones((10, 3)),
     "unique=True leaves 1 distinct row in X"),
]


@pytest.mark.parametrize("kw, X, msg", [pytest.param(*c[1:], id=c[0]) for c in BAD_COMBINATIONS])
def test_bad_combination_is_rejected(kw, X, msg):
    y = _labels() if kw.get("target_metric", "categorical") != "categorical" else None
    with pytest.raises(ValueError, match=msg):
        densumap.UMAP(**{**FAST, **kw}).fit(X, y)


# ----------------------------------------------------- transform of bad data
@pytest.fixture(scope="module")
def fitted():
    X = _X(30, 3)
    return densumap.UMAP(**FAST).fit(X), X


BAD_NEW_DATA = [
    ("nan", _with(np.nan, X=_X(4)), ValueError, "Input X contains NaN"),
    ("inf", _with(np.inf, X=_X(4)), ValueError, "Input X contains infinity"),
    ("wrong_n_features", _X(4, 2), ValueError,
     "X has 2 features, but UMAP is expecting 3 features as input"),
    ("sparse_wrong_n_features", sp.csr_matrix(_X(4, 5)), ValueError,
     "X has 5 features, but UMAP is expecting 3"),
    ("X_1d", _X(4)[0], ValueError, "Expected 2D array"),
    ("empty", np.empty((0, 3)), ValueError, r"Found array with 0 sample\(s\)"),
    ("strings", np.array([["a", "b", "c"]]), ValueError, "X must hold numbers only"),
    ("values_too_large", _X(4) * 1e25, ValueError, "largest absolute value in X"),
]


@pytest.mark.parametrize("X, exc, msg", [pytest.param(*c[1:], id=c[0]) for c in BAD_NEW_DATA])
def test_bad_transform_input_is_rejected(fitted, X, exc, msg):
    model, _ = fitted
    with pytest.raises(exc, match=msg):
        model.transform(X)


def test_transform_accepts_tiny_values(fitted):
    # The training data set the scale: points next to the origin are ordinary new
    # points (hypothesis found fit accepting X and transform rejecting X[:3]).
    model, X = fitted
    tiny = np.array([[1e-30, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, -1e-25, 0.0]], np.float32)
    Z = model.transform(tiny)
    assert Z.shape == (3, 2) and np.all(np.isfinite(Z))
    assert np.array_equal(Z[1], model.transform(np.zeros((1, 3), np.float32))[0])


def test_methods_before_fit():
    X = _X()
    for call in (lambda m: m.transform(X), lambda m: m.inverse_transform(X[:, :2]),
                 lambda m: m.get_feature_names_out()):
        with pytest.raises(NotFittedError, match="UMAP instance is not fitted yet"):
            call(densumap.UMAP())


def test_inverse_transform_wrong_width(fitted):
    model, _ = fitted
    with pytest.raises(ValueError, match="X has 3 columns but the embedding has n_components=2"):
        model.inverse_transform(np.zeros((2, 3)))


def test_precomputed_transform_wrong_width():
    D = np.abs(_X(12, 12, dtype=np.float64)) + 0.1
    D = D + D.T
    np.fill_diagonal(D, 0.0)
    model = densumap.UMAP(metric="precomputed", **FAST).fit(D)
    with pytest.raises(ValueError, match="X has 5 features, but UMAP is expecting 12"):
        model.transform(D[:2, :5])
    with pytest.raises(ValueError, match="non-negative distances"):
        model.transform(-D[:2])
    assert np.all(np.isfinite(model.transform(D[:2])))


# ----------------------------------------------------------- must work
def _finite(model_or_emb):
    emb = getattr(model_or_emb, "embedding_", model_or_emb)
    assert np.all(np.isfinite(emb)), emb
    return emb


@pytest.mark.parametrize("n, warns", [(5, True), (15, False), (2, True)])
def test_few_samples_shrink_n_neighbors(n, warns):
    X = _X(n)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = densumap.UMAP(n_neighbors=15, densmap=True, **FAST).fit(X)
    shrink = [w for w in caught if "is larger than the number of samples" in str(w.message)]
    if warns:
        assert shrink and issubclass(shrink[0].category, UserWarning)
        assert f"using n_neighbors={n}" in str(shrink[0].message)
    else:
        assert not shrink
    assert model.n_neighbors_ == min(15, n)
    assert model.n_neighbors == 15  # the hyper-parameter is not rewritten
    _finite(model)
    _finite(model.transform(X[:1]))


@pytest.mark.parametrize("densmap", [False, True])
def test_all_points_identical(densmap):
    X = np.full((25, 4), 3.0, dtype=np.float32)
    model = densumap.UMAP(densmap=densmap, output_dens=True, **FAST).fit(X)
    _finite(model)
    assert np.all(np.isfinite(model.rad_orig_)) and np.all(np.isfinite(model.rad_emb_))
    _finite(model.transform(X[:3])[0])
    _finite(model.transform(X[:3] + 1.0)[0])


def test_all_zero_input_is_allowed():
    _finite(densumap.UMAP(**FAST).fit(np.zeros((10, 3))))


@pytest.mark.parametrize("n", [300, 12_000])  # Jacobi epochs, and the sweep above 10,000
def test_zero_negative_sample_rate_means_no_repulsion(n):
    # negative_sample_rate=0 is legal (umap-learn's too): no negative sample is ever
    # drawn. Its clocks once divided by zero; with no repulsion the attraction alone
    # pulls each cluster tighter than the default fit does.
    rng = np.random.default_rng(0)
    X = (rng.normal(scale=8.0, size=(3, 5))[rng.integers(0, 3, n)]
         + rng.normal(size=(n, 5))).astype(np.float32)
    kw = dict(n_epochs=30, random_state=0, n_neighbors=10)
    none = densumap.UMAP(negative_sample_rate=0, **kw).fit(X)
    default = densumap.UMAP(**kw).fit(X)
    _finite(none)
    _finite(none.transform(X[:20]))
    assert none.embedding_.std(axis=0).max() < default.embedding_.std(axis=0).max()


def _duplicated(n_distinct=12, copies=5, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n_distinct, 3)).astype(np.float32)
    return base[rng.permutation(np.repeat(np.arange(n_distinct), copies))]


@pytest.mark.parametrize("densmap", [False, True])
def test_many_exact_duplicates(densmap):
    X = _duplicated()
    model = densumap.UMAP(n_neighbors=8, densmap=densmap, output_dens=True, **FAST).fit(X)
    _finite(model)
    assert np.all(np.isfinite(model.rad_orig_)) and np.all(np.isfinite(model.rad_emb_))


@pytest.mark.parametrize("sparse", [False, True])
def test_unique_embeds_each_distinct_row_once(sparse):
    X = _duplicated()
    Xin = sp.csr_matrix(X) if sparse else X
    model = densumap.UMAP(n_neighbors=8, unique=True, densmap=True, output_dens=True,
                          **FAST).fit(Xin)
    index, inverse = model.unique_index_, model.unique_inverse_
    assert index.shape == (12,) and inverse.shape == (60,)
    np.testing.assert_array_equal(X[index][inverse], X)
    assert np.all(np.diff(index) > 0)  # first occurrences, in order
    assert model.graph_.shape == (12, 12)
    assert model.embedding_.shape == (60, 2)
    # Duplicates share the position (and radii) of their distinct row.
    np.testing.assert_array_equal(model.embedding_, model.embedding_[index][inverse])
    np.testing.assert_array_equal(model.rad_orig_, model.rad_orig_[index][inverse])
    # Same as fitting the distinct rows alone.
    alone = densumap.UMAP(n_neighbors=8, densmap=True, **FAST).fit(Xin[index])
    np.testing.assert_array_equal(model.embedding_[index], alone.embedding_)
    # Transform queries only the distinct rows; duplicates of training rows are placed.
    Z = _finite(model.transform(Xin[:7])[0])
    np.testing.assert_array_equal(Z, alone.transform(Xin[:7]))
    assert model.inverse_transform(Z).shape == (7, 3)


def test_unique_without_duplicates_keeps_x_and_result():
    X = _X(20)
    plain = densumap.UMAP(**FAST).fit(X)
    model = densumap.UMAP(unique=True, **FAST).fit(X)
    assert model._train_X is X
    np.testing.assert_array_equal(model.embedding_, plain.embedding_)
    assert plain.unique_index_ is None and plain.unique_inverse_ is None


def test_unique_with_labels_and_init_array():
    X = _duplicated(copies=3)
    y = np.arange(len(X)) % 2
    init = np.random.default_rng(1).uniform(size=(len(X), 2))
    model = densumap.UMAP(n_neighbors=5, unique=True, init=init, **FAST).fit(X, y)
    _finite(model)
    ref = densumap.UMAP(n_neighbors=5, init=init[model.unique_index_], **FAST).fit(
        X[model.unique_index_], y[model.unique_index_])
    np.testing.assert_array_equal(model.embedding_[model.unique_index_], ref.embedding_)


def test_unique_counts_neighbors_among_distinct_rows():
    X = _duplicated(n_distinct=4, copies=10)
    with pytest.warns(UserWarning, match=r"number of distinct samples \(4\); using n_neighbors=4"):
        model = densumap.UMAP(unique=True, **FAST).fit(X)
    assert model.n_neighbors_ == 4
    _finite(model)


@pytest.mark.parametrize("densmap", [False, True])
def test_components_and_disconnection(densmap):
    rng = np.random.default_rng(0)
    X = np.concatenate([rng.normal(size=(12, 2)), rng.normal(size=(12, 2)) + 100,
                        [[1000.0, 1000.0]]])
    model = densumap.UMAP(n_neighbors=6, disconnection_distance=50.0, densmap=densmap,
                          output_dens=True, **FAST).fit(X)
    from scipy.sparse.csgraph import connected_components

    assert connected_components(model.graph_)[0] == 3
    assert model.graph_[24].nnz == 0
    _finite(model)
    assert np.all(np.isfinite(model.rad_orig_)) and np.all(np.isfinite(model.rad_emb_))
    _finite(model.transform(X[[0, 24]])[0])


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, bool, np.float16])
def test_integer_and_bool_input_become_float32(dtype):
    X = (_X(20, 4) * 3).astype(dtype) if dtype is not bool else _X(20, 4) > 0
    model = densumap.UMAP(**FAST).fit(X)
    assert model._train_X.dtype == np.float32
    _finite(model)
    _finite(model.transform(X[:3]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_input_is_not_copied(dtype):
    X = _X(20, dtype=dtype)
    model = densumap.UMAP(**FAST).fit(X)
    assert model._train_X is X
    _finite(model.transform(X[:2]))


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_sparse_input(fmt):
    X = _X(25, 6)
    X[X < 0.3] = 0.0
    S = sp.csr_matrix(X).asformat(fmt)
    model = densumap.UMAP(**FAST).fit(S)
    assert sp.isspmatrix_csr(model._train_X) or sp.issparse(model._train_X)
    _finite(model)
    dense = densumap.UMAP(**FAST).fit(X)
    np.testing.assert_allclose(model.graph_.toarray(), dense.graph_.toarray(), atol=1e-5)
    _finite(model.transform(S.tocsr()[:3]))


def test_pandas_dataframe_keeps_feature_names():
    pd = pytest.importorskip("pandas")
    X = _X(20, 3)
    df = pd.DataFrame(X, columns=["height", "width", "depth"])
    model = densumap.UMAP(n_components=3, **FAST).fit(df)
    np.testing.assert_array_equal(model.feature_names_in_, ["height", "width", "depth"])
    np.testing.assert_array_equal(model.get_feature_names_out(), ["umap0", "umap1", "umap2"])
    np.testing.assert_array_equal(model.transform(df[:4]), model.transform(X[:4]))
    with pytest.raises(ValueError, match="feature names should match"):
        model.transform(df[["width", "height", "depth"]])
    model.set_output(transform="pandas")
    out = model.transform(df[:4])
    assert isinstance(out, pd.DataFrame) and list(out.columns) == ["umap0", "umap1", "umap2"]
    # A frame of ints and bools is numeric too.
    mixed = pd.DataFrame({"a": np.arange(20), "b": np.arange(20) % 2 == 0, "c": X[:, 0]})
    _finite(densumap.UMAP(**FAST).fit(mixed))


def test_memmap_is_not_copied(tmp_path):
    path = os.fspath(tmp_path / "X.npy")
    mm = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(20_000, 50))
    mm[:] = np.random.default_rng(0).normal(size=mm.shape)
    mm.flush()
    del mm
    X = np.load(path, mmap_mode="r")
    # Validation (finite check, value range) keeps the memmap and allocates no copy.
    model = densumap.UMAP(**FAST)
    tracemalloc.start()
    checked, _ = model._validate_input(X)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert np.shares_memory(checked, X)
    assert peak < 0.05 * X.nbytes, (peak, X.nbytes)
    # A whole fit keeps a reference to the file's pages as training rows.
    small = np.load(path, mmap_mode="r")[:300]
    model = densumap.UMAP(**FAST).fit(small)
    assert np.shares_memory(model._train_X, small)
    _finite(model.transform(small[:2]))


def test_very_wide_float64_input():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 20_000))
    model = densumap.UMAP(densmap=True, **FAST).fit(X)
    assert model._train_X is X
    _finite(model)
    _finite(model.transform(X[:2] + 0.01))


def test_transform_one_point_duplicates_and_pickle(fitted):
    model, X = fitted
    one = _finite(model.transform(X[3:4]))
    assert one.shape == (1, 2) and one.dtype == np.float32
    # Exact duplicates of a training point are placed alike and near its fitted position.
    dup = _finite(model.transform(np.repeat(X[3:4], 4, axis=0)))
    np.testing.assert_array_equal(dup, np.repeat(one, 4, axis=0))
    span = np.ptp(model.embedding_, axis=0).max()
    assert np.linalg.norm(one[0] - model.embedding_[3]) < 0.5 * span
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.transform(X[3:4]), one)
    np.testing.assert_array_equal(again.transform(X[:5]), model.transform(X[:5]))


def test_unique_model_pickle_round_trip():
    X = _duplicated()
    model = densumap.UMAP(n_neighbors=8, unique=True, **FAST).fit(X)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(again.unique_inverse_, model.unique_inverse_)
    np.testing.assert_array_equal(again.transform(X[:4]), model.transform(X[:4]))


def test_zero_epochs_and_list_input():
    X = _X(15).tolist()
    _finite(densumap.UMAP(n_epochs=0, random_state=0).fit(X))
