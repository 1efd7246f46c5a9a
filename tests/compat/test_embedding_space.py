"""umap-learn's "Embedding to non-Euclidean spaces" page, call for call, with
``import densumap as umap``, on scikit-learn's digits as on the page.

The torus distance is this file's own (a flat torus of side 2 pi, distance and
gradient); the page's Gaussian-density picture is reduced to its first step (the
ellipse parameters are drawn and checked).
"""
import numpy as np
import pytest

import densumap as umap

from ..helpers import knn_accuracy

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Ellipse  # noqa: E402

numba = pytest.importorskip("numba")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_plane(digits_bunch):
    digits = digits_bunch
    plane_mapper = umap.UMAP(random_state=42).fit(digits.data)
    plt.scatter(plane_mapper.embedding_.T[0], plane_mapper.embedding_.T[1], c=digits.target,
                cmap="Spectral")
    assert knn_accuracy(plane_mapper.embedding_, digits.target) > 0.93


@pytest.mark.slow  # 25 s: haversine needs a few hundred epochs; test_output_metrics covers it
def test_sphere(digits_bunch):
    digits = digits_bunch
    sphere_mapper = umap.UMAP(output_metric="haversine", random_state=42).fit(digits.data)
    plt.scatter(sphere_mapper.embedding_.T[0], sphere_mapper.embedding_.T[1], c=digits.target,
                cmap="Spectral")
    x = np.sin(sphere_mapper.embedding_[:, 0]) * np.cos(sphere_mapper.embedding_[:, 1])
    y = np.sin(sphere_mapper.embedding_[:, 0]) * np.sin(sphere_mapper.embedding_[:, 1])
    z = np.cos(sphere_mapper.embedding_[:, 0])
    ax = plt.figure().add_subplot(111, projection="3d")
    ax.scatter(x, y, z, c=digits.target, cmap="Spectral")
    # On the sphere (3-D coordinates) the digit classes are as separate as in the plane.
    assert knn_accuracy(np.column_stack([x, y, z]), digits.target) > 0.9
    x = np.arctan2(x, y)
    y = -np.arccos(z)
    plt.figure()  # a new notebook cell's figure, not the 3-D axes above
    plt.scatter(x, y, c=digits.target.astype(np.int32), cmap="Spectral")
    assert np.all((x >= -np.pi) & (x <= np.pi) & (y >= -np.pi) & (y <= 0))


@numba.njit(fastmath=True)
def flat_torus(x, y):
    """Distance on the flat torus [0, 2 pi)^d, and its gradient with respect to x."""
    period = 2.0 * np.pi
    sq = 0.0
    g = np.zeros_like(x)
    for i in range(x.shape[0]):
        d = (x[i] - y[i]) % period
        if d > 0.5 * period:
            d -= period  # the shorter way round
        sq += d * d
        g[i] = d
    dist = np.sqrt(sq)
    return dist, g / (1e-6 + dist)


@pytest.mark.slow  # 13 s; test_output_metrics.py::test_custom_torus_metric runs by default
def test_torus(digits_bunch):
    digits = digits_bunch
    torus_mapper = umap.UMAP(output_metric=flat_torus, random_state=42).fit(digits.data)
    R, r = 3, 1
    x = (R + r * np.cos(torus_mapper.embedding_[:, 0])) * np.cos(torus_mapper.embedding_[:, 1])
    y = (R + r * np.cos(torus_mapper.embedding_[:, 0])) * np.sin(torus_mapper.embedding_[:, 1])
    z = r * np.sin(torus_mapper.embedding_[:, 0])
    ax = plt.figure().add_subplot(111, projection="3d")
    ax.scatter(x, y, z, c=digits.target, cmap="Spectral")
    assert knn_accuracy(np.column_stack([x, y, z]), digits.target) > 0.9
    u = np.arctan2(x, y)
    v = np.arctan2(np.sqrt(x ** 2 + y ** 2) - R, z)
    plt.figure()
    plt.scatter(u, v, c=digits.target, cmap="Spectral")


def test_gaussian_energy(digits_bunch):
    digits = digits_bunch
    gaussian_mapper = umap.UMAP(output_metric="gaussian_energy", n_components=5,
                                random_state=42).fit(digits.data)
    emb = gaussian_mapper.embedding_
    assert emb.shape == (1797, 5)
    plt.scatter(emb.T[0], emb.T[1], c=digits.target, cmap="Spectral")
    ax = plt.figure(figsize=(10, 10)).add_subplot(111)
    colors = plt.get_cmap("Spectral")(np.linspace(0, 1, 10))
    for i in range(0, emb.shape[0], 10):
        width, height = np.sqrt(np.abs(emb[i, 2:4]))
        ax.add_patch(Ellipse(emb[i, :2], width, height, angle=np.degrees(emb[i, 4]),
                             alpha=0.05, lw=0, color=colors[digits.target[i]]))
    ax.scatter(emb.T[0], emb.T[1], c=digits.target, cmap="Spectral", s=3)
    # The means (first two components) carry the classes as a plane embedding does.
    assert knn_accuracy(emb[:, :2], digits.target) > 0.85
    assert np.isfinite(emb).all()


def test_hyperboloid(digits_bunch):
    digits = digits_bunch
    hyperbolic_mapper = umap.UMAP(output_metric="hyperboloid", random_state=42).fit(digits.data)
    plt.scatter(hyperbolic_mapper.embedding_.T[0], hyperbolic_mapper.embedding_.T[1],
                c=digits.target, cmap="Spectral")
    x = hyperbolic_mapper.embedding_[:, 0]
    y = hyperbolic_mapper.embedding_[:, 1]
    z = np.sqrt(1 + np.sum(hyperbolic_mapper.embedding_ ** 2, axis=1))
    ax = plt.figure().add_subplot(111, projection="3d")
    ax.scatter(x, y, z, c=digits.target, cmap="Spectral")
    disk_x = x / (1 + z)
    disk_y = y / (1 + z)
    ax = plt.figure().add_subplot(111)
    ax.scatter(disk_x, disk_y, c=digits.target, cmap="Spectral")
    ax.add_artist(plt.Circle((0, 0), 1, fc="none", ec="k"))
    # Every point is inside the Poincare disk, and the classes separate.
    assert (disk_x ** 2 + disk_y ** 2 < 1).all()
    assert knn_accuracy(hyperbolic_mapper.embedding_, digits.target) > 0.9
