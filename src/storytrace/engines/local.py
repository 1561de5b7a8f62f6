"""The local engine: batches in this process (one worker) or in a pool of worker processes.

Results come back in the order of the batches whatever order the workers finish in, and at
most `IN_FLIGHT * workers` batches are in flight, so a stream of batches (dedup) is read no
faster than the workers take it: memory holds a few batches, never the pile. `map_shared`
forks a pool of its own, whose workers inherit the shared object instead of receiving it
pickled; so does `map_batches` when it is given arguments besides the batches (as Ray puts
them in its object store once): they are often corpus-wide (the match stage's word rarity,
the cleaner's repeated lines), and pickled with every batch they cost the main process time
that grew with the corpus times the number of batches.
"""

from __future__ import annotations

import gc
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Self

from storytrace.engines import default_workers

# Batches in flight a worker. Results are yielded in batch order, so while the oldest batch
# runs long the other workers go on only with the batches already sent: at 2 a worker, one slow
# batch left its sibling idle. bench/dedup.py's 313 batches at 2 workers (per-batch times as
# measured, replayed as sleeps through this pool, so the machine's load does not enter): 2 ->
# 5.9-6.0 s, 4 -> 5.3 s, 8 -> 5.3 s, the work itself 5.2 s a worker (its slowest batch, with
# ftfy repairs, takes 9x the median).
IN_FLIGHT = 4


def _exit_with_parent() -> None:
    """Worker initializer: a worker whose parent is gone (killed with -9) exits too, instead of
    waiting for ever on the task queue its sibling workers keep open."""
    import os
    import threading
    import time

    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


_shared: Any = None  # in a worker of map_shared's pool: the object its batches read


def _start_shared(shared: Any) -> None:
    """Worker initializer of map_shared's pool (`shared` came with the fork, not pickled)."""
    global _shared
    _shared = shared
    _exit_with_parent()


def _call_shared(fn: Callable[..., Any], batch: Any, *args: Any) -> Any:
    return fn(_shared, batch, *args)


def _call_with_inherited_args(fn: Callable[..., Any], batch: Any) -> Any:
    return fn(batch, *_shared)


_NONE = object()


def _in_order(submit: Callable[[Any], Future], batches: Iterable[Any], window: int | None,
              *submitted: Future) -> Iterator[Any]:
    """The results of `submitted` and then of `submit(batch)` for each batch, in that order,
    with at most `window` futures pending (None: every batch submitted before the first
    result is awaited)."""
    pending: deque[Future] = deque(submitted)
    for batch in batches:
        pending.append(submit(batch))
        if window is not None and len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def _fork_context():
    # fork: a worker starts in milliseconds with the stages already imported; the workers only
    # run stage functions over the plain data they are sent (and map_shared's, what they
    # inherit).
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else None)


class LocalEngine:
    """`workers` processes (default: every core); 1 runs each batch in this process."""

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=_fork_context(),
                                             initializer=_exit_with_parent)
        return self._pool

    def map_batches(self, fn: Callable[..., Any], batches: Iterable[Any],
                    *args: Any) -> Iterator[Any]:
        if self.workers == 1:
            for batch in batches:
                yield fn(batch, *args)
            return
        if args:
            # The arguments reach each worker once, with the fork, not pickled with every batch
            # (the match stage's rarity: 13 MB pickled, 0.55 s, at 30,000 bench documents;
            # analyze there at 2 workers: main-process CPU 95.5 -> 91.8 s, and the saving
            # grows with the corpus times the number of batches).
            yield from self._forked(self.workers, args, _call_with_inherited_args, fn, batches,
                                    IN_FLIGHT * self.workers)
            return
        pool = self._executor()
        yield from _in_order(lambda batch: pool.submit(fn, batch), batches,
                             IN_FLIGHT * self.workers)

    def map_shared(self, fn: Callable[..., Any], shared: Any, batches: Iterable[Any],
                   *args: Any) -> Iterator[Any]:
        batches = list(batches)  # descriptions of work on `shared`: small, all sent at once
        if self.workers == 1 or len(batches) < 2:
            for batch in batches:
                yield fn(shared, batch, *args)
            return
        yield from self._forked(min(self.workers, len(batches)), shared, _call_shared, fn,
                                batches, None, *args)

    def _forked(self, processes: int, shared: Any, call: Callable[..., Any],
                fn: Callable[..., Any], batches: Iterable[Any], window: int | None,
                *args: Any) -> Iterator[Any]:
        """`call(fn, batch, *args)` for each batch, in order, on a pool of `processes` forked
        now, whose workers hold `shared` (`_shared`) as it is: inherited, never pickled. At
        most `window` batches in flight (None: all submitted at once)."""
        # This pool is forked from this process as it is now; the engine's own pool (forked
        # before `shared` existed) is closed first: no thread of it runs while this process
        # forks.
        self.close()
        pool = ProcessPoolExecutor(processes, mp_context=_fork_context(),
                                   initializer=_start_shared, initargs=(shared,))
        batches = iter(batches)
        try:
            first = next(batches, _NONE)
            if first is _NONE:
                return
            # The workers fork at the first submit. Frozen, the heap they inherit is left out
            # of their garbage collections, which would otherwise walk it and write to the
            # objects' headers, copying the pages they sit on (analyze, 2,000 bench documents,
            # 2 workers: 168,000 minor page faults in the workers with it, 197,000 without; the
            # CPU time saved, a few percent of the facts stage at most, is below this
            # machine's noise).
            gc.freeze()
            try:
                forked = pool.submit(call, fn, first, *args)
            finally:
                gc.unfreeze()
            yield from _in_order(lambda batch: pool.submit(call, fn, batch, *args), batches,
                                 window, forked)
        finally:
            pool.shutdown(cancel_futures=True)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
