"""find_relations: candidates from two fingerprint channels, then alignment of each pair only.

Work is linear in the number of documents plus the number of candidate pairs, which the LSH
bands and the immutables document-frequency cut-off keep small: no all-pairs alignment.
"""

from __future__ import annotations

import re
from collections import OrderedDict

from storytrace.fingerprint.immutables import immutable_shingles, shared_pairs
from storytrace.fingerprint.minhash import band_keys, bucket_pairs, optimal_bands, signatures
from storytrace.fingerprint.shingles import WordHasher, ngram_hashes, sentence_hashes, words
from storytrace.match.align import Sentence, align, sentences
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
           options: MatchOptions | None = None, *,
           sentences_a: list[Sentence] | None = None,
           sentences_b: list[Sentence] | None = None) -> Relation | None:
    """Align one pair and return its Relation, or None when it is not a copy."""
    options = options or MatchOptions()
    identical = _normalised(text_a) == _normalised(text_b) and bool(text_a.strip())
    al = align(text_a, text_b, options, sentences_a=sentences_a, sentences_b=sentences_b)
    kind, score, evidence = classify(al, options, identical)
    if kind == "none":
        return None
    metrics = dict(al.metrics)
    metrics["substitution_pairs"] = [f"{x}->{y}" for x, y in al.substitutions[:20]]
    return Relation(id_a, id_b, kind, score, evidence, metrics)


def _identical_groups(bodies: list[str]) -> list[list[int]]:
    """Indices of documents grouped by identical (whitespace-normalised, non-empty) text."""
    groups: dict[str, list[int]] = {}
    singles: list[list[int]] = []
    for k, body in enumerate(bodies):
        key = _normalised(body)
        if key:
            groups.setdefault(key, []).append(k)
        else:
            singles.append([k])
    return sorted([*groups.values(), *singles])


class _SentenceCache:
    """`sentences(bodies[k])`, kept for the most recently used documents only.

    Candidate pairs come sorted by their first document, so one document's sentences serve all
    its candidates; the bound keeps memory flat on large corpora.
    """

    def __init__(self, bodies: list[str], size: int = 4096) -> None:
        self.bodies, self.size = bodies, size
        self.kept: OrderedDict[int, list[Sentence]] = OrderedDict()

    def __call__(self, k: int) -> list[Sentence]:
        found = self.kept.get(k)
        if found is None:
            found = self.kept[k] = sentences(self.bodies[k])
            if len(self.kept) > self.size:
                self.kept.popitem(last=False)
        else:
            self.kept.move_to_end(k)
        return found


def _renamed(rel: Relation, id_a: str, id_b: str) -> Relation:
    return Relation(id_a, id_b, rel.kind, rel.score, list(rel.evidence), dict(rel.metrics))


def find_relations(texts: dict[str, str], options: MatchOptions | None = None) -> list[Relation]:
    """Verified copy relations among clean texts (id -> text), a/b in input order.

    Documents with identical text are verified once: one of them stands for all in candidate
    generation and alignment, and each relation found is given to every member, so identical
    texts always get the same relations (candidate caps cannot drop a pair for one copy and
    keep it for another).
    """
    options = options or MatchOptions()
    ids = list(texts)
    bodies = [texts[i] for i in ids]
    groups = _identical_groups(bodies)
    relations: list[Relation] = []
    for members in groups:
        # Identical texts relate to each other verbatim; a very large group is linked as a
        # star (like an LSH bucket of boilerplate) so its cost stays linear.
        pairs = [(members[0], m) for m in members[1:]] \
            if len(members) > options.max_identical_clique else \
            [(x, y) for n, x in enumerate(members) for y in members[n + 1:]]
        if pairs:
            first = relate(ids[members[0]], bodies[members[0]], ids[members[1]],
                           bodies[members[1]], options)
            if first is not None:
                first.metrics["candidate_channel"] = "identical"
                relations.extend(_renamed(first, ids[x], ids[y]) for x, y in pairs)
    heads = [members[0] for members in groups]
    split = _SentenceCache(bodies)
    for (x, y), channel in sorted(candidate_pairs([bodies[k] for k in heads], options).items()):
        # A relation is directional (coverage_a, coverage_b), so it is aligned once for each
        # order in which members of the two groups occur in the input.
        by_order: dict[bool, Relation | None] = {}
        group_x = set(groups[x])
        for p in groups[x]:
            for q in groups[y]:
                a, b = (p, q) if p < q else (q, p)
                head_first = a in group_x
                if head_first not in by_order:
                    rel = relate(ids[a], bodies[a], ids[b], bodies[b], options,
                                 sentences_a=split(a), sentences_b=split(b))
                    if rel is not None:
                        rel.metrics["candidate_channel"] = channel
                    by_order[head_first] = rel
                found = by_order[head_first]
                if found is not None:
                    relations.append(_renamed(found, ids[a], ids[b]))
    order = {doc_id: k for k, doc_id in enumerate(ids)}
    relations.sort(key=lambda r: (order[r.a], order[r.b]))
    return relations


__all__ = ["candidate_pairs", "find_relations", "relate"]
