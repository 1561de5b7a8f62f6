"""The store interface: what the pipeline keeps between runs, behind a small set of methods.

A store holds documents (their clean text and everything learned about them), each document's
candidate keys per channel, relations, families, stories, the corpus counts the trace stage
reads (`Vocabulary`), the streaming story state and a few counters. `storytrace.index.Index`
runs the stages over a store; `MemoryStore` (store/memory.py) keeps it for one process,
`DuckDBStore` (store/duckdb.py) in one embedded DuckDB file that grows add by add.

Every method that changes the store must run inside `transaction()`: a store is always as
before or as after a whole add.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import numpy as np

from storytrace.errors import StorytraceError
from storytrace.model import (
    DocumentResult,
    Family,
    InputError,
    Relation,
    Story,
    document_from_dict,
    family_from_dict,
    field_names,
    relation_from_dict,
    story_from_dict,
)

# Version of the on-disk layout. A store refuses to open a file written by a newer version;
# an older one is brought up to date when opened for writing. 2: documents gain their
# story_similarity (a version 1 file gains the column, empty until its stories are rebuilt).
# 3: the containment channel's keys (word 2-grams) are kept; an older file's are computed
# from its stored texts by the first add after it is opened for writing.
FORMAT_VERSION = 3


class StoreError(StorytraceError):
    """A store that cannot be used: a newer format, a damaged file; names the path."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


class Store(ABC):
    """Persistence for `Index`: plain records in, plain records out; no stage logic here."""

    path: str
    # Set by transaction() as it begins: another process committed to the store since this
    # one's last commit (or its opening), so what a writer keeps in memory is stale.
    changed_elsewhere: bool = False

    # -- lifecycle ----------------------------------------------------------------------------
    @abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """All changes inside commit together or not at all."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def get_meta(self, key: str, default: Any = None) -> Any:
        """A JSON value kept under `key` (counters, format version, options)."""

    @abstractmethod
    def set_meta(self, key: str, value: Any) -> None: ...

    def drop_cache(self) -> None:
        """Give back memory the store keeps only to read faster (a file's cached blocks);
        nothing stored is lost. By default there is none."""

    @abstractmethod
    def get_blob(self, key: str) -> bytes | None: ...

    @abstractmethod
    def set_blob(self, key: str, value: bytes) -> None: ...

    @abstractmethod
    def remove_blob(self, key: str) -> None: ...

    # -- documents ----------------------------------------------------------------------------
    @abstractmethod
    def content_hashes(self, ids: Iterable[str]) -> dict[str, int]:
        """id -> content hash of the stored documents among `ids`."""

    @abstractmethod
    def add_documents(self, docs: list[DocumentResult], hashes: list[int]) -> None:
        """Append documents (positions follow the order of arrival)."""

    @abstractmethod
    def documents(self, ids: Iterable[str] | None = None) -> list[DocumentResult]:
        """Stored documents (all when `ids` is None), in order of arrival, with family/story."""

    @abstractmethod
    def positions(self, ids: Iterable[str]) -> dict[str, int]:
        """id -> position of arrival."""

    @abstractmethod
    def set_assignments(self, family_of: dict[str, str] | None = None,
                        story_of: dict[str, str] | None = None,
                        story_similarity: dict[str, float | None] | None = None) -> None:
        """Record the family and/or story of documents (and each one's similarity to its
        story)."""

    @abstractmethod
    def families_of(self, ids: Iterable[str]) -> dict[str, str]:
        """id -> family id of the stored documents among `ids`."""

    @abstractmethod
    def family_stories(self) -> dict[str, str]:
        """family id -> story id, for every family, in input order of its first member."""

    @abstractmethod
    def remove_documents(self, ids: list[str]) -> None:
        """Drop documents, their keys and every relation naming them."""

    @abstractmethod
    def document_ids(self) -> list[str]:
        """Every stored document's id, in order of arrival."""

    @abstractmethod
    def count(self, table: str) -> int:
        """Rows in one of: documents, keys, containment, relations, families, stories, units,
        errors."""

    # -- candidate keys -----------------------------------------------------------------------
    def forget_postings(self) -> None:
        """Drop what the store keeps in memory of its key tables (after a rollback)."""

    def load_keys(self) -> None:
        """Read the key tables into memory now, if the store keeps them there (else nothing):
        a long-lived process's first query is then as fast as the next."""

    @abstractmethod
    def add_keys(self, keys: dict[str, dict[str, np.ndarray]]) -> None:
        """doc id -> channel -> uint64 keys."""

    @abstractmethod
    def candidates(self, keys: list[dict[str, np.ndarray]], min_shared: dict[str, int],
                   max_df: int, limit: int) -> list[list[str]]:
        """For each new document's keys, the stored documents sharing at least
        `min_shared[channel]` keys of one channel with it (keys the store holds `max_df` times
        or more do not count, except LSH bands), the `limit` strongest per channel."""

    # -- containment keys (fingerprint.containment) ------------------------------------------
    @abstractmethod
    def add_containment(self, keys: dict[str, np.ndarray], cap: int) -> None:
        """doc id -> its unique word n-gram hashes; a hash already held by `cap` documents
        is not kept again (it is past every document-frequency cut-off for good)."""

    @abstractmethod
    def containment_problems(self) -> list[str]:
        """Documents whose kept containment size differs from a count over the stored keys
        (an integrity check; empty when sound)."""

    @abstractmethod
    def contained(self, keys: list[np.ndarray], min_containment: float, min_shared: int,
                  max_df: int, limit: int) -> list[list[str]]:
        """For each new document's n-gram hashes, the stored documents sharing at least
        `min_shared` of them, and at least `min_containment` of the smaller document's,
        counting only hashes held by at most `max_df` documents (stored and new together);
        the `limit` most contained first."""

    # -- relations, families, stories --------------------------------------------------------
    @abstractmethod
    def add_relations(self, relations: list[Relation], stage: str, story: str = "") -> None:
        """`stage` "match" or "reuse" (the latter belongs to `story` and is redone with it)."""

    @abstractmethod
    def relations(self, ids: Iterable[str] | None = None,
                  stage: str | None = None) -> list[Relation]:
        """Relations naming any of `ids` (all when None), of one `stage` or both: match
        relations in input order of (a, b), then reuse relations in the order they were made."""

    @abstractmethod
    def remove_reuse(self, stories: Iterable[str]) -> None: ...

    @abstractmethod
    def remove_relations(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Remove the match relations between these (a, b) pairs."""

    @abstractmethod
    def put_families(self, families: list[Family], first: dict[str, int]) -> None:
        """Insert or replace families (`first`: family id -> its first member's position)."""

    @abstractmethod
    def families(self, ids: Iterable[str] | None = None) -> list[Family]:
        """Families by id (all when None), in input order of their first member."""

    @abstractmethod
    def remove_families(self, ids: Iterable[str]) -> None: ...

    @abstractmethod
    def put_stories(self, stories: list[Story], first: dict[str, int]) -> None: ...

    @abstractmethod
    def stories(self, ids: Iterable[str] | None = None) -> list[Story]: ...

    @abstractmethod
    def remove_stories(self, ids: Iterable[str]) -> None: ...

    # -- streaming stories: one row per unit fed to the clusterer ----------------------------
    @abstractmethod
    def add_units(self, families: list[str], documents: list[list[str]]) -> None:
        """Record what was fed to the streaming clusterer, in order: each unit is a family's
        new documents. These rows are the clusterer's truth: its pickled state is a
        checkpoint, and the units after it are fed again on open (`unit_documents`)."""

    @abstractmethod
    def replace_units(self, start: int, families: list[str], documents: list[list[str]]) -> None:
        """Drop the units from position `start` on and record these in their place (a removal
        rewrites what the clusterer was fed, which is then fed again)."""

    @abstractmethod
    def units(self) -> tuple[list[str], np.ndarray]:
        """Each unit's family id and size, in the order they were fed."""

    @abstractmethod
    def unit_documents(self, start: int) -> list[list[str]]:
        """The document ids of the units from position `start` on."""

    @abstractmethod
    def rename_unit_family(self, old: str, new: str) -> None: ...

    # -- corpus counts (trace.wording.Vocabulary) --------------------------------------------
    @abstractmethod
    def add_counts(self, words: dict[str, int], lines: dict[str, int]) -> None:
        """Add (or, with negative values, subtract) document counts of words and page lines."""

    @abstractmethod
    def word_counts(self, words: Iterable[str]) -> dict[str, int]: ...

    @abstractmethod
    def line_counts(self, lines: Iterable[str]) -> dict[str, int]: ...

    # -- fact extractions ---------------------------------------------------------------------
    @abstractmethod
    def extractions(self, ids: Iterable[str]) -> dict[str, tuple]:
        """document id -> its kept `facts.merge.Extraction` (reference date, fact mentions,
        full names), for the ids that have one."""

    @abstractmethod
    def put_extractions(self, extracted: dict[str, tuple]) -> None:
        """Keep these documents' extractions (replacing what they had); a removed document's
        go with it."""

    # -- input errors -------------------------------------------------------------------------
    @abstractmethod
    def add_errors(self, errors: list[InputError]) -> None: ...

    @abstractmethod
    def errors(self) -> list[InputError]: ...


# -- the records as JSON, and back ------------------------------------------------------------
def to_json_dict(record: Any) -> dict[str, Any]:
    """`dataclasses.asdict(record)` for records that are JSON-dumped at once: the same dict
    (fields in order, nested dataclasses as dicts, lists, tuples and dicts rebuilt) without
    asdict's deep copy of every leaf, which made it a sizeable part of storing documents."""
    return _plain(record)


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind in _LEAVES:
        return value
    if kind is list:
        return [v if type(v) in _LEAVES else _plain(v) for v in value]
    names = field_names(kind)
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return type(value)(*map(_plain, value)) if hasattr(value, "_fields") else \
            tuple(_plain(v) for v in value)
    if isinstance(value, dict):
        return type(value)((_plain(k), _plain(v)) for k, v in value.items())
    return value


_LEAVES = frozenset({str, int, float, bool, type(None)})


def chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


__all__ = ["FORMAT_VERSION", "Store", "StoreError", "document_from_dict", "family_from_dict",
           "relation_from_dict", "story_from_dict", "to_json_dict"]
