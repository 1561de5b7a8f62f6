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

from storytrace.fingerprint.parts import PART_ENTRIES, hash_parts


def contained_pairs(
    keys: Sequence[np.ndarray],
    min_containment: float = 0.2,
    min_shared: int = 3,
    max_df: int = 20,
    max_per_doc: int = 20,
    part_entries: int = PART_ENTRIES,
) -> dict[tuple[int, int], float]:
    """Pairs (i < j) whose shared hashes are at least `min_containment` of the smaller set's
    and at least `min_shared`, with that containment.

    `keys[k]` holds document k's unique hashes. Hashes in more than `max_df` documents (stock
    phrases: "the court heard", "a spokesman said") are left out of both the count and the
    sizes, and each document keeps its `max_per_doc` most contained partners. The hashes'
    document frequencies are counted one range of values at a time (`hash_parts`), so the
    temporaries are a part's, not the pile's.
    """
    n_docs = len(keys)
    if n_docs < 2:
        return {}
    # A document's size counts its hashes of document frequency <= max_df (one-off ones too);
    # the matrix holds the entries of hashes that also occur elsewhere, a hash's column its
    # rank among the distinct hashes, built row by row in the keys' order (as a COO matrix
    # made from every entry would be, without its int64 temporaries).
    total = sum(len(k) for k in keys)
    index_type = np.int32 if total < 2**31 else np.int64
    column_at = np.full(total, -1, dtype=index_type)  # each entry's column, -1 if left out
    size = np.zeros(n_docs, dtype=np.int64)
    row_sizes = np.zeros(n_docs, dtype=np.int64)
    n_columns = 0  # the distinct hashes of the parts before
    for part in hash_parts(keys, part_entries):
        distinct, column, df = np.unique(part.hashes, return_inverse=True, return_counts=True)
        entry_df = df[column]
        size += np.bincount(part.owner[entry_df <= max_df], minlength=n_docs)
        useful = (entry_df > 1) & (entry_df <= max_df)
        row_sizes += np.bincount(part.owner[useful], minlength=n_docs)
        column_at[part.position[useful]] = column[useful] + n_columns
        n_columns += len(distinct)
    indices = column_at[column_at >= 0]
    del column_at
    indptr = np.zeros(n_docs + 1, dtype=index_type)
    np.cumsum(row_sizes, out=indptr[1:])
    matrix = sparse.csr_matrix((np.ones(len(indices), dtype=np.float32), indices, indptr),
                               shape=(n_docs, n_columns))
    matrix.sum_duplicates()  # sorted columns in each row, as a matrix made from COO has them
    size = size.astype(np.float64)
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
