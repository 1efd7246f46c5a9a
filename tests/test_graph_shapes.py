"""Graphs in several components and isolated vertices never produce NaN or inf."""
import numpy as np
import pytest

import densumap


def _blobs(seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0, 0], [100, 0, 0], [0, 100, 0], [0, 0, 100]], dtype=np.float32)
    X = np.concatenate([c + rng.normal(size=(40, 3)) for c in centres]).astype(np.float32)
    return X


@pytest.mark.parametrize("densmap", [False, True])
def test_several_components_finite(densmap):
    X = _blobs()
    model = densumap.UMAP(n_neighbors=10, densmap=densmap, output_dens=True, random_state=0,
                          n_epochs=100).fit(X)
    from scipy.sparse.csgraph import connected_components

    assert connected_components(model.graph_)[0] == 4
    assert np.all(np.isfinite(model.embedding_))
    assert np.all(np.isfinite(model.rad_orig_)) and np.all(np.isfinite(model.rad_emb_))
    # Components stay apart: each blob's centre is far from the others relative to its spread.
    labels = np.repeat(np.arange(4), 40)
    centres = np.stack([model.embedding_[labels == c].mean(0) for c in range(4)])
    spread = max(model.embedding_[labels == c].std(0).max() for c in range(4))
    gaps = np.linalg.norm(centres[:, None] - centres[None], axis=-1)[np.triu_indices(4, 1)]
    assert gaps.min() > 2 * spread


@pytest.mark.parametrize("densmap", [False, True])
def test_disconnection_distance_isolates_vertices(densmap):
    X = _blobs()
    X = np.concatenate([X, np.array([[500.0, 500.0, 500.0]], dtype=np.float32)])
    model = densumap.UMAP(n_neighbors=10, disconnection_distance=50.0, densmap=densmap,
                          output_dens=True, random_state=0, n_epochs=100).fit(X)
    assert model.graph_[160].nnz == 0  # the far point lost every edge
    assert np.all(np.isfinite(model.embedding_))
    assert np.all(np.isfinite(model.rad_orig_)) and np.all(np.isfinite(model.rad_emb_))


def test_identical_points_finite():
    X = np.ones((50, 4), dtype=np.float32)
    emb = densumap.UMAP(densmap=True, random_state=0, n_epochs=50).fit(X).embedding_
    assert np.all(np.isfinite(emb))
