"""umap-learn's "UMAP on sparse data" page, call for call, with ``import densumap as umap``.

The page's integers 0..99,999 described by their prime factors become 0..2,999
here (and the next 500 for ``transform``), with a small sieve in place of
``sympy``; its 20 newsgroups (downloaded) become the generated documents of
conftest.py, vectorised with scikit-learn as on the page.
"""
import numpy as np
import pytest
import scipy.sparse
import sklearn.feature_extraction.text
from sklearn.neighbors import KNeighborsClassifier

import densumap as umap
import densumap.plot  # noqa: F401

from ..helpers import knn_accuracy

pytest.importorskip("matplotlib")

N, N_NEW = 3000, 500


def prime_factors(n, primes):
    return [p for p in primes if p <= n and n % p == 0]


def primes_up_to(n):
    sieve = np.ones(n + 1, bool)
    sieve[:2] = False
    for i in range(2, int(n ** 0.5) + 1):
        if sieve[i]:
            sieve[i * i::i] = False
    return [int(p) for p in np.flatnonzero(sieve)]


def factor_rows(numbers, primes, prime_to_column):
    """The page's LIL construction: one row per integer, a 1 per distinct prime factor."""
    rows, values = [], []
    for n in numbers:
        factors = prime_factors(n, primes)
        rows.append([prime_to_column[p] for p in factors])
        values.append([1] * len(factors))
    matrix = scipy.sparse.lil_matrix((len(rows), len(primes)), dtype=np.float32)
    matrix.rows = np.array(rows, dtype=object)
    matrix.data = np.array(values, dtype=object)
    return matrix


@pytest.fixture(scope="module")
def factor_data():
    primes = primes_up_to(N + N_NEW)
    prime_to_column = {p: i for i, p in enumerate(primes)}
    factor_matrix = factor_rows(range(N), primes, prime_to_column)
    new_data = factor_rows(range(N, N + N_NEW), primes, prime_to_column)
    return factor_matrix, new_data


def check_factor_embedding(mapper, factor_matrix, new_data):
    assert mapper.embedding_.shape == (N, 2)
    umap.plot.points(mapper, values=np.arange(N), theme="viridis")
    new_data_embedding = mapper.transform(new_data)
    assert new_data_embedding.shape == (N_NEW, 2)
    fig = umap.plot.plt.figure(figsize=(12, 12))
    ax = fig.add_subplot(111)
    umap.plot.plt.scatter(new_data_embedding[:, 0], new_data_embedding[:, 1], s=0.1,
                          c=np.arange(N_NEW), cmap="viridis")
    ax.set(xticks=[], yticks=[], facecolor="black")
    umap.plot.plt.close("all")
    # Integers sharing their small prime factors sit together: whether a number is
    # even, or a multiple of 3, can be read off its neighbours in the embedding (the
    # base rates are 0.5 and 0.67; 10-NN in the input gets 0.999), for the fitted
    # integers and for the new ones placed by transform.
    numbers, new_numbers = np.arange(N), np.arange(N, N + N_NEW)
    for p in (2, 3):
        assert knn_accuracy(mapper.embedding_, numbers % p == 0) > 0.8
        clf = KNeighborsClassifier(n_neighbors=10).fit(mapper.embedding_, numbers % p == 0)
        assert clf.score(new_data_embedding, new_numbers % p == 0) > 0.8


def test_prime_factors_section(factor_data):
    factor_matrix, new_data = factor_data
    mapper = umap.UMAP(metric="cosine", random_state=42, low_memory=True).fit(factor_matrix)
    check_factor_embedding(mapper, factor_matrix, new_data)


@pytest.fixture(scope="module")
def news(newsgroups_like):
    """Count vectors of the generated documents, split 360 / 120 like train / test."""
    counts = sklearn.feature_extraction.text.CountVectorizer().fit_transform(
        newsgroups_like.data).astype(np.float64)
    target = newsgroups_like.target
    return (counts[:360], target[:360]), (counts[360:], target[360:])


@pytest.mark.xfail(reason="needs metric='hellinger' (issue 13 named metrics, other branch)",
                   raises=ValueError, strict=False)
def test_text_section(news):
    (train_counts, train_target), (test_counts, test_target) = news
    tfidf = sklearn.feature_extraction.text.TfidfTransformer(norm="l1").fit(train_counts)
    train_data = tfidf.transform(train_counts)
    test_data = tfidf.transform(test_counts)
    assert scipy.sparse.issparse(train_data)
    mapper = umap.UMAP(metric="hellinger", random_state=42).fit(train_data)
    umap.plot.points(mapper, labels=train_target)
    test_embedding = mapper.transform(test_data)
    fig = umap.plot.plt.figure(figsize=(12, 12))
    ax = fig.add_subplot(111)
    umap.plot.plt.scatter(test_embedding[:, 0], test_embedding[:, 1], s=1, c=test_target,
                          cmap="Spectral")
    ax.set(xticks=[], yticks=[])
    umap.plot.plt.close("all")
    # The topics separate, and new documents land with their topic.
    assert knn_accuracy(mapper.embedding_, train_target) > 0.9
    clf = KNeighborsClassifier(n_neighbors=10).fit(mapper.embedding_, train_target)
    assert clf.score(test_embedding, test_target) > 0.85
