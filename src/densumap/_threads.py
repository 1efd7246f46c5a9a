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


def share_out_tree(pool, n_levels, weights, run):
    """Run the tasks of a complete binary tree bottom-up, each as soon as its two
    children are done, on ``pool``'s threads and the calling one.

    Task ``(level, q)``, ``0 <= level <= n_levels`` and ``0 <= q < 2 ** (n_levels -
    level)``, may start once ``(level - 1, 2 q)`` and ``(level - 1, 2 q + 1)`` are done;
    the leaves (level 0) may start at once. ``weights[level][q]`` is the work of a task:
    0 means there is nothing to run (it only completes its parent's wait). A free thread
    takes the ready task of the highest level first (the path to the root is what the
    others will wait for), then the heaviest. ``run(level, q)`` is called once per task
    of positive weight.

    Unlike a loop over the levels, no thread waits at the end of a level for the others:
    a thread that finishes early goes on with a part of another subtree.
    """
    import heapq

    n_tasks = (1 << (n_levels + 1)) - 1
    if pool is None:
        for level in range(n_levels + 1):
            for q in range(1 << (n_levels - level)):
                if weights[level][q] > 0:
                    run(level, q)
        return
    cond = threading.Condition()
    ready = []
    children_done = [[0] * (1 << (n_levels - level)) for level in range(n_levels + 1)]
    state = {"left": n_tasks, "error": None}

    def complete(level, q):
        # Called with the lock held: finish (level, q) and whatever that makes ready.
        while True:
            state["left"] -= 1
            if level == n_levels:
                cond.notify_all()
                return
            level, q = level + 1, q // 2
            children_done[level][q] += 1
            if children_done[level][q] < 2:
                return
            if weights[level][q] > 0:
                heapq.heappush(ready, (-level, -weights[level][q], q))
                cond.notify()
                return

    with cond:
        for q in range(1 << n_levels):
            if weights[0][q] > 0:
                heapq.heappush(ready, (0, -weights[0][q], q))
            else:
                complete(0, q)

    def work():
        while True:
            with cond:
                while not ready and state["left"] and state["error"] is None:
                    cond.wait()
                if state["error"] is not None or not state["left"]:
                    return
                neg_level, _, q = heapq.heappop(ready)
            try:
                run(-neg_level, q)
            except BaseException as exc:
                with cond:
                    state["error"] = exc
                    cond.notify_all()
                raise
            with cond:
                complete(-neg_level, q)

    helpers = [pool.submit(work) for _ in range(pool.n_helpers)]
    try:
        work()
    finally:
        for future in helpers:
            future.exception()
    if state["error"] is not None:
        raise state["error"]
