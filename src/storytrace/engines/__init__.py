"""Engines decide *where* a stage's batches run; they never contain stage logic.

    engine = get_engine("local", workers=2)       # or "ray" (pip install 'storytrace[ray]')
    for texts in engine.map_batches(clean_batch, batches, options):
        ...                                        # results in input order, streaming

A stage hands an engine a module-level function and an iterable of batches (lists of plain
data); the engine calls `fn(batch, *args)` for each batch, somewhere, and yields the results
in the order of the batches. The same function runs in the same way under every engine, so a
run at one worker, at N worker processes and on a Ray cluster gives the same answer
(tests/test_engines.py compares them). The stages hand an engine of one worker, local or
ray, no batches (stages._parts): they run in this process, as with no engine.

    for html in engine.map_shared(draw_stories, report, parts):
        ...                                        # draw_stories(report, part) per part

`map_shared` is for work that reads one large object (the documents whose stories' facts are
merged; the finished Result, to write the outputs): the object reaches each worker once, not
once per batch. The local engine forks fresh workers that inherit it (nothing is pickled);
Ray puts it in its object store once and each worker process reads it from there once.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar

from storytrace.errors import ConfigError

B = TypeVar("B")
R = TypeVar("R")

ENGINES = ("local", "ray")


class Engine(Protocol):
    """Where batches run: `map_batches(fn, batches, *args)` yields `fn(batch, *args)` in order."""

    name: str
    workers: int

    def map_batches(self, fn: Callable[..., R], batches: Iterable[B], *args: Any) -> Iterator[R]:
        ...

    def map_shared(self, fn: Callable[..., R], shared: Any, batches: Iterable[B],
                   *args: Any) -> Iterator[R]:
        """`fn(shared, batch, *args)` for each batch, in order; `shared` is sent to each worker
        once (each holds its own copy: what `fn` changes in it stays there)."""
        ...

    def close(self) -> None:
        ...


def default_workers() -> int:
    """Every core this process may run on (the CPU affinity mask, else os.cpu_count())."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def get_engine(name: str = "local", workers: int | None = None,
               address: str | None = None) -> Engine:
    """An engine by name: "local" (in-process at one worker, else a process pool of `workers`,
    default every core) or "ray" (`ray.init(address)`: this machine when None). A bad name or
    count, or an address for the local engine, is a ConfigError; Ray not installed, a
    MissingExtraError (both before anything starts)."""
    if name not in ENGINES:
        raise ConfigError(f"engine must be one of {', '.join(ENGINES)}, not {name!r}")
    if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool)):
        raise ConfigError(f"workers must be a whole number, not {workers!r}")
    if workers is not None and workers < 1:
        raise ConfigError("workers must be at least 1")
    if address is not None and name != "ray":
        raise ConfigError("a Ray address needs the ray engine (engine='ray', --engine ray)")
    if name == "local":
        from storytrace.engines.local import LocalEngine

        return LocalEngine(workers)
    from storytrace.engines.ray import RayEngine

    return RayEngine(workers, address)


def batched(items: Iterable[B], size: int) -> Iterator[list[B]]:
    """Consecutive lists of `size` items (the last one shorter)."""
    batch: list[B] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def part_count(n_items: int, workers: int, max_size: int) -> int:
    """How many parts to cut `n_items` into for `workers`: at least 4 a worker, so one slow
    part does not leave the others idle, and enough that none holds over `max_size` (the
    parts in flight, four a worker, are held in memory)."""
    return max(4 * workers, -(-n_items // max_size))


def split(items: list[B], parts: int, min_size: int = 1) -> list[list[B]]:
    """`items` in at most `parts` consecutive lists of near-equal size (none under min_size
    unless there are fewer items), for a stage that holds its whole input already."""
    if not items:
        return []
    parts = max(1, min(parts, len(items) // max(1, min_size)))
    size, extra = divmod(len(items), parts)
    out, start = [], 0
    for n in range(parts):
        end = start + size + (n < extra)
        out.append(items[start:end])
        start = end
    return out


def parts_for(items: list[B], engine: Engine | None, min_size: int, max_size: int
              ) -> list[list[B]] | None:
    """`items` in consecutive parts for the engine's workers (`part_count` of them, none under
    `min_size` unless there are fewer items), or None when the engine has one worker or there
    are under `2 * min_size` items: the caller then runs in this process, nothing shipped."""
    if engine is None or engine.workers == 1 or len(items) < 2 * min_size:
        return None
    return split(items, part_count(len(items), engine.workers, max_size), min_size)


class Texts(list):
    """Texts to ship to other processes: a list of str that arrives there as a plain list,
    pickled as the texts' UTF-8.

    CPython keeps the UTF-8 of a str that is not all ASCII inside the str once it has been
    pickled, for as long as the str lives: the clean texts that stages ship to their workers,
    and that this process keeps, were held twice after (analyze, 30,000 bench documents: 106
    MB). Encoded here, that copy is freed once the batch is pickled.
    """

    __slots__ = ()

    def __reduce__(self) -> tuple[Callable[[list[bytes]], list[str]], tuple[list[bytes]]]:
        return _decoded, ([text.encode("utf-8", "surrogatepass") for text in self],)


def _decoded(encoded: list[bytes]) -> list[str]:
    return [data.decode("utf-8", "surrogatepass") for data in encoded]


def weighted_parts(items: list[B], weights: Iterable[int], share: int) -> list[list[B]]:
    """`items` in consecutive parts, each closed once its items' weights reach `share` (work
    whose items differ in size, e.g. stories of 2 and of 200 documents, in parts of about
    equal weight)."""
    parts: list[list[B]] = []
    part: list[B] = []
    size = 0
    for item, weight in zip(items, weights, strict=True):
        part.append(item)
        size += weight
        if size >= share:
            parts.append(part)
            part, size = [], 0
    if part:
        parts.append(part)
    return parts


__all__ = ["ENGINES", "Engine", "Texts", "batched", "default_workers", "get_engine",
           "part_count", "parts_for", "split", "weighted_parts"]
