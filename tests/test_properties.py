"""Property-based tests (hypothesis): random small inputs, extreme magnitudes, ties and
duplicates give either one of the expected errors or a finite embedding (issue 6)."""
import re
import warnings

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sklearn.utils._param_validation import InvalidParameterError

import densumap

# Every error a random numeric input may legitimately get, by message.
EXPECTED_DATA_ERRORS = re.compile("|".join([
    r"Input X contains NaN",
    r"Input X contains infinity",
    r"Found array with \d+ sample\(s\)",
    r"largest absolute value in X is .* outside the range",
    r"nearest-neighbour distances of X reach .* outside the range",
    r"distances between the rows of X overflow float32",
    r"unique=True leaves \d+ distinct row",
    r"y has \d+ samples but X has \d+ samples",
]))

SETTINGS = settings(max_examples=60, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.5, 1e-30, -1e-30, 1e-15, 1e-12, 1e12, 1e17, -1e17,
           1e19, 1e30, -3.0e38, 1e300, np.nan, np.inf, -np.inf]
values = st.one_of(st.sampled_from(SPECIAL), st.floats(-1e3, 1e3, width=32),
                   st.floats(allow_nan=True, allow_infinity=True))


@st.composite
def datasets(draw):
    n = draw(st.integers(1, 12))
    d = draw(st.integers(1, 4))
    kind = draw(st.sampled_from(["float32", "float64", "int64", "bool"]))
    if kind in ("int64", "bool"):
        elements = st.integers(-(10 ** 12), 10 ** 12) if kind == "int64" else st.booleans()
        X = draw(hnp.arrays(kind, (n, d), elements=elements))
    else:
        if draw(st.booleans()):
            # A small pool of values: ties, repeated rows and constant columns.
            elements = st.sampled_from(draw(st.lists(values, min_size=1, max_size=4)))
        else:
            elements = values
        X = draw(hnp.arrays(np.float64, (n, d), elements=elements))
        with np.errstate(over="ignore"):
            X = X.astype(kind)
    if n > 1 and draw(st.booleans()):
        X = X[draw(st.lists(st.integers(0, n - 1), min_size=2, max_size=16))]  # duplicates
    return X


@SETTINGS
@given(X=datasets(), n_neighbors=st.integers(2, 6), densmap=st.booleans(),
       unique=st.booleans(), supervised=st.sampled_from([None, "labels", "bad_length"]))
def test_random_data_gives_expected_error_or_finite_embedding(X, n_neighbors, densmap, unique,
                                                              supervised):
    y = None
    if supervised == "labels":
        y = np.arange(X.shape[0]) % 2
    elif supervised == "bad_length":
        y = np.zeros(X.shape[0] + 1)
    model = densumap.UMAP(n_neighbors=n_neighbors, densmap=densmap, unique=unique,
                          output_dens=densmap, n_epochs=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            model.fit(X, y)
        except ValueError as exc:
            assert EXPECTED_DATA_ERRORS.search(str(exc)), str(exc)
            return
        Z = model.transform(X[:3])
    assert model.embedding_.shape == (X.shape[0], 2)
    assert np.all(np.isfinite(model.embedding_))
    if densmap:
        assert np.all(np.isfinite(model.rad_orig_)) and np.all(np.isfinite(model.rad_emb_))
        Z = Z[0]
    assert Z.shape == (min(3, X.shape[0]), 2) and np.all(np.isfinite(Z))


@SETTINGS
@given(n_neighbors=st.one_of(st.integers(-2, 8), st.floats(0, 8)),
       n_components=st.integers(-1, 3),
       min_dist=st.floats(-1, 3), spread=st.floats(-1, 3),
       dens_lambda=st.floats(-1, 5), dens_frac=st.floats(-0.5, 1.5),
       dens_var_shift=st.floats(-0.5, 1), set_op_mix_ratio=st.floats(-0.5, 1.5),
       local_connectivity=st.floats(-1, 3), negative_sample_rate=st.integers(-1, 5),
       n_epochs=st.integers(-1, 6), densmap=st.booleans())
def test_random_parameters_give_named_error_or_finite_embedding(**params):
    X = np.random.default_rng(0).normal(size=(15, 3)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            emb = densumap.UMAP(random_state=0, **params).fit_transform(X)
        except InvalidParameterError as exc:
            name = re.search(r"The '(\w+)' parameter of UMAP", str(exc)).group(1)
            assert name in params and f"Got {params[name]!r} instead" in str(exc)
            return
        except ValueError as exc:
            assert "min_dist must not exceed spread" in str(exc), str(exc)
            assert params["min_dist"] > params["spread"]
            return
    assert emb.shape == (15, params["n_components"]) and np.all(np.isfinite(emb))


@pytest.mark.parametrize("seed", range(3))
def test_unique_rows_match_numpy(seed):
    from densumap._input import unique_rows

    rng = np.random.default_rng(seed)
    X = rng.integers(0, 3, size=(40, 3)).astype(np.float64)
    X[rng.random(X.shape) < 0.2] = -0.0  # -0.0 equals 0.0
    index, inverse = unique_rows(X)
    assert len(index) == len(np.unique(X + 0.0, axis=0))
    np.testing.assert_array_equal(X[index][inverse], X)
    import scipy.sparse as sp

    s_index, s_inverse = unique_rows(sp.csr_matrix(X))
    np.testing.assert_array_equal(s_index, index)
    np.testing.assert_array_equal(s_inverse, inverse)
