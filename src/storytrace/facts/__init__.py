"""Facts stage: numbers, dates, quotes and speakers; merged per story with conflicts."""

from storytrace.model import Conflict, DocumentResult, Fact


def story_facts(documents: list[DocumentResult]) -> tuple[list[Fact], list[Conflict]]:
    raise NotImplementedError


__all__ = ["story_facts"]
