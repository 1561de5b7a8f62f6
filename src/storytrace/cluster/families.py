"""Copy families: connected components over whole-copy relations."""

from __future__ import annotations

from storytrace.model import WHOLE_COPY_KINDS, Relation


def copy_families(doc_ids: list[str], relations: list[Relation]) -> list[list[str]]:
    """Group documents linked by whole-copy relations (a `partial` relation does not merge).

    Each family lists its ids in input order; families are ordered by their first member's
    input position; a document with no copy relation is a family of its own.
    """
    position = {doc_id: n for n, doc_id in enumerate(doc_ids)}
    parent = list(range(len(doc_ids)))

    def root(n: int) -> int:
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for rel in relations:
        if rel.kind not in WHOLE_COPY_KINDS or rel.a not in position or rel.b not in position:
            continue
        ra, rb = root(position[rel.a]), root(position[rel.b])
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)  # the earlier document stays the root

    groups: dict[int, list[str]] = {}
    for n, doc_id in enumerate(doc_ids):
        groups.setdefault(root(n), []).append(doc_id)
    return sorted(groups.values(), key=lambda ids: position[ids[0]])
