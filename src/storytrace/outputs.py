"""Output directories that hold exactly one run's outputs, whatever happens.

A run writes into a fresh hidden directory beside `--out` and swaps it in at the end (one
atomic exchange of the two directories on Linux, two renames elsewhere), so a reader sees the
old outputs or the new ones, never a mix, and a run killed half-way leaves the old ones whole.
A lock file beside `--out` refuses a second run into the same directory while one is writing.
The writers in `storytrace.report` and `storytrace.dedup` only write into the directory they
are given.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from storytrace.errors import OutputError

# Files by which an existing directory is known as an earlier run's outputs (analyze, dedup).
OUTPUT_MARKERS = ("result.json", "report.html", "mapping.jsonl", "documents.jsonl")


def check_out(out: Path, inputs: Iterable[str | Path] = ()) -> None:
    """Raise OutputError unless `out` can take a run's outputs: a new or empty directory, or
    one holding an earlier run's outputs; writable; not holding any of the inputs (the swap
    would delete them). Called before any work, so a bad --out costs nothing."""
    out = Path(os.path.abspath(out))
    if out.exists() and not out.is_dir():
        raise OutputError(str(out), "is a file, not a directory")
    for raw in inputs:
        path = Path(os.path.abspath(raw))
        if path == out or out in path.parents:
            raise OutputError(str(out), f"holds the input {raw}; the outputs replace the "
                                        "directory, so write them elsewhere")
    if out.is_dir():
        entries = [e for e in os.listdir(out) if not e.startswith(".")]
        if entries and not any(e in OUTPUT_MARKERS for e in entries):
            raise OutputError(str(out), "holds other files; give a new or empty directory "
                                        "(a run replaces the directory's contents)")
    parent = out.parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(str(out), f"cannot create files in {parent}")


@contextlib.contextmanager
def atomic_output(out: Path) -> Iterator[Path]:
    """A fresh directory to write a run's outputs into; on success it replaces `out` in one
    step, on any failure (or a kill) it is dropped and `out` is left as it was."""
    out = Path(os.path.abspath(out))
    out.parent.mkdir(parents=True, exist_ok=True)
    with _locked(out):
        _sweep(out)
        work = out.parent / f".{out.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
        work.mkdir()
        try:
            yield work
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
        _swap(work, out)


@contextlib.contextmanager
def _locked(out: Path) -> Iterator[None]:
    import fcntl

    lock_path = out.parent / f".{out.name}.lock"
    handle = lock_path.open("a")
    _held.add(handle.fileno())
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise OutputError(str(out), "another storytrace run is writing there") from exc
        yield
    finally:
        _held.discard(handle.fileno())
        handle.close()  # closing releases the lock; a killed run's lock goes with its process


# The lock files' descriptors this process holds open. A worker forked during a run (the local
# engine's pool) lets go of its copies at once: a flock belongs to the open file, so a copy in a
# worker kept a killed run's lock until that orphan noticed (up to a second) and refused the
# next run meanwhile. The workers write nothing beside --out; the run's own process does.
_held: set[int] = set()


def _release_in_child() -> None:
    """In a forked child: point each held lock descriptor at /dev/null (the lock file is no
    longer open here; the number stays taken, so the inherited file object's eventual close
    closes nothing else)."""
    if not _held:
        return
    null = os.open(os.devnull, os.O_RDONLY)
    for fd in _held:
        os.dup2(null, fd)
    os.close(null)
    _held.clear()


os.register_at_fork(after_in_child=_release_in_child)


def _sweep(out: Path) -> None:
    """Remove what killed runs left beside `out` (we hold the lock: no live run owns them);
    if one died between the two renames of the fallback swap, put its old outputs back."""
    leftovers = sorted(out.parent.glob(f".{out.name}.old-*"))
    if leftovers and not out.exists():
        leftovers[-1].rename(out)
    for stale in [*out.parent.glob(f".{out.name}.tmp-*"), *out.parent.glob(f".{out.name}.old-*")]:
        shutil.rmtree(stale, ignore_errors=True)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two directories in one step (Linux renameat2); False where that is unavailable."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    done = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return done == 0


def _swap(work: Path, out: Path) -> None:
    if not out.exists():
        work.rename(out)
        return
    if _exchange(work, out):
        shutil.rmtree(work, ignore_errors=True)  # it holds the old outputs now
        return
    old = out.parent / f".{out.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
    out.rename(old)
    work.rename(out)
    shutil.rmtree(old, ignore_errors=True)


__all__ = ["OUTPUT_MARKERS", "atomic_output", "check_out"]
