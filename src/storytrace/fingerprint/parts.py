"""Many documents' hashes, one range of hash values at a time.

The candidate channels that count shared hashes (containment, immutables, sentences) need
every hash's documents. Sorting all of a pile's hashes at once holds several arrays the size
of all of them (the containment channel: ~650 hashes a bench document, 409 MB of temporaries
at 10,000 documents); split by value, each hash's entries still meet in one part and the
temporaries are a part's. Parts come in ascending order of hash value, so a hash's rank among
all distinct hashes is its rank in its part plus the distinct hashes of the parts before.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

# Entries a part holds, about (a part's temporaries are ~50 bytes an entry), and at most
# 2**_MAX_BITS parts: each part is one pass over a byte an entry, so more parts cost time.
PART_ENTRIES = 1 << 18
_MAX_BITS = 6
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class HashPart:
    """The entries whose hash falls in one range of values, in the order of the concatenated
    keys: `hashes[e]`, its `owner` document and its `position` in that concatenation."""

    hashes: np.ndarray  # uint64
    owner: np.ndarray  # int64, index into the keys
    position: np.ndarray  # int64, ascending


def hash_parts(keys: Sequence[np.ndarray], part_entries: int = PART_ENTRIES
               ) -> Iterator[HashPart]:
    """The entries of `keys` (document k's hashes at `keys[k]`) in parts of about
    `part_entries` by hash value (uniform hashes split evenly; at most 64 parts), ascending;
    one part when they fit in one."""
    lengths = np.array([len(k) for k in keys], dtype=np.int64)
    total = int(lengths.sum())
    if not total:
        return
    flat = np.concatenate([np.asarray(k, dtype=np.uint64) for k in keys])
    ends = np.cumsum(lengths)
    bits = 0
    while total >> bits > part_entries and bits < _MAX_BITS:
        bits += 1
    if not bits:
        position = np.arange(total, dtype=np.int64)
        yield HashPart(flat, np.searchsorted(ends, position, side="right"), position)
        return
    part_of = np.empty(total, dtype=np.uint8)  # each entry's part: its hash's top bits
    shift = np.uint64(64 - bits)
    for start in range(0, total, _CHUNK):
        part_of[start:start + _CHUNK] = flat[start:start + _CHUNK] >> shift
    for part in range(1 << bits):
        position = np.flatnonzero(part_of == part)
        yield HashPart(flat[position], np.searchsorted(ends, position, side="right"), position)


__all__ = ["PART_ENTRIES", "HashPart", "hash_parts"]
