"""Named input metrics as plain numba functions ``f(x, y, *kwds) -> float``.

Each function takes two dense rows of the same length (float32 or float64) and the
metric's keyword arguments by position, and returns the distance as a float64,
accumulated in float64. The definitions follow SciPy's ``scipy.spatial.distance``
where SciPy has the metric; where SciPy returns NaN or raises (a zero row for
Bray-Curtis, Dice or Sokal-Sneath), or gives an identical pair a non-zero value
(Russell-Rao), the distance of a pair of identical rows is 0, as umap-learn has it,
so that every point is its own nearest neighbour. The binary metrics treat every
non-zero value as true.

:func:`named_distance` dispatches on an integer code; compiled once per row dtype as
a function pointer (:func:`named_pointer`, cached on disk), it reaches the search
kernels exactly as a user's compiled metric does (:func:`pair_distance`), so the
kernels are compiled once per dtype for every metric, and cached.
"""
import functools

import numba
import numpy as np

from ._config import kernel

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


@kernel()
def euclidean(x, y):
    acc = 0.0
    for i in range(x.shape[0]):
        diff = np.float64(x[i]) - np.float64(y[i])
        acc += diff * diff
    return np.sqrt(acc)


@kernel()
def manhattan(x, y):
    acc = 0.0
    for i in range(x.shape[0]):
        acc += abs(np.float64(x[i]) - np.float64(y[i]))
    return acc


@kernel()
def chebyshev(x, y):
    acc = 0.0
    for i in range(x.shape[0]):
        acc = max(acc, abs(np.float64(x[i]) - np.float64(y[i])))
    return acc


@kernel()
def minkowski(x, y, p):
    acc = 0.0
    for i in range(x.shape[0]):
        acc += abs(np.float64(x[i]) - np.float64(y[i])) ** p
    return acc ** (1.0 / p)


@kernel()
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


@kernel()
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


@kernel()
def seuclidean(x, y, V):
    """Euclidean distance with coordinate ``i`` divided by ``sqrt(V[i])`` (SciPy's ``V``)."""
    acc = 0.0
    for i in range(x.shape[0]):
        diff = np.float64(x[i]) - np.float64(y[i])
        acc += diff * diff / V[i]
    return np.sqrt(acc)


@kernel()
def wminkowski(x, y, w, p):
    """``(sum (w_i |x_i - y_i|) ** p) ** (1 / p)``: the weights scale the coordinates
    (SciPy's former ``wminkowski``; SciPy's ``minkowski(w=w ** p)`` today)."""
    acc = 0.0
    for i in range(x.shape[0]):
        acc += (w[i] * abs(np.float64(x[i]) - np.float64(y[i]))) ** p
    return acc ** (1.0 / p)


@kernel()
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


@kernel()
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


@kernel()
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


@kernel()
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


@kernel()
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


@kernel()
def haversine(x, y):
    """Great-circle distance on the unit sphere between (latitude, longitude) rows in
    radians."""
    s_lat = np.sin(0.5 * (np.float64(x[0]) - np.float64(y[0])))
    s_lon = np.sin(0.5 * (np.float64(x[1]) - np.float64(y[1])))
    h = s_lat * s_lat + np.cos(np.float64(x[0])) * np.cos(np.float64(y[0])) * s_lon * s_lon
    return 2.0 * np.arcsin(np.sqrt(min(max(h, 0.0), 1.0)))


@kernel()
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


@kernel()
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


@kernel()
def hamming(x, y):
    """Fraction of the coordinates that differ (any values, as SciPy's)."""
    acc = 0.0
    for i in range(x.shape[0]):
        if x[i] != y[i]:
            acc += 1.0
    return acc / x.shape[0]


@kernel()
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


@kernel()
def matching(x, y):
    """Fraction of the coordinates whose truth values differ."""
    _, tf, ft = _binary_counts(x, y)
    return (tf + ft) / x.shape[0]


@kernel()
def jaccard(x, y):
    tt, tf, ft = _binary_counts(x, y)
    if tt + tf + ft == 0.0:
        return 0.0
    return (tf + ft) / (tt + tf + ft)


@kernel()
def dice(x, y):
    tt, tf, ft = _binary_counts(x, y)
    if tf + ft == 0.0:
        return 0.0
    return (tf + ft) / (2.0 * tt + tf + ft)


@kernel()
def kulsinski(x, y):
    """``(n_tf + n_ft - n_tt + n) / (n_tf + n_ft + n)`` (SciPy's former ``kulsinski``);
    0 for rows with the same truth values."""
    tt, tf, ft = _binary_counts(x, y)
    if tf + ft == 0.0:
        return 0.0
    n = x.shape[0]
    return (tf + ft - tt + n) / (tf + ft + n)


@kernel()
def rogerstanimoto(x, y):
    _, tf, ft = _binary_counts(x, y)
    return 2.0 * (tf + ft) / (x.shape[0] + tf + ft)


@kernel()
def russellrao(x, y):
    """``(n - n_tt) / n``; 0 for rows with the same truth values (SciPy: ``(n - n_tt) / n``
    even then)."""
    tt, tf, ft = _binary_counts(x, y)
    if tf + ft == 0.0:
        return 0.0
    return (x.shape[0] - tt) / x.shape[0]


@kernel()
def sokalmichener(x, y):
    """Equal to Rogers-Tanimoto (SciPy's former ``sokalmichener``)."""
    return rogerstanimoto(x, y)


@kernel()
def sokalsneath(x, y):
    tt, tf, ft = _binary_counts(x, y)
    if tf + ft == 0.0:
        return 0.0
    return 2.0 * (tf + ft) / (tt + 2.0 * (tf + ft))


@kernel()
def yule(x, y):
    tt, tf, ft = _binary_counts(x, y)
    if tf * ft == 0.0:
        return 0.0
    ff = x.shape[0] - tt - tf - ft
    return 2.0 * tf * ft / (tt * ff + tf * ft)


@kernel()
def named_distance(code, x, y, p, vec, mat):
    """Distance of metric ``code`` between rows ``x`` and ``y``.

    ``p`` is the exponent of minkowski / wminkowski and ``z`` of symmetric_kl; ``vec``
    is ``V`` of seuclidean or ``w`` of wminkowski; ``mat`` is ``VI`` of mahalanobis.
    Unused ones are placeholders.
    """
    if code == EUCLIDEAN:
        return euclidean(x, y)
    if code == MANHATTAN:
        return manhattan(x, y)
    if code == CHEBYSHEV:
        return chebyshev(x, y)
    if code == MINKOWSKI:
        return minkowski(x, y, p)
    if code == COSINE:
        return cosine(x, y)
    if code == CORRELATION:
        return correlation(x, y)
    if code == SEUCLIDEAN:
        return seuclidean(x, y, vec)
    if code == WMINKOWSKI:
        return wminkowski(x, y, vec, p)
    if code == MAHALANOBIS:
        return mahalanobis(x, y, mat)
    if code == CANBERRA:
        return canberra(x, y)
    if code == BRAYCURTIS:
        return braycurtis(x, y)
    if code == HELLINGER:
        return hellinger(x, y)
    if code == SOFTMAX_HELLINGER:
        return softmax_hellinger(x, y)
    if code == HAVERSINE:
        return haversine(x, y)
    if code == POINCARE:
        return poincare(x, y)
    if code == SYMMETRIC_KL:
        return symmetric_kl(x, y, p)
    if code == HAMMING:
        return hamming(x, y)
    if code == MATCHING:
        return matching(x, y)
    if code == JACCARD:
        return jaccard(x, y)
    if code == DICE:
        return dice(x, y)
    if code == KULSINSKI:
        return kulsinski(x, y)
    if code == ROGERSTANIMOTO:
        return rogerstanimoto(x, y)
    if code == RUSSELLRAO:
        return russellrao(x, y)
    if code == SOKALMICHENER:
        return sokalmichener(x, y)
    if code == SOKALSNEATH:
        return sokalsneath(x, y)
    return yule(x, y)


@kernel()
def pair_distance(x, y, metric):
    """Distance between two rows under ``metric = (code, p, vec, mat, fn)``.

    ``fn`` is a compiled function pointer ``fn(x, y, code, p, vec, mat) -> float64``:
    :func:`named_pointer` for the named metrics, a user's metric wrapped by
    :func:`densumap.metrics.compile_custom` (which ignores the last four arguments).
    Calling a typed pointer, rather than taking a numba dispatcher, keeps the kernels
    that call this one small (they compile once per dtype, whatever the metric) and
    cacheable on disk.
    """
    code, p, vec, mat, fn = metric
    return fn(x, y, code, p, vec, mat)

def row_type(dtype):
    """numba type of one C-contiguous row of ``dtype``."""
    return numba.types.Array(numba.from_dtype(np.dtype(dtype)), 1, "C")


def pointer_signature(dtype):
    """Signature of the metric pointers for rows of ``dtype``."""
    row = row_type(dtype)
    return numba.types.float64(row, row, numba.types.int64, numba.types.float64,
                               numba.types.Array(numba.types.float64, 1, "C"),
                               numba.types.Array(numba.types.float64, 2, "C"))


def _named(x, y, code, p, vec, mat):
    return named_distance(code, x, y, p, vec, mat)


@functools.lru_cache(maxsize=None)
def named_pointer(dtype_name):
    """:func:`named_distance` compiled as a function pointer for rows of ``dtype_name``
    (on first use; cached on disk)."""
    return numba.cfunc(pointer_signature(dtype_name), cache=True, nogil=True)(_named)
