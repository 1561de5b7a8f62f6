"""find_relations: candidates from two fingerprint channels, then alignment of each pair only.

Work is linear in the number of documents plus the number of candidate pairs, which the LSH
bands and the immutables document-frequency cut-off keep small: no all-pairs alignment.
"""

from __future__ import annotations

import re

from storytrace.fingerprint.immutables import immutable_shingles, shared_pairs
from storytrace.fingerprint.minhash import band_keys, bucket_pairs, optimal_bands, signatures
from storytrace.fingerprint.shingles import WordHasher, ngram_hashes, sentence_hashes, words
from storytrace.match.align import align
from storytrace.match.kinds import classify
from storytrace.match.options import MatchOptions
from storytrace.model import Relation


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def candidate_pairs(texts: list[str], options: MatchOptions) -> dict[tuple[int, int], str]:
    """Index pairs (i < j) worth aligning, with the channel that proposed them."""
    hasher = WordHasher()
    shingles = [ngram_hashes(hasher(words(t)), options.ngram) for t in texts]
    sig = signatures(shingles, options.num_perm)
    bands, rows = optimal_bands(options.lsh_threshold, options.num_perm)
    empty = {i for i, s in enumerate(shingles) if len(s) == 0}
    found: dict[tuple[int, int], str] = {}
    for pair in bucket_pairs(band_keys(sig, bands, rows)):
        if pair[0] not in empty and pair[1] not in empty:
            found[pair] = "minhash"
    imm = [immutable_shingles(t, options.immutable_ngram) for t in texts]
    for pair in shared_pairs(imm, options.min_shared_immutables, options.max_immutable_df,
                             options.max_candidates_per_doc):
        found.setdefault(pair, "immutables")
    sent = [sentence_hashes(t) for t in texts]
    for pair in shared_pairs(sent, options.min_shared_sentences, options.max_immutable_df,
                             options.max_candidates_per_doc):
        found.setdefault(pair, "sentences")
    return found


def relate(id_a: str, text_a: str, id_b: str, text_b: str,
           options: MatchOptions | None = None) -> Relation | None:
    """Align one pair and return its Relation, or None when it is not a copy."""
    options = options or MatchOptions()
    identical = _normalised(text_a) == _normalised(text_b) and bool(text_a.strip())
    al = align(text_a, text_b, options)
    kind, score, evidence = classify(al, options, identical)
    if kind == "none":
        return None
    metrics = dict(al.metrics)
    metrics["substitution_pairs"] = [f"{x}->{y}" for x, y in al.substitutions[:20]]
    return Relation(id_a, id_b, kind, score, evidence, metrics)


def find_relations(texts: dict[str, str], options: MatchOptions | None = None) -> list[Relation]:
    """Verified copy relations among clean texts (id -> text), a/b in input order."""
    options = options or MatchOptions()
    ids = list(texts)
    bodies = [texts[i] for i in ids]
    relations = []
    for (i, j), channel in sorted(candidate_pairs(bodies, options).items()):
        rel = relate(ids[i], bodies[i], ids[j], bodies[j], options)
        if rel is not None:
            rel.metrics["candidate_channel"] = channel
            relations.append(rel)
    return relations


__all__ = ["candidate_pairs", "find_relations", "relate"]
