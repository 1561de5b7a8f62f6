"""The local engine's pool: a slow batch does not leave the other workers idle."""

from __future__ import annotations

import multiprocessing
import time

from storytrace.engines import local

# Inherited by the pool's forked workers (a shared counter cannot be sent pickled).
_done = multiprocessing.get_context("fork").Value("i", 0)


def _first_waits_for_others(batch: int, others: int) -> int:
    """Batch 0 waits (at most 10 s) until `others` later batches are done; the rest count."""
    if batch == 0:
        deadline = time.monotonic() + 10
        while _done.value < others and time.monotonic() < deadline:
            time.sleep(0.005)
        return _done.value
    with _done.get_lock():
        _done.value += 1
    return batch


def test_a_slow_first_batch_leaves_the_other_worker_busy():
    """Results come back in batch order; while the first batch runs, the second worker goes on
    with at least the 7 batches after it (4 a worker in flight: bench/dedup.py's batches left a
    worker idle at 2)."""
    _done.value = 0
    others = 7
    with local.LocalEngine(2) as engine:
        started = time.monotonic()
        results = list(engine.map_batches(_first_waits_for_others, range(20), others))
    assert results[0] >= others, "the second worker ran out of batches behind the first"
    assert results[1:] == list(range(1, 20))
    assert time.monotonic() - started < 10
