"""The local engine: batches in this process (one worker) or in a pool of worker processes.

Results come back in the order of the batches whatever order the workers finish in, and at
most `2 * workers` batches are in flight, so a stream of batches (dedup) is read no faster
than the workers take it: memory holds a few batches, never the pile.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Self

from storytrace.engines import default_workers


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


class LocalEngine:
    """`workers` processes (default: every core); 1 runs each batch in this process."""

    name = "local"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # fork: a worker starts in milliseconds with the stages already imported; the
            # workers only run stage functions over the plain data they are sent.
            methods = multiprocessing.get_all_start_methods()
            context = multiprocessing.get_context("fork" if "fork" in methods else None)
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context,
                                             initializer=_exit_with_parent)
        return self._pool

    def map_batches(self, fn: Callable[..., Any], batches: Iterable[Any],
                    *args: Any) -> Iterator[Any]:
        if self.workers == 1:
            for batch in batches:
                yield fn(batch, *args)
            return
        pool = self._executor()
        pending: deque[Future] = deque()
        for batch in batches:
            pending.append(pool.submit(fn, batch, *args))
            if len(pending) >= 2 * self.workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
