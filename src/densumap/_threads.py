"""Python thread pools that share serial kernels out as tasks.

numba's ``prange`` splits a loop into one fixed share per thread and ends it with a
barrier. Beside another busy program a thread that loses its core then holds every
other thread at the barrier, once per parallel loop. The stages that matter on a busy
machine (the SGD epochs, the kNN search) instead cut their work into many more tasks
than threads and run a *serial* kernel per task (kernels release the GIL) from a pool
of Python threads: a thread takes the next task when it is free, and one that has
nothing left returns instead of spinning. Each task writes only its own outputs, so
the result does not depend on how the tasks are shared out.
"""
import threading
from concurrent.futures import ThreadPoolExecutor

import numba


def pool_threads(oversubscribe=True):
    """Threads for a task pool: ``numba.get_num_threads()``, doubled when ``oversubscribe``
    and that is every core this process may use.

    Beside another busy program the scheduler shares the cores out per thread, so twice
    as many threads win back the share of the cores that the other program took (layout
    stage of 70,000 Fashion-MNIST images beside one busy loop: 14.5 s with 2 threads,
    11.5 s with 4; idle 7.9 s both; BENCHMARKS.md). "Every core" is numba's pool size
    (``NUMBA_NUM_THREADS``, which numba sets to the usable cores), as for ``n_jobs=-1``
    in :func:`densumap._runtime.numba_threads`; a chosen ``n_jobs`` below it is never
    exceeded.
    """
    threads = numba.get_num_threads()
    if oversubscribe and threads >= 2 and threads >= numba.config.NUMBA_NUM_THREADS:
        threads *= 2
    return threads


def task_pool(threads, stack):
    """A pool whose ``threads - 1`` helpers and the calling thread run tasks; None for one
    thread. ``stack`` (a :class:`contextlib.ExitStack`) shuts the pool down."""
    if threads < 2:
        return None
    pool = stack.enter_context(ThreadPoolExecutor(threads - 1, thread_name_prefix="densumap"))
    pool.n_helpers = threads - 1
    return pool


def n_slots(pool):
    """Number of distinct ``slot`` values :func:`share_out` passes (scratch rows to hold)."""
    return 1 if pool is None else pool.n_helpers + 1


def share_out(pool, tasks, run):
    """Call ``run(task, slot)`` for every task, on ``pool``'s threads and the calling one.

    ``slot`` (``0 <= slot < n_slots(pool)``) names the thread running the task, so that
    it can use scratch of its own; it must never influence the result. Without a pool the
    tasks run in order on the calling thread, in slot 0.
    """
    if pool is None:
        for task in tasks:
            run(task, 0)
        return
    tasks = iter(tasks)
    lock = threading.Lock()
    errors = []

    def work(slot):
        while not errors:
            with lock:
                task = next(tasks, None)
            if task is None:
                return
            try:
                run(task, slot)
            except BaseException as exc:  # stop the other threads, re-raise below
                errors.append(exc)
                raise

    helpers = [pool.submit(work, slot) for slot in range(1, pool.n_helpers + 1)]
    try:
        work(0)
    finally:
        for future in helpers:
            future.exception()  # waits; the first error is re-raised below
    if errors:
        raise errors[0]
