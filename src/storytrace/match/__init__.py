"""Match stage: candidate pairs, sentence alignment and relation kinds; per-document signals.

    find_relations(texts, options) -> [Relation]   copies among clean texts (near-linear)
    align(a, b) -> Alignment                       sentence alignment of one pair
    document_signals(text) -> Signals              spin / translation marks of one text
"""

from storytrace.match.align import Alignment, align
from storytrace.match.options import MatchOptions
from storytrace.match.relations import candidate_pairs, find_relations, relate
from storytrace.match.signals import document_signals

__all__ = ["Alignment", "MatchOptions", "align", "candidate_pairs", "document_signals",
           "find_relations", "relate"]
