"""Run-time plumbing shared by the stages: threads, seeds, stage timing, progress."""
import contextlib
import logging
import time

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


@contextlib.contextmanager
def signals_raise(terminated):
    """Inside the block SIGINT raises KeyboardInterrupt and SIGTERM ``terminated()``.

    SIGTERM's default action ends the process without running ``finally``
    blocks, which would leave temporary files behind; raising lets every writer
    clean up. Each signal is acted on once: a second one while the first is
    being handled (a temporary file being removed) is ignored, so the clean-up
    completes. Only in the main thread, where Python delivers signals; the
    previous handlers are restored on exit.

    Parameters
    ----------
    terminated : type of BaseException
        Raised on SIGTERM.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = []

    def handler(signum, frame):
        if fired:
            return
        fired.append(signum)
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise terminated

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
