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


def _sizes(texts: list[str]) -> list[tuple[str, int]]:
    return [(type(text).__name__, len(text)) for text in texts]


def test_texts_reach_the_workers_as_they_are_and_stay_as_they_were_here():
    """Texts shipped as `Texts` arrive as a plain list of the same strings (accents, curly
    quotes, a lone surrogate), and the strings kept here do not grow by the UTF-8 copy that
    pickling a non-ASCII str leaves inside it."""
    import pickle
    import sys

    from storytrace.engines import Texts

    texts = ["Caf\u00e9 owners said \u201cno\u201d. " * 50, "plain ASCII", "", "lone \ud800 half"]
    sizes = [sys.getsizeof(text) for text in texts]
    with local.LocalEngine(2) as engine:
        shipped = list(engine.map_batches(_sizes, [Texts(texts), Texts(texts[:1])]))
    assert shipped == [[("str", len(text)) for text in texts], [("str", len(texts[0]))]]
    assert pickle.loads(pickle.dumps(Texts(texts))) == texts
    assert [sys.getsizeof(text) for text in texts] == sizes
    pickle.dumps(texts)  # a plain list: CPython keeps each non-ASCII text's UTF-8 in it
    assert sys.getsizeof(texts[0]) > sizes[0]
