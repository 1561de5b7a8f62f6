"""Array idioms shared by stages that keep flat arrays instead of one Python object per item
(the story clusterer's TF-IDF rows, the store's key postings)."""

from __future__ import annotations

import numpy as np


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The indices start, start + 1, ..., start + length - 1 of every (start, length), one
    segment after the other, as one array (what `np.concatenate` of `np.arange`s would give,
    without a Python loop)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    offsets = np.asarray(starts, dtype=np.int64) - (np.cumsum(lengths) - lengths)
    return np.repeat(offsets, lengths) + np.arange(int(lengths.sum()), dtype=np.int64)


__all__ = ["ranges"]
