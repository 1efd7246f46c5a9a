"""umap-learn's "Better Preserving Local Density with DensMAP" page, call for call,
with ``import densumap as umap``.

The page's MNIST and Fashion-MNIST (from openml) are replaced by the MNIST-like
IDX files of conftest.py; its Galaxy10 images (downloaded) by the first 1,500 of
those images for training and the rest for testing. docs/tutorial.md runs the
Fashion-MNIST part of this page on the real 70,000 images.
"""
import numpy as np
import pytest

import densumap as umap
import densumap.plot  # noqa: F401

from ..helpers import density_correlation, knn_accuracy

pytest.importorskip("matplotlib")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    umap.plot.plt.close("all")


def test_mnist_section(mnist):
    data, target = mnist
    mapper = umap.UMAP(random_state=42).fit(data)
    umap.plot.points(mapper, labels=target, width=500, height=500)
    dens_mapper = umap.UMAP(densmap=True, random_state=42).fit(data)
    ax = umap.plot.points(dens_mapper, labels=target, width=500, height=500)
    assert len(ax.get_legend().get_texts()) == 10
    # DensMAP keeps the same groups and follows the input's local density much
    # more closely than UMAP.
    assert knn_accuracy(dens_mapper.embedding_, target) > 0.9
    assert density_correlation(data, dens_mapper.embedding_) > \
        density_correlation(data, mapper.embedding_) + 0.2


def test_fashion_mnist_section(fmnist):
    data, target = fmnist
    mapper = umap.UMAP(random_state=42).fit(data)
    umap.plot.points(mapper, labels=target, width=500, height=500)
    dens_mapper = umap.UMAP(densmap=True, random_state=42).fit(data)
    umap.plot.points(dens_mapper, labels=target, width=500, height=500)
    corr = {"umap": density_correlation(data, mapper.embedding_),
            2.0: density_correlation(data, dens_mapper.embedding_)}

    dens_mapper = umap.UMAP(densmap=True, dens_lambda=5.0, random_state=42).fit(data)
    umap.plot.points(dens_mapper, labels=target, width=500, height=500)
    fig, ax = umap.plot.plt.subplots(figsize=(7, 7))
    ax.scatter(*dens_mapper.embedding_.T, c=target.astype("int8"), cmap="Spectral", s=1)
    corr[5.0] = density_correlation(data, dens_mapper.embedding_)

    dens_mapper = umap.UMAP(densmap=True, dens_lambda=0.1, random_state=42).fit(data)
    umap.plot.points(dens_mapper, labels=target, width=500, height=500)
    corr[0.1] = density_correlation(data, dens_mapper.embedding_)
    # The stronger the density term, the closer the embedding's local density
    # follows the input's; at 0.1 it is between UMAP and the default.
    assert corr[5.0] > corr[0.1] and corr[2.0] > corr[0.1]
    assert corr[0.1] > corr["umap"]
    assert corr[2.0] > corr["umap"] + 0.2


def test_supervised_galaxy_section(fmnist):
    data, target = fmnist
    X_train, y_train = data[:1500].astype(np.float64), target[:1500].astype(np.float64)
    X_test, y_test = data[1500:].astype(np.float64), target[1500:].astype(np.float64)
    plt = umap.plot.plt

    reducer = umap.UMAP(densmap=True, n_components=2, random_state=42, verbose=False)
    reducer.fit(X_train)
    galaxy10_densmap = reducer.transform(X_train)
    plt.figure(1, figsize=(4, 4))
    plt.clf()
    plt.scatter(galaxy10_densmap[:, 0], galaxy10_densmap[:, 1], c=y_train,
                cmap=plt.cm.nipy_spectral, edgecolor="k")
    plt.colorbar(boundaries=np.arange(11) - 0.5).set_ticks(np.arange(10))
    unsupervised = knn_accuracy(galaxy10_densmap, y_train)

    reducer = umap.UMAP(densmap=True, n_components=2, random_state=42, verbose=False)
    reducer.fit(X_train, y_train)
    galaxy10_densmap_supervised = reducer.transform(X_train)
    plt.clf()
    plt.scatter(galaxy10_densmap_supervised[:, 0], galaxy10_densmap_supervised[:, 1],
                c=y_train, cmap=plt.cm.nipy_spectral, edgecolor="k")
    galaxy10_densmap_supervised_prediction = reducer.transform(X_test)
    plt.clf()
    plt.scatter(galaxy10_densmap_supervised_prediction[:, 0],
                galaxy10_densmap_supervised_prediction[:, 1], c=y_test,
                cmap=plt.cm.nipy_spectral, edgecolor="k")
    assert galaxy10_densmap_supervised_prediction.shape == (len(X_test), 2)
    # Supervision separates the classes better; new images land with their class.
    assert knn_accuracy(galaxy10_densmap_supervised, y_train) > unsupervised
    from sklearn.neighbors import KNeighborsClassifier

    clf = KNeighborsClassifier(n_neighbors=10).fit(reducer.embedding_, y_train)
    assert clf.score(galaxy10_densmap_supervised_prediction, y_test) > 0.85
