"""umap-learn's "Using UMAP for Clustering" page, call for call, with
``import densumap as umap``.

The page's MNIST is replaced by the MNIST-like IDX files of conftest.py (1,797
images), and its ``hdbscan`` package by scikit-learn's HDBSCAN (same parameters),
with ``min_cluster_size`` scaled from the page's 500 of 70,000 to 50 of 1,797.
"""
import numpy as np
import pytest
import sklearn.cluster as cluster
from sklearn.decomposition import PCA
from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score

import densumap as umap

HDBSCAN = getattr(cluster, "HDBSCAN", None)


@pytest.mark.skipif(HDBSCAN is None, reason="needs scikit-learn >= 1.3 (HDBSCAN)")
def test_page(mnist):
    data, target = mnist
    standard_embedding = umap.UMAP(random_state=42).fit_transform(data)
    assert standard_embedding.shape == (len(data), 2)

    kmeans_labels = cluster.KMeans(n_clusters=10, n_init=10, random_state=0).fit_predict(data)
    kmeans_ari = adjusted_rand_score(target, kmeans_labels)

    lowd_mnist = PCA(n_components=50).fit_transform(data)
    hdbscan_labels = HDBSCAN(min_samples=10, min_cluster_size=50,
                             copy=True).fit_predict(lowd_mnist)
    pca_clustered = np.mean(hdbscan_labels >= 0)

    clusterable_embedding = umap.UMAP(
        n_neighbors=30,
        min_dist=0.0,
        n_components=2,
        random_state=42,
    ).fit_transform(data)
    labels = HDBSCAN(min_samples=10, min_cluster_size=50,
                     copy=True).fit_predict(clusterable_embedding)
    clustered = labels >= 0
    ari = adjusted_rand_score(target, labels)
    ami = adjusted_mutual_info_score(target, labels)
    # As on the page: clustering the UMAP embedding finds the digits, and covers far
    # more of the data than HDBSCAN on 50 PCA components.
    assert np.sum(clustered) / data.shape[0] > 0.9
    assert np.sum(clustered) / data.shape[0] > pca_clustered
    assert ari > 0.8 and ami > 0.8
    assert ari > kmeans_ari
    assert adjusted_rand_score(target[clustered], labels[clustered]) > 0.85
