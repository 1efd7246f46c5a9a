"""Run-time plumbing shared by the stages: threads, seeds, stage timing, progress."""
import contextlib
import logging
import os
import time
import traceback

import numpy as np

logger = logging.getLogger("densumap")


@contextlib.contextmanager
def numba_threads(n_jobs):
    """Use ``n_jobs`` numba threads inside the block (-1 or None: all available)."""
    import numba

    before = numba.get_num_threads()
    limit = numba.config.NUMBA_NUM_THREADS
    wanted = limit if n_jobs in (None, -1) else int(n_jobs)
    if wanted < 0:
        wanted = max(limit + 1 + wanted, 1)
    numba.set_num_threads(max(1, min(wanted, limit)))
    try:
        yield
    finally:
        numba.set_num_threads(before)


@contextlib.contextmanager
def verbosity(verbose):
    """Route densumap's INFO logs to stderr inside the block when ``verbose``."""
    if not verbose:
        yield
        return
    handler = None
    old_level = logger.level
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("[densumap] %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.setLevel(old_level)
        if handler is not None:
            logger.removeHandler(handler)


@contextlib.contextmanager
def stage(name):
    """Log the wall time of a stage at INFO level."""
    start = time.perf_counter()
    yield
    logging.getLogger("densumap").info("%s: %.2f s", name, time.perf_counter() - start)


def resolve_seed(random_state):
    """An int seed from ``random_state`` (None draws one from OS entropy)."""
    from sklearn.utils import check_random_state

    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0] & 0x7FFFFFFF)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def epoch_progress(verbose, n_epochs, desc="epochs", tqdm_kwds=None):
    """A tqdm bar over epochs, or None; returns (callback, closer).

    The bar is shown when ``verbose``, unless ``tqdm_kwds`` has a ``"disable"``
    key, which then decides (as umap-learn's ``tqdm_kwds``). The other keys of
    ``tqdm_kwds`` (checked by :func:`check_tqdm_kwds`) override the defaults.
    """
    kwds = dict(tqdm_kwds or {})
    disable = kwds.pop("disable", not verbose)
    if disable is True or n_epochs == 0:
        return None, (lambda: None)
    if disable is not False:  # tqdm's None: disabled when not writing to a terminal
        kwds["disable"] = disable
    from tqdm.auto import tqdm

    bar = tqdm(total=n_epochs, **{"desc": desc, "unit": "epoch", "leave": False, **kwds})
    return (lambda: bar.update(1)), bar.close


def check_tqdm_kwds(tqdm_kwds):
    """Raise ``ValueError`` for a ``tqdm_kwds`` key tqdm does not take (or that densumap sets).

    ``total`` and ``iterable`` are set from the number of epochs.
    """
    if not tqdm_kwds:
        return
    import inspect

    from tqdm.std import tqdm

    allowed = set(inspect.signature(tqdm.__init__).parameters) - {
        "self", "iterable", "total", "kwargs", "gui"}
    bad = sorted(str(k) for k in tqdm_kwds if k not in allowed)
    if bad:
        raise ValueError(
            f"tqdm_kwds has keys that the progress bar does not take: {bad} (total and "
            f"iterable come from the number of epochs); got tqdm_kwds={tqdm_kwds!r}."
        )


# Delay before a signal swallowed in a destructor is sent again: the main thread has
# then left the destructor.
_REDELIVER_S = 0.02


@contextlib.contextmanager
def signals_raise(terminated):
    """Inside the block SIGINT raises KeyboardInterrupt and SIGTERM ``terminated()``.

    SIGTERM's default action ends the process without running ``finally``
    blocks, which would leave temporary files behind; raising lets every writer
    clean up. Each signal is acted on once: a second one while the first is
    being handled (a temporary file being removed) is ignored, so the clean-up
    completes. Only in the main thread, where Python delivers signals; the
    previous handlers are restored on exit.

    Python runs the handler between any two bytecodes of the main thread. While
    the main thread compiles (holds numba's compiler lock) a signal is only
    recorded, and acted on when the lock is released: an exception raised inside
    LLVM's bindings can leave them half built, and the process then crashed
    (SIGSEGV) instead of reporting the interrupt. Elsewhere the handler may run
    inside a destructor, where the raised exception cannot propagate: Python
    reports it as "Exception ignored in ..." and carries on, and the signal
    would be lost; such a swallowed signal is delivered again, from a helper
    thread, so that it lands in ordinary code. Once a signal has been acted on,
    the other exceptions Python can only report that way (a destructor failing
    on an object the interrupt left half built) go to the ``densumap`` logger
    at DEBUG level instead of stderr: they are the interrupt's echo, not a
    second failure. Before a signal they are printed as usual.

    Parameters
    ----------
    terminated : type of BaseException
        Raised on SIGTERM.

    Yields
    ------
    fired : list of int
        The signal acted on, once there is one (empty before). A library that
        catches the raised exception can raise another one in its place; the
        caller can tell from ``fired`` that such an error is the interrupt's.
    """
    import signal
    import sys
    import threading

    fired = []
    if threading.current_thread() is not threading.main_thread():
        yield fired
        return
    previous_hook = sys.unraisablehook

    def unraisable(report):
        if fired and isinstance(report.exc_value, (KeyboardInterrupt, terminated)):
            signum = fired.pop()  # swallowed where it was raised: act on it again
            logger.debug("%s raised in %r, which cannot propagate it; delivering it again",
                         signal.Signals(signum).name, report.object)
            threading.Timer(_REDELIVER_S, os.kill, (os.getpid(), signum)).start()
        elif fired:
            log_unraisable(report)
        else:
            previous_hook(report)

    compiling = _CompileHold()

    def handler(signum, frame):
        if fired:
            return
        if compiling.defer(signum):
            return  # sent again when the compile ends
        fired.append(signum)
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise terminated

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    sys.unraisablehook = unraisable
    try:
        yield fired
    finally:
        compiling.close()
        for sig, old in previous.items():
            signal.signal(sig, old)
        sys.unraisablehook = previous_hook


class _CompileHold:
    """Holds back a signal that arrives while this (the main) thread holds numba's
    compiler lock, and sends it again once the lock is released.

    Nothing is imported or registered until such a signal arrives: a command that
    fails before numba is imported does not pay for numba's import. Another thread's
    compile is not held against: the main thread is then outside the compiler.
    """

    _KIND = "numba:compiler_lock"

    def __init__(self):
        self._pending = None
        self._listener = None

    def defer(self, signum):
        """True (and ``signum`` kept) when the calling thread is inside a compile."""
        import sys

        compiler_lock = sys.modules.get("numba.core.compiler_lock")
        if compiler_lock is None or not compiler_lock.global_compiler_lock.is_locked():
            return False
        if self._pending is None:
            self._pending = signum
        if self._listener is None:
            from numba.core import event

            hold = self

            class _Listener(event.Listener):
                def on_start(self, ev):
                    pass

                def on_end(self, ev):  # numba calls it after releasing its lock
                    if not compiler_lock.global_compiler_lock.is_locked():
                        hold._send()

            self._listener = _Listener()
            event.register(self._KIND, self._listener)
        return True

    def _send(self):
        signum, self._pending = self._pending, None
        if signum is not None:
            os.kill(os.getpid(), signum)

    def close(self):
        """Stop listening to numba's compiler lock."""
        if self._listener is not None:
            from numba.core import event

            event.unregister(self._KIND, self._listener)
            self._listener = None


def log_unraisable(report):
    """A ``sys.unraisablehook`` that logs the exception at DEBUG level instead of printing it.

    Parameters
    ----------
    report : object
        The ``UnraisableHookArgs`` Python passes to the hook.
    """
    if not logger.isEnabledFor(logging.DEBUG):
        return  # nothing imported or formatted: at shutdown the import system is gone
    where = report.err_msg or "Exception ignored in"
    text = "".join(traceback.format_exception(report.exc_type, report.exc_value,
                                              report.exc_traceback))
    logger.debug("%s %r after the interrupt:\n%s", where, report.object, text)
