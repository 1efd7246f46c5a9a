"""The search array.

Row statistics, quantisation to uint16 or scaling to float32, and row access that reads
either dtype.
"""
import numpy as np
from numba import prange

from .._config import SUMS, kernel
from .common import QUANT_LEVELS


# The caller's X reaches the kernels as ``(X32, X64)`` (one of them a placeholder) with a
# flag ``x_is_f64``; rows are read into float64 buffers by :func:`_load_x_row`, so these
# kernels too compile once. They run over ROW_BLOCK-row blocks so that each block
# allocates its buffers once.


ROW_BLOCK = 256


@kernel()
def _load_x_row(X32, X64, x_is_f64, i, out):
    """Row ``i`` of the caller's data into the float64 buffer ``out``."""
    if x_is_f64:
        values = X64[i]
        for j in range(out.shape[0]):
            out[j] = values[j]
    else:
        single = X32[i]
        for j in range(out.shape[0]):
            out[j] = np.float64(single[j])


@kernel(parallel=True)
def row_moments(X32, X64, x_is_f64, dim, center, shift, scale):
    """Per row: ``shift`` = mean (if ``center``, else 0) and ``scale`` = 1 / norm of
    ``X - shift`` (0 for a zero row), in float64."""
    n = shift.shape[0]
    for block in prange((n + ROW_BLOCK - 1) // ROW_BLOCK):
        x = np.empty(dim, dtype=np.float64)
        for i in range(block * ROW_BLOCK, min(n, (block + 1) * ROW_BLOCK)):
            _load_x_row(X32, X64, x_is_f64, i, x)
            mean = 0.0
            if center:
                for j in range(dim):
                    mean += x[j]
                mean /= dim
            sq = 0.0
            for j in range(dim):
                t = x[j] - mean
                sq += t * t
            shift[i] = mean
            scale[i] = 1.0 / np.sqrt(sq) if sq > 0.0 else 0.0


@kernel(parallel=True)
def column_stats(X32, X64, x_is_f64, dim, row_shift, row_scale, mins, maxs, sums, sumsqs):
    """Per-column min, max, sum and sum of squares of ``(X - row_shift) * row_scale``.

    Row block ``b`` of ``mins.shape[0]`` equal blocks writes row ``b`` of each output; the
    caller combines the blocks in a fixed order, so the sums do not depend on the thread
    count.
    """
    n = row_shift.shape[0]
    n_blocks = mins.shape[0]
    for b in prange(n_blocks):
        x = np.empty(dim, dtype=np.float64)
        for j in range(dim):
            mins[b, j] = np.inf
            maxs[b, j] = -np.inf
            sums[b, j] = 0.0
            sumsqs[b, j] = 0.0
        for i in range(b * n // n_blocks, (b + 1) * n // n_blocks):
            _load_x_row(X32, X64, x_is_f64, i, x)
            shift = row_shift[i]
            scale = row_scale[i]
            for j in range(dim):
                v = (x[j] - shift) * scale
                mins[b, j] = min(mins[b, j], v)
                maxs[b, j] = max(maxs[b, j], v)
                sums[b, j] += v
                sumsqs[b, j] += v * v


@kernel(parallel=True)
def quantize_rows(X32, X64, x_is_f64, row_shift, row_scale, col_min, step, out):
    """``out = rint(((X - row_shift) * row_scale - col_min) / step)`` as uint16.

    One global ``step`` keeps the metric isotropic: distances between codes are the true
    ones divided by ``step`` (up to rounding), while the per-column offsets cancel in
    every difference.
    """
    n, dim = out.shape
    inv = 1.0 / step
    for block in prange((n + ROW_BLOCK - 1) // ROW_BLOCK):
        x = np.empty(dim, dtype=np.float64)
        for i in range(block * ROW_BLOCK, min(n, (block + 1) * ROW_BLOCK)):
            _load_x_row(X32, X64, x_is_f64, i, x)
            shift = row_shift[i]
            scale = row_scale[i] * inv
            for j in range(dim):
                v = (x[j] - shift) * scale - col_min[j] * inv
                # v >= 0 up to rounding, so adding 0.5 and truncating rounds to nearest.
                out[i, j] = np.uint16(min(max(v + 0.5, 0.0), QUANT_LEVELS + 0.49))


@kernel(parallel=True)
def scale_rows(X32, X64, x_is_f64, row_shift, row_scale, out):
    """``out = (X - row_shift) * row_scale`` rounded to float32."""
    n, dim = out.shape
    for block in prange((n + ROW_BLOCK - 1) // ROW_BLOCK):
        x = np.empty(dim, dtype=np.float64)
        for i in range(block * ROW_BLOCK, min(n, (block + 1) * ROW_BLOCK)):
            _load_x_row(X32, X64, x_is_f64, i, x)
            for j in range(dim):
                out[i, j] = np.float32((x[j] - row_shift[i]) * row_scale[i])


@kernel()
def _load_row(data32, data16, is_float, i, out):
    """Row ``i`` of the search array into the float32 buffer ``out``."""
    if is_float:
        values = data32[i]
        for j in range(out.shape[0]):
            out[j] = values[j]
    else:
        codes = data16[i]
        for j in range(out.shape[0]):
            out[j] = np.float32(codes[j])


@kernel(fastmath=SUMS)
def _row_dot(data32, data16, is_float, i, vector):
    """Dot product of row ``i`` of the search array with the float32 ``vector``."""
    acc = np.float32(0.0)
    if is_float:
        values = data32[i]
        for j in range(vector.shape[0]):
            acc += vector[j] * values[j]
    else:
        codes = data16[i]
        for j in range(vector.shape[0]):
            acc += vector[j] * np.float32(codes[j])
    return acc


@kernel()
def _gather_rows(data32, data16, is_float, ids, m, rows):
    """Rows ``ids[:m]`` of the search array into the float32 scratch ``rows``."""
    for a in range(m):
        _load_row(data32, data16, is_float, ids[a], rows[a])


@kernel()
def permute_rows(data, order):
    """Reorder the rows of ``data`` in place: row ``i`` becomes the old row ``order[i]``.

    ``order`` must be a permutation of ``range(n)``. Each cycle of the permutation is
    followed once with one row held aside, so the only extra memory is that row and one
    flag per row.
    """
    n, dim = data.shape
    done = np.zeros(n, dtype=np.bool_)
    held = np.empty(dim, dtype=data.dtype)
    for start in range(n):
        if done[start]:
            continue
        for j in range(dim):
            held[j] = data[start, j]
        i = start
        while True:
            done[i] = True
            source = np.int64(order[i])
            if source == start:
                for j in range(dim):
                    data[i, j] = held[j]
                break
            for j in range(dim):
                data[i, j] = data[source, j]
            i = source
