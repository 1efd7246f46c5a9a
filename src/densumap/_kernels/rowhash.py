"""64-bit content hashes of rows, to find the rows of one array identical to rows of another.

The kernels read the raw bits of the values (a float32 array as uint32, a float64 one
as uint64), so both arrays must have the same float type. A row's hash depends only on
its non-zero entries (column index and bits), so the same row gives the same hash
stored dense or sparse, and ``0.0`` and ``-0.0`` (all bits zero but the sign) count as
equal zeros. One multiply-xorshift step per non-zero entry keeps the hash at the speed
of reading the array; equal hashes are only candidates, which callers compare.
"""
import numpy as np
from numba import prange

from ._config import kernel
from .rng import GOLDEN, mix64

_MUL = np.uint64(0xBF58476D1CE4E5B9)
_S31 = np.uint64(31)


@kernel()
def _step(h, col, bits):
    h = (h ^ (bits + np.uint64(col) * GOLDEN)) * _MUL
    return h ^ (h >> _S31)


@kernel(parallel=True)
def dense_row_hashes(bits, sign_free, out):
    """Hash of every row of a 2-D array of value bits (uint32 or uint64) into ``out``.

    ``sign_free`` masks the sign bit off (a value is zero when ``bits & sign_free``
    is 0).
    """
    n, d = bits.shape
    for i in prange(n):
        h = GOLDEN
        for j in range(d):
            b = np.uint64(bits[i, j])
            if b & sign_free:
                h = _step(h, j, b)
        out[i] = mix64(h)


@kernel(parallel=True)
def csr_row_hashes(indptr, indices, bits, sign_free, out):
    """As :func:`dense_row_hashes` for a CSR matrix (sorted indices, no duplicates)."""
    n = indptr.shape[0] - 1
    for i in prange(n):
        h = GOLDEN
        for p in range(indptr[i], indptr[i + 1]):
            b = np.uint64(bits[p])
            if b & sign_free:
                h = _step(h, indices[p], b)
        out[i] = mix64(h)
