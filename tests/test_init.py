"""The spectral initial layout's normalised adjacency matrix."""
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits

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
