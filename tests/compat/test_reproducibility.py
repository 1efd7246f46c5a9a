"""umap-learn's "UMAP Reproducibility" page, call for call, with ``import densumap as umap``.

The page's MNIST (from openml) is replaced by MNIST-like IDX files generated in
conftest.py and read with ``densumap.datasets.load_mnist``.
"""
import numpy as np
import pytest

import densumap as umap
import densumap.plot  # noqa: F401  (the page's "import umap.plot")

from ..helpers import knn_accuracy

pytest.importorskip("matplotlib")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    umap.plot.plt.close("all")


def test_page(mnist):
    data, labels = mnist
    mapper1 = umap.UMAP().fit(data)
    ax = umap.plot.points(mapper1, labels=labels)
    assert len(ax.get_legend().get_texts()) == 10
    mapper2 = umap.UMAP().fit(data)
    umap.plot.points(mapper2, labels=labels)
    # Unseeded runs are both good embeddings.
    assert knn_accuracy(mapper1.embedding_, labels) > 0.9
    assert knn_accuracy(mapper2.embedding_, labels) > 0.9

    mapper3 = umap.UMAP(random_state=42).fit(data)
    umap.plot.points(mapper3, labels=labels)
    mapper4 = umap.UMAP(random_state=42).fit(data)
    umap.plot.points(mapper4, labels=labels)
    # The page's check: the same seed gives the same embedding, coordinate for
    # coordinate (here with every thread in use; umap-learn drops to one).
    assert np.all(mapper3.embedding_ == mapper4.embedding_)
    assert knn_accuracy(mapper3.embedding_, labels) > 0.9
