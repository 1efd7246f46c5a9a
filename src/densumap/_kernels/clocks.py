"""When an edge is sampled: the epochs' sampling schedule, without per-edge state.

UMAP samples an edge of membership ``w`` ``r = w / w_max`` times per epoch on
average: umap-learn keeps two float64 clocks per edge (the epoch of its next sample
and of its next negative samples) and two float64 periods, and every epoch reads all
of them and writes those that moved. Here the schedule is a function of the epoch and
of ``r`` alone, held in fixed point as ``R = round(r * 2**24)`` (one uint32 per edge,
:func:`sample_rates`), so that the test that runs for every edge in every epoch is
an integer product, a mask and a comparison:

* the edge's ``k``-th sample falls in the first epoch ``n`` with ``n * r >= k``
  (umap-learn's clock ``k / r``, without its accumulated rounding): it is due in
  epoch ``n`` when ``k = floor(n * r)`` is at least 1 and exceeds
  ``floor((n - 1) * r)``, i.e. when the fractional part of ``n * r`` is below ``r``
  (:func:`sample_due`);
* its ``k``-th sample draws ``floor(k * nu) - floor((k - 1) * nu)`` negative samples
  for a negative-sample rate ``nu``, also in fixed point (:func:`negative_rate`,
  :func:`negatives_due`): ``nu`` per sample on average, as umap-learn's clock gives,
  exactly ``nu`` for an integer rate, and none for a rate of 0.

Nothing is written during an epoch, so the schedule needs 4 bytes per edge instead of
32 (656 MB less at a million points), and an epoch reads 4 (BENCHMARKS.md, fourteenth
session).
"""
import numpy as np
from numba.extending import register_jitable

from ._config import kernel

# Fixed-point bits of a rate: a sample rate (at most 1) is held as round(r * 2**24).
_BITS = np.int64(24)
ONE = 1 << 24
_MASK = np.int64(ONE - 1)


# Plain Python when called from Python (``negative_rate``, once per fit: a compiled
# function's first call there cost ~0.9 s, cached or not), inlined in the kernels.
@register_jitable
def to_fixed(x):
    """``round(x * 2**24)`` as a float (halves up): a rate in this module's fixed point."""
    return np.floor(x * ONE + 0.5)


@kernel()
def sample_rates(weights, top):
    """Samples per epoch of every edge, ``weights / top`` in fixed point (module
    docstring), in one pass without float64 temporaries (at a million points each
    would be 160 MB of memory touched for the first time).

    Parameters
    ----------
    weights : ndarray of shape (n_edges,)
        Positive memberships, each at most ``top``.
    top : float
        The weight sampled once per epoch.

    Returns
    -------
    ndarray of shape (n_edges,), uint32
        ``round(weights / top * 2**24)``, at most ``2**24``; 0 (never sampled) only
        for weights below ``top / 2**25``, which the layout graph has pruned.
    """
    m = weights.shape[0]
    out = np.empty(m, dtype=np.uint32)
    for e in range(m):
        out[e] = np.uint32(min(max(to_fixed(np.float64(weights[e]) / top), 0.0), float(ONE)))
    return out


def negative_rate(rate):
    """A negative-sample rate (float, >= 0) in the fixed point of :func:`negatives_due`."""
    return int(to_fixed(float(rate)))


@kernel(inline="always")
def sample_due(epoch, rate):
    """The number ``k >= 1`` of the edge's sample due in ``epoch`` (an int), or 0.

    ``rate`` is the edge's fixed-point samples per epoch (at most ``2**24``, so at
    most one sample is due per epoch).
    """
    x = np.int64(epoch) * np.int64(rate)
    if (x & _MASK) < np.int64(rate):
        return x >> _BITS
    return np.int64(0)


@kernel(inline="always")
def negatives_due(k, nu):
    """Negative samples drawn with the edge's ``k``-th sample (``k >= 1``), for the
    fixed-point rate ``nu`` (:func:`negative_rate`)."""
    return np.int64((k * nu) >> _BITS) - np.int64(((k - 1) * nu) >> _BITS)
