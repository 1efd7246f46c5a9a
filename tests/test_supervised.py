"""Supervised and semi-supervised fits: target simplicial sets and the estimator."""
import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

import densumap
from densumap import graph
from densumap.neighbors import nearest_neighbors

from . import naive


@pytest.fixture(scope="module")
def small_graph(digits):
    X, y = digits
    idx, d = nearest_neighbors(X[:150], 10)
    G, _, _ = graph.fuzzy_simplicial_set(idx, d, 10)
    return X[:150], y[:150], G


@pytest.mark.parametrize("weight", [0.5, 0.8])
def test_categorical_intersection_matches_reference(small_graph, weight):
    _, y, G = small_graph
    labels = y.astype(np.int64).copy()
    labels[::7] = -1
    far = graph.far_distance(weight)
    out = graph.categorical_intersection(G, labels, far)
    ref = naive.categorical_intersection(G.toarray(), labels, far)
    np.testing.assert_allclose(out.toarray(), ref, atol=1e-5)
    assert (out != out.T).nnz == 0


def test_categorical_intersection_full_weight_cuts_label_changes(small_graph):
    _, y, G = small_graph
    out = graph.categorical_intersection(G, y, graph.far_distance(1.0)).tocoo()
    assert out.nnz > 0 and np.all(y[out.row] == y[out.col])


@pytest.mark.parametrize("weight", [0.0, 0.3, 0.5, 0.9, 1.0])
def test_general_intersection_matches_reference(small_graph, weight):
    X, y, G = small_graph
    t_idx, t_d = nearest_neighbors(y[:, None].astype(np.float32) + 0.01 * X[:, :1], 10)
    T, _, _ = graph.fuzzy_simplicial_set(t_idx, t_d, 10)
    out = graph.general_intersection(G, T, weight)
    ref = naive.general_intersection(G.toarray(), T.toarray(), weight)
    np.testing.assert_allclose(out.toarray(), ref, atol=1e-5)


def test_general_intersection_extremes(small_graph):
    _, _, G = small_graph
    same = graph.general_intersection(G, G, 0.0)
    np.testing.assert_allclose(same.toarray(), naive.reset_local_connectivity(G.toarray()),
                               atol=1e-6)


# --------------------------------------------------------------- estimator
@pytest.fixture(scope="module")
def data(digits):
    X, y = digits
    return X[:400], y[:400]


def _check(m, n):
    assert m.embedding_.shape == (n, 2)
    assert np.all(np.isfinite(m.embedding_))


def test_semi_supervised_labels(data):
    X, y = data
    y = y.copy()
    y[np.random.default_rng(0).random(len(y)) < 0.5] = -1
    m = densumap.UMAP(n_epochs=60, random_state=0).fit(X, y)
    _check(m, len(X))
    assert np.all(np.isfinite(m.transform(X[:20])))


def test_string_labels_equal_integer_labels(data):
    X, y = data
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven",
                      "eight", "nine"])
    a = densumap.UMAP(n_epochs=60, random_state=0).fit(X, names[y])
    # np.unique sorts the names; relabel the integers in the same order.
    order = np.argsort(np.argsort(names))
    b = densumap.UMAP(n_epochs=60, random_state=0).fit(X, order[y])
    np.testing.assert_array_equal(a.embedding_, b.embedding_)
    c = densumap.UMAP(n_epochs=60, random_state=0).fit(X, np.array(list(names[y]) , dtype=object))
    np.testing.assert_array_equal(a.embedding_, c.embedding_)


@pytest.mark.parametrize("metric", ["l1", "euclidean"])
@pytest.mark.parametrize("densmap", [False, True])
def test_continuous_target(data, metric, densmap):
    X, y = data
    target = y + np.random.default_rng(0).normal(scale=0.1, size=len(y))
    m = densumap.UMAP(n_epochs=60, random_state=0, target_metric=metric, densmap=densmap,
                      output_dens=True).fit(X, target)
    _check(m, len(X))
    assert np.all(np.isfinite(m.rad_orig_)) and np.all(np.isfinite(m.rad_emb_))
    assert np.all(np.isfinite(m.transform(X[:10])[0]))


def test_two_column_continuous_target(data):
    X, y = data
    target = np.stack([y, y % 3], axis=1).astype(float)
    m = densumap.UMAP(n_epochs=40, random_state=0, target_metric="euclidean",
                      target_n_neighbors=8).fit(X, target)
    _check(m, len(X))


def test_supervised_changes_graph_not_unsupervised(data):
    X, y = data
    a = densumap.UMAP(n_epochs=20, random_state=0).fit(X)
    b = densumap.UMAP(n_epochs=20, random_state=0).fit(X, None)
    np.testing.assert_array_equal(a.embedding_, b.embedding_)
    c = densumap.UMAP(n_epochs=20, random_state=0, target_weight=0.0).fit(X, y)
    assert c.graph_.nnz == a.graph_.nnz


def test_target_errors(data):
    X, y = data
    with pytest.raises(ValueError, match="y has 399 samples but X has 400"):
        densumap.UMAP(n_epochs=5).fit(X, y[:399])
    bad = y.astype(float)
    bad[3] = np.nan
    with pytest.raises(ValueError, match="y contains NaN or inf; a continuous target"):
        densumap.UMAP(n_epochs=5, target_metric="l1").fit(X, bad)
    bad[3] = np.inf
    with pytest.raises(ValueError, match="y contains NaN or inf"):
        densumap.UMAP(n_epochs=5, target_metric="euclidean").fit(X, bad)
    bad[3] = np.nan
    with pytest.raises(ValueError, match="class labels must be finite"):
        densumap.UMAP(n_epochs=5).fit(X, bad)
    with pytest.raises(ValueError, match="needs numeric y"):
        densumap.UMAP(n_epochs=5, target_metric="l1").fit(X, np.array(["a"] * len(X)))
    with pytest.raises(InvalidParameterError, match="target_metric"):
        densumap.UMAP(target_metric="hamming-ish").fit(X, y)
    with pytest.raises(InvalidParameterError, match="target_n_neighbors"):
        densumap.UMAP(target_n_neighbors=1).fit(X, y)
    with pytest.raises(InvalidParameterError, match="target_weight"):
        densumap.UMAP(target_weight=1.5).fit(X, y)
