"""find_relations: candidates from two fingerprint channels, then alignment of each pair only.

Work is linear in the number of documents plus the number of candidate pairs, which the LSH
bands and the immutables document-frequency cut-off keep small: no all-pairs alignment.
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from storytrace.engines import Texts
from storytrace.fingerprint.containment import contained_pairs
from storytrace.fingerprint.immutables import immutable_shingles, shared_pairs
from storytrace.fingerprint.minhash import band_keys, bucket_pairs, optimal_bands, signatures
from storytrace.fingerprint.shingles import WordHasher, ngram_hashes, sentence_hashes, words
from storytrace.match.align import Sentence, align, sentences
from storytrace.match.derivation import (
    DerivationModel,
    Rarity,
    Text,
    explain,
    features,
    rare_words,
    shipped_model,
)
from storytrace.match.kinds import classify
from storytrace.match.options import MatchOptions
from storytrace.match.signals import document_signals
from storytrace.model import Relation

if TYPE_CHECKING:
    from storytrace.engines import Engine


def _normalised(text: str) -> str:
    """The text with each run of whitespace one space, none at its ends (str.split's
    whitespace is the regular expression \\s's: the same as re.sub(r"\\s+", " ", text).strip(),
    three times faster)."""
    return " ".join(text.split())


CHANNELS = ("minhash", "immutables", "sentences", "containment")

# Least items in a part sent to a worker: a text's keys cost ~5 ms, a pair's alignment or a
# target's derivation features ~5-10 ms, shipping one of their texts (~5 kB) ~0.05 ms.
MIN_TEXTS = 16
MIN_PAIRS = 32
# At most this many texts, or pairs and targets, in a part: a part keeps the sentences of all
# its texts while it runs, and the parts in flight (two a worker) are held in memory.
MAX_PART = 2000


def _parts(items: list, engine: Engine | None, min_size: int) -> list[list] | None:
    """`items` in consecutive parts for the engine's workers (at least 4 a worker, so one slow
    part does not leave the others idle, and none over MAX_PART unless it must), or None when
    the engine has one worker: the caller then runs in this process with nothing shipped."""
    from storytrace.engines import parts_for

    return parts_for(items, engine, min_size, MAX_PART)


def _part_count(n_items: int, engine: Engine) -> int:
    from storytrace.engines import part_count

    return part_count(n_items, engine.workers, MAX_PART)


def candidate_keys(texts: list[str], options: MatchOptions,
                   engine: Engine | None = None) -> list[dict[str, np.ndarray]]:
    """Each text's hashes per candidate channel: LSH band keys of its word-shingle MinHash,
    immutable shingles, sentence hashes and word n-grams for containment.

    Two documents are candidates when their keys meet `pairs_from_keys`'s rule, so a store can
    keep these keys and find a new document's candidates without re-reading any text. A text's
    keys depend on it alone, so an engine of several workers makes them in parallel parts.
    """
    parts = _parts(texts, engine, MIN_TEXTS)
    if parts is not None:
        return [keys for part in engine.map_batches(candidate_keys, map(Texts, parts), options)
                for keys in part]
    hasher = WordHasher()
    tokens = [hasher(words(t)) for t in texts]
    shingles = [ngram_hashes(h, options.ngram) for h in tokens]
    bands, rows = optimal_bands(options.lsh_threshold, options.num_perm)
    lsh = band_keys(signatures(shingles, options.num_perm), bands, rows)
    return [
        {
            "minhash": lsh[k] if len(shingles[k]) else np.zeros(0, dtype=np.uint64),
            "immutables": immutable_shingles(text, options.immutable_ngram),
            "sentences": sentence_hashes(text),
            "containment": np.unique(ngram_hashes(tokens[k], options.containment_ngram))
            if len(tokens[k]) >= options.containment_ngram else np.zeros(0, dtype=np.uint64),
        }
        for k, text in enumerate(texts)
    ]


def pairs_from_keys(keys: list[dict[str, np.ndarray]],
                    options: MatchOptions) -> dict[tuple[int, int], str]:
    """Index pairs (i < j) worth aligning, with the first channel that proposed them."""
    found: dict[tuple[int, int], str] = {}
    with_bands = [k for k, doc in enumerate(keys) if len(doc["minhash"])]
    if with_bands:
        matrix = np.stack([keys[k]["minhash"] for k in with_bands])
        for x, y in bucket_pairs(matrix):
            found[(with_bands[x], with_bands[y])] = "minhash"
    for channel, least in (("immutables", options.min_shared_immutables),
                           ("sentences", options.min_shared_sentences)):
        for pair in shared_pairs([doc[channel] for doc in keys], least,
                                 options.max_immutable_df, options.max_candidates_per_doc):
            found.setdefault(pair, channel)
    for pair in contained_pairs([doc["containment"] for doc in keys], options.min_containment,
                                options.min_shared_immutables, options.max_immutable_df,
                                options.max_candidates_per_doc):
        found.setdefault(pair, "containment")
    return found


def candidate_pairs(texts: list[str], options: MatchOptions,
                    engine: Engine | None = None) -> dict[tuple[int, int], str]:
    """Index pairs (i < j) worth aligning, with the channel that proposed them (the texts'
    keys on the engine's workers, the pairs from them here)."""
    return pairs_from_keys(candidate_keys(texts, options, engine), options)


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


class _Recent:
    """`make(k)`, kept for the `size` most recently used keys only."""

    def __init__(self, make: Callable[[Hashable], Any], size: int) -> None:
        self.make, self.size = make, size
        self.kept: OrderedDict[Hashable, Any] = OrderedDict()

    def __call__(self, k: Hashable) -> Any:
        found = self.kept.get(k)
        if found is None:
            found = self.kept[k] = self.make(k)
            if len(self.kept) > self.size:
                self.kept.popitem(last=False)
        else:
            self.kept.move_to_end(k)
        return found


class _SentenceCache(_Recent):
    """`sentences(bodies[k])`, kept for the most recently used documents only.

    Candidate pairs come sorted by their first document, so one document's sentences serve all
    its candidates; the bound keeps memory flat on large corpora. With `prepared`, a text's
    sentences come from (and go to) the caller's cache of them across calls.
    """

    def __init__(self, bodies: list[str], size: int = 4096,
                 prepared: PreparedTexts | None = None) -> None:
        split = sentences if prepared is None else prepared.sentences
        super().__init__(lambda k: split(bodies[k]), size)


class PreparedTexts:
    """Texts made ready for alignment and derivation (their sentences, their derivation view),
    by text, for the `size` most recently used texts, kept across `find_relations` calls.

    For a caller that relates new texts to the same stored ones again and again: a serving
    index's queries meet the same partners, whose sentences and views were otherwise made
    anew on every query. Each depends on its text alone, so a text that changed can never be
    answered with another's; the objects kept are shared, never modified."""

    def __init__(self, size: int = 1024) -> None:
        self.sentences: Callable[[str], list[Sentence]] = _Recent(sentences, size)
        self.view: Callable[[str], Text] = _Recent(
            lambda text: Text.from_sentences(self.sentences(text)), size)
        # the text's set of words, that its rarity counts (`Rarity.from_texts`)
        self.vocabulary: Callable[[str], frozenset[str]] = _Recent(
            lambda text: frozenset(words(text)), size)


def _renamed(rel: Relation, id_a: str, id_b: str) -> Relation:
    return Relation(id_a, id_b, rel.kind, rel.score, list(rel.evidence), dict(rel.metrics))


def find_relations(texts: dict[str, str], options: MatchOptions | None = None,
                   dates: dict[str, str | None] | None = None,
                   model: DerivationModel | None = None,
                   focus: set[str] | None = None,
                   engine: Engine | None = None,
                   keys: dict[str, dict[str, np.ndarray]] | None = None,
                   prepared: PreparedTexts | None = None) -> list[Relation]:
    """Verified copy relations among clean texts (id -> text), a/b in input order.

    `dates` (id -> ISO date, optional) tells which of two candidates can be the other's source:
    a text is derived from candidates published before it (see `derivation_rows`). `model`
    decides derivations (default: the shipped one, trained on METER). `focus` (ids, optional):
    only relations with one of these texts are wanted (an index adding or querying new texts
    beside stored ones): pairs of other texts are neither aligned nor returned. `engine`
    (storytrace.engines, optional): where candidate keys, alignments and derivation features
    run (`_on_engine`); the answer is the same on any engine and at any number of workers.
    `keys` (id -> `candidate_keys` of its text, optional): keys the caller has made already
    (an index has them for its new and candidate texts), not made again. `prepared`
    (`PreparedTexts`, optional): texts' sentences and derivation views kept across calls by a
    caller that meets the same texts again (in this process; an engine's workers make their
    own).

    Documents with identical text are verified once: one of them stands for all in candidate
    generation and alignment, and each relation found is given to every member, so identical
    texts always get the same relations (candidate caps cannot drop a pair for one copy and
    keep it for another).
    """
    options = options or MatchOptions()
    ids = list(texts)
    bodies = [texts[i] for i in ids]
    groups = _identical_groups(bodies)
    wanted = [focus is None or any(ids[k] in focus for k in members) for members in groups]
    # Every alignment the answer needs, in order, as (a, b, candidate channel) with the group
    # whose candidates it serves; all are aligned first, then the relations are given out.
    tasks: list[tuple[int, int, str]] = []
    task_group: list[int] = []
    identical: list[tuple[int, list[tuple[int, int]]]] = []  # (task, member pairs)
    for g, members in enumerate(groups):
        # Identical texts relate to each other verbatim; a very large group is linked as a
        # star (like an LSH bucket of boilerplate) so its cost stays linear.
        pairs = [(members[0], m) for m in members[1:]] \
            if len(members) > options.max_identical_clique else \
            [(x, y) for n, x in enumerate(members) for y in members[n + 1:]]
        if wanted[g] and pairs:
            identical.append((len(tasks), pairs))
            tasks.append((members[0], members[1], "identical"))
            task_group.append(g)
    heads = [members[0] for members in groups]
    candidates = candidate_pairs([bodies[k] for k in heads], options, engine) if keys is None \
        else pairs_from_keys([keys[ids[k]] for k in heads], options)
    given: list[tuple[int, int, int]] = []  # (a, b, the task whose relation they get)
    head_tasks: list[int] = []  # the tasks that align two groups' first members
    for (x, y), channel in sorted(candidates.items()):
        if not (wanted[x] or wanted[y]):
            continue
        # A relation is directional (coverage_a, coverage_b), so it is aligned once for each
        # order in which members of the two groups occur in the input.
        by_order: dict[bool, int] = {}
        group_x = set(groups[x])
        for p in groups[x]:
            for q in groups[y]:
                a, b = (p, q) if p < q else (q, p)
                head_first = a in group_x
                if head_first not in by_order:
                    by_order[head_first] = len(tasks)
                    if (a, b) == (heads[x], heads[y]):
                        head_tasks.append(len(tasks))
                    tasks.append((a, b, channel))
                    task_group.append(x)
                given.append((a, b, by_order[head_first]))
    jobs: list[tuple[int, list[int]]] = []
    only = None
    if options.derivation and candidates:
        head_dates = [None if dates is None else dates.get(ids[k]) for k in heads]
        jobs = _derivation_jobs([(heads[x], heads[y]) for x, y in candidates], heads, head_dates)
        only = None if focus is None else {heads[g] for g, w in enumerate(wanted) if w}
    if engine is None or engine.workers == 1 or len(tasks) + len(jobs) < 2 * MIN_PAIRS:
        split = _SentenceCache(bodies, prepared=prepared)
        related = [_related(task, ids, bodies, options, split) for task in tasks]
        rows = _measured(_unsettled(jobs, _settled(tasks, related, head_tasks), only), bodies,
                         split, Rarity.from_texts([bodies[k] for k in heads],
                                                  prepared.vocabulary if prepared else None),
                         prepared=prepared) if jobs else []
    else:
        related, rows = _on_engine(tasks, task_group, head_tasks, jobs, only, groups,
                                   candidates, ids, bodies, heads, options, engine)
    relations: list[Relation] = []
    for task, pairs in identical:
        if related[task] is not None:
            relations.extend(_renamed(related[task], ids[x], ids[y]) for x, y in pairs)
    relations.extend(_renamed(related[task], ids[a], ids[b]) for a, b, task in given
                     if related[task] is not None)
    if rows:
        aligned = {tasks[t][:2]: related[t] for t in head_tasks}
        relations = _with_derivations(relations, rows, aligned, ids, bodies, groups,
                                       model or shipped_model())
    if focus is not None:
        relations = [r for r in relations if r.a in focus or r.b in focus]
    order = {doc_id: k for k, doc_id in enumerate(ids)}
    relations.sort(key=lambda r: (order[r.a], order[r.b]))
    return relations


def _related(task: tuple[int, int, str], ids, bodies, options: MatchOptions,
             split: _SentenceCache) -> Relation | None:
    a, b, channel = task
    rel = relate(ids[a], bodies[a], ids[b], bodies[b], options,
                 sentences_a=split(a), sentences_b=split(b))
    if rel is not None:
        rel.metrics["candidate_channel"] = channel
    return rel


def _settled(tasks: list[tuple[int, int, str]], related: list[Relation | None],
             head_tasks) -> set[tuple[int, int]]:
    """Pairs of group heads that alignment found to be whole copies (derivation leaves them)."""
    return {tasks[t][:2] for t in head_tasks
            if related[t] is not None and related[t].kind in _STRUCTURAL}


# -- on an engine of several workers ---------------------------------------------------------
# The work is cut along the components of the candidate graph: a part holds whole components,
# so every pair it aligns and every target it measures has all its texts in the part, each
# text is split into sentences once (alignment and derivation share them), and a part ships
# only its own texts. The parts are consecutive in the order of their first group, and each
# part's results are put back in their places, so the answer is the one of a single process.
# A component with more than MAX_COMPONENT_SHARES parts' worth of work would keep one worker
# busy while the others wait: then the pairs are aligned first, in parts of consecutive pairs,
# and the derivation targets measured after (their texts split again; the same answer).
MAX_COMPONENT_SHARES = 2


def _component_parts(tasks: list[tuple[int, int, str]], task_group: list[int],
                     jobs: list[tuple[int, list[int]]], groups: list[list[int]],
                     candidates: dict[tuple[int, int], str],
                     share: int) -> list[tuple[list[int], list[int]]] | None:
    """(task indices, job indices) of each part of about `share` tasks and jobs, made of whole
    components; None when a component alone is more than MAX_COMPONENT_SHARES shares."""
    from storytrace.cluster.components import group_of

    component = group_of(range(len(groups)), candidates)  # named by its first group
    group_at_head = {members[0]: g for g, members in enumerate(groups)}
    work: dict[int, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for t, g in enumerate(task_group):
        work[component[g]][0].append(t)
    for j, (x, _) in enumerate(jobs):
        work[component[group_at_head[x]]][1].append(j)
    if max(len(t) + len(j) for t, j in work.values()) > MAX_COMPONENT_SHARES * share:
        return None
    parts: list[tuple[list[int], list[int]]] = []
    part: tuple[list[int], list[int]] = ([], [])
    for component in sorted(work):
        part[0].extend(work[component][0])
        part[1].extend(work[component][1])
        if len(part[0]) + len(part[1]) >= share:
            parts.append(part)
            part = ([], [])
    if part[0] or part[1]:
        parts.append(part)
    return parts


def _on_engine(tasks, task_group, head_tasks, jobs, only, groups, candidates, ids, bodies,
               heads, options: MatchOptions,
               engine: Engine) -> tuple[list[Relation | None], list[DerivationRow]]:
    """The alignments of `tasks` (in order) and the derivation rows of `jobs` (by target),
    computed part by part on the engine's workers."""
    from storytrace.engines import split

    rarity = _rarity([bodies[k] for k in heads], engine) if jobs else None
    is_head = set(head_tasks)
    related: list[Relation | None] = [None] * len(tasks)
    rows: list[DerivationRow] = []

    def shipped(part_tasks: list[int], part_jobs: list[int], jobs, only):
        texts = {k for t in part_tasks for k in tasks[t][:2]}
        texts.update(k for j in part_jobs for k in (jobs[j][0], *jobs[j][1]))
        part_only = None if only is None else \
            only & {k for j in part_jobs for k in (jobs[j][0], *jobs[j][1])}
        texts = sorted(texts)
        return ([tasks[t] for t in part_tasks],
                [n for n, t in enumerate(part_tasks) if t in is_head],
                [jobs[j] for j in part_jobs], part_only,
                (texts, [ids[k] for k in texts], Texts(bodies[k] for k in texts)))

    def run(parts: list[tuple[list[int], list[int]]], jobs, only) -> None:
        found = engine.map_batches(_match_part, (shipped(*part, jobs, only) for part in parts),
                                   options, rarity)
        for (part_tasks, _), (part_related, part_rows) in zip(parts, found, strict=True):
            for t, rel in zip(part_tasks, part_related, strict=True):
                related[t] = rel
            rows.extend(part_rows)

    share = max(MIN_PAIRS, min(MAX_PART, (len(tasks) + len(jobs)) // (4 * engine.workers)))
    parts = _component_parts(tasks, task_group, jobs, groups, candidates, share)
    if parts is not None:
        run(parts, jobs, only)
    else:
        run([(part, []) for part in split(list(range(len(tasks))),
                                          _part_count(len(tasks), engine), MIN_PAIRS)],
            jobs, only)
        pending = _unsettled(jobs, _settled(tasks, related, head_tasks), only)
        run([([], part) for part in split(list(range(len(pending))),
                                          _part_count(len(pending), engine), MIN_PAIRS)],
            pending, None)
    rows.sort(key=lambda row: row.target)  # one row a target, in the order one process makes
    return related, rows


def _match_part(part, options: MatchOptions,
                rarity: Rarity | None) -> tuple[list[Relation | None], list[DerivationRow]]:
    """One part's alignments, then its derivation rows, with one sentence split a text."""
    tasks, head_tasks, jobs, only, (numbers, part_ids, part_bodies) = part
    ids = dict(zip(numbers, part_ids, strict=True))
    bodies = dict(zip(numbers, part_bodies, strict=True))
    split = _SentenceCache(bodies, size=len(bodies))
    related = [_related(task, ids, bodies, options, split) for task in tasks]
    if not jobs:
        return related, []
    return related, _measured(_unsettled(jobs, _settled(tasks, related, head_tasks), only),
                              bodies, split, rarity)


def _rarity(texts: list[str], engine: Engine) -> Rarity:
    """`Rarity.from_texts(texts)`, its document frequencies counted on the engine's workers
    (a sum of per-part counts: the same counts)."""
    parts = _parts(texts, engine, MIN_TEXTS)
    if parts is None:
        return Rarity.from_texts(texts)
    df: Counter = Counter()
    for counts in engine.map_batches(_document_frequencies, map(Texts, parts)):
        df.update(counts)
    return Rarity(df, len(texts))


def _document_frequencies(texts: list[str]) -> Counter:
    return Rarity.from_texts(texts).df


@dataclass(slots=True)
class DerivationRow:
    """One target text measured against its sources (indices into the corpus)."""

    target: int
    source: int  # the source that explains most of the target's rare words
    sources: list[int]
    values: dict[str, float]


def _sources(x: int, partners: set[int], dates: dict[int, str | None]) -> list[int]:
    """The candidates `x` can be derived from: those dated before it when dates say so, else
    those of its own date or undated (a later text is never a source)."""
    mine = dates.get(x)
    earlier = [y for y in partners if mine and dates.get(y) and dates[y] < mine]
    if earlier:
        return sorted(earlier)
    return sorted(y for y in partners if not mine or not dates.get(y) or dates[y] == mine)


# A target whose sources together hold less than this IDF-weighted share of its content words
# is not measured further: the shipped model decides `non` for every such METER story (61 of
# 61), and skipping the sentence comparisons keeps the match stage's cost near the alignment's.
MIN_RARE_WORDS = 0.4
# The sources a target is measured against: the few that explain most of its rare words (a
# wire story's first take, new lead and substitute), not every candidate.
MAX_SOURCES = 5


def derivation_rows(bodies: list[str], pairs: list[tuple[int, int]], targets: list[int],
                    dates: list[str | None], split=None,
                    settled: set[tuple[int, int]] = frozenset(),
                    min_rare_words: float = MIN_RARE_WORDS,
                    only: set[int] | None = None) -> list[DerivationRow]:
    """For every text of `targets` with candidate partners (`pairs`), its derivation features
    against the union of its possible sources (`_sources`) and its best single source.

    Sources that are already whole copies of the target by alignment (`settled` pairs, i < j)
    are left out: derivation never overrides those, and a text is not "explained" by its own
    verbatim copy. So is one whose sources hold less
    than `min_rare_words` of its rare words (training measures every target: 0). With `only`,
    rows are made for those texts and for texts that one of them may be a source of."""
    jobs = _unsettled(_derivation_jobs(pairs, targets, dates), settled, only)
    return _measured(jobs, bodies, split or _SentenceCache(bodies),
                     Rarity.from_texts([bodies[k] for k in targets]), min_rare_words)


def _derivation_jobs(pairs: list[tuple[int, int]], targets: list[int],
                     dates: list[str | None]) -> list[tuple[int, list[int]]]:
    """Each text with candidate partners, in index order, and the partners that may be its
    sources by date."""
    date_of = dict(zip(targets, dates))
    partners: dict[int, set[int]] = defaultdict(set)
    for a, b in pairs:
        partners[a].add(b)
        partners[b].add(a)
    return [(x, _sources(x, partners[x], date_of)) for x in sorted(partners)]


def _unsettled(jobs: list[tuple[int, list[int]]], settled: set[tuple[int, int]],
               only: set[int] | None) -> list[tuple[int, list[int]]]:
    """The jobs left to measure: sources that are whole copies by alignment taken out, then
    targets with no source left, or outside `only` (and no source in it), dropped."""
    out = []
    for x, sources in jobs:
        found = [y for y in sources if (min(x, y), max(x, y)) not in settled]
        if not found or only is not None and x not in only and only.isdisjoint(found):
            continue
        out.append((x, found))
    return out


def _measured(jobs: list[tuple[int, list[int]]], bodies, split, rarity: Rarity,
              min_rare_words: float = MIN_RARE_WORDS,
              prepared: PreparedTexts | None = None) -> list[DerivationRow]:
    """The rows of `derivation_rows` for its (target, sources) jobs, in order. Texts are
    prepared for as many recent documents as `split` keeps sentences: held for every document,
    they were most of the match stage's memory (about 20 kB a document). With `prepared`,
    the caller's cache across calls holds them."""
    text = _Recent(lambda k: Text.from_sentences(split(k)), split.size) if prepared is None \
        else (lambda k: prepared.view(bodies[k]))

    rows = []
    for x, found in jobs:
        union = frozenset().union(*(text(y).vocabulary for y in found))
        if rare_words(text(x), union, rarity) < min_rare_words:
            continue
        explained = {y: rare_words(text(x), text(y).vocabulary, rarity) for y in found}
        found = sorted(found, key=lambda y: -explained[y])[:MAX_SOURCES]
        values = features(text(x), [text(y) for y in found], rarity)
        best = found[0]
        rows.append(DerivationRow(x, best, sorted(found), values))
    return rows


# Alignment kinds that say exactly how a whole text was copied; derivation never overrides them.
_STRUCTURAL = frozenset({"verbatim", "wrapped", "truncated", "edited", "spun"})
# A `translated` alignment stands when it covers both whole texts (a translation keeps all of
# its source: generated round trips cover >= 0.94 of both sides in 95% of cases) or one side
# carries machine-translation marks (the seeds' 001 covers half of the updated Reuters story it
# translates an earlier version of). Otherwise it is a rewrite or an independent report, which
# the derivation model decides (METER: 0 of 100 wholly/partially-derived newspaper stories
# that aligned as `translated` are translations; 95% cover under 0.82 of the longer text).
TRANSLATION_COVERAGE = 0.85
TRANSLATION_MARKS = 0.5


# A rewrite makes two texts one article (one family), so it needs evidence a sentence or two
# long: at least this many of the target's words in 3-word runs of its sources. Shorter texts
# that the model calls wholly derived are linked as `partial` (ECB+ dev: 5 of the 7 rewrites
# between different events of one topic had 6-16 such words; METER briefs: bench/reuse.py).
MIN_REWRITE_RUN_WORDS = 12


def _run_words(values: dict[str, float]) -> float:
    return values["trigram_cover"] * math.exp(values["log_words"])


def _is_translation(rel: Relation, marks) -> bool:
    cover = min(rel.metrics.get("coverage_a", 0.0), rel.metrics.get("coverage_b", 0.0))
    return cover >= TRANSLATION_COVERAGE or max(marks(rel.a), marks(rel.b)) >= TRANSLATION_MARKS


def _with_derivations(relations: list[Relation], rows: list[DerivationRow],
                      aligned: dict[tuple[int, int], Relation | None],
                      ids: list[str], bodies: list[str], groups: list[list[int]],
                      model: DerivationModel) -> list[Relation]:
    """Add (or replace alignment guesses with) the derivation model's decisions: a target
    `wholly` derived from its best source is `rewritten` from it, `partially` derived is
    `partial` reuse, `non` is an independent report and gets no relation. Rows are measured on
    one text of each group of identical texts; the decision holds for every member."""
    position = {doc_id: k for k, doc_id in enumerate(ids)}
    marks = lru_cache(maxsize=None)(
        lambda doc_id: document_signals(bodies[position[doc_id]]).translated)
    decided: dict[tuple[int, int], tuple[int, Relation | None]] = {}
    for row in rows:
        decision = model.decide(row.values)
        a, b = sorted((row.source, row.target))
        found = aligned.get((a, b))
        if found is not None and (found.kind in _STRUCTURAL or found.kind == "translated"
                                  and _is_translation(found, marks)):
            continue
        if decision.cls == "non":
            # Passages of narration reused nearly word for word (`partial` alignments exclude
            # shared quotations) are reuse whatever the rest of the text does, when at least
            # one 12-word run of narration outside quotations is shared: without one, the
            # aligned passages are what two reports of one event say anyway (METER, CV:
            # independent reports linked 0.237 -> 0.211, partially derived 0.596 -> 0.587).
            if found is None or found.kind != "partial" \
                    or row.values["unquoted_12gram_cover"] == 0:
                decided.setdefault((a, b), (row.target, None))
            continue
        kind = "rewritten" if decision.cls == "wholly" and _run_words(row.values) >= \
            MIN_REWRITE_RUN_WORDS else "partial"
        previous = decided.get((a, b), (0, None))[1]
        if previous is not None and (previous.kind == "rewritten" or kind == "partial"):
            continue
        others = [ids[k] for k in row.sources if k != row.source]
        evidence = [f"{ids[row.target]} is {decision.cls} derived from {ids[row.source]}"
                    + (f" (with {', '.join(others[:5])})" if others else ""),
                    *explain(row.values, decision)]
        metrics = {"derived": ids[row.target], "sources": [ids[k] for k in row.sources],
                   "derivation": row.values, "probabilities": decision.probabilities,
                   "candidate_channel": "derivation"}
        if found is not None:
            metrics.update({k: v for k, v in found.metrics.items() if k not in metrics})
            evidence.extend(found.evidence)
        score = round(decision.probabilities[decision.cls], 4)
        decided[(a, b)] = (row.target, Relation(ids[a], ids[b], kind, score, evidence, metrics))
    members = {group[0]: group for group in groups}
    replaced: dict[tuple[str, str], Relation | None] = {}
    for (x, y), (target, rel) in decided.items():
        for p in members[x]:
            for q in members[y]:
                a, b = sorted((p, q))
                if rel is None:
                    replaced[(ids[a], ids[b])] = None
                    continue
                copy = _renamed(rel, ids[a], ids[b])
                copy.metrics["derived"] = ids[p if target == x else q]
                replaced[(ids[a], ids[b])] = copy
    kept = [r for r in relations if (r.a, r.b) not in replaced]
    return kept + [r for r in replaced.values() if r is not None]


__all__ = ["CHANNELS", "DerivationRow", "PreparedTexts", "candidate_keys", "candidate_pairs",
           "derivation_rows",
           "find_relations", "pairs_from_keys", "relate"]
