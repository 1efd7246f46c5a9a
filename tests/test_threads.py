"""The task pools of densumap._threads: every task runs once, slots stay in range,
errors reach the caller, and the thread count follows numba's."""
import contextlib
import threading

import numba
import pytest

from densumap._threads import n_slots, pool_threads, share_out, task_pool


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
