"""umap-learn's "How to Use UMAP" page, call for call, with ``import densumap as umap``.

The page's penguins (a CSV from the web: four measurements, three species) are
replaced by scikit-learn's iris (four measurements, three species); its digits are
scikit-learn's digits, as on the page.
"""
import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.preprocessing import StandardScaler

import densumap as umap

from ..helpers import knn_accuracy, trust


def test_penguins_section():
    iris = load_iris()
    reducer = umap.UMAP()
    scaled_penguin_data = StandardScaler().fit_transform(iris.data)
    embedding = reducer.fit_transform(scaled_penguin_data)
    assert embedding.shape == (150, 2)
    assert np.isfinite(embedding).all()
    # The species stay apart: setosa is separable, the other two nearly so.
    assert knn_accuracy(embedding, iris.target) > 0.85
    assert trust(scaled_penguin_data, embedding) > 0.9


@pytest.fixture(scope="module")
def reducer(digits_bunch):
    reducer = umap.UMAP(random_state=42)
    assert reducer.fit(digits_bunch.data) is reducer
    return reducer


def test_digits_section(digits_bunch, reducer):
    digits = digits_bunch
    assert "random_state=42" in repr(reducer)
    assert reducer.embedding_.shape == (1797, 2)
    assert knn_accuracy(reducer.embedding_, digits.target) > 0.93
    assert trust(digits.data, reducer.embedding_) > 0.95


def test_digits_transform_of_training_data_is_embedding(digits_bunch, reducer):
    digits = digits_bunch
    embedding = reducer.transform(digits.data)
    assert np.all(embedding == reducer.embedding_)
    assert embedding.shape == (1797, 2)
