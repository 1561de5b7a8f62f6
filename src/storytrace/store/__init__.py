"""Stores: where the pipeline keeps documents, keys, relations, families and stories.

    Store          the interface (store/base.py)
    MemoryStore    one process, nothing on disk (store/memory.py)
    DuckDBStore    one embedded DuckDB file that grows add by add (store/duckdb.py)
"""

from storytrace.store.base import FORMAT_VERSION, Store, StoreError
from storytrace.store.duckdb import DuckDBStore
from storytrace.store.memory import MemoryStore

__all__ = ["FORMAT_VERSION", "DuckDBStore", "MemoryStore", "Store", "StoreError"]
