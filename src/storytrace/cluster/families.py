"""Copy families: connected components over whole-copy relations."""

from __future__ import annotations

from storytrace.cluster.components import connected_groups
from storytrace.model import WHOLE_COPY_KINDS, Relation


def copy_families(doc_ids: list[str], relations: list[Relation]) -> list[list[str]]:
    """Group documents linked by whole-copy relations (a `partial` relation does not merge).

    Each family lists its ids in input order; families are ordered by their first member's
    input position; a document with no copy relation is a family of its own.
    """
    whole = [(r.a, r.b) for r in relations if r.kind in WHOLE_COPY_KINDS]
    return connected_groups(doc_ids, whole)
