"""umap-learn's "How to use AlignedUMAP" page, call for call, with ``import densumap as umap``.

On scikit-learn's digits as on the page, with the page's slicing (windows of 400
digits, moved on by 150, so consecutive slices share 250). The page's plotly
curves and GIF are left out (plotting libraries, no umap calls); its matplotlib
grid of slices is drawn.
"""
import numpy as np
import pytest

import densumap as umap

from ..helpers import knn_accuracy

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

@pytest.fixture(scope="module")
def sliced(digits_bunch):
    digits = digits_bunch
    order = np.argsort(digits.data.sum(axis=1))
    ordered_digits = digits.data[order]
    ordered_target = digits.target[order]
    plt.matshow(ordered_digits[-1].reshape((8, 8)))
    plt.close("all")
    slices = [ordered_digits[150 * i:min(ordered_digits.shape[0], 150 * i + 400)]
              for i in range(10)]
    targets = [ordered_target[150 * i:min(ordered_target.shape[0], 150 * i + 400)]
               for i in range(10)]
    relation_dict = {i + 150: i for i in range(400 - 150)}
    relation_dicts = [relation_dict.copy() for i in range(len(slices) - 1)]
    return slices, targets, relation_dicts


def axis_bounds(embedding):
    left, right = embedding.T[0].min(), embedding.T[0].max()
    bottom, top = embedding.T[1].min(), embedding.T[1].max()
    adj_h, adj_v = (right - left) * 0.1, (top - bottom) * 0.1
    return [left - adj_h, right + adj_h, bottom - adj_v, top + adj_v]


def draw_slices(embeddings, targets):
    fig, axs = plt.subplots(5, 2, figsize=(10, 20))
    ax_bound = axis_bounds(np.vstack(embeddings))
    for i, ax in enumerate(axs.flatten()):
        ax.scatter(*embeddings[i].T, s=2, c=targets[i], cmap="Spectral")
        ax.axis(ax_bound)
        ax.set(xticks=[], yticks=[])
    plt.close(fig)


def alignment_ratio(embeddings, relation_dicts):
    """Median distance between a shared point's positions in consecutive slices,
    over the median distance between random points of one slice (0: perfectly
    aligned; about 1: unrelated)."""
    moved, spread = [], []
    rng = np.random.default_rng(0)
    for i, rel in enumerate(relation_dicts):
        a, b = np.array(list(rel.keys())), np.array(list(rel.values()))
        moved.append(np.linalg.norm(embeddings[i][a] - embeddings[i + 1][b], axis=1))
        e = embeddings[i]
        spread.append(np.linalg.norm(e - e[rng.permutation(len(e))], axis=1))
    return np.median(np.concatenate(moved)) / np.median(np.concatenate(spread))


def test_modules_import():
    import densumap.aligned_umap
    import densumap.utils as utils

    assert densumap.aligned_umap.AlignedUMAP is umap.AlignedUMAP
    assert utils is not None


def test_aligned_slices(sliced):
    slices, targets, relation_dicts = sliced
    aligned_mapper = umap.AlignedUMAP().fit(slices, relations=relation_dicts)
    assert len(aligned_mapper.embeddings_) == 10
    for emb, s in zip(aligned_mapper.embeddings_, slices):
        assert emb.shape == (len(s), 2)
    draw_slices(aligned_mapper.embeddings_, targets)
    # Shared digits keep their place from one slice to the next, and each slice is
    # still a good embedding of its digits.
    assert alignment_ratio(aligned_mapper.embeddings_, relation_dicts) < 0.25
    for emb, t in zip(aligned_mapper.embeddings_, targets):
        assert knn_accuracy(emb, t) > 0.85


def test_online_update(sliced):
    slices, targets, relation_dicts = sliced
    updating_mapper = umap.AlignedUMAP().fit(slices[:2], relations=relation_dicts[:1])
    for i in range(2, len(slices)):
        updating_mapper.update(slices[i],
                               relations={v: k for k, v in relation_dicts[i - 1].items()})
    assert len(updating_mapper.embeddings_) == 10
    draw_slices(updating_mapper.embeddings_, targets)
    # Backward-only alignment is looser than the joint fit, but far from unrelated
    # (umap-learn 0.5.12 gives a ratio of 0.86 here, the compat helper measured), and
    # each slice is still a good embedding of its digits.
    assert alignment_ratio(updating_mapper.embeddings_, relation_dicts) < 0.5
    for emb, t in zip(updating_mapper.embeddings_, targets):
        assert knn_accuracy(emb, t) > 0.85


@pytest.mark.slow  # ten fits of all 1,797 digits aligned together
def test_varying_parameters(digits_bunch):
    digits = digits_bunch
    constant_dict = {i: i for i in range(digits.data.shape[0])}
    constant_relations = [constant_dict for i in range(9)]
    neighbors_mapper = umap.AlignedUMAP(
        n_neighbors=[3, 4, 5, 7, 11, 16, 22, 29, 37, 45, 54],
        min_dist=[0.01, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45],
        alignment_window_size=2,
        alignment_regularisation=1e-3,
    ).fit([digits.data for i in range(10)], relations=constant_relations)
    assert len(neighbors_mapper.embeddings_) == 10
    draw_slices(neighbors_mapper.embeddings_, [digits.target] * 10)
    assert alignment_ratio(neighbors_mapper.embeddings_, constant_relations) < 0.5
    for emb in neighbors_mapper.embeddings_:
        assert knn_accuracy(emb, digits.target) > 0.85
