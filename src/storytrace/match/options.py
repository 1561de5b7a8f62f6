"""MatchOptions: every tuned threshold of the match stage, in one place.

Values were chosen on tests/rewrites.py rewrites of Multi-News dev articles plus different
articles of the same Multi-News story (which must stay unlinked); see bench/dedup.py for the
measurement that prints per-kind recall and the same-story false-link rate.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class MatchOptions:
    """How candidates are generated and how aligned evidence becomes a relation kind."""

    # Candidates: MinHash over word n-grams, banded at a low Jaccard (verification follows).
    num_perm: int = 128
    ngram: int = 5
    lsh_threshold: float = 0.2
    # Candidates: runs of immutables (names, numbers, quoted words).
    immutable_ngram: int = 3
    min_shared_immutables: int = 3
    max_immutable_df: int = 20
    max_candidates_per_doc: int = 20
    # Candidates: identical sentences (8+ words) shared by two documents (reused passages).
    min_shared_sentences: int = 2
    # Candidates: containment of the smaller document's word 2-grams (rare ones: document
    # frequency <= max_immutable_df) in the other's, so a 60-word brief cut from a long wire
    # story is proposed (Jaccard cannot: a few percent). On METER's shared half, 0.15 proposes
    # 147 of 149 wholly- and 214 of 225 partially-derived stories with their wire copy
    # (the other channels alone: 92 and 169); bench/reuse.py prints it.
    containment_ngram: int = 2
    min_containment: float = 0.15
    # Derivation (match/derivation.py): a target's sources are its candidates dated before it
    # (when dates are known), else those of its own date or undated. The decision is the
    # shipped model's; `derivation` off leaves only the alignment kinds.
    derivation: bool = True
    # Documents with identical text are aligned once; a group larger than this is linked to its
    # first member only (a star, as for an oversized LSH bucket), not pair by pair.
    max_identical_clique: int = 50
    # Alignment: a sentence pair aligns at this similarity; "strong" pairs evidence a passage.
    min_sentence_words: int = 5
    # At most this many sentences of each text are aligned (a news article has 10-100; the
    # matrix of two 10 MB texts would hold 10^10 cells). Derivation compares as many.
    max_align_sentences: int = 2000
    # ... and at most this many characters of each, when the two sides' characters multiply
    # past its square: the sentence matrix costs about that product (two 1 MB texts of
    # 80-word sentences: 14 s at 2,000 sentences a side, 0.8 s at 100,000 characters; a long
    # news article is under 60,000). Identical sentences are paired before either cap applies.
    max_align_chars: int = 100_000
    sentence_threshold: float = 0.55
    strong_sentence: float = 0.75
    # Kinds: coverage of the shorter side needed for a whole-copy relation.
    copy_coverage: float = 0.5
    # ... and of the longer side (the seeds' 001 covers 50% of the updated Reuters story 004;
    # a passage reused in another article covers far less of it).
    copy_coverage_long: float = 0.4
    partial_min_strong: int = 2
    # Spun: at least `spun_min_sentences` and `spun_share` of aligned sentences have words
    # swapped in place, the sentences keep their order, and at most `spun_max_indel` of the
    # changed sentences' words are inserted or deleted rather than replaced (measured on
    # tests/rewrites.py: spins max 0.02, the demo's spun copy 0.01; translations median 0.13,
    # the seeds' 001 0.14, the demo's round-trip translation 0.29). Otherwise `reworded_share`
    # reworded sentences (moved clauses, inserted words) make a translation.
    spun_share: float = 0.15
    spun_min_sentences: int = 3
    spun_max_indel: float = 0.03
    spun_min_order: float = 0.95
    reworded_share: float = 0.15
    # Edited, not translated, when at least this share of aligned sentences is identical
    # (generated updates: min 0.83; generated translations reach 0.68).
    edited_min_exact: float = 0.75

    def __post_init__(self) -> None:
        if not 0.0 <= self.lsh_threshold <= 1.0:
            raise ValueError("lsh_threshold must be in [0.0, 1.0]")
        if not 0.0 < self.sentence_threshold <= 1.0:
            raise ValueError("sentence_threshold must be in (0.0, 1.0]")
        if not 0.0 <= self.min_containment <= 1.0:
            raise ValueError("min_containment must be in [0.0, 1.0]")
        if self.ngram < 1 or self.immutable_ngram < 1 or self.containment_ngram < 1:
            raise ValueError("n-gram sizes must be at least 1")

    def get_params(self) -> dict[str, Any]:
        return asdict(self)
