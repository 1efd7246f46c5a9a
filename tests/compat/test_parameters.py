"""umap-learn's "Basic UMAP Parameters" page, call for call, with ``import densumap as umap``.

The page's data (800 random colours, the 4-D unit cube) is generated here the same
way. Its sweeps over ``n_neighbors``, ``min_dist``, ``n_components`` and ``metric``
(named and user-written numba metrics) are run with the page's values; the custom
metrics are this file's own small colour distances.
"""
import numpy as np
import pytest
from scipy.sparse.csgraph import connected_components
from sklearn.neighbors import NearestNeighbors

import densumap as umap

from ..helpers import trust

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

numba = pytest.importorskip("numba")


def draw_umap(data, n_neighbors=15, min_dist=0.1, n_components=2, metric="euclidean",
              title=""):
    """Fit with the given parameters and draw the embedding coloured by the data, as
    the page's helper does; returns the fitted model."""
    fit = umap.UMAP(n_neighbors=n_neighbors, min_dist=min_dist,
                    n_components=n_components, metric=metric)
    u = fit.fit_transform(data)
    fig = plt.figure()
    if n_components == 1:
        fig.add_subplot(111).scatter(u[:, 0], range(len(u)), c=data)
    elif n_components == 2:
        fig.add_subplot(111).scatter(u[:, 0], u[:, 1], c=data)
    else:
        fig.add_subplot(111, projection="3d").scatter(u[:, 0], u[:, 1], u[:, 2], c=data)
    plt.title(title)
    plt.close(fig)
    assert u.shape == (len(data), n_components) and np.isfinite(u).all()
    return fit


def neighbour_gap(values, embedding, k=5, circular=None):
    """Mean |difference of ``values``| between each point and its k nearest
    neighbours in the embedding (``circular``: the period of a circular value)."""
    _, idx = NearestNeighbors(n_neighbors=k + 1).fit(embedding).kneighbors(embedding)
    diff = np.abs(values[idx[:, 1:]] - values[:, None])
    if circular is not None:
        diff = np.minimum(diff, circular - diff)
    return diff.mean()


def test_first_fit(colour_cube):
    data = colour_cube
    fit = umap.UMAP()
    u = fit.fit_transform(data)
    plt.scatter(u[:, 0], u[:, 1], c=data)
    plt.close("all")
    assert u.shape == (800, 2)
    assert trust(data, u) > 0.85


def test_n_neighbors(colour_cube):
    components = {}
    for n in (2, 5, 10, 20, 50, 100, 200):
        fit = draw_umap(colour_cube, n_neighbors=n, title=f"n_neighbors = {n}")
        components[n] = connected_components(fit.graph_, directed=False)[0]
    # A very local view leaves the graph in many pieces; a wide one joins them all.
    assert components[2] > 20
    assert components[200] == 1
    assert components[2] >= components[5] >= components[20]


def test_min_dist(colour_cube):
    spread = {}
    for d in (0.0, 0.1, 0.25, 0.5, 0.8, 0.99):
        fit = draw_umap(colour_cube, min_dist=d, title=f"min_dist = {d}")
        emb = fit.embedding_
        nn_dist = NearestNeighbors(n_neighbors=2).fit(emb).kneighbors(emb)[0][:, 1]
        spread[d] = np.median(nn_dist) / np.median(np.linalg.norm(emb - emb.mean(0), axis=1))
    # Larger min_dist keeps points further apart, relative to the embedding's size.
    assert spread[0.99] > 2 * spread[0.0]
    assert spread[0.5] > spread[0.0]


def test_n_components(colour_cube):
    one = draw_umap(colour_cube, n_components=1, title="n_components = 1")
    three = draw_umap(colour_cube, n_components=3, title="n_components = 3")
    assert one.embedding_.shape == (800, 1)
    assert three.embedding_.shape == (800, 3)
    assert trust(colour_cube, three.embedding_) > 0.9


def test_named_metric(colour_cube):
    fit = draw_umap(colour_cube, n_components=2, metric="euclidean", title="metric = euclidean")
    assert trust(colour_cube, fit.embedding_) > 0.85


# Custom metrics: this file's own colour distances, compiled with numba as the page's are.
@numba.njit()
def red_only(a, b):
    return np.abs(a[0] - b[0])


@numba.njit()
def chroma_angle(r, g, b):
    # Angle of the colour around the grey axis, in [0, 2 pi).
    x = 2.0 * r - g - b
    y = np.sqrt(3.0) * (g - b)
    return np.arctan2(y, x) % (2.0 * np.pi)


@numba.njit()
def chroma_angle_dist(a, b):
    d = abs(chroma_angle(a[0], a[1], a[2]) - chroma_angle(b[0], b[1], b[2]))
    return min(d, 2.0 * np.pi - d)


@numba.njit()
def brightness_angle_dist(a, b):
    d = abs(chroma_angle(a[0], a[1], a[2]) - chroma_angle(b[0], b[1], b[2]))
    d = min(d, 2.0 * np.pi - d) / np.pi
    return np.sqrt(d * d + ((a[0] + a[1] + a[2]) - (b[0] + b[1] + b[2])) ** 2 / 9.0)


def test_custom_metrics(colour_cube):
    data = colour_cube
    fits = {}
    for m in ("euclidean", red_only, chroma_angle_dist, brightness_angle_dist):
        name = m if type(m) is str else m.__name__
        fits[name] = draw_umap(data, n_components=2, metric=m, title=f"metric = {name}")
    # Only the red channel counts: embedding neighbours have nearly the same red
    # (random pairs differ by 1/3 on average).
    assert neighbour_gap(data[:, 0], fits["red_only"].embedding_) < 0.03
    angle = np.array([chroma_angle(*row[:3]) for row in data])
    # The chroma angle is a circle: embedding neighbours have nearly the same angle
    # (random pairs differ by pi/2 on average), which the euclidean fit does not give.
    assert neighbour_gap(angle, fits["chroma_angle_dist"].embedding_, circular=2 * np.pi) < 0.1
    assert neighbour_gap(angle, fits["euclidean"].embedding_, circular=2 * np.pi) > 0.2
    assert neighbour_gap(angle, fits["brightness_angle_dist"].embedding_,
                         circular=2 * np.pi) < 0.3
