"""Match stage: candidate pairs, sentence alignment and relation kinds; per-document signals."""

from storytrace.model import Relation, Signals


def find_relations(texts: dict[str, str]) -> list[Relation]:
    """Verified copy relations among clean texts (id -> text, in input order)."""
    raise NotImplementedError


def document_signals(text: str) -> Signals:
    """How spun / machine-translated one clean text looks, from the text alone."""
    raise NotImplementedError


__all__ = ["find_relations", "document_signals"]
