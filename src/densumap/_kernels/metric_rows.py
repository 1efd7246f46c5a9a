"""Dense or CSR rows, and the distance between two rows, for the generic search kernels.

A *rows* tuple is ``(X, indptr, indices, values, n_features, is_sparse)``: dense data
in ``X`` (C-contiguous) with small placeholders in the CSR slots, or CSR data
(sorted indices without duplicates, int64 ``indptr``, int32 ``indices``) with a
(1, 1) placeholder in ``X``. Every kernel thus has one signature per dtype, dense or
sparse, and compiles once.

A *metric* tuple is ``(code, p, vec, mat, fn, sfn)``: the metric code and keyword
arrays of :mod:`._kernels.metrics`, and two compiled function pointers, ``fn`` for
dense rows (``fn(x, y, code, p, vec, mat)``) and ``sfn`` for sparse rows
(``sfn(ind1, val1, ind2, val2, n_features, code, p, vec, mat)``); the one the data
does not use is a placeholder.
"""
import numpy as np

from ._config import kernel


@kernel()
def n_rows(rows):
    X, indptr, _, _, _, sparse = rows
    return indptr.shape[0] - 1 if sparse else X.shape[0]


@kernel()
def row_distance(A, i, B, j, metric):
    """Distance between row ``i`` of ``A`` and row ``j`` of ``B`` (both dense or both
    sparse)."""
    code, p, vec, mat, fn, sfn = metric
    X, ip, ind, val, n_features, sparse = A
    Y, jp, jnd, jval, _, _ = B
    if sparse:
        a0 = ip[i]
        a1 = ip[i + 1]
        b0 = jp[j]
        b1 = jp[j + 1]
        return sfn(ind[a0:a1], val[a0:a1], jnd[b0:b1], jval[b0:b1], n_features, code, p,
                   vec, mat)
    return fn(X[i], Y[j], code, p, vec, mat)


@kernel()
def row_sqnorm(A, i):
    X, ip, _, val, n_features, sparse = A
    acc = 0.0
    if sparse:
        for q in range(ip[i], ip[i + 1]):
            acc += np.float64(val[q]) * np.float64(val[q])
    else:
        for c in range(n_features):
            acc += np.float64(X[i, c]) * np.float64(X[i, c])
    return acc


@kernel()
def row_dot(A, i, v):
    """Dot product of row ``i`` of ``A`` with the dense vector ``v``."""
    X, ip, ind, val, n_features, sparse = A
    acc = 0.0
    if sparse:
        for q in range(ip[i], ip[i + 1]):
            acc += np.float64(val[q]) * v[ind[q]]
    else:
        for c in range(n_features):
            acc += np.float64(X[i, c]) * v[c]
    return acc


@kernel()
def add_row(A, i, v, scale):
    """``v += scale * row i`` (dense ``v`` of length ``n_features``)."""
    X, ip, ind, val, n_features, sparse = A
    if sparse:
        for q in range(ip[i], ip[i + 1]):
            v[ind[q]] += scale * np.float64(val[q])
    else:
        for c in range(n_features):
            v[c] += scale * np.float64(X[i, c])


@kernel()
def clear_row(A, i, v):
    """Zero the entries of ``v`` at row ``i``'s columns (all of them for dense rows)."""
    X, ip, ind, val, n_features, sparse = A
    if sparse:
        for q in range(ip[i], ip[i + 1]):
            v[ind[q]] = 0.0
    else:
        for c in range(n_features):
            v[c] = 0.0
