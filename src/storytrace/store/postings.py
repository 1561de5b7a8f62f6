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

import itertools
from collections.abc import Callable

import numpy as np

from storytrace.arrays import ranges

# The rows read since the last sort are searched apart until they pass this share of the
# sorted ones (then both are sorted together): a sort costs O(n log n), an unsorted search O(n).
_MERGE_SHARE = 0.05
_MERGE_MIN = 50_000
_ROWS_PER_READ = 4_000_000  # rows a range of keys read at once holds, about (sorted_rows)


class Postings:
    """(key, position) rows sorted by key, plus the rows appended since that sort."""

    def __init__(self, keys: np.ndarray, positions: np.ndarray, ordered: bool = False) -> None:
        """`ordered`: the rows come sorted by key already (`sorted_rows` reads them so)."""
        self.keys = np.asarray(keys, dtype=np.uint64)
        self.positions = np.asarray(positions, dtype=np.int32)
        if not ordered:  # the order of one key's rows does not matter (lookup)
            order = np.argsort(self.keys)
            self.keys, self.positions = self.keys[order], self.positions[order]
        self._bits, self._bucket_start = _buckets(self.keys)
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
            self._bits, self._bucket_start = merged._bits, merged._bucket_start
            self._new_keys, self._new_positions = merged._new_keys, merged._new_positions

    def lookup(self, wanted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(key, position) of every row whose key is in `wanted` (the rows a SQL join of the
        table with `wanted` returns, in no particular order)."""
        wanted = np.unique(np.asarray(wanted, dtype=np.uint64))
        bucket = (wanted >> np.uint64(64 - self._bits)).astype(np.int64) if self._bits else \
            np.zeros(len(wanted), dtype=np.int64)
        end = self._bucket_start[bucket + 1]
        left = _search(self.keys, wanted, self._bucket_start[bucket], end, right=False)
        rows = ranges(left, _search(self.keys, wanted, left, end, right=True) - left)
        if not len(self._new_keys):
            return self.keys[rows], self.positions[rows]
        new = np.isin(self._new_keys, wanted)
        return (np.concatenate([self.keys[rows], self._new_keys[new]]),
                np.concatenate([self.positions[rows], self._new_positions[new]]))


# Sorted keys are cut into 2**bits buckets by their top bits, about this many rows a bucket:
# a lookup searches only its key's bucket, a few cache lines, where a binary search of the
# whole array (np.searchsorted) misses the cache at each of its ~26 steps. Keys are hashes,
# so the buckets hold about equal shares. At 100,000 documents (57 M containment rows) a
# query's ~760 containment keys took 1.6 ms with np.searchsorted, 0.4 ms by bucket; the
# bucket bounds cost 8 bytes a bucket (4 MB there) and 0.2-0.3 s to find, once.
_ROWS_PER_BUCKET = 64


def _buckets(keys: np.ndarray) -> tuple[int, np.ndarray]:
    """(bits, start): the rows of sorted `keys` whose top `bits` bits are b are those from
    start[b] to start[b + 1]."""
    bits = min(32, max(0, (len(keys) // _ROWS_PER_BUCKET).bit_length() - 1))
    if not bits:
        return 0, np.array([0, len(keys)], dtype=np.int64)
    bounds = np.arange(2**bits, dtype=np.uint64) << np.uint64(64 - bits)
    return bits, np.append(np.searchsorted(keys, bounds), len(keys)).astype(np.int64)


def _search(keys: np.ndarray, wanted: np.ndarray, low: np.ndarray, high: np.ndarray,
            right: bool) -> np.ndarray:
    """np.searchsorted(keys, wanted, side) for each wanted key known to fall in
    keys[low:high]: a binary search of all the ranges at once."""
    low, high = low.copy(), high.copy()
    last = max(len(keys) - 1, 0)
    while True:
        active = low < high
        if not active.any():
            return low
        middle = (low + high) >> 1
        probe = keys[np.minimum(middle, last)]  # an inactive range may sit past the end
        up = ((probe <= wanted) if right else (probe < wanted)) & active
        low = np.where(up, middle + 1, low)
        high = np.where(active & ~up, middle, high)


def sorted_rows(read: Callable[[int, int | None], dict[str, np.ndarray]], rows: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """All (key, position) rows of a table, sorted by key, read a range of keys at a time:
    `read(low, high)` returns the rows of low <= key < high (high None: no bound) and `rows`
    says about how many there are. Each range is sorted alone and written in place, so the
    peak is the result plus one range (at 100,000 documents: 1.9 GB for the process, against
    2.9 GB reading the table whole and sorting it); keys are hashes, so equal ranges hold
    about equal shares. Each read scans the table (about 0.1 s per 57 M rows)."""
    parts = max(1, rows // _ROWS_PER_READ)
    bounds: list[int | None] = [k * (2**64 // parts) for k in range(parts)] + [None]
    keys, positions = np.empty(rows, dtype=np.uint64), np.empty(rows, dtype=np.int32)
    at = 0
    for low, high in itertools.pairwise(bounds):
        part = read(low, high)
        order = np.argsort(part["key"])
        if at + len(order) > len(keys):  # rows added since they were counted
            grow = at + len(order) - len(keys)
            keys = np.concatenate([keys, np.empty(grow, dtype=np.uint64)])
            positions = np.concatenate([positions, np.empty(grow, dtype=np.int32)])
        keys[at:at + len(order)] = part["key"][order]
        positions[at:at + len(order)] = part["seq"][order]
        at += len(order)
    return keys[:at], positions[:at]


__all__ = ["Postings", "sorted_rows"]
