"""Named input metrics as plain numba functions ``f(x, y, *kwds) -> float``.

Each function takes two dense rows of the same length (float32 or float64) and the
metric's keyword arguments by position, and returns the distance as a float64,
accumulated in float64. The definitions follow SciPy's ``scipy.spatial.distance``
where SciPy has the metric; where SciPy returns NaN or raises (a zero row for
Bray-Curtis, Dice or Sokal-Sneath), or gives an identical pair a non-zero value
(Russell-Rao), the distance of a pair of identical rows is 0, as umap-learn has it,
so that every point is its own nearest neighbour. The binary metrics treat every
non-zero value as true.

Loops that only sum finite terms use the ``SUMS`` fast-math flags (vectorised sums,
the same for any thread count); hellinger and softmax_hellinger keep exact sums.

Each metric is compiled, on first use, into a function pointer of one common
signature (:func:`named_pointer`, cached on disk); it reaches the search kernels
exactly as a user's compiled metric does
(:func:`densumap._kernels.metric_rows.row_distance`), so the kernels are compiled once
per dtype for every metric, and cached.
"""
import functools

import numba
import numpy as np

from ._config import SUMS, kernel

# Codes of the named metrics (see densumap.metrics for names and keyword arguments).
CUSTOM = -1
EUCLIDEAN = 0
MANHATTAN = 1
CHEBYSHEV = 2
MINKOWSKI = 3
COSINE = 4
CORRELATION = 5
SEUCLIDEAN = 6
WMINKOWSKI = 7
MAHALANOBIS = 8
CANBERRA = 9
BRAYCURTIS = 10
HELLINGER = 11
SOFTMAX_HELLINGER = 12
HAVERSINE = 13
POINCARE = 14
SYMMETRIC_KL = 15
HAMMING = 16
MATCHING = 17
JACCARD = 18
DICE = 19
KULSINSKI = 20
ROGERSTANIMOTO = 21
RUSSELLRAO = 22
SOKALMICHENER = 23
SOKALSNEATH = 24
YULE = 25


@kernel(fastmath=SUMS)
def euclidean(x, y):
    acc = 0.0
    for i in range(x.shape[0]):
        diff = np.float64(x[i]) - np.float64(y[i])
        acc += diff * diff
    return np.sqrt(acc)


@kernel(fastmath=SUMS)
def manhattan(x, y):
    acc = 0.0
    for i in range(x.shape[0]):
        acc += abs(np.float64(x[i]) - np.float64(y[i]))
    return acc


@kernel(fastmath=SUMS)
def chebyshev(x, y):
    acc = 0.0
    for i in range(x.shape[0]):
        acc = max(acc, abs(np.float64(x[i]) - np.float64(y[i])))
    return acc


@kernel(fastmath=SUMS)
def minkowski(x, y, p):
    acc = 0.0
    for i in range(x.shape[0]):
        acc += abs(np.float64(x[i]) - np.float64(y[i])) ** p
    return acc ** (1.0 / p)


@kernel(fastmath=SUMS)
def cosine(x, y):
    """``1 - cos``; a zero row is at distance 1 from every other row (0 from itself)."""
    dot = 0.0
    xx = 0.0
    yy = 0.0
    for i in range(x.shape[0]):
        a = np.float64(x[i])
        b = np.float64(y[i])
        dot += a * b
        xx += a * a
        yy += b * b
    if xx == 0.0 and yy == 0.0:
        return 0.0
    if xx == 0.0 or yy == 0.0:
        return 1.0
    return max(1.0 - dot / np.sqrt(xx * yy), 0.0)


@kernel(fastmath=SUMS)
def correlation(x, y):
    """``1 - r``; a constant row is at distance 1 from every other row (0 from itself)."""
    d = x.shape[0]
    mx = 0.0
    my = 0.0
    for i in range(d):
        mx += np.float64(x[i])
        my += np.float64(y[i])
    mx /= d
    my /= d
    dot = 0.0
    xx = 0.0
    yy = 0.0
    for i in range(d):
        a = np.float64(x[i]) - mx
        b = np.float64(y[i]) - my
        dot += a * b
        xx += a * a
        yy += b * b
    if xx == 0.0 and yy == 0.0:
        return 0.0
    if xx == 0.0 or yy == 0.0:
        return 1.0
    return max(1.0 - dot / np.sqrt(xx * yy), 0.0)


@kernel(fastmath=SUMS)
def seuclidean(x, y, V):
    """Euclidean distance with coordinate ``i`` divided by ``sqrt(V[i])`` (SciPy's ``V``)."""
    acc = 0.0
    for i in range(x.shape[0]):
        diff = np.float64(x[i]) - np.float64(y[i])
        acc += diff * diff / V[i]
    return np.sqrt(acc)


@kernel(fastmath=SUMS)
def wminkowski(x, y, w, p):
    """``(sum (w_i |x_i - y_i|) ** p) ** (1 / p)``: the weights scale the coordinates
    (SciPy's former ``wminkowski``; SciPy's ``minkowski(w=w ** p)`` today)."""
    acc = 0.0
    for i in range(x.shape[0]):
        acc += (w[i] * abs(np.float64(x[i]) - np.float64(y[i]))) ** p
    return acc ** (1.0 / p)


@kernel(fastmath=SUMS)
def mahalanobis(x, y, VI):
    """``sqrt((x - y)^T VI (x - y))`` with ``VI`` the inverse covariance (clamped at 0)."""
    d = x.shape[0]
    acc = 0.0
    for i in range(d):
        di = np.float64(x[i]) - np.float64(y[i])
        if di == 0.0:
            continue
        row = 0.0
        for j in range(d):
            row += VI[i, j] * (np.float64(x[j]) - np.float64(y[j]))
        acc += di * row
    return np.sqrt(max(acc, 0.0))


@kernel(fastmath=SUMS)
def canberra(x, y):
    """``sum |x_i - y_i| / (|x_i| + |y_i|)`` over the coordinates where both are not 0."""
    acc = 0.0
    for i in range(x.shape[0]):
        a = np.float64(x[i])
        b = np.float64(y[i])
        den = abs(a) + abs(b)
        if den > 0.0:
            acc += abs(a - b) / den
    return acc


@kernel(fastmath=SUMS)
def braycurtis(x, y):
    """``sum |x_i - y_i| / sum |x_i + y_i|``; 0 when the denominator is 0."""
    num = 0.0
    den = 0.0
    for i in range(x.shape[0]):
        a = np.float64(x[i])
        b = np.float64(y[i])
        num += abs(a - b)
        den += abs(a + b)
    if den > 0.0:
        return num / den
    return 0.0


@kernel()  # exact sums: the square root turns a 1e-16 error into 1e-8
def hellinger(x, y):
    """Hellinger distance of the rows normalised to sum 1 (non-negative rows); a zero
    row is at distance 1 from every other row (0 from itself)."""
    prod = 0.0
    sx = 0.0
    sy = 0.0
    for i in range(x.shape[0]):
        a = np.float64(x[i])
        b = np.float64(y[i])
        prod += np.sqrt(a * b)
        sx += a
        sy += b
    if sx == 0.0 and sy == 0.0:
        return 0.0
    if sx == 0.0 or sy == 0.0:
        return 1.0
    return np.sqrt(max(1.0 - prod / np.sqrt(sx * sy), 0.0))


@kernel()  # exact sums: the square root turns a 1e-16 error into 1e-8
def softmax_hellinger(x, y):
    """Hellinger distance between ``softmax(x)`` and ``softmax(y)``."""
    d = x.shape[0]
    mx = -np.inf
    my = -np.inf
    for i in range(d):
        mx = max(mx, np.float64(x[i]))
        my = max(my, np.float64(y[i]))
    sx = 0.0
    sy = 0.0
    for i in range(d):
        sx += np.exp(np.float64(x[i]) - mx)
        sy += np.exp(np.float64(y[i]) - my)
    # sum_i sqrt(p_i q_i) with p = exp(x - mx) / sx and q = exp(y - my) / sy.
    acc = 0.0
    for i in range(d):
        acc += np.exp(0.5 * ((np.float64(x[i]) - mx) + (np.float64(y[i]) - my)))
    return np.sqrt(max(1.0 - acc / np.sqrt(sx * sy), 0.0))


@kernel(fastmath=SUMS)
def haversine(x, y):
    """Great-circle distance on the unit sphere between (latitude, longitude) rows in
    radians."""
    s_lat = np.sin(0.5 * (np.float64(x[0]) - np.float64(y[0])))
    s_lon = np.sin(0.5 * (np.float64(x[1]) - np.float64(y[1])))
    h = s_lat * s_lat + np.cos(np.float64(x[0])) * np.cos(np.float64(y[0])) * s_lon * s_lon
    return 2.0 * np.arcsin(np.sqrt(min(max(h, 0.0), 1.0)))


@kernel(fastmath=SUMS)
def poincare(x, y):
    """Distance in the Poincare ball (rows of norm below 1)."""
    xx = 0.0
    yy = 0.0
    dd = 0.0
    for i in range(x.shape[0]):
        a = np.float64(x[i])
        b = np.float64(y[i])
        xx += a * a
        yy += b * b
        dd += (a - b) * (a - b)
    return np.arccosh(1.0 + 2.0 * dd / ((1.0 - xx) * (1.0 - yy)))


@kernel(fastmath=SUMS)
def symmetric_kl(x, y, z):
    """Symmetrised Kullback-Leibler divergence ``(KL(p|q) + KL(q|p)) / 2`` of the rows
    plus ``z``, each normalised to sum 1 (non-negative rows)."""
    d = x.shape[0]
    sx = 0.0
    sy = 0.0
    for i in range(d):
        sx += np.float64(x[i]) + z
        sy += np.float64(y[i]) + z
    acc = 0.0
    for i in range(d):
        p = (np.float64(x[i]) + z) / sx
        q = (np.float64(y[i]) + z) / sy
        acc += (p - q) * np.log(p / q)
    return max(0.5 * acc, 0.0)


@kernel(fastmath=SUMS)
def hamming(x, y):
    """Fraction of the coordinates that differ (any values, as SciPy's)."""
    acc = 0.0
    for i in range(x.shape[0]):
        if x[i] != y[i]:
            acc += 1.0
    return acc / x.shape[0]


@kernel(fastmath=SUMS)
def _binary_counts(x, y):
    """``(n_tt, n_tf, n_ft)``: coordinates true in both, in x only, in y only."""
    tt = 0.0
    tf = 0.0
    ft = 0.0
    for i in range(x.shape[0]):
        a = x[i] != 0
        b = y[i] != 0
        if a and b:
            tt += 1.0
        elif a:
            tf += 1.0
        elif b:
            ft += 1.0
    return tt, tf, ft


@kernel(fastmath=SUMS)
def matching(x, y):
    """Fraction of the coordinates whose truth values differ."""
    _, tf, ft = _binary_counts(x, y)
    return (tf + ft) / x.shape[0]


@kernel(fastmath=SUMS)
def jaccard(x, y):
    tt, tf, ft = _binary_counts(x, y)
    if tt + tf + ft == 0.0:
        return 0.0
    return (tf + ft) / (tt + tf + ft)


@kernel(fastmath=SUMS)
def dice(x, y):
    tt, tf, ft = _binary_counts(x, y)
    if tf + ft == 0.0:
        return 0.0
    return (tf + ft) / (2.0 * tt + tf + ft)


@kernel(fastmath=SUMS)
def kulsinski(x, y):
    """``(n_tf + n_ft - n_tt + n) / (n_tf + n_ft + n)`` (SciPy's former ``kulsinski``);
    0 for rows with the same truth values."""
    tt, tf, ft = _binary_counts(x, y)
    if tf + ft == 0.0:
        return 0.0
    n = x.shape[0]
    return (tf + ft - tt + n) / (tf + ft + n)


@kernel(fastmath=SUMS)
def rogerstanimoto(x, y):
    _, tf, ft = _binary_counts(x, y)
    return 2.0 * (tf + ft) / (x.shape[0] + tf + ft)


@kernel(fastmath=SUMS)
def russellrao(x, y):
    """``(n - n_tt) / n``; 0 for rows with the same truth values (SciPy: ``(n - n_tt) / n``
    even then)."""
    tt, tf, ft = _binary_counts(x, y)
    if tf + ft == 0.0:
        return 0.0
    return (x.shape[0] - tt) / x.shape[0]


@kernel(fastmath=SUMS)
def sokalmichener(x, y):
    """Equal to Rogers-Tanimoto (SciPy's former ``sokalmichener``)."""
    return rogerstanimoto(x, y)


@kernel(fastmath=SUMS)
def sokalsneath(x, y):
    tt, tf, ft = _binary_counts(x, y)
    if tf + ft == 0.0:
        return 0.0
    return 2.0 * (tf + ft) / (tt + 2.0 * (tf + ft))


@kernel(fastmath=SUMS)
def yule(x, y):
    tt, tf, ft = _binary_counts(x, y)
    if tf * ft == 0.0:
        return 0.0
    ff = x.shape[0] - tt - tf - ft
    return 2.0 * tf * ft / (tt * ff + tf * ft)


def row_type(dtype):
    """numba type of one C-contiguous row of ``dtype``."""
    return numba.types.Array(numba.from_dtype(np.dtype(dtype)), 1, "C")


def pointer_signature(dtype):
    """Signature of the metric pointers for rows of ``dtype``."""
    row = row_type(dtype)
    return numba.types.float64(row, row, numba.types.int64, numba.types.float64,
                               numba.types.Array(numba.types.float64, 1, "C"),
                               numba.types.Array(numba.types.float64, 2, "C"))


# One adapter per metric, with the pointers' common signature: a pointer per metric
# rather than one pointer to a switch over the codes, in which the metrics were not
# inlined and vectorised. Exact 15-NN of 2,000 pooled Fashion-MNIST rows (49 features,
# float32, one thread, best CPU time of 5 on a loaded machine, ns per pair, switch /
# per metric / per metric with the SUMS flags): hellinger 308 / 267 / 271, canberra
# 253 / 212 / 114, braycurtis 179 / 138 / 102, seuclidean 258 / 199 / 206, jaccard
# 234 / 194 / 186; the same neighbours in all three. Hellinger keeps exact sums (see
# above).
def _p_euclidean(x, y, code, p, vec, mat):
    return euclidean(x, y)


def _p_manhattan(x, y, code, p, vec, mat):
    return manhattan(x, y)


def _p_chebyshev(x, y, code, p, vec, mat):
    return chebyshev(x, y)


def _p_minkowski(x, y, code, p, vec, mat):
    return minkowski(x, y, p)


def _p_cosine(x, y, code, p, vec, mat):
    return cosine(x, y)


def _p_correlation(x, y, code, p, vec, mat):
    return correlation(x, y)


def _p_seuclidean(x, y, code, p, vec, mat):
    return seuclidean(x, y, vec)


def _p_wminkowski(x, y, code, p, vec, mat):
    return wminkowski(x, y, vec, p)


def _p_mahalanobis(x, y, code, p, vec, mat):
    return mahalanobis(x, y, mat)


def _p_canberra(x, y, code, p, vec, mat):
    return canberra(x, y)


def _p_braycurtis(x, y, code, p, vec, mat):
    return braycurtis(x, y)


def _p_hellinger(x, y, code, p, vec, mat):
    return hellinger(x, y)


def _p_softmax_hellinger(x, y, code, p, vec, mat):
    return softmax_hellinger(x, y)


def _p_haversine(x, y, code, p, vec, mat):
    return haversine(x, y)


def _p_poincare(x, y, code, p, vec, mat):
    return poincare(x, y)


def _p_symmetric_kl(x, y, code, p, vec, mat):
    return symmetric_kl(x, y, p)


def _p_hamming(x, y, code, p, vec, mat):
    return hamming(x, y)


def _p_matching(x, y, code, p, vec, mat):
    return matching(x, y)


def _p_jaccard(x, y, code, p, vec, mat):
    return jaccard(x, y)


def _p_dice(x, y, code, p, vec, mat):
    return dice(x, y)


def _p_kulsinski(x, y, code, p, vec, mat):
    return kulsinski(x, y)


def _p_rogerstanimoto(x, y, code, p, vec, mat):
    return rogerstanimoto(x, y)


def _p_russellrao(x, y, code, p, vec, mat):
    return russellrao(x, y)


def _p_sokalmichener(x, y, code, p, vec, mat):
    return sokalmichener(x, y)


def _p_sokalsneath(x, y, code, p, vec, mat):
    return sokalsneath(x, y)


def _p_yule(x, y, code, p, vec, mat):
    return yule(x, y)


_ADAPTERS = {EUCLIDEAN: _p_euclidean, MANHATTAN: _p_manhattan, CHEBYSHEV: _p_chebyshev,
             MINKOWSKI: _p_minkowski, COSINE: _p_cosine, CORRELATION: _p_correlation,
             SEUCLIDEAN: _p_seuclidean, WMINKOWSKI: _p_wminkowski,
             MAHALANOBIS: _p_mahalanobis, CANBERRA: _p_canberra, BRAYCURTIS: _p_braycurtis,
             HELLINGER: _p_hellinger, SOFTMAX_HELLINGER: _p_softmax_hellinger,
             HAVERSINE: _p_haversine, POINCARE: _p_poincare, SYMMETRIC_KL: _p_symmetric_kl,
             HAMMING: _p_hamming, MATCHING: _p_matching, JACCARD: _p_jaccard, DICE: _p_dice,
             KULSINSKI: _p_kulsinski, ROGERSTANIMOTO: _p_rogerstanimoto,
             RUSSELLRAO: _p_russellrao, SOKALMICHENER: _p_sokalmichener,
             SOKALSNEATH: _p_sokalsneath, YULE: _p_yule}


@functools.lru_cache(maxsize=None)
def named_pointer(code, dtype_name):
    """Metric ``code`` as a function pointer for rows of ``dtype_name`` (compiled on
    first use, then cached on disk)."""
    return numba.cfunc(pointer_signature(dtype_name), cache=True, nogil=True)(
        _ADAPTERS[code])


def custom_pointer(user, args, returns_pair, dtype, sparse):
    """A user's compiled metric ``user(*row_pair, *args)`` as a function pointer of the
    kernels' dense (or, with ``sparse``, sparse) signature.

    ``args`` are bound as compile-time constants (as pynndescent does); a function
    returning ``(distance, gradient)`` is used for its distance. Not cached on disk:
    the function is the user's.
    """
    from .sparse_metrics import sparse_pointer_signature

    if args:
        @numba.njit
        def bound2(a, b):
            return user(a, b, *args)

        @numba.njit
        def bound4(a, b, c, d):
            return user(a, b, c, d, *args)
    else:
        bound2 = bound4 = user
    if sparse:
        if returns_pair:
            def distance(i1, v1, i2, v2, n_features, code, p, vec, mat):
                return np.float64(bound4(i1, v1, i2, v2)[0])
        else:
            def distance(i1, v1, i2, v2, n_features, code, p, vec, mat):
                return np.float64(bound4(i1, v1, i2, v2))
        return numba.cfunc(sparse_pointer_signature(dtype), nogil=True)(distance)
    if returns_pair:
        def distance(x, y, code, p, vec, mat):
            return np.float64(bound2(x, y)[0])
    else:
        def distance(x, y, code, p, vec, mat):
            return np.float64(bound2(x, y))
    return numba.cfunc(pointer_signature(dtype), nogil=True)(distance)
