"""umap-learn's "Inverse transforms" page, call for call, with ``import densumap as umap``.

The page's MNIST and Fashion-MNIST (from openml) are replaced by MNIST-like IDX
files generated in conftest.py. The page picks the four corners of its grid of test
points by eye; here each corner is the point of the embedding most central to one
class, so the grid stays inside the embedding as the page asks.
"""
import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

import densumap as umap
import densumap.plot  # noqa: F401

matplotlib = pytest.importorskip("matplotlib")
from matplotlib.gridspec import GridSpec  # noqa: E402


def class_centre(embedding, labels, c):
    """The embedded point of class ``c`` nearest the median of its class."""
    pts = embedding[labels == c]
    return pts[np.argmin(np.linalg.norm(pts - np.median(pts, axis=0), axis=1))]


def run_page(data, labels, corner_classes):
    mapper = umap.UMAP(random_state=42).fit(data)
    umap.plot.points(mapper, labels=labels)

    corners = np.array([class_centre(mapper.embedding_, labels, c) for c in corner_classes])
    test_pts = np.array([
        (corners[0] * (1 - x) + corners[1] * x) * (1 - y)
        + (corners[2] * (1 - x) + corners[3] * x) * y
        for y in np.linspace(0, 1, 10)
        for x in np.linspace(0, 1, 10)
    ])
    inv_transformed_points = mapper.inverse_transform(test_pts)
    assert inv_transformed_points.shape == (100, 784)
    assert np.isfinite(inv_transformed_points).all()

    fig = umap.plot.plt.figure(figsize=(12, 6))
    gs = GridSpec(10, 20, fig)
    scatter_ax = fig.add_subplot(gs[:, :10])
    digit_axes = np.zeros((10, 10), dtype=object)
    for i in range(10):
        for j in range(10):
            digit_axes[i, j] = fig.add_subplot(gs[i, 10 + j])
    scatter_ax.scatter(mapper.embedding_[:, 0], mapper.embedding_[:, 1],
                       c=labels.astype(np.int32), cmap="Spectral", s=0.1)
    scatter_ax.scatter(test_pts[:, 0], test_pts[:, 1], marker="x", c="k", s=15)
    for i in range(10):
        for j in range(10):
            digit_axes[i, j].imshow(inv_transformed_points[i * 10 + j].reshape(28, 28))
    umap.plot.plt.close("all")

    # Every generated image is an image, not a blank: ink on a dark background.
    assert (inv_transformed_points.std(axis=1) > 20).all()
    assert (inv_transformed_points.max(axis=1) > 100).all()
    # At the four corners the generated image is one of the corner's class.
    clf = KNeighborsClassifier(n_neighbors=5).fit(data, labels)
    corner_rows = [0, 9, 90, 99]
    predicted = clf.predict(inv_transformed_points[corner_rows])
    assert (predicted == np.asarray(corner_classes)).sum() >= 3


def test_mnist_section(mnist):
    data, labels = mnist
    run_page(data, labels, corner_classes=(1, 7, 2, 0))


def test_fashion_mnist_section(fmnist):
    data, labels = fmnist
    run_page(data, labels, corner_classes=(8, 9, 3, 1))
