import numpy as np
import pytest

from densumap import graph
from densumap.density import (correlation_gradient, correlation_state, density_target,
                              embedding_log_radii)
from densumap.neighbors import nearest_neighbors

from . import naive


@pytest.fixture(scope="module")
def small_problem():
    rng = np.random.default_rng(3)
    X = np.concatenate([rng.normal(0, 1, (25, 5)), rng.normal(6, 3, (25, 5))]).astype(np.float32)
    idx, d = nearest_neighbors(X, 8)
    G, _, _ = graph.fuzzy_simplicial_set(idx, d, 8)
    target = density_target(G, idx, d)
    Y = rng.normal(0, 2, (50, 2))
    return G, idx, d, target, Y


@pytest.mark.parametrize("a,b", [(1.577, 0.895), (0.5, 1.3)])
def test_correlation_matches_definition(small_problem, a, b):
    G, _, _, target, Y = small_problem
    state = correlation_state(Y, G, target, a, b, 0.1)
    mask = G.toarray() > 0
    ref = naive.density_correlation(Y, mask, target.standardized, a, b, 0.1)
    assert state.corr == pytest.approx(ref, rel=1e-6)


@pytest.mark.parametrize("a,b", [(1.577, 0.895), (0.5, 1.3)])
def test_density_gradient_finite_differences(small_problem, a, b):
    G, _, _, target, Y = small_problem
    mask = G.toarray() > 0
    state = correlation_state(Y, G, target, a, b, 0.1)
    grad = correlation_gradient(Y, G, state, a, b)
    h = 1e-6
    fd = np.zeros_like(Y)
    for i in range(Y.shape[0]):
        for c in range(Y.shape[1]):
            Yp, Ym = Y.copy(), Y.copy()
            Yp[i, c] += h
            Ym[i, c] -= h
            fd[i, c] = (naive.density_correlation(Yp, mask, target.standardized, a, b, 0.1)
                        - naive.density_correlation(Ym, mask, target.standardized, a, b, 0.1)) / (2 * h)
    assert np.abs(fd).max() > 1e-3  # the check is not vacuous
    np.testing.assert_allclose(grad, fd, rtol=1e-4, atol=1e-7)


def test_gradient_ascent_increases_correlation(small_problem):
    G, _, _, target, Y = small_problem
    a, b = 1.577, 0.895
    before = correlation_state(Y, G, target, a, b, 0.1).corr
    Z = Y.copy()
    for _ in range(50):
        state = correlation_state(Z, G, target, a, b, 0.1)
        Z = Z + 0.5 * correlation_gradient(Z, G, state, a, b)
    after = correlation_state(Z, G, target, a, b, 0.1).corr
    assert after > before + 0.2


def test_radii_finite_for_isolated_vertex():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3)).astype(np.float32)
    idx, d = nearest_neighbors(X, 5)
    idx = idx.copy()
    idx[0, 1:] = -1  # vertex 0 keeps no outgoing edge ...
    idx[idx == 0] = -1  # ... and no incoming one
    idx[0, 0] = 0
    G, _, _ = graph.fuzzy_simplicial_set(idx, d, 5)
    assert G[0].nnz == 0
    target = density_target(G, idx, d)
    assert np.all(np.isfinite(target.log_radii)) and not target.active[0]
    Y = rng.normal(size=(30, 2)).astype(np.float32)
    assert np.all(np.isfinite(embedding_log_radii(G, Y, idx)))
    state = correlation_state(Y, G, target, 1.5, 0.9, 0.1)
    assert np.isfinite(state.corr)
    assert np.all(np.isfinite(correlation_gradient(Y, G, state, 1.5, 0.9)))


@pytest.mark.parametrize("dim", [2, 3])
def test_single_precision_radii_match_double(small_problem, dim):
    """The SGD's float32 radii (fast powers, vector lanes) against the float64 ones.

    Includes a pair of coincident neighbours (``d = 0``: ``phi = 1`` in both) and
    rows of up to 16 edges, so the vectorised loop's remainder lanes are exercised.
    """
    G, _, _, target, _ = small_problem
    rng = np.random.default_rng(11)
    Y = rng.normal(0, 2, (50, dim)).astype(np.float32)
    i, j = 0, int(G[0].indices[0])
    Y[j] = Y[i]
    a, b = 1.577, 0.895
    s32 = correlation_state(Y, G, target, a, b, 0.1)
    s64 = correlation_state(Y.astype(np.float64), G, target, a, b, 0.1)
    assert np.diff(G.indptr).max() > 8
    np.testing.assert_allclose(s32.phi_sum, s64.phi_sum, rtol=2e-5)
    np.testing.assert_allclose(s32.mean_sq, s64.mean_sq, rtol=2e-5)
    assert s32.corr == pytest.approx(s64.corr, abs=1e-5)
    # not vacuous: the two paths are different code (float32 rounding, fast powers)
    assert not np.array_equal(s32.mean_sq, s64.mean_sq)
