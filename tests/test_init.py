"""The spectral initial layout: normalised adjacency, components, the solver's product."""
from contextlib import ExitStack

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from sklearn.datasets import load_digits

from densumap import init
from densumap._runtime import numba_threads
from densumap.init import _normalized_adjacency


def _scipy_reference(graph, d_inv_sqrt):
    Dm = sp.diags(d_inv_sqrt)
    return (Dm @ graph @ Dm).astype(np.float64)


def _digits_graph(dtype):
    from densumap import UMAP

    X = load_digits().data[:600]
    model = UMAP(n_neighbors=10, random_state=0, n_epochs=0).fit(X)
    return model.graph_.tocsr().astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_normalized_adjacency_matches_the_sparse_products_bit_for_bit(dtype):
    graph = _digits_graph(dtype)
    # Entries that underflow to zero once scaled are dropped, as the products drop them.
    graph.data[::11] = np.finfo(dtype).smallest_subnormal
    deg = np.asarray(graph.sum(axis=1)).ravel()
    d_inv_sqrt = 1.0 / np.sqrt(deg)
    got = _normalized_adjacency(graph, d_inv_sqrt)
    want = _scipy_reference(graph, d_inv_sqrt)
    assert got.dtype == np.float64
    assert got.nnz < graph.nnz  # some entries underflowed and were dropped
    np.testing.assert_array_equal(got.indptr, want.indptr)
    np.testing.assert_array_equal(got.indices, want.indices)
    np.testing.assert_array_equal(got.data.view(np.uint64), want.data.view(np.uint64))
    v = np.random.default_rng(0).uniform(size=graph.shape[0])
    np.testing.assert_array_equal(got @ v, want @ v)


def test_normalized_adjacency_of_a_non_canonical_graph():
    graph = _digits_graph(np.float32)
    # Two entries of one row swapped: unsorted indices take the general path.
    graph.indices[[0, 1]] = graph.indices[[1, 0]]
    graph.data[[0, 1]] = graph.data[[1, 0]]
    graph.has_sorted_indices = False
    deg = np.asarray(graph.sum(axis=1)).ravel()
    d_inv_sqrt = 1.0 / np.sqrt(deg)
    got = _normalized_adjacency(graph, d_inv_sqrt)
    want = _scipy_reference(graph, d_inv_sqrt)
    np.testing.assert_array_equal(got.toarray(), want.toarray())
    # The input graph is not modified.
    assert graph.indices[0] > graph.indices[1]


def test_weak_components_label_as_the_undirected_ones():
    # spectral_layout numbers components with directed=True, connection="weak" (no
    # graph + graph.T); labels fix where each component goes, so they must be the same.
    rng = np.random.default_rng(3)
    for _ in range(5):
        n = 300
        rows, cols = rng.integers(0, n, size=(2, 280))
        graph = sp.csr_matrix((np.ones(280), (rows, cols)), shape=(n, n))
        for g in (graph, graph + graph.T):
            want = connected_components(g, directed=False)
            got = connected_components(g, directed=True, connection="weak")
            assert got[0] == want[0] > 1
            np.testing.assert_array_equal(got[1], want[1])


def _digits_operator_inputs():
    graph = _digits_graph(np.float32)
    deg = np.asarray(graph.sum(axis=1)).ravel()
    return graph, _normalized_adjacency(graph, 1.0 / np.sqrt(deg))


def test_shared_operator_is_the_float64_product_to_the_last_bit(monkeypatch):
    graph, M = _digits_operator_inputs()
    monkeypatch.setattr(init, "_SHARED_NNZ", 0)
    v = np.random.default_rng(0).uniform(-1, 1, size=M.shape[0])
    want = M @ v
    for threads in (1, 2, 3):
        with numba_threads(threads), ExitStack() as stack:
            op = init._pooled_operator(M, stack)
            got = op.dot(v)
        if threads == 1:
            assert op is M  # nothing to share out
        else:
            assert not sp.issparse(op)
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, want)


def test_spectral_layout_is_the_same_with_shared_products(monkeypatch):
    graph, _ = _digits_operator_inputs()
    want = init.spectral_layout(graph, 2, np.random.default_rng(0))
    monkeypatch.setattr(init, "_SHARED_NNZ", 0)
    with numba_threads(2):
        got = init.spectral_layout(graph, 2, np.random.default_rng(0))
    np.testing.assert_array_equal(got, want)


def test_pooled_operator_is_the_product_in_float32_for_any_thread_count(monkeypatch):
    graph, M = _digits_operator_inputs()
    monkeypatch.setattr(init, "_SHARED_NNZ", 0)
    monkeypatch.setattr(init, "_POOLED_NNZ", 0)
    v = np.random.default_rng(0).uniform(-1, 1, size=M.shape[0])
    outs = []
    for threads in (1, 2):
        with numba_threads(threads), ExitStack() as stack:
            op = init._pooled_operator(M, stack)
            assert not sp.issparse(op)
            outs.append(op.matvec(v))
    np.testing.assert_array_equal(outs[0], outs[1])
    assert outs[0].dtype == np.float64
    want = M @ v
    # float32 rounding only: far below the eigensolver's tolerance of 1e-4.
    assert np.abs(outs[0] - want).max() < 1e-5 * np.abs(want).max()
    assert not np.array_equal(outs[0], want)  # it really was the float32 product


def test_spectral_layout_of_a_large_graph_spans_the_same_eigenvectors(monkeypatch):
    graph, _ = _digits_operator_inputs()
    assert connected_components(graph)[0] == 1
    want = init.spectral_layout(graph, 2, np.random.default_rng(0))
    monkeypatch.setattr(init, "_SHARED_NNZ", 0)
    monkeypatch.setattr(init, "_POOLED_NNZ", 0)
    got = init.spectral_layout(graph, 2, np.random.default_rng(0))
    assert not np.array_equal(got, want)
    q_want, _ = np.linalg.qr(want)
    q_got, _ = np.linalg.qr(got)
    cosines = np.linalg.svd(q_want.T @ q_got, compute_uv=False)
    assert cosines.min() > 0.9999
