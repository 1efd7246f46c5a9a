"""Constants of the search kernels and the hash behind every random choice.

Metric codes, hash streams, block sizes and :func:`hash4`, the counter-based hash
from which every random choice of the search is drawn.
"""
import numpy as np

from .._config import kernel
from ..rng import GOLDEN, mix64


# Metric codes. Cosine and correlation are searched as SQEUCLIDEAN on rows that are
# centred (correlation) and scaled to unit norm, where |x - y|^2 = 2 - 2 * similarity;
# their own codes are used only for the reported distances.
SQEUCLIDEAN = 0
MANHATTAN = 1
CHEBYSHEV = 2
MINKOWSKI = 3
COSINE = 4
CORRELATION = 5

# Largest code of the uint16 search array.
QUANT_LEVELS = 65535
# Hash streams: the second argument of :func:`hash4` starts at one of these, so the tree
# splits, the candidate sampling of each round and the random completion of short rows
# never draw from the same inputs.
_TREE_STREAM = 1 << 40
_ROUND_STREAM = 2 << 40
_FILL_STREAM = 3 << 40

# The empty-slot distance is the largest finite float64 rather than ``inf``: kernels are
# compiled with ``fastmath``, under which the compiler may assume that no value is infinite.
EMPTY = np.finfo(np.float64).max

# Coordinates are summed in blocks of this many before a distance is compared with the
# threshold, so that a candidate that cannot enter a heap costs only part of its distance.
_BLOCK = 128
# The coordinates after the last whole block are summed in sub-blocks of this many (a
# fixed trip count, vectorised like the blocks), then one by one.
_SUB = 16


@kernel()
def hash4(seed, a, b, c):
    """Return a uint64 that is a pseudo-random function of four non-negative integers."""
    h = mix64(np.uint64(seed) + GOLDEN)
    h = mix64(h ^ (np.uint64(a) + GOLDEN))
    h = mix64(h ^ (np.uint64(b) + GOLDEN))
    return mix64(h ^ (np.uint64(c) + GOLDEN))
