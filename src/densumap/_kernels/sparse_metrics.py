"""Named input metrics on sparse rows, ``f(ind1, val1, ind2, val2, n_features, *kwds)``.

A row is given by its sorted column indices and their values (a CSR row without
duplicates). The definitions, and the conventions for zero and identical rows, are
those of :mod:`._kernels.metrics`; a missing entry is a 0. Only the metrics whose
value depends on the non-zero entries alone are here (umap-learn's sparse metrics,
plus yule, seuclidean and wminkowski).
"""
import functools

import numba
import numpy as np

from ._config import kernel
from .metrics import (BRAYCURTIS, CANBERRA, DICE, HAMMING, HELLINGER, JACCARD, KULSINSKI,
                      MATCHING, ROGERSTANIMOTO, RUSSELLRAO, SEUCLIDEAN, SOKALMICHENER,
                      SOKALSNEATH, WMINKOWSKI, YULE)

# Codes with a sparse implementation (others raise in densumap.metrics).
SPARSE_CODES = (SEUCLIDEAN, WMINKOWSKI, CANBERRA, BRAYCURTIS, HELLINGER, HAMMING, MATCHING,
                JACCARD, DICE, KULSINSKI, ROGERSTANIMOTO, RUSSELLRAO, SOKALMICHENER,
                SOKALSNEATH, YULE)


@kernel()
def _counts(i1, v1, i2, v2):
    """``(n_tt, n_tf, n_ft, n_differ)``: non-zero in both, in the first only, in the
    second only, and coordinates whose values differ."""
    tt = 0.0
    tf = 0.0
    ft = 0.0
    differ = 0.0
    a = 0
    b = 0
    while a < i1.shape[0] or b < i2.shape[0]:
        if b >= i2.shape[0] or (a < i1.shape[0] and i1[a] < i2[b]):
            x = v1[a]
            y = 0.0
            a += 1
        elif a >= i1.shape[0] or i2[b] < i1[a]:
            x = 0.0
            y = v2[b]
            b += 1
        else:
            x = v1[a]
            y = v2[b]
            a += 1
            b += 1
        if x != y:
            differ += 1.0
        if x != 0 and y != 0:
            tt += 1.0
        elif x != 0:
            tf += 1.0
        elif y != 0:
            ft += 1.0
    return tt, tf, ft, differ


@kernel()
def _union_terms(code, i1, v1, i2, v2, p, vec):
    """Sums over the union of the two rows' columns: ``(acc, acc2)`` with, per metric,
    canberra's terms, bray-curtis' numerator and denominator, the weighted squared
    (seuclidean) or p-th power (wminkowski) differences."""
    acc = 0.0
    acc2 = 0.0
    a = 0
    b = 0
    while a < i1.shape[0] or b < i2.shape[0]:
        if b >= i2.shape[0] or (a < i1.shape[0] and i1[a] < i2[b]):
            col = i1[a]
            x = np.float64(v1[a])
            y = 0.0
            a += 1
        elif a >= i1.shape[0] or i2[b] < i1[a]:
            col = i2[b]
            x = 0.0
            y = np.float64(v2[b])
            b += 1
        else:
            col = i1[a]
            x = np.float64(v1[a])
            y = np.float64(v2[b])
            a += 1
            b += 1
        if code == CANBERRA:
            den = abs(x) + abs(y)
            if den > 0.0:
                acc += abs(x - y) / den
        elif code == BRAYCURTIS:
            acc += abs(x - y)
            acc2 += abs(x + y)
        elif code == SEUCLIDEAN:
            acc += (x - y) * (x - y) / vec[col]
        else:  # WMINKOWSKI
            acc += (vec[col] * abs(x - y)) ** p
    return acc, acc2


@kernel()
def _hellinger(i1, v1, i2, v2):
    prod = 0.0
    sx = 0.0
    sy = 0.0
    for a in range(v1.shape[0]):
        sx += np.float64(v1[a])
    for b in range(v2.shape[0]):
        sy += np.float64(v2[b])
    a = 0
    b = 0
    while a < i1.shape[0] and b < i2.shape[0]:
        if i1[a] < i2[b]:
            a += 1
        elif i2[b] < i1[a]:
            b += 1
        else:
            prod += np.sqrt(np.float64(v1[a]) * np.float64(v2[b]))
            a += 1
            b += 1
    if sx == 0.0 and sy == 0.0:
        return 0.0
    if sx == 0.0 or sy == 0.0:
        return 1.0
    return np.sqrt(max(1.0 - prod / np.sqrt(sx * sy), 0.0))


@kernel()
def sparse_named_distance(code, i1, v1, i2, v2, n_features, p, vec, mat):
    """Distance of metric ``code`` (one of :data:`SPARSE_CODES`) between two sparse rows."""
    if code == HELLINGER:
        return _hellinger(i1, v1, i2, v2)
    if code == CANBERRA or code == BRAYCURTIS or code == SEUCLIDEAN or code == WMINKOWSKI:
        acc, acc2 = _union_terms(code, i1, v1, i2, v2, p, vec)
        if code == BRAYCURTIS:
            return acc / acc2 if acc2 > 0.0 else 0.0
        if code == SEUCLIDEAN:
            return np.sqrt(acc)
        if code == WMINKOWSKI:
            return acc ** (1.0 / p)
        return acc
    tt, tf, ft, differ = _counts(i1, v1, i2, v2)
    n = np.float64(n_features)
    ne = tf + ft
    if code == HAMMING:
        return differ / n
    if code == MATCHING:
        return ne / n
    if code == JACCARD:
        return ne / (tt + ne) if tt + ne > 0.0 else 0.0
    if code == DICE:
        return ne / (2.0 * tt + ne) if ne > 0.0 else 0.0
    if code == KULSINSKI:
        return (ne - tt + n) / (ne + n) if ne > 0.0 else 0.0
    if code == ROGERSTANIMOTO or code == SOKALMICHENER:
        return 2.0 * ne / (n + ne)
    if code == RUSSELLRAO:
        return (n - tt) / n if ne > 0.0 else 0.0
    if code == SOKALSNEATH:
        return 2.0 * ne / (tt + 2.0 * ne) if ne > 0.0 else 0.0
    # yule
    if tf * ft == 0.0:
        return 0.0
    ff = n - tt - tf - ft
    return 2.0 * tf * ft / (tt * ff + tf * ft)


def sparse_pointer_signature(dtype):
    """Signature of the sparse metric pointers for values of ``dtype``."""
    ind = numba.types.Array(numba.types.int32, 1, "C")
    val = numba.types.Array(numba.from_dtype(np.dtype(dtype)), 1, "C")
    return numba.types.float64(ind, val, ind, val, numba.types.int64, numba.types.int64,
                               numba.types.float64,
                               numba.types.Array(numba.types.float64, 1, "C"),
                               numba.types.Array(numba.types.float64, 2, "C"))


def _named(i1, v1, i2, v2, n_features, code, p, vec, mat):
    return sparse_named_distance(code, i1, v1, i2, v2, n_features, p, vec, mat)


@functools.lru_cache(maxsize=None)
def sparse_named_pointer(dtype_name):
    """:func:`sparse_named_distance` as a function pointer for values of ``dtype_name``
    (compiled on first use; cached on disk)."""
    return numba.cfunc(sparse_pointer_signature(dtype_name), cache=True, nogil=True)(_named)
