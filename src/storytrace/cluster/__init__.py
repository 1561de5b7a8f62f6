"""Cluster stage: copy families (components of copy relations) and stories (same event)."""

from storytrace.model import DocumentResult, Relation


def copy_families(doc_ids: list[str], relations: list[Relation]) -> list[list[str]]:
    raise NotImplementedError


def cluster_stories(families: list[list[DocumentResult]]) -> list[list[int]]:
    raise NotImplementedError


__all__ = ["copy_families", "cluster_stories"]
