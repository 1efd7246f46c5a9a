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


def epoch_progress(verbose, n_epochs, desc="epochs"):
    """A tqdm bar over epochs when verbose, else None; returns (callback, closer)."""
    if not verbose or n_epochs == 0:
        return None, (lambda: None)
    from tqdm.auto import tqdm

    bar = tqdm(total=n_epochs, desc=desc, unit="epoch", leave=False)
    return (lambda: bar.update(1)), bar.close


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
