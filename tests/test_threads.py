"""The task pools of densumap._threads: every task runs once, slots stay in range,
errors reach the caller, and the thread count follows numba's."""
import contextlib
import threading

import numba
import numpy as np
import pytest

from densumap._threads import n_slots, pool_threads, share_out, share_out_tree, task_pool


@pytest.mark.parametrize("threads", [1, 2, 5])
def test_every_task_runs_once_in_a_valid_slot(threads):
    seen = []
    slots = set()
    lock = threading.Lock()

    def run(task, slot):
        with lock:
            seen.append(task)
            slots.add(slot)

    with contextlib.ExitStack() as stack:
        pool = task_pool(threads, stack)
        assert (pool is None) == (threads == 1)
        share_out(pool, range(1000), run)
        assert sorted(seen) == list(range(1000))
        assert slots <= set(range(n_slots(pool)))
        assert n_slots(pool) == threads


def test_an_error_in_a_task_reaches_the_caller():
    done = []

    def run(task, slot):
        if task == 7:
            raise KeyError("task seven")
        done.append(task)

    with contextlib.ExitStack() as stack:
        pool = task_pool(3, stack)
        with pytest.raises(KeyError, match="task seven"):
            share_out(pool, range(10_000), run)
    # The other threads stopped taking tasks soon after the error.
    assert len(done) < 10_000 - 1


def test_pool_threads_doubles_only_when_numba_uses_every_core():
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        assert pool_threads() == 1
        if numba.config.NUMBA_NUM_THREADS >= 2:
            numba.set_num_threads(numba.config.NUMBA_NUM_THREADS)
            assert pool_threads() == 2 * numba.config.NUMBA_NUM_THREADS
            assert pool_threads(oversubscribe=False) == numba.config.NUMBA_NUM_THREADS
        if numba.config.NUMBA_NUM_THREADS >= 3:
            numba.set_num_threads(2)
            assert pool_threads() == 2
    finally:
        numba.set_num_threads(before)


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_tree_tasks_run_once_each_after_both_children(threads):
    n_levels = 4
    rng = np.random.default_rng(threads)
    weights = [rng.integers(0, 3, 1 << (n_levels - level)) for level in range(n_levels + 1)]
    weights[n_levels][0] = 1
    done = {}
    lock = threading.Lock()
    clock = iter(range(10 ** 6))

    def run(level, q):
        with lock:
            assert (level, q) not in done
            if level > 0:  # every task below it that runs has finished
                for sub in range(1, level + 1):
                    for c in range(q << sub, (q + 1) << sub):
                        if weights[level - sub][c] > 0:
                            assert (level - sub, c) in done
            done[(level, q)] = next(clock)

    with contextlib.ExitStack() as stack:
        share_out_tree(task_pool(threads, stack), n_levels, weights, run)
    expected = {(level, q) for level in range(n_levels + 1)
                for q in range(1 << (n_levels - level)) if weights[level][q] > 0}
    assert set(done) == expected
    assert max(done, key=done.get) == (n_levels, 0)


def test_an_error_in_a_tree_task_reaches_the_caller():
    weights = [[1] * 8, [1] * 4, [1] * 2, [1]]

    def run(level, q):
        if (level, q) == (1, 2):
            raise ValueError("part (1, 2)")

    with contextlib.ExitStack() as stack:
        with pytest.raises(ValueError, match=r"part \(1, 2\)"):
            share_out_tree(task_pool(3, stack), 3, weights, run)
