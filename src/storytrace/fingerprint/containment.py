"""Candidate pairs by containment: how much of the smaller document's n-grams the other holds.

MinHash LSH finds pairs of similar size and wording (symmetric Jaccard). A 60-word brief cut
from a 600-word wire story has a Jaccard of a few percent with it, yet nearly all of the
brief's word 3-grams are in the wire story. This channel counts shared n-gram hashes with a
sparse product of document-by-hash indicator matrices and keeps pairs where the shared count
is a large enough share of the smaller document's (the idea behind LSH Ensemble, exact here
because rare hashes keep the product sparse).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse


def contained_pairs(
    keys: Sequence[np.ndarray],
    min_containment: float = 0.2,
    min_shared: int = 3,
    max_df: int = 20,
    max_per_doc: int = 20,
) -> dict[tuple[int, int], float]:
    """Pairs (i < j) whose shared hashes are at least `min_containment` of the smaller set's
    and at least `min_shared`, with that containment.

    `keys[k]` holds document k's unique hashes. Hashes in more than `max_df` documents (stock
    phrases: "the court heard", "a spokesman said") are left out of both the count and the
    sizes, and each document keeps its `max_per_doc` most contained partners.
    """
    n_docs = len(keys)
    if n_docs < 2:
        return {}
    lengths = np.array([len(k) for k in keys], dtype=np.int64)
    flat = np.concatenate([np.asarray(k, dtype=np.uint64) for k in keys]) if lengths.sum() else \
        np.zeros(0, dtype=np.uint64)
    docs = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
    uniq, column, df = np.unique(flat, return_inverse=True, return_counts=True)
    useful = (df[column] > 1) & (df[column] <= max_df)
    matrix = sparse.csr_matrix(
        (np.ones(int(useful.sum()), dtype=np.float32), (docs[useful], column[useful])),
        shape=(n_docs, len(uniq)),
    )
    # A document's size counts its hashes of document frequency <= max_df (one-off ones too).
    size = np.bincount(docs[df[column] <= max_df], minlength=n_docs).astype(np.float64)
    shared = sparse.triu(matrix @ matrix.T, k=1).tocoo()
    if shared.nnz == 0:
        return {}
    rows, cols, counts = shared.row, shared.col, shared.data.astype(np.float64)
    smaller = np.maximum(np.minimum(size[rows], size[cols]), 1.0)
    containment = counts / smaller
    keep = (counts >= min_shared) & (containment >= min_containment)
    order = np.argsort(-containment[keep], kind="stable")
    per_doc = np.zeros(n_docs, dtype=np.int64)
    found: dict[tuple[int, int], float] = {}
    for a, b, c in zip(rows[keep][order].tolist(), cols[keep][order].tolist(),
                       containment[keep][order].tolist()):
        if per_doc[a] < max_per_doc and per_doc[b] < max_per_doc:
            found[(a, b)] = round(c, 4)
            per_doc[a] += 1
            per_doc[b] += 1
    return found


__all__ = ["contained_pairs"]
