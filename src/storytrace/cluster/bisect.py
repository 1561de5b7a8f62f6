"""Split a group of families in two where it is really two groups: spectral bisection.

Average linkage over bag-of-words similarity cannot tell two look-alike events apart (two
celebrity rehab check-ins share "rehab", "clinic", "publicist"): the similarity *between* the
events is as high as the similarity *inside* a loosely written story. What does tell them apart
is structure: each report's nearest neighbours are reports of its own event (the nearest
neighbour is of the same event for 99% of ECB+ dev documents). So a story is checked as a
graph — each family linked to its `neighbours` most similar families in the story, weighted by
similarity — and cut in two by the normalized cut (Shi & Malik 2000: members ordered along
the second eigenvector of the normalized Laplacian, the order swept for the best cut). The cut
is kept only when both sides keep most of their link weight inside (`ncut <= max_ncut`), and
each side is checked again. When every member is dated, a cut whose two sides were reported
over overlapping days is not kept: look-alike events are events of different days, and two
parts of one day's coverage (a wire story's takes and the newspaper versions of one trial) are
one event however their wording differs.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import scipy.linalg
from threadpoolctl import ThreadpoolController


@cache
def _blas() -> ThreadpoolController:
    """The process's BLAS thread pools (found once; limiting them per call is then cheap)."""
    return ThreadpoolController()


def neighbour_graph(similarity: np.ndarray, neighbours: int) -> np.ndarray:
    """Symmetric k-nearest-neighbour graph weighted by similarity (diagonal 0).

    A group of at most `neighbours + 1` members is a complete graph.
    """
    weights = np.array(similarity, dtype=float, copy=True)
    np.fill_diagonal(weights, 0.0)
    n = len(weights)
    if n <= neighbours + 1:
        return weights
    nearest = np.argpartition(-weights, neighbours - 1, axis=1)[:, :neighbours]
    keep = np.zeros_like(weights, dtype=bool)
    keep[np.repeat(np.arange(n), neighbours), nearest.ravel()] = True
    keep |= keep.T
    return np.where(keep, weights, 0.0)


def best_bisection(weights: np.ndarray) -> tuple[np.ndarray, float] | None:
    """The two-way cut of a weighted graph with the lowest normalized cut.

    Returns (side, ncut): `side` is True for the members of the part without member 0; ncut =
    cut/vol(A) + cut/vol(B), 0 for two unconnected parts, 1 or more when nothing separates them.
    None when a member has no link at all (nothing to measure) or the graph has fewer than two
    members.
    """
    n = len(weights)
    degree = weights.sum(axis=1)
    if n < 2 or (degree <= 0).any():
        return None
    scale = 1.0 / np.sqrt(degree)
    laplacian = np.eye(n) - weights * scale[:, None] * scale[None, :]
    # Only the two smallest eigenpairs are needed: LAPACK's subset driver is 2-6x faster than
    # a full decomposition on the stories' groups (a few hundred members). On one BLAS thread:
    # at that size threads mostly wait for each other, and far longer when the other cores are
    # busy (200 members on a loaded 2-core machine: 40 ms of CPU on 2 threads, 2.7 ms on one).
    with _blas().limit(limits=1, user_api="blas"):
        _, vectors = scipy.linalg.eigh(laplacian, subset_by_index=[0, 1], driver="evx")
    order = np.argsort(vectors[:, 1] * scale, kind="stable")
    ordered = weights[np.ix_(order, order)]
    # cut(first k | rest) = vol(first k) - 2 * weight inside the first k, for every k at once.
    links_to_earlier = np.tril(ordered, -1).sum(axis=1)
    cut = np.cumsum(degree[order] - 2.0 * links_to_earlier)[:-1]
    volume = np.cumsum(degree[order])[:-1]
    ncut = cut / volume + cut / (degree.sum() - volume)
    best = int(np.argmin(ncut))
    side = np.zeros(n, dtype=bool)
    side[order[best + 1 :]] = True
    if side[0]:  # an eigenvector's sign is arbitrary: the first member's side is always False
        side = ~side
    return side, float(ncut[best])


def divide(
    similarity: np.ndarray,
    members: np.ndarray,
    neighbours: int,
    max_ncut: float,
    min_part: int,
    days: np.ndarray | None = None,
) -> list[np.ndarray]:
    """Recursively bisect `members` (indexes into `similarity`) while a clear cut exists.

    `days` (optional, indexed like `similarity`): each member's day number, NaN when undated;
    a cut between two fully dated sides whose days overlap is not kept (`same_days`)."""
    side = clear_cut(similarity, members, neighbours, max_ncut, min_part, days)
    if side is None:
        return [members]
    return divide(similarity, members[~side], neighbours, max_ncut, min_part, days) + divide(
        similarity, members[side], neighbours, max_ncut, min_part, days
    )


def clear_cut(
    similarity: np.ndarray,
    members: np.ndarray,
    neighbours: int,
    max_ncut: float,
    min_part: int,
    days: np.ndarray | None = None,
) -> np.ndarray | None:
    """The first cut `divide` would keep (True for one side's members), or None when
    `members` stay one group: `divide(...)` returns one part exactly when this is None, so a
    yes/no check (is this one event?) needs only this one bisection, not the recursion."""
    if len(members) < 2 * min_part:
        return None
    found = best_bisection(neighbour_graph(similarity[np.ix_(members, members)], neighbours))
    if found is None:
        return None
    side, ncut = found
    if ncut > max_ncut or min(side.sum(), (~side).sum()) < min_part:
        return None
    if days is not None and same_days(days[members[side]], days[members[~side]]):
        return None
    return side


def same_days(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two groups of day numbers are all known and their spans overlap."""
    if np.isnan(a).any() or np.isnan(b).any():
        return False
    return bool(a.min() <= b.max() and b.min() <= a.max())
