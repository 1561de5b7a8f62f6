"""Trace stage: attribution statements, family origin and copy tree."""

from storytrace.model import Attribution, DocumentResult, Family, Relation


def find_attribution(text: str) -> list[Attribution]:
    raise NotImplementedError


def trace_family(family_id: str, members: list[DocumentResult], relations: list[Relation]) -> Family:
    raise NotImplementedError


__all__ = ["find_attribution", "trace_family"]
