"""The Ray engine: each batch is a Ray task, on this machine or on a cluster.

Needs the extra: `pip install 'storytrace[ray]'`. `ray.init()` starts Ray on this machine with
`workers` CPUs (default every core) unless an address names a running cluster to join
("auto" finds the one this machine belongs to). Batches run the same stage functions as the
local engine, sent by value; results come back in batch order, at most `IN_FLIGHT * workers`
tasks in flight (as locally), so a stream is read no faster than the cluster takes it. A task
whose worker dies is retried by Ray (`max_retries`, default 3); a task that raises fails the
run, as locally.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Self

from storytrace.engines import default_workers
from storytrace.engines.local import IN_FLIGHT
from storytrace.errors import MissingExtraError


def _call(fn: Callable[..., Any], batch: Any, *args: Any) -> Any:
    return fn(batch, *args)


# In a Ray worker process: the object of the latest map_shared call it ran a task of, by its
# object id. A task gets the id inside a list (Ray would fetch and unpickle a bare one for
# every task) and reads it from the object store once per process.
_shared: dict[str, Any] = {}


def _call_shared(fn: Callable[..., Any], boxed: list, batch: Any, *args: Any) -> Any:
    import ray

    (ref,) = boxed
    key = ref.hex()
    if key not in _shared:
        _shared.clear()  # one shared object at a time: an earlier call's is done with
        _shared[key] = ray.get(ref)
    return fn(_shared[key], batch, *args)


class RayEngine:
    """Batches as Ray tasks; `address` None starts Ray here with `workers` CPUs."""

    name = "ray"

    def __init__(self, workers: int | None = None, address: str | None = None,
                 max_retries: int = 3) -> None:
        try:
            import ray  # noqa: F401
        except ImportError as exc:
            raise MissingExtraError("the ray engine", "ray") from exc
        self.address = address
        self.workers = workers or default_workers()
        self.max_retries = max_retries
        self._started = False
        self._task = None
        self._shared_task = None

    def _start(self):
        import ray

        if not ray.is_initialized():
            if self.address:
                ray.init(address=self.address, log_to_driver=False)
            else:
                ray.init(num_cpus=self.workers, include_dashboard=False, log_to_driver=False)
            self._started = True
        if self._task is None:
            self._task = ray.remote(num_cpus=1, max_retries=self.max_retries)(_call)
            self._shared_task = ray.remote(num_cpus=1, max_retries=self.max_retries)(_call_shared)
        return ray

    def map_batches(self, fn: Callable[..., Any], batches: Iterable[Any],
                    *args: Any) -> Iterator[Any]:
        ray = self._start()
        shared = [ray.put(a) for a in args]  # sent to the object store once, not per task
        pending: deque = deque()
        for batch in batches:
            pending.append(self._task.remote(fn, batch, *shared))
            if len(pending) >= IN_FLIGHT * self.workers:
                yield ray.get(pending.popleft())
        while pending:
            yield ray.get(pending.popleft())

    def map_shared(self, fn: Callable[..., Any], shared: Any, batches: Iterable[Any],
                   *args: Any) -> Iterator[Any]:
        ray = self._start()
        boxed = [ray.put(shared)]  # in the object store once; read once per worker process
        refs = [ray.put(a) for a in args]
        pending: deque = deque()
        for batch in batches:
            pending.append(self._shared_task.remote(fn, boxed, batch, *refs))
            if len(pending) >= IN_FLIGHT * self.workers:
                yield ray.get(pending.popleft())
        while pending:
            yield ray.get(pending.popleft())

    def close(self) -> None:
        if self._started:
            import ray

            ray.shutdown()
            self._started = False
            self._task = None
            self._shared_task = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
