"""umap-learn's "Combining multiple UMAP models" page, call for call, with
``import densumap as umap``.

The page's MNIST is replaced by the MNIST-like IDX files of conftest.py, and
seaborn's diamonds (downloaded) by 1,500 generated diamonds with the same columns:
carat, table, x, y, z, price and the ordered categories cut, color and clarity.
"""
import numpy as np
import pytest
from sklearn.preprocessing import RobustScaler

import densumap as umap
import densumap.plot  # noqa: F401

from ..helpers import knn_accuracy

pd = pytest.importorskip("pandas")
pytest.importorskip("matplotlib")

@pytest.fixture(autouse=True)
def close_figures():
    yield
    umap.plot.plt.close("all")


@pytest.fixture(scope="module")
def halves(mnist):
    data, target = mnist
    mapper = umap.UMAP(random_state=42).fit(data)
    top = data[:, :28 * 14]
    bottom = data[:, 28 * 14:]
    top_mapper = umap.UMAP(random_state=42).fit(top)
    bot_mapper = umap.UMAP(random_state=42).fit(bottom)
    return target, mapper, top_mapper, bot_mapper


def test_mnist_views(halves):
    target, mapper, top_mapper, bot_mapper = halves
    for m in (mapper, top_mapper, bot_mapper):
        ax = umap.plot.points(m, labels=target, width=500, height=500)
        assert len(ax.get_legend().get_texts()) == 10
    # Half an image tells less than the whole.
    full = knn_accuracy(mapper.embedding_, target)
    assert full > 0.9
    assert knn_accuracy(top_mapper.embedding_, target) < full
    assert knn_accuracy(bot_mapper.embedding_, target) < full


def test_mnist_composition(halves):
    target, mapper, top_mapper, bot_mapper = halves
    intersection_mapper = top_mapper * bot_mapper
    union_mapper = top_mapper + bot_mapper
    umap.plot.points(intersection_mapper, labels=target, width=500, height=500)
    umap.plot.points(union_mapper, labels=target, width=500, height=500)
    contrast_mapper = top_mapper - bot_mapper
    umap.plot.points(contrast_mapper, labels=target, width=500, height=500)
    top = knn_accuracy(top_mapper.embedding_, target)
    bottom = knn_accuracy(bot_mapper.embedding_, target)
    # Both halves together tell the digits apart better than either half alone.
    for combined in (intersection_mapper, union_mapper):
        assert combined.embedding_.shape == (len(target), 2)
        assert knn_accuracy(combined.embedding_, target) > max(top, bottom)
    assert contrast_mapper.embedding_.shape == (len(target), 2)
    assert np.isfinite(contrast_mapper.embedding_).all()


@pytest.fixture(scope="module")
def diamonds():
    """Generated diamonds: size columns follow the carat, price grows with carat and
    falls with worse colour and clarity."""
    rng = np.random.default_rng(0)
    n = 1500
    carat = np.round(rng.lognormal(-0.4, 0.5, n), 2)
    side = 6.4 * carat ** (1 / 3)
    cut = rng.choice(["Fair", "Good", "Very Good", "Premium", "Ideal"], n,
                     p=[0.05, 0.1, 0.2, 0.25, 0.4])
    color = rng.choice(list("DEFGHIJ"), n)
    clarity = rng.choice(["I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF"], n)
    color_rank = pd.Series(color).map({c: i for i, c in enumerate("DEFGHIJ")}).to_numpy()
    clarity_rank = pd.Series(clarity).map(
        {c: i for i, c in enumerate(["I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1",
                                     "IF"])}).to_numpy()
    price = np.round(4000 * carat ** 1.8 * (1.08 ** clarity_rank) * (0.93 ** color_rank))
    return pd.DataFrame({
        "carat": carat, "cut": cut, "color": color, "clarity": clarity,
        "depth": np.round(rng.normal(61.7, 1.4, n), 1),
        "table": np.round(rng.normal(57.4, 2.2, n)),
        "price": price.astype(int),
        "x": np.round(side * rng.normal(1.0, 0.01, n), 2),
        "y": np.round(side * rng.normal(1.0, 0.01, n), 2),
        "z": np.round(0.62 * side * rng.normal(1.0, 0.01, n), 2),
    })


@pytest.fixture(scope="module")
def diamond_views(diamonds):
    numeric = diamonds[["carat", "table", "x", "y", "z"]].copy()
    ordinal = diamonds[["cut", "color", "clarity"]].copy()
    scaled_numeric = RobustScaler().fit_transform(numeric)
    ordinal["cut"] = ordinal.cut.map({"Fair": 0, "Good": 1, "Very Good": 2, "Premium": 3,
                                      "Ideal": 4})
    ordinal["color"] = ordinal.color.map({"D": 0, "E": 1, "F": 2, "G": 3, "H": 4, "I": 5,
                                          "J": 6})
    ordinal["clarity"] = ordinal.clarity.map({"I1": 0, "SI2": 1, "SI1": 2, "VS2": 3,
                                              "VS1": 4, "VVS2": 5, "VVS1": 6, "IF": 7})
    numeric_mapper = umap.UMAP(n_neighbors=15, random_state=42).fit(scaled_numeric)
    ordinal_mapper = umap.UMAP(metric="manhattan", n_neighbors=150,
                               random_state=42).fit(ordinal.values)
    return numeric, numeric_mapper, ordinal_mapper


def price_smoothness(embedding, price, k=10):
    """Median relative price difference between embedding neighbours, divided by that
    between random pairs: well below 1 when price varies smoothly over the embedding."""
    from sklearn.neighbors import NearestNeighbors

    _, idx = NearestNeighbors(n_neighbors=k + 1).fit(embedding).kneighbors(embedding)
    logp = np.log(np.asarray(price, dtype=float))
    near = np.median(np.abs(logp[idx[:, 1:]] - logp[:, None]))
    rng = np.random.default_rng(0)
    far = np.median(np.abs(logp[rng.permutation(len(logp))] - logp))
    return near / far


def test_diamond_views(diamonds, diamond_views):
    numeric, numeric_mapper, ordinal_mapper = diamond_views
    umap.plot.points(numeric_mapper, values=diamonds["price"], cmap="viridis")
    fig, ax = umap.plot.plt.subplots(2, 2, figsize=(12, 12))
    umap.plot.points(ordinal_mapper, labels=diamonds["color"], ax=ax[0, 0])
    umap.plot.points(ordinal_mapper, labels=diamonds["clarity"], ax=ax[0, 1])
    umap.plot.points(ordinal_mapper, labels=diamonds["cut"], ax=ax[1, 0])
    umap.plot.points(ordinal_mapper, values=diamonds["price"], cmap="viridis", ax=ax[1, 1])
    assert len(ax[0, 0].get_legend().get_texts()) == 7
    # The size view orders the diamonds by price (which follows the carat); the
    # category view groups equal grades, e.g. the colour.
    assert price_smoothness(numeric_mapper.embedding_, diamonds["price"]) < 0.4
    assert knn_accuracy(ordinal_mapper.embedding_, diamonds["color"].to_numpy()) > 0.9


@pytest.mark.slow  # four compositions of 150-neighbour graphs: 20 s on 2 busy cores
def test_diamond_composition(diamonds, diamond_views):
    numeric, numeric_mapper, ordinal_mapper = diamond_views
    intersection_mapper = numeric_mapper * ordinal_mapper
    union_mapper = numeric_mapper + ordinal_mapper
    umap.plot.points(intersection_mapper, values=diamonds["price"], cmap="viridis")
    umap.plot.points(union_mapper, labels=diamonds["color"])
    contrast_mapper = numeric_mapper - ordinal_mapper
    umap.plot.points(contrast_mapper, values=diamonds["price"], cmap="viridis")
    intersect_union_mapper = umap.UMAP(random_state=42, n_neighbors=60).fit(numeric) * union_mapper
    umap.plot.points(intersect_union_mapper, values=diamonds["price"], cmap="viridis")
    # Here the category view's 150-neighbour graph dominates the intersection and the
    # union: both keep its colour groups. The contrast (size view less what the
    # category view also joins) keeps the size view's price order. Measured on these
    # data, densumap / umap-learn 0.5.12: colour kNN accuracy of the intersection
    # 0.956 / 0.950, union 0.951 / 0.961; price smoothness of the contrast 0.269 /
    # 0.271 (size view 0.270 / 0.267). Price is no smoother over the intersection
    # than over the size view in either library (0.947 / 0.952).
    colour = diamonds["color"].to_numpy()
    assert knn_accuracy(intersection_mapper.embedding_, colour) > 0.85
    assert knn_accuracy(union_mapper.embedding_, colour) > 0.85
    assert price_smoothness(contrast_mapper.embedding_, diamonds["price"]) < 0.4
    for m in (contrast_mapper, intersect_union_mapper):
        assert m.embedding_.shape == (len(diamonds), 2)
        assert np.isfinite(m.embedding_).all()
