"""umap-learn's "UMAP for Supervised Dimension Reduction and Metric Learning" page,
call for call, with ``import densumap as umap``.

The page's Fashion-MNIST (read with the ``mnist`` package) is replaced by the
MNIST-like IDX files of conftest.py, read with densumap.datasets; their first
1,500 images are the training set, the other 297 the test set. The page fixes no
seed, so neither does this test: its bounds hold for any run.
"""
import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

import densumap as umap
import densumap.datasets

from ..helpers import knn_accuracy

N_TRAIN = 1500


@pytest.fixture(scope="module")
def fashion(fashion_dir):
    images, labels = densumap.datasets.load_fashion_mnist(fashion_dir)
    train, train_labels = images[:N_TRAIN], labels[:N_TRAIN]
    test, test_labels = images[N_TRAIN:], labels[N_TRAIN:]
    data = np.array(np.vstack([train, test]), dtype=np.float64) / 255.0
    target = np.hstack([train_labels, test_labels])
    return train, train_labels, test, test_labels, data, target


@pytest.fixture(scope="module")
def unsupervised_accuracy(fashion):
    *_, data, target = fashion
    embedding = umap.UMAP(n_neighbors=5).fit_transform(data)
    assert embedding.shape == (len(data), 2)
    return knn_accuracy(embedding, target)


def test_unsupervised(unsupervised_accuracy):
    assert unsupervised_accuracy > 0.85


def test_supervised(fashion, unsupervised_accuracy):
    *_, data, target = fashion
    embedding = umap.UMAP().fit_transform(data, y=target)
    # The labels pull every class into its own group.
    acc = knn_accuracy(embedding, target)
    assert acc > 0.97
    assert acc > unsupervised_accuracy


def test_semi_supervised(fashion, unsupervised_accuracy):
    *_, data, target = fashion
    masked_target = target.copy().astype(np.int8)
    rng = np.random.default_rng(0)
    masked = rng.choice(len(target), size=len(target) // 7, replace=False)
    masked_target[masked] = -1
    fitter = umap.UMAP().fit(data, y=masked_target)
    embedding = fitter.embedding_
    # Six labels in seven still separate the classes; the unlabelled images are
    # placed by their pixels, among their own class.
    unlabelled = np.zeros(len(target), bool)
    unlabelled[masked] = True
    clf = KNeighborsClassifier(n_neighbors=10).fit(embedding[~unlabelled], target[~unlabelled])
    assert clf.score(embedding[unlabelled], target[unlabelled]) > 0.85
    assert knn_accuracy(embedding, target) > unsupervised_accuracy


def test_metric_learning(fashion):
    train, train_labels, test, test_labels, _, _ = fashion
    train_data = np.array(train)
    test_data = np.array(test)
    mapper = umap.UMAP(n_neighbors=10).fit(train_data, np.array(train_labels))
    test_embedding = mapper.transform(test_data)
    assert test_embedding.shape == (len(test_data), 2)
    clf = KNeighborsClassifier(n_neighbors=10).fit(mapper.embedding_, train_labels)
    # Test images, placed without their labels, land in their class's group.
    assert clf.score(test_embedding, test_labels) > 0.85
