"""Input metrics beyond the built-in ones: named metrics and users' numba functions."""
import pickle

import numba
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.spatial import distance as ssd
from scipy.special import softmax
from scipy.stats import entropy
from sklearn.metrics.pairwise import haversine_distances
from sklearn.neighbors import KNeighborsClassifier
from sklearn.utils._param_validation import InvalidParameterError

import densumap
from densumap import metric_search, metrics, neighbors
from densumap.neighbors import nearest_neighbors, query_neighbors

from . import naive
from .helpers import knn_accuracy

_rng = np.random.default_rng(0)
D = 6
V = _rng.random(D) + 0.5                       # variances for seuclidean
W = _rng.random(D) + 0.1                       # weights for wminkowski
_A = _rng.normal(size=(D, D))
COV = _A @ _A.T + D * np.eye(D)
VI = np.linalg.inv(COV)


def _data(kind, n=40, seed=1):
    rng = np.random.default_rng(seed)
    if kind == "real":
        return rng.normal(size=(n, D))
    if kind == "positive":
        return rng.random((n, D)) + 0.01 * (rng.random((n, D)) < 0.2)
    if kind == "binary":
        X = (rng.random((n, 12)) < 0.4).astype(np.float64)
        X[:, 0], X[:, 1] = 1.0, 0.0  # no row all true or all false (SciPy's NaNs)
        return X
    if kind == "latlon":
        return np.column_stack([rng.uniform(-1.5, 1.5, n), rng.uniform(-3.1, 3.1, n)])
    X = rng.normal(size=(n, 3))  # "ball": inside the unit ball
    return 0.9 * X / (1.0 + np.linalg.norm(X, axis=1, keepdims=True))


def _hellinger(x, y):
    return ssd.euclidean(np.sqrt(x / x.sum()), np.sqrt(y / y.sum())) / np.sqrt(2)


def _sym_kl(x, y, z=1e-11):
    p, q = (x + z) / (x + z).sum(), (y + z) / (y + z).sum()
    return 0.5 * (entropy(p, q) + entropy(q, p))


def _bool(f):
    return lambda x, y: f(x != 0, y != 0)


# (metric, metric_kwds, data, reference distance of two float64 rows)
REFERENCES = [
    ("seuclidean", {"V": V}, "real", lambda x, y: ssd.seuclidean(x, y, V)),
    ("standardised_euclidean", {"sigma": V}, "real", lambda x, y: ssd.seuclidean(x, y, V)),
    ("wminkowski", {"w": W, "p": 3}, "real", lambda x, y: ssd.minkowski(x, y, 3, W ** 3)),
    ("weighted_minkowski", {"p": 1.5, "w": W}, "real",
     lambda x, y: ssd.minkowski(x, y, 1.5, W ** 1.5)),
    ("mahalanobis", {"VI": VI}, "real", lambda x, y: ssd.mahalanobis(x, y, VI)),
    ("mahalanobis", {"V": COV}, "real", lambda x, y: ssd.mahalanobis(x, y, VI)),
    ("canberra", None, "real", ssd.canberra),
    ("canberra", None, "positive", ssd.canberra),
    ("braycurtis", None, "positive", ssd.braycurtis),
    ("braycurtis", None, "real", ssd.braycurtis),
    ("hellinger", None, "positive", _hellinger),
    ("softmax_hellinger", None, "real", lambda x, y: _hellinger(softmax(x), softmax(y))),
    ("haversine", None, "latlon", lambda x, y: haversine_distances([x], [y])[0, 0]),
    ("poincare", None, "ball", naive.poincare),
    ("symmetric_kl", None, "positive", _sym_kl),
    ("symmetric_kl", {"z": 0.1}, "positive", lambda x, y: _sym_kl(x, y, 0.1)),
    ("hamming", None, "binary", ssd.hamming),
    ("hamming", None, "real", ssd.hamming),
    ("matching", None, "binary", _bool(ssd.hamming)),
    ("jaccard", None, "binary", _bool(ssd.jaccard)),
    ("dice", None, "binary", _bool(ssd.dice)),
    ("kulsinski", None, "binary", naive.kulsinski),
    ("rogerstanimoto", None, "binary", _bool(ssd.rogerstanimoto)),
    ("russellrao", None, "binary", _bool(ssd.russellrao)),
    ("sokalmichener", None, "binary", naive.sokalmichener),
    ("sokalsneath", None, "binary", _bool(ssd.sokalsneath)),
    ("yule", None, "binary", _bool(ssd.yule)),
]
_IDS = [f"{m}-{d}-{'kw' if k else 'nokw'}" for m, k, d, _ in REFERENCES]


def _reference_matrix(X, ref):
    X = np.asarray(X, dtype=np.float64)
    return np.array([[ref(a, b) for b in X] for a in X])


def _kernel_matrix(X, metric, kwds):
    """All pairwise distances through the exact kNN kernel (k = n)."""
    spec = metrics.resolve(metric, kwds)
    idx, dist = metric_search.exact_knn(X, X.shape[0], spec)
    out = np.empty(idx.shape, dtype=np.float64)
    np.put_along_axis(out, idx.astype(np.int64), dist, axis=1)
    return out


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("metric, kwds, kind, ref", REFERENCES, ids=_IDS)
def test_named_distance_equals_reference(metric, kwds, kind, ref, dtype):
    X = _data(kind).astype(dtype)
    got = _kernel_matrix(X, metric, kwds)
    want = _reference_matrix(X, ref)
    same = (X[:, None, :] == X[None, :, :]).all(axis=2)
    np.testing.assert_allclose(got[~same], want[~same], rtol=1e-5, atol=1e-6)
    # Identical rows (the diagonal, duplicates of binary rows) are at distance 0, as in
    # umap-learn; SciPy's russellrao and the former kulsinski are not.
    np.testing.assert_array_equal(got[same], 0.0)


@pytest.mark.parametrize("metric", ["jaccard", "dice", "russellrao", "sokalsneath",
                                    "kulsinski", "braycurtis", "hellinger", "canberra"])
def test_zero_rows_have_defined_distances(metric):
    # SciPy gives NaN or raises for some of these; densumap follows umap-learn: a zero
    # row is at 0 from another zero row, and the distances stay finite.
    X = np.array([[0, 0, 0, 0], [0, 0, 0, 0], [1, 0, 1, 0], [1, 1, 0, 0]], dtype=np.float64)
    got = _kernel_matrix(X, metric, None)
    assert np.all(np.isfinite(got))
    assert got[0, 1] == 0.0 and got[1, 0] == 0.0
    assert np.all(got[:2, 2:] > 0)


TIE_CASES = [("jaccard", None, "binary"), ("hamming", None, "binary"),
             ("yule", None, "binary"), ("russellrao", None, "binary"),
             ("canberra", None, "positive"), ("mahalanobis", {"VI": VI}, "real"),
             ("haversine", None, "latlon"), ("wminkowski", {"w": W, "p": 3}, "real")]


@pytest.mark.parametrize("metric, kwds, kind", TIE_CASES, ids=[c[0] for c in TIE_CASES])
def test_exact_knn_equals_brute_force(metric, kwds, kind):
    X = _data(kind, n=120, seed=5)
    ref = dict((m, r) for m, k, d, r in REFERENCES if (m, d) == (metric, kind))[metric]
    full = _reference_matrix(X, ref)
    full[(X[:, None, :] == X[None, :, :]).all(axis=2)] = 0.0  # identical rows: 0
    k = 10
    idx, dist = nearest_neighbors(X, k, metric, kwds, exact=True)
    assert idx.dtype == np.int32 and dist.dtype == np.float32
    np.testing.assert_array_equal(idx[:, 0], np.arange(len(X)))
    # The distances are the k smallest, and the listed rows really are at them: with
    # ties (binary data has many) any of the tied rows is a correct answer.
    np.testing.assert_allclose(dist, np.sort(full, axis=1)[:, :k], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.take_along_axis(full, idx.astype(np.int64), axis=1), dist,
                               rtol=1e-5, atol=1e-6)
    assert all(len(set(row)) == k for row in idx)
    # Among equal distances the lower index comes first (a stable sort's order).
    same = dist[:, 1:] == dist[:, :-1]
    assert np.all(idx[:, 2:][same[:, 1:]] > idx[:, 1:-1][same[:, 1:]])


@numba.njit
def my_canberra(x, y):
    acc = 0.0
    for i in range(x.shape[0]):
        a = np.float64(x[i])
        b = np.float64(y[i])
        den = abs(a) + abs(b)
        if den > 0.0:
            acc += abs(a - b) / den
    return acc


@numba.njit
def my_wminkowski(x, y, w, p):
    acc = 0.0
    for i in range(x.shape[0]):
        acc += (w[i] * abs(np.float64(x[i]) - np.float64(y[i]))) ** p
    return acc ** (1.0 / p)


@numba.njit
def my_l1_with_gradient(x, y):
    acc = 0.0
    for i in range(x.shape[0]):
        acc += abs(x[i] - y[i])
    return acc, np.sign(x - y)


def python_l1(x, y):  # no decorator: densumap compiles it with numba
    return np.abs(x - y).sum()


@pytest.mark.parametrize("exact", [True, False])
def test_custom_metric_gives_the_named_metrics_graph(exact, monkeypatch):
    X = _data("positive", n=300, seed=2).astype(np.float32)
    named = nearest_neighbors(X, 12, "canberra", None, seed=4, exact=exact)
    custom = nearest_neighbors(X, 12, my_canberra, None, seed=4, exact=exact)
    np.testing.assert_array_equal(custom[0], named[0])
    np.testing.assert_array_equal(custom[1], named[1])
    # metric_kwds reach a function by position, in the dictionary's order.
    kw = {"w": W, "p": 3.0}
    named = nearest_neighbors(X, 12, "wminkowski", kw, seed=4, exact=exact)
    custom = nearest_neighbors(X, 12, my_wminkowski, kw, seed=4, exact=exact)
    np.testing.assert_array_equal(custom[0], named[0])
    np.testing.assert_array_equal(custom[1], named[1])


@pytest.mark.parametrize("func", [my_l1_with_gradient, python_l1],
                         ids=["returns_gradient", "plain_python"])
def test_custom_metric_forms_match_builtin_manhattan(func, digits):
    X = digits[0][:400]
    _, d_ref = nearest_neighbors(X, 10, "manhattan", None, exact=True)
    i_got, d_got = nearest_neighbors(X, 10, func, None, exact=True)
    np.testing.assert_allclose(d_got, d_ref, rtol=1e-6)
    # Integer data has many ties, which the two searches may order differently: check
    # that the listed rows are at the listed distances.
    full = ssd.cdist(X, X, "cityblock")
    np.testing.assert_allclose(np.take_along_axis(full, i_got.astype(np.int64), axis=1),
                               d_got, rtol=1e-6)


def test_query_neighbors_with_named_and_custom_metric():
    X = _data("positive", n=200, seed=3)
    train, new = X[:150], X[150:]
    full = _reference_matrix(np.vstack([new, train]), ssd.braycurtis)[:50, 50:]
    for metric in ("braycurtis", ssd_free_braycurtis):
        idx, dist = query_neighbors(train, new, 7, metric)
        np.testing.assert_allclose(dist, np.sort(full, axis=1)[:, :7], rtol=1e-5)
        # Row by row: a chunk gets the same answer as the whole batch.
        part = query_neighbors(train, new[10:20], 7, metric)
        np.testing.assert_array_equal(part[0], idx[10:20])


@numba.njit
def ssd_free_braycurtis(x, y):
    num = 0.0
    den = 0.0
    for i in range(x.shape[0]):
        num += abs(x[i] - y[i])
        den += abs(x[i] + y[i])
    return num / den if den > 0 else 0.0


def test_approximate_search_recall_and_thread_independence():
    rng = np.random.default_rng(0)
    centres = rng.random((12, 16)) * 4
    X = np.abs(centres[rng.integers(0, 12, 1500)] + rng.normal(scale=0.5, size=(1500, 16)))
    spec = metrics.resolve("hellinger", None)
    exact, _ = metric_search.exact_knn(X, 15, spec)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = metric_search.approximate_knn(X, 15, spec, random_state=7)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = metric_search.approximate_knn(X, 15, spec, random_state=7)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(one[0], two[0])
    np.testing.assert_array_equal(one[1], two[1])
    recall = np.mean([len(set(a) & set(b)) / 15 for a, b in zip(one[0], exact)])
    assert recall > 0.95
    other = metric_search.approximate_knn(X, 15, spec, random_state=8)
    assert not np.array_equal(other[0], one[0])  # the seed is used


FAST = dict(n_epochs=60, random_state=0)


def test_fit_with_custom_metric_is_thread_count_independent(monkeypatch):
    # Below the threshold the search is exact; lower it to run the approximate one.
    monkeypatch.setattr(neighbors, "EXACT_MAX_SAMPLES", 100)
    X = _data("positive", n=500, seed=9).astype(np.float32)
    one = densumap.UMAP(metric=my_canberra, n_jobs=1, **FAST).fit(X)
    two = densumap.UMAP(metric=my_canberra, n_jobs=2, **FAST).fit(X)
    np.testing.assert_array_equal(one.embedding_, two.embedding_)
    new = _data("positive", n=40, seed=10).astype(np.float32)
    np.testing.assert_array_equal(one.transform(new), two.transform(new))


# (metric, kNN accuracy bound of the fit, of the transformed rows); measured 0.932 /
# 0.928, 0.968 / 0.965, 0.892 / 0.881 (jaccard sees only which pixels are non-zero).
@pytest.mark.parametrize("metric, fit_bound, transform_bound",
                         [(my_canberra, 0.9, 0.88), ("hellinger", 0.94, 0.93),
                          ("jaccard", 0.86, 0.85)],
                         ids=["custom", "hellinger", "jaccard"])
def test_fit_and_transform_on_digits(metric, fit_bound, transform_bound, digits):
    X, y = digits
    perm = np.random.default_rng(0).permutation(len(X))
    tr, te = perm[:1200], perm[1200:]
    model = densumap.UMAP(metric=metric, n_epochs=150, random_state=0).fit(X[tr])
    assert knn_accuracy(model.embedding_, y[tr]) > fit_bound
    placed = model.transform(X[te])
    clf = KNeighborsClassifier(10).fit(model.embedding_, y[tr])
    assert clf.score(placed, y[te]) > transform_bound


def test_continuous_target_with_custom_metric():
    X = _data("real", n=200, seed=4).astype(np.float32)
    y = X[:, 0] * 3.0
    model = densumap.UMAP(target_metric=my_canberra, **FAST).fit(X, y)
    again = densumap.UMAP(target_metric=my_canberra, **FAST).fit(X, y)
    np.testing.assert_array_equal(model.embedding_, again.embedding_)
    plain = densumap.UMAP(**FAST).fit(X)
    assert not np.array_equal(model.embedding_, plain.embedding_)


def _bad_python_metric(x, y):
    return float(len(pickle.dumps(x - y)))  # pickle: not something numba compiles


@numba.njit
def _returns_array(x, y):
    return x - y


BAD = [
    ({"metric": "ll_dirichlet"}, ValueError, r"metric='ll_dirichlet' is not available"),
    ({"metric": "seuclidean"}, ValueError,
     r"metric='seuclidean' needs metric_kwds\['V'\]"),
    ({"metric": "mahalanobis"}, ValueError, r"metric='mahalanobis' needs metric_kwds="),
    ({"metric": "wminkowski", "metric_kwds": {"p": 2}}, ValueError,
     r"metric='wminkowski' needs metric_kwds\['w'\]"),
    ({"metric": "wminkowski", "metric_kwds": {"w": np.ones(D), "q": 1}}, ValueError,
     r"metric_kwds has keys that metric='wminkowski' does not use: \['q'\]"),
    ({"metric": "wminkowski", "metric_kwds": {"w": np.ones(D), "p": -1}}, ValueError,
     r"metric='wminkowski' needs a positive, finite p"),
    ({"metric": "seuclidean", "metric_kwds": {"V": np.ones(3)}}, ValueError,
     r"metric_kwds\['V'\] of length 3 but X has 6 features"),
    ({"metric": "seuclidean", "metric_kwds": {"V": -np.ones(D)}}, ValueError,
     r"needs metric_kwds\['V'\] > 0"),
    ({"metric": "mahalanobis", "metric_kwds": {"VI": np.eye(3)}}, ValueError,
     r"inverse covariance of shape \(3, 3\) but X has 6 features"),
    ({"metric": "mahalanobis", "metric_kwds": {"V": np.zeros((D, D))}}, ValueError,
     r"covariance metric_kwds\['V'\] is singular"),
    ({"metric": "haversine"}, ValueError, r"metric='haversine' needs rows of 2 coordinates"),
    ({"metric": "hellinger"}, ValueError, r"metric='hellinger' needs non-negative values"),
    ({"metric": _bad_python_metric}, TypeError,
     r"metric='_bad_python_metric' could not be compiled by numba"),
    ({"metric": _returns_array}, TypeError, r"metric='_returns_array' must return a float"),
    ({"metric": my_wminkowski}, TypeError,
     r"with 0 extra argument\(s\) from metric_kwds"),
    ({"target_metric": "ordinal"}, ValueError, r"target_metric='ordinal' is not available"),
    ({"target_metric": "seuclidean"}, ValueError,
     r"target_metric='seuclidean' needs target_metric_kwds\['V'\]"),
]


@pytest.mark.parametrize("kw, exc, msg", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_metrics_raise_clear_errors(kw, exc, msg):
    X = _data("real", n=30, seed=0)
    y = X[:, 0] if "target_metric" in kw else None
    with pytest.raises(exc, match=msg):
        densumap.UMAP(n_epochs=5, **kw).fit(X, y)


def test_unknown_names_and_sparse_input_are_refused():
    X = _data("positive", n=30, seed=0)
    with pytest.raises(InvalidParameterError, match="'metric' parameter"):
        densumap.UMAP(metric="helinger").fit(X)
    with pytest.raises(InvalidParameterError, match="'metric' parameter"):
        densumap.UMAP(metric=3).fit(X)
    with pytest.raises(ValueError, match=r"metric='hellinger' needs dense input"):
        densumap.UMAP(metric="hellinger", n_epochs=5).fit(sp.csr_matrix(X))
    # Aliases are accepted in any case.
    assert neighbors.canonical_metric("Standardised_Euclidean") == "seuclidean"
    assert neighbors.canonical_metric("LINFTY") == "chebyshev"


def test_transform_checks_new_rows_against_the_metric():
    X = _data("positive", n=60, seed=0).astype(np.float32)
    model = densumap.UMAP(metric="hellinger", n_epochs=10, random_state=0).fit(X)
    with pytest.raises(ValueError, match="needs non-negative values"):
        model.transform(X[:5] - 1.0)
