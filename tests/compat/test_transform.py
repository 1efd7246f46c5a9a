"""umap-learn's "Transforming New Data with UMAP" page, call for call, with
``import densumap as umap``, on scikit-learn's digits as on the page."""
import numpy as np
import pytest
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC

import densumap as umap


@pytest.fixture(scope="module")
def split(digits_bunch):
    digits = digits_bunch
    return train_test_split(digits.data, digits.target, stratify=digits.target,
                            random_state=42)


def test_page(split):
    X_train, X_test, y_train, y_test = split
    svc = SVC().fit(X_train, y_train)
    knn = KNeighborsClassifier().fit(X_train, y_train)
    raw_knn = knn.score(X_test, y_test)

    trans = umap.UMAP(n_neighbors=5, random_state=42).fit(X_train)
    assert trans.embedding_.shape == (len(X_train), 2)
    svc = SVC().fit(trans.embedding_, y_train)
    knn = KNeighborsClassifier().fit(trans.embedding_, y_train)
    test_embedding = trans.transform(X_test)
    assert test_embedding.shape == (len(X_test), 2)
    svc_score = svc.score(trans.transform(X_test), y_test)
    knn_score = knn.score(trans.transform(X_test), y_test)
    # The placed test digits land with their class (the page: 0.98 for both).
    assert svc_score > 0.93 and knn_score > 0.93
    assert knn_score > raw_knn - 0.05
    # transform is deterministic (transform_seed).
    assert np.array_equal(test_embedding, trans.transform(X_test))

    trans = umap.UMAP(n_neighbors=5, n_components=10, random_state=42).fit(X_train)
    svc = SVC().fit(trans.embedding_, y_train)
    knn = KNeighborsClassifier().fit(trans.embedding_, y_train)
    assert trans.transform(X_test).shape == (len(X_test), 10)
    assert svc.score(trans.transform(X_test), y_test) > 0.93
    assert knn.score(trans.transform(X_test), y_test) > 0.93


def test_transform_of_training_data_is_embedding(split):
    # The page: "calling transform on input identical to what the model was trained
    # on will simply return the embedding_ attribute".
    X_train, _, _, _ = split
    trans = umap.UMAP(n_neighbors=5, random_state=42).fit(X_train)
    assert np.array_equal(trans.transform(X_train), trans.embedding_)
