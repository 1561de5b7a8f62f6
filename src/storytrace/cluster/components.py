"""Connected components of a graph given as a list of items and the links between them."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence


def connected_groups(items: Sequence[Hashable], links: Iterable[tuple]) -> list[list]:
    """Items joined by links, each group in input order, groups ordered by their first item.

    Links naming an item that is not in `items` are ignored; an item with no link is a group
    of its own.
    """
    position = {item: n for n, item in enumerate(items)}
    parent = list(range(len(items)))

    def root(n: int) -> int:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for a, b in links:
        if a not in position or b not in position:
            continue
        ra, rb = root(position[a]), root(position[b])
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)  # the earlier item stays the root
    groups: dict[int, list] = {}
    for n, item in enumerate(items):
        groups.setdefault(root(n), []).append(item)
    return list(groups.values())


def group_of(items: Sequence[Hashable], links: Iterable[tuple]) -> dict:
    """item -> the first item of its group (a label for comparing partitions)."""
    return {item: group[0] for group in connected_groups(items, links) for item in group}
