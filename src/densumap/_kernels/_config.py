"""Numba compilation flags, kept in one place.

Every compiled kernel in ``densumap._kernels`` is decorated through :func:`kernel` so
that the flags are explicit and uniform:

* ``cache=True`` writes the machine code next to the module, so a second process
  does not compile again;
* ``nogil=True`` lets Python threads (e.g. Dask workers) run kernels side by side;
* ``fastmath`` is off by default because it assumes no inf or NaN anywhere, which
  breaks sentinels such as an infinite upper bound; hot loops that only see finite
  values opt in with ``kernel(fastmath=True)``. It never makes results depend on the
  thread count, since each output element is computed by one thread running the
  same instructions.

Kernels are compiled lazily on first call, so ``import densumap`` compiles nothing.
"""
import numba

# Fast-math flags of loops that sum many finite terms: reassociation lets the compiler
# split a sum into vector lanes (a float sum is otherwise one serial chain of additions,
# bound by the adder's latency) and contraction lets it fuse multiply-adds. The order of
# the additions is then the compiler's, but fixed in the compiled code: every thread runs
# the same instructions, so results still do not depend on the thread count. No inf or NaN
# assumptions are made, so sentinels such as an infinite bound stay valid.
SUMS = {"reassoc", "contract", "nsz"}

_BASE = dict(nogil=True, cache=True, fastmath=False)


def kernel(parallel=False, **overrides):
    """Return ``numba.njit`` configured with the project's flags.

    Parameters
    ----------
    parallel : bool, default=False
        Compile with ``parallel=True`` so that ``numba.prange`` loops use threads.
    **overrides
        Any other ``numba.njit`` option, for the rare kernel that needs one.
    """
    flags = dict(_BASE, parallel=parallel)
    flags.update(overrides)
    return numba.njit(**flags)
