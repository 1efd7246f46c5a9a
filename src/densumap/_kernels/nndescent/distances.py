"""Distances of the search.

Bounded reduced distances (a candidate that cannot enter a heap stops early), four rows
at once, and the exact float64 distance reported at the end.
"""
import numpy as np

from .._config import SUMS, kernel
from .common import CHEBYSHEV, MANHATTAN, MINKOWSKI, SQEUCLIDEAN, _BLOCK, _SUB


# Each bounded distance sums whole blocks of _BLOCK coordinates in an inner loop of fixed
# trip count, which the compiler unrolls and vectorises; a loop whose bounds vary per
# block measured 5-10x slower. Elements are converted to float32, which is free for
# float32 rows and one instruction for the uint16 search array. The sums (and the dot
# products of the tree splits) are compiled with the SUMS fast-math flags: without
# reassociation a float sum is one serial chain of additions, and the distances ran at the
# adder's latency (the whole search took 2.4x longer on Fashion-MNIST). The summation order
# is then the compiler's, fixed in the machine code, the same for every thread.


@kernel(fastmath=SUMS)
def _sqeuclidean_bounded(x, y, threshold):
    dim = x.shape[0]
    n_blocks = dim // _BLOCK
    acc = np.float32(0.0)
    for block in range(n_blocks):
        offset = block * _BLOCK
        part = np.float32(0.0)
        for j in range(_BLOCK):
            t = np.float32(x[offset + j]) - np.float32(y[offset + j])
            part += t * t
        acc += part
        if acc > threshold:
            return acc
    part = np.float32(0.0)
    start = n_blocks * _BLOCK
    while start + _SUB <= dim:
        xs = x[start:start + _SUB]
        ys = y[start:start + _SUB]
        for j in range(_SUB):
            t = np.float32(xs[j]) - np.float32(ys[j])
            part += t * t
        start += _SUB
    xs = x[start:]
    ys = y[start:]
    for j in range(xs.shape[0]):
        t = np.float32(xs[j]) - np.float32(ys[j])
        part += t * t
    return acc + part


@kernel(fastmath=SUMS)
def _manhattan_bounded(x, y, threshold):
    dim = x.shape[0]
    n_blocks = dim // _BLOCK
    acc = np.float32(0.0)
    for block in range(n_blocks):
        offset = block * _BLOCK
        part = np.float32(0.0)
        for j in range(_BLOCK):
            part += abs(np.float32(x[offset + j]) - np.float32(y[offset + j]))
        acc += part
        if acc > threshold:
            return acc
    part = np.float32(0.0)
    start = n_blocks * _BLOCK
    while start + _SUB <= dim:
        xs = x[start:start + _SUB]
        ys = y[start:start + _SUB]
        for j in range(_SUB):
            part += abs(np.float32(xs[j]) - np.float32(ys[j]))
        start += _SUB
    xs = x[start:]
    ys = y[start:]
    for j in range(xs.shape[0]):
        part += abs(np.float32(xs[j]) - np.float32(ys[j]))
    return acc + part


@kernel()
def _chebyshev_bounded(x, y, threshold):
    dim = x.shape[0]
    n_blocks = dim // _BLOCK
    acc = np.float32(0.0)
    for block in range(n_blocks):
        offset = block * _BLOCK
        for j in range(_BLOCK):
            acc = max(acc, abs(np.float32(x[offset + j]) - np.float32(y[offset + j])))
        if acc > threshold:
            return acc
    for j in range(n_blocks * _BLOCK, dim):
        acc = max(acc, abs(np.float32(x[j]) - np.float32(y[j])))
    return acc


@kernel()
def _minkowski_bounded(x, y, p, threshold):
    dim = x.shape[0]
    n_blocks = dim // _BLOCK
    acc = 0.0
    for block in range(n_blocks):
        offset = block * _BLOCK
        part = 0.0
        for j in range(_BLOCK):
            part += abs(np.float64(x[offset + j]) - np.float64(y[offset + j])) ** p
        acc += part
        if acc > threshold:
            return acc
    part = 0.0
    for j in range(n_blocks * _BLOCK, dim):
        part += abs(np.float64(x[j]) - np.float64(y[j])) ** p
    return acc + part


@kernel()
def _reduced_distance(x, y, metric, p, threshold):
    """Search distance of ``x`` and ``y``, or any value above ``threshold`` once it is exceeded.

    The value is the metric's reduced form (squared euclidean, ``sum |d| ** p`` for
    Minkowski), which orders pairs as the true metric does. Partial sums of non-negative
    terms never decrease, so stopping early never turns a pair that would beat
    ``threshold`` into one that does not. Each metric has its own function so that the
    float32 ones are not widened by type unification with Minkowski's float64.
    """
    if metric == SQEUCLIDEAN:
        return np.float64(_sqeuclidean_bounded(x, y, threshold))
    if metric == MANHATTAN:
        return np.float64(_manhattan_bounded(x, y, threshold))
    if metric == CHEBYSHEV:
        return np.float64(_chebyshev_bounded(x, y, threshold))
    # Rounded to float32 like the others, so that offers can be stored in float32.
    return np.float64(np.float32(_minkowski_bounded(x, y, p, threshold)))


@kernel(fastmath=SUMS)
def exact_distance(x, y, metric, p, shift_x, scale_x, shift_y, scale_y):
    """True distance of two rows of the caller's data (float64 buffers).

    For COSINE and CORRELATION the rows are first mapped to ``(x - shift_x) * scale_x``
    (centred, unit norm); a zero row (``scale == 0``) is at distance 1 from every row, as
    in scikit-learn. ``1 - cos`` is computed as ``|a - b|^2 / 2``, which unlike
    ``1 - a.b`` keeps full relative precision for close pairs and is exactly 0 for
    duplicates. The other metrics ignore the shifts and scales.
    """
    dim = x.shape[0]
    acc = 0.0
    if metric == SQEUCLIDEAN:
        for j in range(dim):
            t = x[j] - y[j]
            acc += t * t
        return np.sqrt(acc)
    if metric == MANHATTAN:
        for j in range(dim):
            acc += abs(x[j] - y[j])
        return acc
    if metric == CHEBYSHEV:
        for j in range(dim):
            acc = max(acc, abs(x[j] - y[j]))
        return acc
    if metric == MINKOWSKI:
        for j in range(dim):
            acc += abs(x[j] - y[j]) ** p
        return acc ** (1.0 / p)
    if scale_x == 0.0 or scale_y == 0.0:
        return 1.0
    for j in range(dim):
        t = (x[j] - shift_x) * scale_x - (y[j] - shift_y) * scale_y
        acc += t * t
    return min(0.5 * acc, 2.0)


@kernel(fastmath=SUMS)
def _sqeuclidean_four(x, y0, y1, y2, y3, t0, t1, t2, t3):
    """Squared distances of ``x`` to four rows at once, sharing the loads of ``x``.

    Four independent streams keep more memory requests in flight than one, which is what
    the join is bound by. Stops after a block once every sum exceeds its own threshold
    (partial sums only grow, so such a pair cannot enter any heap).
    """
    dim = x.shape[0]
    n_blocks = dim // _BLOCK
    zero = np.float32(0.0)
    a0 = zero
    a1 = zero
    a2 = zero
    a3 = zero
    for block in range(n_blocks):
        offset = block * _BLOCK
        s0 = zero
        s1 = zero
        s2 = zero
        s3 = zero
        for j in range(_BLOCK):
            xv = np.float32(x[offset + j])
            d = xv - np.float32(y0[offset + j])
            s0 += d * d
            d = xv - np.float32(y1[offset + j])
            s1 += d * d
            d = xv - np.float32(y2[offset + j])
            s2 += d * d
            d = xv - np.float32(y3[offset + j])
            s3 += d * d
        a0 += s0
        a1 += s1
        a2 += s2
        a3 += s3
        if a0 > t0 and a1 > t1 and a2 > t2 and a3 > t3:
            return np.float64(a0), np.float64(a1), np.float64(a2), np.float64(a3)
    s0 = zero
    s1 = zero
    s2 = zero
    s3 = zero
    start = n_blocks * _BLOCK
    while start + _SUB <= dim:
        stop = start + _SUB
        xs, z0, z1 = x[start:stop], y0[start:stop], y1[start:stop]
        z2, z3 = y2[start:stop], y3[start:stop]
        for j in range(_SUB):
            xv = np.float32(xs[j])
            d = xv - np.float32(z0[j])
            s0 += d * d
            d = xv - np.float32(z1[j])
            s1 += d * d
            d = xv - np.float32(z2[j])
            s2 += d * d
            d = xv - np.float32(z3[j])
            s3 += d * d
        start += _SUB
    xs, z0, z1, z2, z3 = x[start:], y0[start:], y1[start:], y2[start:], y3[start:]
    for j in range(xs.shape[0]):
        xv = np.float32(xs[j])
        d = xv - np.float32(z0[j])
        s0 += d * d
        d = xv - np.float32(z1[j])
        s1 += d * d
        d = xv - np.float32(z2[j])
        s2 += d * d
        d = xv - np.float32(z3[j])
        s3 += d * d
    return np.float64(a0 + s0), np.float64(a1 + s1), np.float64(a2 + s2), np.float64(a3 + s3)


@kernel(fastmath=SUMS)
def _manhattan_four(x, y0, y1, y2, y3, t0, t1, t2, t3):
    """Manhattan analogue of :func:`_sqeuclidean_four`."""
    dim = x.shape[0]
    n_blocks = dim // _BLOCK
    zero = np.float32(0.0)
    a0 = zero
    a1 = zero
    a2 = zero
    a3 = zero
    for block in range(n_blocks):
        offset = block * _BLOCK
        s0 = zero
        s1 = zero
        s2 = zero
        s3 = zero
        for j in range(_BLOCK):
            xv = np.float32(x[offset + j])
            s0 += abs(xv - np.float32(y0[offset + j]))
            s1 += abs(xv - np.float32(y1[offset + j]))
            s2 += abs(xv - np.float32(y2[offset + j]))
            s3 += abs(xv - np.float32(y3[offset + j]))
        a0 += s0
        a1 += s1
        a2 += s2
        a3 += s3
        if a0 > t0 and a1 > t1 and a2 > t2 and a3 > t3:
            return np.float64(a0), np.float64(a1), np.float64(a2), np.float64(a3)
    s0 = zero
    s1 = zero
    s2 = zero
    s3 = zero
    start = n_blocks * _BLOCK
    while start + _SUB <= dim:
        stop = start + _SUB
        xs, z0, z1 = x[start:stop], y0[start:stop], y1[start:stop]
        z2, z3 = y2[start:stop], y3[start:stop]
        for j in range(_SUB):
            xv = np.float32(xs[j])
            s0 += abs(xv - np.float32(z0[j]))
            s1 += abs(xv - np.float32(z1[j]))
            s2 += abs(xv - np.float32(z2[j]))
            s3 += abs(xv - np.float32(z3[j]))
        start += _SUB
    xs, z0, z1, z2, z3 = x[start:], y0[start:], y1[start:], y2[start:], y3[start:]
    for j in range(xs.shape[0]):
        xv = np.float32(xs[j])
        s0 += abs(xv - np.float32(z0[j]))
        s1 += abs(xv - np.float32(z1[j]))
        s2 += abs(xv - np.float32(z2[j]))
        s3 += abs(xv - np.float32(z3[j]))
    return np.float64(a0 + s0), np.float64(a1 + s1), np.float64(a2 + s2), np.float64(a3 + s3)
