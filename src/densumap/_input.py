"""Input handling that needs a little computation: exact duplicate rows, distance scale."""
import numpy as np
import scipy.sparse as sp

# The fuzzy graph's bandwidth search (64 halvings or doublings from 1) and its
# sigma floor are accurate only for neighbour distances in this range; outside it
# the memberships drift (measured: graph error > 0.01 beyond about 1e-17 and 1e18).
MIN_DISTANCE_SCALE = 1e-16
MAX_DISTANCE_SCALE = 1e18


def unique_rows(X):
    """Exact duplicate rows of ``X``, in order of first appearance.

    Rows are equal when every entry compares equal (so ``0.0 == -0.0``); sparse
    rows are compared on their non-zero entries, whatever their storage order.

    Parameters
    ----------
    X : ndarray or sparse CSR matrix of shape (n, d)

    Returns
    -------
    index : ndarray of shape (n_unique,), int64
        Row of the first occurrence of each distinct row, increasing.
    inverse : ndarray of shape (n,), int64
        ``X[i]`` equals ``X[index[inverse[i]]]``.
    """
    if sp.issparse(X):
        first, inverse = _unique_sparse_rows(sp.csr_matrix(X))
    else:
        _, first, inverse = np.unique(np.asarray(X), axis=0, return_index=True,
                                      return_inverse=True)
        inverse = inverse.ravel()
    # np.unique orders rows lexicographically; renumber them by first appearance.
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return first[order].astype(np.int64), rank[inverse].astype(np.int64)


def _unique_sparse_rows(X):
    seen = {}
    first = []
    inverse = np.empty(X.shape[0], dtype=np.int64)
    for i in range(X.shape[0]):
        lo, hi = X.indptr[i], X.indptr[i + 1]
        cols, vals = X.indices[lo:hi], X.data[lo:hi]
        nz = vals != 0
        cols, vals = cols[nz], vals[nz]
        order = np.argsort(cols, kind="stable")
        # "+ 0.0" turns -0.0 into 0.0 so that equal values give equal bytes.
        key = (np.ascontiguousarray(cols[order], dtype=np.int64).tobytes(),
               np.ascontiguousarray(vals[order] + 0.0).tobytes())
        code = seen.setdefault(key, len(first))
        if code == len(first):
            first.append(i)
        inverse[i] = code
    return np.asarray(first, dtype=np.int64), inverse


def check_value_range(X, what="X", check_small=True):
    """Raise ``ValueError`` when the largest ``|value|`` of ``X`` is outside the usable range.

    Beyond it, squared values overflow or underflow inside the distance
    computations (scikit-learn's euclidean and cosine square the values in the
    data's float type), so distances silently become 0, inf or NaN.  An all-zero
    ``X`` passes.  ``check_small=False`` checks the upper end only: new points
    given to ``transform`` are measured against the training data, whose scale
    ``fit`` checked, so a batch of tiny values (points near the origin) is fine.
    Uses ``max``/``min`` reductions only: no copy of ``X``.
    """
    data = X.data if hasattr(X, "tocsr") else X
    if data.size == 0:
        return
    largest = max(float(data.max()), -float(data.min()))
    too_small = check_small and 0.0 < largest < MIN_DISTANCE_SCALE
    if largest > MAX_DISTANCE_SCALE or too_small:
        raise ValueError(
            f"The largest absolute value in {what} is {largest:.3g}, outside the range "
            f"[{MIN_DISTANCE_SCALE:g}, {MAX_DISTANCE_SCALE:g}] in which densumap's "
            f"distances and fuzzy graph are accurate; rescale the data, e.g. with "
            f"sklearn.preprocessing.StandardScaler, or divide it by a constant."
        )


def check_distance_scale(knn_dists, metric="euclidean", what="X"):
    """Raise ``ValueError`` for NaN, infinite or out-of-range kNN distances.

    Parameters
    ----------
    knn_dists : ndarray of shape (n, n_neighbors)
        Distances of the kNN lists (column 0 is the point itself).
    metric : str
        Canonical metric name, for the message.
    what : str
        Name of the input in the message.
    """
    if not knn_dists.size:
        return
    largest = float(np.max(knn_dists))
    hint = ("rescale the data, e.g. with sklearn.preprocessing.StandardScaler, or divide "
            "it by a constant")
    if np.isnan(largest):
        why = (" (a row with zero variance has no correlation)" if metric == "correlation"
               else "")
        raise ValueError(
            f"Some {metric} distances between the rows of {what} are NaN{why}; remove or "
            f"change those rows, or use another metric."
        )
    if not np.isfinite(largest):
        raise ValueError(
            f"The {metric} distances between the rows of {what} overflow float32 (a "
            f"neighbour distance is inf): the values of {what} are too large; {hint}."
        )
    if largest > MAX_DISTANCE_SCALE or 0.0 < largest < MIN_DISTANCE_SCALE:
        raise ValueError(
            f"The nearest-neighbour distances of {what} reach {largest:.3g}, outside the "
            f"range [{MIN_DISTANCE_SCALE:g}, {MAX_DISTANCE_SCALE:g}] in which densumap's "
            f"fuzzy graph is accurate; {hint}."
        )
