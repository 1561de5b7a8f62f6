"""MemoryStore: the store for one process (analyze, tests): DuckDB in memory, nothing on disk."""

from __future__ import annotations

from storytrace.store.duckdb import DuckDBStore


class MemoryStore(DuckDBStore):
    """The same tables and queries as the persistent store, held in memory and gone on close."""

    def __init__(self) -> None:
        super().__init__(":memory:")


__all__ = ["MemoryStore"]
