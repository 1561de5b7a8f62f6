"""MemoryStore: the store for one process (analyze, tests): DuckDB in memory, nothing on disk."""

from __future__ import annotations

from dataclasses import replace

from storytrace.model import DocumentResult
from storytrace.store.duckdb import DuckDBStore


class MemoryStore(DuckDBStore):
    """The same tables and queries as the persistent store, held in memory and gone on close.

    Documents are kept as objects beside their rows, not as JSON in them: analyze stores every
    document once and reads them all back to export, and writing and reading that JSON was a
    serial part of its main process (about 0.9 ms a document, bench/results/scale.txt).
    `documents()` gives copies, as reading JSON does: a caller changing one changes nothing
    stored. A removed document's object stays until the store is closed: a transaction rolled
    back brings its row back.
    """

    def __init__(self) -> None:
        super().__init__(":memory:")
        self._kept: dict[str, DocumentResult] = {}

    def _bodies(self, docs: list[DocumentResult]) -> list[str | None]:
        for doc in docs:
            self._kept[doc.id] = _copy(doc)
        return [None] * len(docs)

    def _document(self, doc_id: str, body: str | None, family: str | None, story: str | None,
                  similarity: float | None) -> DocumentResult:
        return _copy(self._kept[doc_id], family=family or "", story=story or "",
                     story_similarity=similarity)


def _copy(doc: DocumentResult, **changes) -> DocumentResult:
    """`doc` with its own lists (the fields stages extend: notes), the rest shared."""
    return replace(doc, removed=list(doc.removed), attribution=list(doc.attribution),
                   notes=list(doc.notes), **changes)


__all__ = ["MemoryStore"]
