"""umap-learn's ``umap.utils``: the helpers its documentation and users import.

Plain NumPy/SciPy versions of umap-learn's helpers of the same names and
signatures (umap-learn's numba random-number and heap internals are not part of
this module).
"""
import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_is_fitted

from ._input import unique_rows

__all__ = ["disconnected_vertices", "average_nn_distance", "submatrix", "fast_knn_indices",
           "csr_unique", "ts"]


def disconnected_vertices(model):
    """Which samples have no edge in the model's fuzzy graph.

    Such points (e.g. cut off by ``disconnection_distance``) are placed without
    attraction and scattered over the embedding; filter them out with
    ``~disconnected_vertices(model)``, e.g. as ``subset_points`` of the plots.

    Parameters
    ----------
    model : densumap.UMAP
        Fitted.

    Returns
    -------
    ndarray of shape (n_samples,), bool
        One entry per sample (duplicates included with ``unique=True``).
    """
    check_is_fitted(model, "graph_")
    isolated = np.diff(sp.csr_matrix(model.graph_).indptr) == 0
    inverse = getattr(model, "unique_inverse_", None)
    return isolated if inverse is None else isolated[inverse]


def average_nn_distance(dist_matrix):
    """Mean of the stored entries of every row of a sparse matrix (e.g. ``graph_dists_``).

    Rows without stored entries give NaN, with a warning.

    Parameters
    ----------
    dist_matrix : sparse matrix of shape (n, m)

    Returns
    -------
    ndarray of shape (n,), float64
    """
    m = sp.csr_matrix(dist_matrix)
    counts = np.diff(m.indptr)
    sums = np.bincount(np.repeat(np.arange(m.shape[0]), counts), weights=m.data,
                       minlength=m.shape[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        averages = sums / counts
    if np.any(counts == 0):
        warnings.warn("Some rows have no stored distances (disconnected vertices); their "
                      "average is NaN. Use densumap.utils.disconnected_vertices() to find "
                      "them.", UserWarning, stacklevel=2)
    return averages


def submatrix(dmat, indices_col, n_neighbors):
    """``dmat[i, indices_col[i, j]]`` for ``j < n_neighbors``: shape (n_rows, n_neighbors)."""
    cols = np.asarray(indices_col)[:, :n_neighbors]
    return np.take_along_axis(np.asarray(dmat), cols, axis=1)


def fast_knn_indices(X, n_neighbors):
    """Column indices of the ``n_neighbors`` smallest entries of every row of a distance matrix.

    Sorted by distance, ties to the lower index.
    """
    return np.argsort(np.asarray(X), axis=1, kind="stable")[:, :n_neighbors]


def csr_unique(matrix, return_index=True, return_inverse=True, return_counts=True):
    """Distinct rows of a CSR matrix, without building the matrix of distinct rows.

    Rows are equal when their non-zero entries are. Distinct rows are numbered in
    order of first appearance: ``matrix[index]`` holds them and
    ``matrix[index][inverse]`` equals ``matrix``.

    Returns
    -------
    tuple
        Those of ``index`` (first row of each distinct row), ``inverse`` (the
        distinct row of each row) and ``counts`` (occurrences of each distinct
        row) that were asked for, in this order.
    """
    index, inverse = unique_rows(sp.csr_matrix(matrix))
    counts = np.bincount(inverse, minlength=index.size)
    return tuple(v for v, want in ((index, return_index), (inverse, return_inverse),
                                   (counts, return_counts)) if want)


def ts():
    """The current time, as ``time.ctime`` writes it (prefix of verbose messages)."""
    return time.ctime(time.time())
