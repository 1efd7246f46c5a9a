"""Numba compilation flags, kept in one place.

Every compiled kernel in ``densumap._kernels`` is decorated through :func:`kernel` so
that the flags are explicit and uniform:

* ``cache=True`` writes the machine code next to the module, so a second process
  does not compile again; an entry is refused after any change to any file of this
  package (:mod:`densumap._kernels._cache`), not only to its own module;
* ``nogil=True`` lets Python threads (e.g. Dask workers) run kernels side by side;
* ``fastmath`` is off by default; hot loops opt in with one of the explicit flag sets
  below (:data:`FAST`, :data:`SUMS`), never ``fastmath=True``. It never makes results
  depend on the thread count, since each output element is computed by one thread
  running the same instructions.

Kernels are compiled lazily on first call, so ``import densumap`` compiles nothing.
"""
import os

import numba

from ._cache import register_root

# Every kernel's cache entry is checked against all of this package's sources, not only
# its own module's (a kernel carries the machine code of the kernels it calls).
register_root(os.path.dirname(os.path.abspath(__file__)))

# Why the fast-math flags are a fixed subset: numba optimises a kernel's code more than
# once. The body of a ``parallel=True`` loop is compiled and optimised as a library of its
# own, and the process that compiles it runs that copy; the kernel links the same body
# into its own module and optimises it again, and that twice-optimised copy is what the
# on-disk cache stores and every later process runs (a callee that is not inlined is in
# the same position). With ``fastmath=True`` the second optimisation changed values: with
# ``arcp`` it rewrote ``x / y`` as ``x * (1 / y)`` in some places and not others, and
# with ``reassoc`` plus ``nsz`` LLVM's reassociation and instcombine reordered sums again,
# so a seeded UMAP fit differed between the compiling process and the rest. The flags
# kept here cannot change a finite result when code is optimised again:
#
# * ``reassoc`` without ``nsz``: LLVM's Reassociate pass and its reassociating folds need
#   both, so they stay off; the vectorisers still split a sum into vector lanes, and
#   they fix that order when they vectorise (already-vectorised code is not redone);
# * ``contract``: multiply-adds fused by instruction selection, pair by pair (only in
#   :data:`FAST`: where a fused and an unfused copy of the same sum can coexist, it did
#   change values, see :data:`SUMS`);
# * ``nnan``, ``ninf``: no NaN or inf is assumed, so finite values are unchanged. Only
#   in :data:`FAST`, for loops that never see them (no infinite sentinels).
#
# Measured: the 200-epoch UMAP layout of 20,000 Fashion-MNIST images takes the same CPU
# time as with ``fastmath=True`` (BENCHMARKS.md), and dropping ``reassoc`` too cost ~50%
# (the batch of negative samples is no longer vectorised).
FAST = {"reassoc", "contract", "nnan", "ninf"}
# Loops that sum many finite terms but may meet sentinels: reassociation lets the
# compiler split a sum into vector lanes (a float sum is otherwise one serial chain of
# additions, bound by the adder's latency). Not ``contract``: with it, the kNN's float32
# distances (784-d rows, 4 at a time, in the random-projection trees' leaf joins) rounded
# differently in the process that compiled them and in every process that loaded them
# from the cache, so the compiling process found other neighbours (Fashion-MNIST,
# 70,000 images: one row; a 6,000 x 784 mixture: the heaps after the trees); with
# ``reassoc`` alone both agree (tests/test_determinism.py). The fusion's speed was not
# needed: the whole kNN of the 70,000 images took 4.70-5.23 s against 4.79-5.35 s
# (BENCHMARKS.md, eighteenth session), though four 784-d pairs of uint16 rows alone
# measured 75-79 ns against 64-68 ns with it.
SUMS = {"reassoc"}
_ALLOWED = frozenset(FAST)

_BASE = dict(nogil=True, cache=True, fastmath=False)


def kernel(parallel=False, **overrides):
    """Return ``numba.njit`` configured with the project's flags.

    Parameters
    ----------
    parallel : bool, default=False
        Compile with ``parallel=True`` so that ``numba.prange`` loops use threads.
    **overrides
        Any other ``numba.njit`` option, for the rare kernel that needs one;
        ``fastmath`` must be False or a subset of :data:`FAST`.
    """
    flags = dict(_BASE, parallel=parallel)
    flags.update(overrides)
    fastmath = flags["fastmath"]
    if fastmath is not False and not (isinstance(fastmath, (set, frozenset))
                                      and fastmath <= _ALLOWED):
        raise ValueError(f"fastmath must be False or a subset of {sorted(_ALLOWED)} "
                         f"(see densumap._kernels._config), got {fastmath!r}")
    return numba.njit(**flags)
