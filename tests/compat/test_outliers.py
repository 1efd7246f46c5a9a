"""umap-learn's "Outlier detection using UMAP" page, call for call, with
``import densumap as umap``.

The page's MNIST is replaced by the MNIST-like IDX files of conftest.py, to which
this test adds 12 images of pure noise: true outliers that the page's recipe (LOF
on the embedding) should find. ``contamination`` is scaled so that LOF flags 20
images, as the page's 0.001428 flags 100 of 70,000.
"""
import numpy as np
import pytest
import sklearn.neighbors

import densumap as umap
import densumap.plot  # noqa: F401

pytest.importorskip("matplotlib")

N_NOISE = 12


@pytest.fixture(scope="module")
def noisy_mnist(mnist):
    data, labels = mnist
    noise = np.random.default_rng(0).uniform(0, 255, size=(N_NOISE, data.shape[1]))
    data = np.vstack([data, noise.astype(data.dtype)])
    labels = np.concatenate([labels, np.full(N_NOISE, 10)])
    return data, labels


def check_outliers(data, outlier_scores):
    outlying_digits = data[outlier_scores == -1]
    assert outlying_digits.shape == (20, 784)
    fig, axes = umap.plot.plt.subplots(2, 10, figsize=(10, 2))
    for i, ax in enumerate(axes.flatten()):
        ax.imshow(outlying_digits[i].reshape((28, 28)))
    umap.plot.plt.close(fig)
    # Share of the noise images among the flagged ones.
    return np.sum(outlier_scores[-N_NOISE:] == -1) / N_NOISE


def test_page(noisy_mnist):
    data, labels = noisy_mnist
    contamination = 20 / len(data)
    outlier_scores = sklearn.neighbors.LocalOutlierFactor(
        contamination=contamination).fit_predict(data)
    found_raw = check_outliers(data, outlier_scores)

    mapper = umap.UMAP().fit(data)
    ax = umap.plot.points(mapper, labels=labels)
    assert len(ax.get_legend().get_texts()) == 11
    outlier_scores = sklearn.neighbors.LocalOutlierFactor(
        contamination=contamination).fit_predict(mapper.embedding_)
    check_outliers(data, outlier_scores)

    mapper = umap.UMAP(set_op_mix_ratio=0.25).fit(data)
    umap.plot.points(mapper, labels=labels)
    outlier_scores = sklearn.neighbors.LocalOutlierFactor(
        contamination=contamination).fit_predict(mapper.embedding_)
    check_outliers(data, outlier_scores)
    umap.plot.plt.close("all")
    # Pure noise is far from every digit in pixel space, and LOF there finds it all.
    assert found_raw == 1.0
    # With a fuzzy set nearer the intersection, the noise stays outlying in the
    # embedding and LOF on two coordinates finds most of it in most runs. The page's
    # fits are unseeded, so this is checked on eight seeded ones, of which at least half
    # must find at least half of the noise. The outcome is nearly all or nothing (in a
    # run that finds none, the 12 noise images, each other's nearest neighbours, form a
    # tight group of their own that LOF does not flag): over seeds 0-15 the share was 1
    # in 11 runs (fourteenth session's schedule; 0 in 5) and >= 0.5 in 12 before it, so
    # three seeds, as this test had, could fail by chance (seeds 0-2 gave 0, 1, 0).
    shares = []
    for seed in range(8):
        emb = umap.UMAP(set_op_mix_ratio=0.25, random_state=seed).fit(data).embedding_
        scores = sklearn.neighbors.LocalOutlierFactor(
            contamination=contamination).fit_predict(emb)
        shares.append(np.sum(scores[-N_NOISE:] == -1) / N_NOISE)
    assert np.sum(np.array(shares) >= 0.5) >= 4, shares
