"""Which side of a spun or translated pair is the rewrite: the one that swapped common words
for rarer ones.

A spinner replaces words with thesaurus synonyms ("said" -> "mentioned", "homes" ->
"dwellings"), and a round trip through another language picks its own words; the writer of the
original used the words other writers use. So for the one-word substitutions that sentence
alignment found between two texts (`Relation.metrics["substitution_pairs"]`), each pair votes
for the side whose word more documents of the corpus use; a clear majority names the other side
as the rewrite. The corpus is the reference, not a word list: no data to ship, any language,
and the words of the corpus's own domain. In a small corpus the copies of the original
(a wrapped reprint repeats its words) carry the vote.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from storytrace.model import DocumentResult, Relation
from storytrace.stopwords import ENGLISH_STOP_WORDS

_WORD = re.compile(r"[^\W\d_]+")

# A pair votes only when one word is in at least this factor more documents than the other
# (e^0.3 = 1.35); a function word against a content word (a misaligned pair: "levee" ->
# "has") and pairs that are not words abstain; function words swapped for function words
# ("but" -> "nonetheless") vote. A verdict needs
# MIN_VOTES votes and a majority of MIN_MAJORITY ((for - against) / votes). Measured with
# bench/provenance.py (the rewrite generator's spinner and translator) and on the seeds and the
# demo; see trace/provenance.py for the weight the verdict gets.
MIN_RARITY_GAP = 0.3
MIN_VOTES = 3
MIN_MAJORITY = 0.5


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """How many documents of the corpus use each (lower-cased) word, and how many pages carry
    each removed boilerplate line (`page_line_key`): what is common here and what is not."""

    documents: Counter[str]
    n_documents: int
    page_lines: Counter[str]

    @classmethod
    def from_documents(cls, docs: Iterable[DocumentResult]) -> Vocabulary:
        documents: Counter[str] = Counter()
        page_lines: Counter[str] = Counter()
        n = 0
        for doc in docs:
            documents.update(set(_WORD.findall(doc.clean_text.lower())))
            page_lines.update({page_line_key(line.text) for line in doc.removed})
            n += 1
        return cls(documents, n, page_lines)

    def commonness(self, word: str) -> float:
        """log of the (smoothed) share of documents that use `word`."""
        return math.log((1 + self.documents[word]) / (1 + self.n_documents))


def page_line_key(line: str) -> str:
    return " ".join(line.lower().split())


@dataclass(frozen=True, slots=True)
class Rewording:
    """`rewrite` swapped common words of `source` for rarer ones, with the pairs that show it."""

    rewrite: str
    source: str
    majority: float  # (votes for - votes against) / votes, in (0, 1]
    examples: list[tuple[str, str]]  # (source's word, rewrite's word)

    def reason(self) -> str:
        shown = ", ".join(f"{a}->{b}" for a, b in self.examples[:4])
        return (
            f"rewords {self.source}: rarer words in place of ones more of the corpus uses "
            f"({shown}; majority {self.majority:.2f})"
        )


def rewording(relation: Relation, vocabulary: Vocabulary) -> Rewording | None:
    """Which side of `relation` is the rewrite, or None when the substitutions do not say."""
    votes: list[tuple[int, str, str]] = []
    for pair in relation.metrics.get("substitution_pairs", []):
        a_word, _, b_word = pair.partition("->")
        if a_word == b_word or not (a_word.isalpha() and b_word.isalpha()):
            continue
        if (a_word in ENGLISH_STOP_WORDS) != (b_word in ENGLISH_STOP_WORDS):
            continue  # a function word against a content word: a misaligned pair
        gap = vocabulary.commonness(a_word) - vocabulary.commonness(b_word)
        if abs(gap) >= MIN_RARITY_GAP:
            votes.append((1 if gap > 0 else -1, a_word, b_word))
    if len(votes) < MIN_VOTES:
        return None
    balance = sum(v for v, _, _ in votes) / len(votes)
    if abs(balance) < MIN_MAJORITY:
        return None
    if balance > 0:  # a's words are the common ones: b is the rewrite
        examples = [(a, b) for v, a, b in votes if v > 0]
        return Rewording(relation.b, relation.a, balance, examples)
    examples = [(b, a) for v, a, b in votes if v < 0]
    return Rewording(relation.a, relation.b, -balance, examples)


__all__ = ["Rewording", "Vocabulary", "page_line_key", "rewording"]
