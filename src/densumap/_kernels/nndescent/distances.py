"""Distances of the search.

Bounded reduced distances (a candidate that cannot enter a heap stops early), four rows
at once, and the exact float64 distance reported at the end.
"""
import numpy as np

from .._config import SUMS, kernel
from .common import CHEBYSHEV, MANHATTAN, MINKOWSKI, SQEUCLIDEAN, _BLOCK, _SUB


# Every distance takes two 2-D arrays and row numbers, ``(xs, a, ys, b)``, not row views
# (``xs[a]``): measured on the local join, 82 ns per pair with views against 30 ns with
# row numbers (one thread, 50-d uint16 rows, random candidates), 91 against 52 ns at 784
# dimensions. Callers pass row numbers as int64: the same join with an int32 hub (the
# dtype of the visit order) ran ~1.6x slower on the mixture's real candidate lists.
#
# Each bounded distance sums whole blocks of _BLOCK coordinates in an inner loop of fixed
# trip count, which the compiler unrolls and vectorises; a loop whose bounds vary per
# block measured 5-10x slower. The coordinates after the last block are summed in
# sub-blocks of _SUB, then one by one. Elements are converted to float32, which is free
# for float32 rows and one instruction for the uint16 search array. The sums (and the dot
# products of the tree splits) are compiled with the SUMS fast-math flags: without
# reassociation a float sum is one serial chain of additions, and the distances ran at the
# adder's latency (the whole search took 2.4x longer on Fashion-MNIST). The summation order
# is then the compiler's, fixed in the machine code, the same for every thread.


@kernel(fastmath=SUMS)
def _sqeuclidean_bounded(xs, a, ys, b, threshold):
    dim = xs.shape[1]
    n_blocks = dim // _BLOCK
    acc = np.float32(0.0)
    for block in range(n_blocks):
        offset = block * _BLOCK
        part = np.float32(0.0)
        for j in range(_BLOCK):
            t = np.float32(xs[a, offset + j]) - np.float32(ys[b, offset + j])
            part += t * t
        acc += part
        if acc > threshold:
            return acc
    part = np.float32(0.0)
    start = n_blocks * _BLOCK
    while start + _SUB <= dim:
        for j in range(_SUB):
            t = np.float32(xs[a, start + j]) - np.float32(ys[b, start + j])
            part += t * t
        start += _SUB
    for j in range(start, dim):
        t = np.float32(xs[a, j]) - np.float32(ys[b, j])
        part += t * t
    return acc + part


@kernel(fastmath=SUMS)
def _manhattan_bounded(xs, a, ys, b, threshold):
    dim = xs.shape[1]
    n_blocks = dim // _BLOCK
    acc = np.float32(0.0)
    for block in range(n_blocks):
        offset = block * _BLOCK
        part = np.float32(0.0)
        for j in range(_BLOCK):
            part += abs(np.float32(xs[a, offset + j]) - np.float32(ys[b, offset + j]))
        acc += part
        if acc > threshold:
            return acc
    part = np.float32(0.0)
    start = n_blocks * _BLOCK
    while start + _SUB <= dim:
        for j in range(_SUB):
            part += abs(np.float32(xs[a, start + j]) - np.float32(ys[b, start + j]))
        start += _SUB
    for j in range(start, dim):
        part += abs(np.float32(xs[a, j]) - np.float32(ys[b, j]))
    return acc + part


@kernel()
def _chebyshev_bounded(xs, a, ys, b, threshold):
    dim = xs.shape[1]
    n_blocks = dim // _BLOCK
    acc = np.float32(0.0)
    for block in range(n_blocks):
        offset = block * _BLOCK
        for j in range(_BLOCK):
            acc = max(acc, abs(np.float32(xs[a, offset + j]) - np.float32(ys[b, offset + j])))
        if acc > threshold:
            return acc
    for j in range(n_blocks * _BLOCK, dim):
        acc = max(acc, abs(np.float32(xs[a, j]) - np.float32(ys[b, j])))
    return acc


@kernel()
def _minkowski_bounded(xs, a, ys, b, p, threshold):
    dim = xs.shape[1]
    n_blocks = dim // _BLOCK
    acc = 0.0
    for block in range(n_blocks):
        offset = block * _BLOCK
        part = 0.0
        for j in range(_BLOCK):
            part += abs(np.float64(xs[a, offset + j]) - np.float64(ys[b, offset + j])) ** p
        acc += part
        if acc > threshold:
            return acc
    part = 0.0
    for j in range(n_blocks * _BLOCK, dim):
        part += abs(np.float64(xs[a, j]) - np.float64(ys[b, j])) ** p
    return acc + part


@kernel()
def _reduced_distance(xs, a, ys, b, metric, p, threshold):
    """Search distance of row ``a`` of ``xs`` and row ``b`` of ``ys``, or any value above
    ``threshold`` once it is exceeded.

    The value is the metric's reduced form (squared euclidean, ``sum |d| ** p`` for
    Minkowski), which orders pairs as the true metric does. Partial sums of non-negative
    terms never decrease, so stopping early never turns a pair that would beat
    ``threshold`` into one that does not. Each metric has its own function so that the
    float32 ones are not widened by type unification with Minkowski's float64.
    """
    if metric == SQEUCLIDEAN:
        return np.float64(_sqeuclidean_bounded(xs, a, ys, b, threshold))
    if metric == MANHATTAN:
        return np.float64(_manhattan_bounded(xs, a, ys, b, threshold))
    if metric == CHEBYSHEV:
        return np.float64(_chebyshev_bounded(xs, a, ys, b, threshold))
    # Rounded to float32 like the others, so that offers can be stored in float32.
    return np.float64(np.float32(_minkowski_bounded(xs, a, ys, b, p, threshold)))


@kernel(fastmath=SUMS)
def exact_distance(x, y, metric, p, shift_x, scale_x, shift_y, scale_y):
    """True distance of two rows of the caller's data: ``x`` a float64 buffer, ``y`` a
    float64 or float32 row (widened to float64 as it is read).

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
def _sqeuclidean_four(xs, a, ys, b0, b1, b2, b3, t0, t1, t2, t3):
    """Squared distances of row ``a`` of ``xs`` to rows ``b0`` to ``b3`` of ``ys`` at once,
    sharing the loads of row ``a``.

    Four independent streams keep more memory requests in flight than one, which is what
    the join is bound by. Stops after a block once every sum exceeds its own threshold
    (partial sums only grow, so such a pair cannot enter any heap).
    """
    dim = xs.shape[1]
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
            xv = np.float32(xs[a, offset + j])
            d = xv - np.float32(ys[b0, offset + j])
            s0 += d * d
            d = xv - np.float32(ys[b1, offset + j])
            s1 += d * d
            d = xv - np.float32(ys[b2, offset + j])
            s2 += d * d
            d = xv - np.float32(ys[b3, offset + j])
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
        for j in range(_SUB):
            xv = np.float32(xs[a, start + j])
            d = xv - np.float32(ys[b0, start + j])
            s0 += d * d
            d = xv - np.float32(ys[b1, start + j])
            s1 += d * d
            d = xv - np.float32(ys[b2, start + j])
            s2 += d * d
            d = xv - np.float32(ys[b3, start + j])
            s3 += d * d
        start += _SUB
    for j in range(start, dim):
        xv = np.float32(xs[a, j])
        d = xv - np.float32(ys[b0, j])
        s0 += d * d
        d = xv - np.float32(ys[b1, j])
        s1 += d * d
        d = xv - np.float32(ys[b2, j])
        s2 += d * d
        d = xv - np.float32(ys[b3, j])
        s3 += d * d
    return np.float64(a0 + s0), np.float64(a1 + s1), np.float64(a2 + s2), np.float64(a3 + s3)


@kernel(fastmath=SUMS)
def _manhattan_four(xs, a, ys, b0, b1, b2, b3, t0, t1, t2, t3):
    """Manhattan analogue of :func:`_sqeuclidean_four`."""
    dim = xs.shape[1]
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
            xv = np.float32(xs[a, offset + j])
            s0 += abs(xv - np.float32(ys[b0, offset + j]))
            s1 += abs(xv - np.float32(ys[b1, offset + j]))
            s2 += abs(xv - np.float32(ys[b2, offset + j]))
            s3 += abs(xv - np.float32(ys[b3, offset + j]))
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
        for j in range(_SUB):
            xv = np.float32(xs[a, start + j])
            s0 += abs(xv - np.float32(ys[b0, start + j]))
            s1 += abs(xv - np.float32(ys[b1, start + j]))
            s2 += abs(xv - np.float32(ys[b2, start + j]))
            s3 += abs(xv - np.float32(ys[b3, start + j]))
        start += _SUB
    for j in range(start, dim):
        xv = np.float32(xs[a, j])
        s0 += abs(xv - np.float32(ys[b0, j]))
        s1 += abs(xv - np.float32(ys[b1, j]))
        s2 += abs(xv - np.float32(ys[b2, j]))
        s3 += abs(xv - np.float32(ys[b3, j]))
    return np.float64(a0 + s0), np.float64(a1 + s1), np.float64(a2 + s2), np.float64(a3 + s3)
