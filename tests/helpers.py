"""Quality measures shared by the tests (same definitions as the benchmarks)."""
import numpy as np
from scipy.stats import spearmanr
from sklearn.manifold import trustworthiness
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors


def knn_accuracy(emb, y, k=10):
    """Mean 5-fold cross-validated accuracy of a k-NN classifier in the embedding."""
    return float(cross_val_score(KNeighborsClassifier(n_neighbors=k), emb, y, cv=5).mean())


def trust(X, emb, k=15):
    return float(trustworthiness(X, emb, n_neighbors=k))


def log_mean_knn_dist(Z, k=15):
    """log of the mean distance of every point to its k nearest other points."""
    d, _ = NearestNeighbors(n_neighbors=k + 1).fit(Z).kneighbors(Z)
    return np.log(d[:, 1:].mean(axis=1))


def density_correlation(X, emb, k=15):
    """Spearman correlation of log mean kNN distance, input versus embedding."""
    return float(spearmanr(log_mean_knn_dist(X, k), log_mean_knn_dist(emb, k)).correlation)


def blobs_split(seed, n_centres, n, dim, n_train):
    """Gaussian blobs (centres of scale 4, unit spread), float32, split into
    ``(train, rest)`` at row ``n_train``."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4.0, size=(n_centres, dim))
    X = (centres[rng.integers(0, n_centres, n)] + rng.normal(size=(n, dim))).astype(np.float32)
    return X[:n_train], X[n_train:]
