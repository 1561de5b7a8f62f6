"""Postings: one key table's (key, position) rows held sorted in memory, so that looking up a
new text's few hundred keys costs a binary search each instead of a scan of the whole table.

DuckDB answers `JOIN` on a key column by scanning the table (an ART index does not help a
join or a long IN list): 32 ms for a query's containment keys at 10,000 documents, and the
tables grow by about 770 rows a document. A long-lived process (`storytrace serve`, or a
Python caller that queries many times: `Index.open(path, keys_in_memory=True)`) keeps the
rows here instead, at 12 bytes a row (a 64-bit key and a 32-bit position: about 9 MB per
1,000 documents), reads only the rows added since (positions at or past `upto`, which DuckDB
finds from its min/max statistics, rows being appended in position order), and reads
everything again after a removal.
"""

from __future__ import annotations

import numpy as np

# The rows read since the last sort are searched apart until they pass this share of the
# sorted ones (then both are sorted together): a sort costs O(n log n), an unsorted search O(n).
_MERGE_SHARE = 0.05
_MERGE_MIN = 50_000


class Postings:
    """(key, position) rows sorted by key, plus the rows appended since that sort."""

    def __init__(self, keys: np.ndarray, positions: np.ndarray) -> None:
        self.keys = np.asarray(keys, dtype=np.uint64)
        self.positions = np.asarray(positions, dtype=np.int32)
        order = np.argsort(self.keys)  # the order of one key's rows does not matter (lookup)
        self.keys, self.positions = self.keys[order], self.positions[order]
        self._new_keys = np.array([], dtype=np.uint64)  # appended since the sort, unsorted
        self._new_positions = np.array([], dtype=np.int32)

    def extend(self, keys: np.ndarray, positions: np.ndarray) -> None:
        self._new_keys = np.concatenate([self._new_keys, np.asarray(keys, dtype=np.uint64)])
        self._new_positions = np.concatenate(
            [self._new_positions, np.asarray(positions, dtype=np.int32)])
        if len(self._new_keys) > max(_MERGE_MIN, _MERGE_SHARE * len(self.keys)):
            merged = Postings(np.concatenate([self.keys, self._new_keys]),
                              np.concatenate([self.positions, self._new_positions]))
            self.keys, self.positions = merged.keys, merged.positions
            self._new_keys, self._new_positions = merged._new_keys, merged._new_positions

    def lookup(self, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(key, position) of every row whose key is in `wanted` (the rows a SQL join of the
        table with `wanted` returns, in no particular order)."""
        wanted = np.unique(np.asarray(wanted, dtype=np.uint64))
        left = np.searchsorted(self.keys, wanted, side="left")
        counts = np.searchsorted(self.keys, wanted, side="right") - left
        total = int(counts.sum())
        rows = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        rows += np.repeat(left, counts)
        new = np.isin(self._new_keys, wanted)
        return (np.concatenate([self.keys[rows], self._new_keys[new]]),
                np.concatenate([self.positions[rows], self._new_positions[new]]))


__all__ = ["Postings"]
