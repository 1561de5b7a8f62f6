"""Story clustering quality on three dev corpora, in-corpus and leave-one-corpus-out.

Corpora (../shared/data): ECB+ dev (21 topics of two look-alike events each), Multi-News dev
scored over its pages WITH article text (22 of 291 pages are archive notices, tweet widgets or
404 pages after cleaning: fewer than MIN_CONTENT_WORDS content words, so no text method can
place them), and METER (each catchline one event, dated; several trials reported on the same
days). Scores are pairwise precision / recall / F1 (Miranda et al. 2018) and ARI, plus two
look-alike measures: of the pairs of different stories that look alike (ECB+: the two events of
one topic; METER: reports of different catchlines dated the same day), the share put in one
story ("LA merged", lower is better), and the precision of the same-story pairs predicted
among look-alike candidates ("LA P").

Tables:
1. per corpus: the TF-IDF baseline (sklearn defaults, English stop words, average-linkage cosine
   at distance BASELINE_DISTANCE), StoryClusterer batch and streaming (each document a family
   of one; streaming in file order, which is date order for METER), and the whole pipeline
   (`storytrace.analyze`, batch and streaming), with `--embeddings DIR` also the embedding rows;
2. leave-one-corpus-out (skip with `--no-loco`): every tuned value of story clustering in GRID
   is chosen on two corpora and scored on the third (batch F1, P, R, and streaming F1 at that
   setting), by two declared rules: the best mean F1 of batch mode over the two ("mean") and
   the best worse-of-the-two ("worst"); beside it the in-corpus best (chosen on the corpus
   itself: an optimistic bound), the shipped defaults, and the baseline's distance chosen by
   the same rule on the same two corpora ("base LOCO") and on the corpus itself ("base in"),
   and how many settings tie under the rule on the other two ("tied": the rule cannot tell
   them apart, argmax takes the first) with the held-out F1 range over them ("tied range");
3. story confidence: the shipped membership fit and, leave-one-corpus-out, how well the
   similarity of a document to its story ranks the documents placed in another event's story;
4. the calibrated same-event probability of issue 16, leave-one-corpus-out: a logistic
   regression over a report pair's evidence (CALIBRATION_FEATURES: the similarity, each view's
   cosine, lengths, ranks in each other's neighbours, similarity relative to the best
   neighbour's) fitted on the other two corpora's pairs and scored on the third's at p >= 0.5
   (pair average precision, precision and recall); with the similarity alone its p = 0.5 point
   is a story bar, and the held-out batch F1 at that bar is printed (`--only-calibration`
   prints this table alone). Not shipped: see bench/results/stories.txt.

Run: PYTHONPATH=src python bench/stories.py [--corpus NAME ...] [--no-loco] [--no-analyze]
     [--embeddings DIR] [--only-calibration]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse.csgraph import connected_components
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import adjusted_rand_score, roc_auc_score

from storytrace.cluster import stories as story_module
from storytrace.cluster.stories import MIN_CONTENT_WORDS, StoryClusterer, content_words
from storytrace.model import Document, DocumentResult, Signals

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
BASELINE_DISTANCE = 0.85
BASELINE_GRID = (0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
CEILING_SIMILARITY = 0.05
# The tuned values of story clustering and the values tried for each; DEFAULTS are the shipped.
GRID = {
    "min_similarity": (0.10, 0.12, 0.14, 0.16, 0.18),
    "split_max_ncut": (0.5, 0.6, 0.7),
    "split_neighbours": (6, 8, 10),
    "weights": ((0.7, 0.2, 0.1), (0.6, 0.3, 0.1), (0.8, 0.1, 0.1)),
}


@dataclass
class Corpus:
    """A story corpus: normalised rows ({id, text, story, date?, group?}) and which pages count."""

    name: str
    rows: list[dict]
    texts: list[str]  # through the clean stage
    scored: np.ndarray  # the pages scored (Multi-News: pages with text)
    look_alike: str | None  # what makes two different stories look alike

    @property
    def gold(self) -> list[str]:
        return [r["story"] for r in self.rows]

    def families(self) -> list[list[DocumentResult]]:
        return [
            as_family(r["id"], t, r.get("date")) for r, t in zip(self.rows, self.texts, strict=True)
        ]


def load_corpus(name: str) -> Corpus:
    if name == "meter":
        raw = load(DATA / "meter" / "docs.jsonl")
        rows = [
            {"id": r["id"], "text": r["text"], "story": r["catchline"], "date": r["date"][:10],
             "group": r["date"][:10]}
            for r in raw
        ]  # fmt: skip
        look_alike = "same day"
    else:
        rows = load(DATA / name / "dev.jsonl")
        if name == "ecbplus":
            rows = [dict(r, group=r["topic"]) for r in rows]
        look_alike = "same topic" if name == "ecbplus" else None
    texts = clean_texts(rows)
    with_text = np.array([len(content_words(t)) >= MIN_CONTENT_WORDS for t in texts])
    scored = with_text if name == "multinews" else np.ones(len(rows), dtype=bool)
    return Corpus(name, rows, texts, scored, look_alike)


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def clean_texts(rows: list[dict]) -> list[str]:
    from storytrace.clean import clean_corpus

    docs = [Document(id=r["id"], raw=r["text"], source=r["id"]) for r in rows]
    return [c.text for c in clean_corpus(docs)]


def as_family(doc_id: str, text: str, date: str | None = None) -> list[DocumentResult]:
    """A family of one document (bench/stories_scale.py uses it too)."""
    return [
        DocumentResult(
            id=doc_id, source=doc_id, title=None, clean_text=text, removed=[],
            signals=Signals(), family="", story="", attribution=[], date=date,
        )
    ]  # fmt: skip


def pairwise_scores(gold, predicted) -> tuple[float, float, float]:
    """Precision, recall and F1 over all document pairs put in one cluster."""

    def pairs(labels) -> int:
        return sum(n * (n - 1) // 2 for n in Counter(labels).values())

    together = pairs(list(zip(gold, predicted, strict=True)))
    found, true = pairs(predicted), pairs(gold)
    precision = together / found if found else 1.0
    recall = together / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def look_alike_scores(gold, predicted, group) -> tuple[float, float]:
    """(share of look-alike different-story pairs put in one story, precision of the predicted
    same-story pairs among look-alike candidates: pairs of one group)."""
    gold, predicted, group = (np.asarray(x) for x in (gold, predicted, group))
    upper = np.triu_indices(len(gold), 1)
    same_group = (group[:, None] == group[None, :])[upper]
    same_gold = (gold[:, None] == gold[None, :])[upper]
    together = (predicted[:, None] == predicted[None, :])[upper]
    look_alike = same_group & ~same_gold
    merged = (look_alike & together).sum() / max(look_alike.sum(), 1)
    candidates = same_group & together
    precision = (candidates & same_gold).sum() / candidates.sum() if candidates.any() else 1.0
    return float(merged), float(precision)


def score(corpus: Corpus, labels) -> dict[str, float]:
    keep = corpus.scored
    gold = [g for g, k in zip(corpus.gold, keep, strict=True) if k]
    predicted = [str(x) for x, k in zip(labels, keep, strict=True) if k]
    p, r, f1 = pairwise_scores(gold, predicted)
    out = {"P": p, "R": r, "F1": f1, "ARI": adjusted_rand_score(gold, predicted)}
    out["stories"] = len(set(predicted))
    if corpus.look_alike:
        group = [row["group"] for row, k in zip(corpus.rows, keep, strict=True) if k]
        out["merged"], out["la_p"] = look_alike_scores(gold, predicted, group)
    return out


def recall_ceiling(gold: list[str], similarity: np.ndarray) -> float:
    """Share of same-story pairs that any similarity-based clusterer could still put together:
    linked by a chain of same-story pairs, each of similarity >= CEILING_SIMILARITY."""
    labels = np.array(gold)
    joinable = total = 0
    for story in set(gold):
        members = np.flatnonzero(labels == story)
        total += len(members) * (len(members) - 1) // 2
        linked = similarity[np.ix_(members, members)] >= CEILING_SIMILARITY
        _, parts = connected_components(linked, directed=False)
        joinable += sum(n * (n - 1) // 2 for n in Counter(parts).values())
    return joinable / total if total else 1.0


def baseline(texts: list[str], distance: float = BASELINE_DISTANCE) -> np.ndarray:
    """Plain TF-IDF + average-linkage cosine clustering; an empty text is a cluster of its own."""
    x = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(texts).toarray()
    filled = np.flatnonzero(x.any(axis=1))
    labels = np.arange(len(texts)) + len(texts)
    labels[filled] = AgglomerativeClustering(
        n_clusters=None, distance_threshold=distance, metric="cosine", linkage="average"
    ).fit_predict(x[filled])
    return labels


def analyzed(corpus: Corpus, mode: str) -> list[str]:
    """Each row's story from the whole pipeline (`storytrace.analyze`), in input order."""
    import storytrace

    fields = ("id", "text", "date")
    inputs = [{k: r[k] for k in fields if k in r} for r in corpus.rows]
    result = storytrace.analyze(inputs, stories=mode)
    story_of = {d.id: d.story for d in result.documents}
    return [story_of[r["id"]] for r in corpus.rows]


HEADER = (
    f"{'corpus':<10} {'method':<24} {'P':>6} {'R':>6} {'F1':>6} {'ARI':>6} "
    f"{'LA mrg':>6} {'LA P':>6} {'stories':>7} {'s':>6}"
)


def row_text(name: str, method: str, s: dict, seconds: float | None = None) -> str:
    la = (f"{s['merged']:6.3f} {s['la_p']:6.3f}") if "merged" in s else f"{'':>6} {'':>6}"
    secs = f"{seconds:6.2f}" if seconds is not None else ""
    return (
        f"{name:<10} {method:<24} {s['P']:6.3f} {s['R']:6.3f} {s['F1']:6.3f} {s['ARI']:6.3f} "
        f"{la} {s['stories']:7d} {secs}"
    )


def _methods(corpus: Corpus, families, embedder, with_analyze: bool) -> dict:
    """The rows of the in-corpus table: name -> a function giving one label per document."""
    methods = {
        f"baseline tfidf@{BASELINE_DISTANCE}": lambda: baseline(corpus.texts),
        "storytrace batch": lambda: StoryClusterer().fit(families).labels_,
        "storytrace streaming": lambda: StoryClusterer().partial_fit(families).labels_,
    }
    if with_analyze:
        methods["analyze batch"] = lambda: analyzed(corpus, "batch")
        methods["analyze streaming"] = lambda: analyzed(corpus, "streaming")
    if embedder is not None:
        methods["batch + embeddings"] = lambda: (
            StoryClusterer(embedder=embedder).fit(families).labels_
        )
        methods["streaming + embeddings"] = lambda: (
            StoryClusterer(embedder=embedder).partial_fit(families).labels_
        )
    return methods


def in_corpus_table(corpora: list[Corpus], embedder, with_analyze: bool) -> None:
    print(HEADER)
    print("-" * len(HEADER))
    for corpus in corpora:
        families = corpus.families()
        methods = _methods(corpus, families, embedder, with_analyze)
        for method, run in methods.items():
            t0 = time.perf_counter()
            labels = list(run())
            print(row_text(corpus.name, method, score(corpus, labels), time.perf_counter() - t0))
        gold_stories = len({g for g, k in zip(corpus.gold, corpus.scored, strict=True) if k})
        print(f"{corpus.name:<10} {'gold':<24} {'':>41} {gold_stories:7d}")
        if not corpus.scored.all():
            everything = Corpus(
                corpus.name, corpus.rows, corpus.texts, np.ones(len(corpus.rows), dtype=bool),
                corpus.look_alike,
            )  # fmt: skip
            labels = StoryClusterer().fit(families).labels_
            print(row_text(corpus.name, "batch, every page", score(everything, labels)))
            print(
                f"{corpus.name:<10} scored over the {int(corpus.scored.sum())} of"
                f" {len(corpus.rows)} pages with text (>= {MIN_CONTENT_WORDS} content words)"
            )
        kept = np.flatnonzero(corpus.scored)
        similarity = StoryClusterer().similarity(families)[np.ix_(kept, kept)]
        ceiling = recall_ceiling([corpus.gold[i] for i in kept], similarity)
        print(
            f"{corpus.name:<10} recall ceiling: {ceiling:.3f} of same-story pairs are joined by a"
            f" chain of pairs with similarity >= {CEILING_SIMILARITY} inside their story"
        )


def settings() -> list[dict]:
    out = []
    for values in itertools.product(*GRID.values()):
        setting = dict(zip(GRID, values, strict=True))
        w, n, u = setting.pop("weights")
        out.append(setting | {"word_weight": w, "name_weight": n, "number_weight": u})
    return out


def short(setting: dict) -> str:
    return (
        f"bar {setting['min_similarity']:.2f} ncut {setting['split_max_ncut']:.2f} "
        f"nb {setting['split_neighbours']} w {setting['word_weight']:.1f}/"
        f"{setting['name_weight']:.1f}/{setting['number_weight']:.1f}"
    )


def loco_table(corpora: list[Corpus]) -> None:
    """Every GRID setting on every corpus (batch), then each corpus scored at the setting that
    is best on the other two."""
    grid = settings()
    t0 = time.perf_counter()
    f1 = np.zeros((len(grid), len(corpora)))
    families = [c.families() for c in corpora]
    for i, setting in enumerate(grid):
        for j, corpus in enumerate(corpora):
            f1[i, j] = score(corpus, StoryClusterer(**setting).fit(families[j]).labels_)["F1"]
    base_f1 = np.array(
        [[score(c, baseline(c.texts, d))["F1"] for c in corpora] for d in BASELINE_GRID]
    )
    print(
        f"\n{len(grid)} settings x {len(corpora)} corpora in {time.perf_counter() - t0:.0f} s"
        f" (grid: {GRID}; baseline distances {BASELINE_GRID})"
    )
    default = StoryClusterer().get_params()
    header = (
        f"{'held out':<10} {'choice':<6} {'LOCO F1':>7} {'P':>6} {'R':>6} {'stream':>6} {'in-corp':>7}"
        f" {'shipped':>7} {'base LOCO':>9} {'base in':>7} {'tied':>4} {'tied range':>11}"
        "  setting chosen on the other two"
    )
    print(header)
    print("-" * len(header))
    criteria = {"mean": lambda x: x.mean(axis=1), "worst": lambda x: x.min(axis=1)}
    for criterion, rank in criteria.items():
        for j, corpus in enumerate(corpora):
            others = [k for k in range(len(corpora)) if k != j]
            if not others:
                continue
            ranked = rank(f1[:, others])
            chosen = grid[int(np.argmax(ranked))]
            # Settings the other two corpora cannot tell apart (the same score): the held-out
            # F1 at any of them is as much the rule's answer as the one argmax takes first.
            tied = np.flatnonzero(ranked >= ranked.max() - 1e-9)
            spread = f"{f1[tied, j].min():.3f}-{f1[tied, j].max():.3f}"
            batch = score(corpus, StoryClusterer(**chosen).fit(families[j]).labels_)
            stream = score(corpus, StoryClusterer(**chosen).partial_fit(families[j]).labels_)
            shipped = score(corpus, StoryClusterer().fit(families[j]).labels_)["F1"]
            distance = BASELINE_GRID[int(np.argmax(rank(base_f1[:, others])))]
            base_loco = score(corpus, baseline(corpus.texts, distance))["F1"]
            print(
                f"{corpus.name:<10} {criterion:<6} {batch['F1']:7.3f} {batch['P']:6.3f}"
                f" {batch['R']:6.3f} {stream['F1']:6.3f} {f1[:, j].max():7.3f} {shipped:7.3f}"
                f" {base_loco:9.3f} {base_f1[:, j].max():7.3f} {len(tied):4d} {spread:>11}"
                f"  {short(chosen)}; baseline {distance}"
            )
    best = grid[int(np.argmax(f1.mean(axis=1)))]
    print(f"best mean F1 over all {len(corpora)}: {short(best)} ({f1.mean(axis=1).max():.3f})")
    shipped_row = [
        i for i, s in enumerate(grid) if all(np.isclose(s[k], default[k]) for k in s)
    ]  # fmt: skip
    if shipped_row:
        i = shipped_row[0]
        print(f"shipped: {short(grid[i])} ({f1[i].mean():.3f}: {np.round(f1[i], 3).tolist()})")


def confidence_table(corpora: list[Corpus]) -> None:
    """How well a document's similarity to its story ranks the documents that are in another
    event's story (leave-one-corpus-out logistic fits; the shipped one is fitted on all)."""
    data = {}
    for corpus in corpora:
        clusterer = StoryClusterer().fit(corpus.families())
        labels = clusterer.labels_
        gold = np.array(corpus.gold)
        main = {s: Counter(gold[labels == s]).most_common(1)[0][0] for s in set(labels.tolist())}
        values = [v[0] for v in clusterer.story_similarity_]
        keep = [i for i, v in enumerate(values) if v is not None and corpus.scored[i]]
        x = np.array([values[i] for i in keep])[:, None]
        y = np.array([gold[i] == main[labels[i]] for i in keep])
        data[corpus.name] = (x, y)
    print(f"\nstory confidence: shipped STORY_MEMBERSHIP = {story_module.STORY_MEMBERSHIP}")
    for name, (x, y) in data.items():
        others = [k for k in data if k != name]
        if not others:
            continue
        fit = LogisticRegression(C=100.0).fit(
            np.vstack([data[k][0] for k in others]), np.concatenate([data[k][1] for k in others])
        )
        p = fit.predict_proba(x)[:, 1]
        auc = roc_auc_score(y, p) if 0 < y.sum() < len(y) else float("nan")
        print(
            f"{name:<10} {len(y)} documents in stories of 2+, {int((~y).sum())} in another"
            f" event's story; LOCO fit ({fit.intercept_[0]:.2f}, {fit.coef_[0, 0]:.2f}):"
            f" mean p {p.mean():.3f} vs {y.mean():.3f} right, AUC {auc:.3f}"
        )


# Evidence of a report pair for the calibrated same-event probability (issue 16): the
# shipped similarity, each view's own cosine, the texts' lengths in content words, and the
# scale-free evidence: each report's rank in the other's neighbours, the similarity relative to
# the two reports' best neighbour similarities.
CALIBRATION_FEATURES = {
    "similarity": ("s",),
    "+ lengths": ("s", "short", "long"),
    "views + lengths": ("words", "names", "numbers", "short", "long"),
    "+ ranks, relative": ("s", "rank_near", "rank_far", "relative_best", "relative_worst"),
    "all": ("s", "words", "names", "numbers", "short", "long", "rank_near", "rank_far",
            "relative_best", "relative_worst"),
}  # fmt: skip


def pair_evidence(corpus: Corpus) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Every pair of scored, informative reports: each feature's value, and whether the two are
    one gold story (each document a family of one, as StoryClusterer sees them)."""
    families = corpus.families()
    s = StoryClusterer().similarity(families)
    views = {
        name: StoryClusterer(word_weight=w[0], name_weight=w[1], number_weight=w[2]).similarity(
            families
        )
        for name, w in (("words", (1, 0, 0)), ("names", (0, 1, 0)), ("numbers", (0, 0, 1)))
    }
    n = len(s)
    others = s.copy()
    np.fill_diagonal(others, -1.0)
    best = np.maximum(others.max(axis=1), 1e-6)
    order = np.argsort(-others, axis=1, kind="stable")
    rank = np.empty_like(order)
    rank[np.arange(n)[:, None], order] = np.arange(n)[None, :]
    length = np.log1p([len(content_words(t)) for t in corpus.texts])
    full = {
        "s": s, **views,
        "short": np.minimum.outer(length, length), "long": np.maximum.outer(length, length),
        "rank_near": np.log1p(np.minimum(rank, rank.T)),
        "rank_far": np.log1p(np.maximum(rank, rank.T)),
        "relative_best": s / np.maximum.outer(best, best),
        "relative_worst": np.minimum(s / np.minimum.outer(best, best), 1.5),
    }  # fmt: skip
    keep = np.flatnonzero(corpus.scored & (others.max(axis=1) > 0))
    a, b = (keep[k] for k in np.triu_indices(len(keep), 1))
    gold = np.array(corpus.gold)
    return {name: m[a, b] for name, m in full.items()}, gold[a] == gold[b]


def calibration_table(corpora: list[Corpus]) -> None:
    """The calibrated same-event probability, leave-one-corpus-out: a logistic regression over a
    pair's evidence, fitted on the report pairs of two corpora, scored on the third's pairs at
    ONE threshold (p >= 0.5, not chosen on any corpus); with the similarity alone, its p = 0.5
    point is also a story bar, and StoryClusterer is run at it."""
    from sklearn.metrics import average_precision_score

    evidence = {c.name: pair_evidence(c) for c in corpora}
    print(
        "\nsame-event probability per report pair, leave-one-corpus-out (logistic regression on"
        " the other two corpora's pairs; threshold p >= 0.5)"
    )
    header = (
        f"{'held out':<10} {'evidence':<18} {'AP':>6} {'AP sim':>6} {'P@.5':>6} {'R@.5':>6}"
        f" {'bar':>6} {'F1@bar':>6}  coefficients"
    )
    print(header)
    print("-" * len(header))
    for corpus in corpora:
        others = [c for c in corpora if c is not corpus]
        if not others:
            continue
        features, same = evidence[corpus.name]
        for label, names in CALIBRATION_FEATURES.items():
            x = np.column_stack([features[k] for k in names])
            fit = LogisticRegression(C=100.0, max_iter=5000).fit(
                np.vstack(
                    [np.column_stack([evidence[c.name][0][k] for k in names]) for c in others]
                ),
                np.concatenate([evidence[c.name][1] for c in others]),
            )
            p = fit.predict_proba(x)[:, 1]
            said = p >= 0.5
            precision = (said & same).sum() / max(said.sum(), 1)
            recall = (said & same).sum() / max(same.sum(), 1)
            bar = f1 = ""
            if names == ("s",):
                threshold = -fit.intercept_[0] / fit.coef_[0, 0]
                families = corpus.families()
                labels = StoryClusterer(min_similarity=float(np.clip(threshold, 0, 1))).fit(
                    families
                )
                bar = f"{threshold:6.3f}"
                f1 = f"{score(corpus, labels.labels_)['F1']:6.3f}"
            coefficients = " ".join(
                f"{k} {v:+.2f}" for k, v in zip(names, fit.coef_[0], strict=True)
            )
            print(
                f"{corpus.name:<10} {label:<18} {average_precision_score(same, p):6.3f}"
                f" {average_precision_score(same, features['s']):6.3f} {precision:6.3f}"
                f" {recall:6.3f} {bar:>6} {f1:>6}  {coefficients}; {fit.intercept_[0]:+.2f}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", choices=["ecbplus", "multinews", "meter"], action="append")
    parser.add_argument("--embeddings", type=Path, help="static embedding model directory")
    parser.add_argument("--no-loco", action="store_true", help="skip the leave-one-out grid")
    parser.add_argument("--no-analyze", action="store_true", help="skip the pipeline rows")
    parser.add_argument(
        "--only-calibration",
        action="store_true",
        help="print the same-event probability table only",
    )
    args = parser.parse_args()
    embedder = None
    if args.embeddings:
        from storytrace.cluster.embeddings import load_static_model

        embedder = load_static_model(args.embeddings)
    print(f"StoryClusterer params: {StoryClusterer().get_params()}")
    corpora = [load_corpus(name) for name in args.corpus or ["ecbplus", "multinews", "meter"]]
    if args.only_calibration:
        calibration_table(corpora)
        return 0
    in_corpus_table(corpora, embedder, not args.no_analyze)
    if not args.no_loco:
        loco_table(corpora)
    confidence_table(corpora)
    calibration_table(corpora)
    return 0


if __name__ == "__main__":
    sys.exit(main())
