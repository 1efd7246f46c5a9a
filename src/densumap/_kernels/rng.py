"""Counter-based random numbers for the parallel kernels.

Every random draw is a pure function of ``(seed, epoch, vertex, draw number)``, so a
vertex sees the same stream whichever thread processes it and whatever the thread
count.  The mixer is the SplitMix64 finaliser (Steele, Lea & Flood, 2014), which
turns consecutive counters into well-distributed 64-bit values.
"""
import numpy as np
from numba import prange

from ._config import kernel

# Weyl increment of SplitMix64 (2**64 divided by the golden ratio); also used by the
# hashes of ``_kernels.nndescent``.
GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S32 = np.uint64(32)
_EPOCH_MUL = np.uint64(0xD1B54A32D192ED03)


@kernel()
def mix64(z):
    """SplitMix64 finaliser: a bijective scramble of a uint64."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@kernel()
def stream_start(seed, epoch, vertex):
    """Initial state of the stream owned by ``vertex`` in ``epoch``.

    Parameters
    ----------
    seed : uint64
    epoch : int
    vertex : int
        Global vertex (row) index.
    """
    key = np.uint64(vertex) * GOLDEN + np.uint64(epoch) * _EPOCH_MUL
    return mix64(seed ^ mix64(key))


@kernel()
def next_index(state, n):
    """Advance ``state`` and draw an integer from ``[0, n)``, ``n < 2**32``.

    Returns
    -------
    state : uint64
        The advanced state, to pass to the next call.
    value : int64
    """
    state = state + GOLDEN
    # Lemire's multiply-shift maps the high 32 bits onto [0, n) without a division.
    value = np.int64(((mix64(state) >> _S32) * np.uint64(n)) >> _S32)
    return state, value


@kernel(parallel=True)
def hash_keys(n, seed):
    """``mix64(seed ^ mix64(i))`` for ``i = 0 .. n - 1``: a seeded pseudo-random key per item."""
    out = np.empty(n, dtype=np.uint64)
    for i in prange(n):
        out[i] = mix64(seed ^ mix64(np.uint64(i)))
    return out
