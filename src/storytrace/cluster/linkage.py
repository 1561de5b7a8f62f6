"""Average-linkage clustering over a sparse similarity graph, for corpora too big for a matrix.

A dense n x n similarity matrix holds 8 n^2 bytes: 0.8 GB at 10,000 families and 80 GB at
100,000. Most of it is near 0 (two reports of different events share little), so a graph that
keeps each family's strong links holds what average linkage needs. Pairs missing from the graph
count as similarity 0; with every positive pair present the result is the dense one (average
linkage is reducible, so merging the best pair first gives its dendrogram, ties aside).
"""

from __future__ import annotations

import heapq

import numpy as np
import scipy.sparse as sp

from storytrace.cluster.components import connected_groups


def sparse_average_linkage(graph: sp.spmatrix, threshold: float) -> np.ndarray:
    """Cluster labels (0..k-1, by first member) from average linkage cut at `threshold`.

    Two clusters merge, best pair first, while the mean similarity over all their member pairs
    (missing pairs as 0) is at least `threshold`. `graph` is a symmetric n x n similarity matrix.
    """
    n = graph.shape[0]
    upper = sp.triu(sp.coo_matrix(graph), k=1).tocoo()
    upper.sum_duplicates()  # a pair once (a canonical graph has it once already)
    # The links' sums are most of this function's memory, a dict entry each way: both ends
    # hold the same float, and every key naming family j is the same int object (`node[j]`),
    # not one made per link.
    node = list(range(n))
    sums: list[dict[int, float]] = [{} for _ in range(n)]
    for i, j, value in zip(upper.row.tolist(), upper.col.tolist(), upper.data.tolist(), strict=True):
        sums[i][node[j]] = value
        sums[j][node[i]] = value
    size = [1] * n
    version = [0] * n
    alive = [True] * n
    merged_into: list[tuple[int, int]] = []
    heap = [
        (-value, i, j, 0, 0)
        for i, row in enumerate(sums)
        for j, value in row.items()
        if i < j and value >= threshold
    ]
    heapq.heapify(heap)
    while heap:
        negative, a, b, version_a, version_b = heapq.heappop(heap)
        if not (alive[a] and alive[b]) or version[a] != version_a or version[b] != version_b:
            continue  # a stale entry: one side has merged since
        if -negative < threshold:
            break
        if len(sums[a]) < len(sums[b]):
            a, b = b, a  # fold the cluster with fewer links into the other
        for c, value in sums[b].items():
            if c == a:
                continue
            total = sums[a].get(c, 0.0) + value
            sums[a][c] = total
            sums[c][a] = total
            del sums[c][b]
        del sums[a][b]
        sums[b] = {}
        size[a] += size[b]
        alive[b] = False
        version[a] += 1
        merged_into.append((b, a))
        for c, value in sums[a].items():
            mean = value / (size[a] * size[c])
            if mean >= threshold:
                pair = (a, c) if a < c else (c, a)
                heapq.heappush(heap, (-mean, *pair, version[pair[0]], version[pair[1]]))
    labels = np.empty(n, dtype=int)
    for label, group in enumerate(connected_groups(list(range(n)), merged_into)):
        labels[group] = label
    return labels
