"""Story clustering quality on the ECB+ and Multi-News development halves.

Prints pairwise precision / recall / F1 (the news-clustering literature's metric; Miranda et
al. 2018 report F1 94.0) and ARI (sklearn's adjusted_rand_score) for:
- baseline: plain TF-IDF (sklearn defaults, English stop words) + average-linkage cosine
  agglomerative clustering at distance 0.85 (the best single threshold for both corpora),
- storytrace batch (`StoryClusterer().fit`),
- storytrace streaming (`StoryClusterer().partial_fit`, documents in file order: the dev sets
  carry no dates),
- the whole pipeline, `storytrace.analyze` in batch and streaming mode: what a user gets, with
  copies found by the match stage folded into families before stories are made (the rows
  above give every document a family of its own),
- with `--embeddings DIR` (a model from `storytrace distill-embeddings DIR`, extra
  `storytrace[embeddings]`), batch and streaming again with static embeddings mixed in.
It also says how many pages carry no evidence (fewer than MIN_CONTENT_WORDS content words after
cleaning: empty pages, Wayback placeholders) and the share of same-story pairs that involve one:
storytrace leaves such a page a story of its own, so those pairs bound its recall, and prints
batch scores over the other pages beside it.
Each document is a family of one; texts are cleaned with `storytrace.clean.clean_corpus`
(raw text when the clean stage is not available yet, which the script says).

Run: PYTHONPATH=src python bench/stories.py [--corpus ecbplus|multinews] [--embeddings DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from scipy.sparse.csgraph import connected_components
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import adjusted_rand_score

from storytrace.cluster.stories import MIN_CONTENT_WORDS, StoryClusterer, content_words
from storytrace.model import Document, DocumentResult, Signals

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CORPORA = {"ecbplus": DATA / "ecbplus" / "dev.jsonl", "multinews": DATA / "multinews" / "dev.jsonl"}
BASELINE_DISTANCE = 0.85
CEILING_SIMILARITY = 0.05


def pairwise_scores(gold: list[str], predicted: list[int]) -> tuple[float, float, float]:
    """Precision, recall and F1 over all document pairs put in one cluster."""

    def pairs(labels) -> int:
        return sum(n * (n - 1) // 2 for n in Counter(labels).values())

    together = pairs(list(zip(gold, predicted, strict=True)))
    found, true = pairs(predicted), pairs(gold)
    precision = together / found if found else 1.0
    recall = together / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def recall_ceiling(gold: list[str], similarity: np.ndarray) -> float:
    """Share of same-story pairs that any similarity-based clusterer could still put together.

    Two documents count as joinable when a chain of same-story pairs, each with similarity of
    at least CEILING_SIMILARITY, links them (an optimistic single-linkage bound).
    """
    labels = np.array(gold)
    joinable = total = 0
    for story in set(gold):
        members = np.flatnonzero(labels == story)
        total += len(members) * (len(members) - 1) // 2
        linked = similarity[np.ix_(members, members)] >= CEILING_SIMILARITY
        _, parts = connected_components(linked, directed=False)
        joinable += sum(n * (n - 1) // 2 for n in Counter(parts).values())
    return joinable / total if total else 1.0


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def clean_texts(rows: list[dict]) -> tuple[list[str], bool]:
    """Texts through the clean stage; (raw texts, False) while it is not implemented."""
    docs = [Document(id=r["id"], raw=r["text"], source=r["id"]) for r in rows]
    try:
        from storytrace.clean import clean_corpus

        return [c.text for c in clean_corpus(docs)], True
    except NotImplementedError:
        return [r["text"] for r in rows], False


def as_family(doc_id: str, text: str) -> list[DocumentResult]:
    return [
        DocumentResult(
            id=doc_id, source=doc_id, title=None, clean_text=text, removed=[],
            signals=Signals(), family="", story="", attribution=[],
        )
    ]  # fmt: skip


def baseline(texts: list[str]) -> np.ndarray:
    """Plain TF-IDF + average-linkage cosine clustering; an empty text is a cluster of its own."""
    x = TfidfVectorizer(stop_words="english", sublinear_tf=True).fit_transform(texts).toarray()
    filled = np.flatnonzero(x.any(axis=1))
    labels = np.arange(len(texts)) + len(texts)  # empty texts: singletons
    labels[filled] = AgglomerativeClustering(
        n_clusters=None, distance_threshold=BASELINE_DISTANCE, metric="cosine", linkage="average"
    ).fit_predict(x[filled])
    return labels


def analyzed(rows: list[dict], mode: str) -> list[str]:
    """Each row's story from the whole pipeline (`storytrace.analyze`), in input order."""
    import storytrace

    result = storytrace.analyze([{"id": r["id"], "text": r["text"]} for r in rows], stories=mode)
    story_of = {d.id: d.story for d in result.documents}
    return [story_of[r["id"]] for r in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", choices=sorted(CORPORA), action="append")
    parser.add_argument("--embeddings", type=Path, help="static embedding model directory")
    args = parser.parse_args()
    embedder = None
    if args.embeddings:
        from storytrace.cluster.embeddings import load_static_model

        embedder = load_static_model(args.embeddings)
    print(f"StoryClusterer params: {StoryClusterer().get_params()}")
    header = f"{'corpus':<10} {'method':<22} {'P':>6} {'R':>6} {'F1':>6} {'ARI':>6} {'stories':>7} {'s':>6}"
    print(header)
    print("-" * len(header))
    for name in args.corpus or sorted(CORPORA):
        rows = load(CORPORA[name])
        texts, cleaned = clean_texts(rows)
        if not cleaned:
            print(f"{name}: clean stage not implemented yet, using raw text", file=sys.stderr)
        gold = [r["story"] for r in rows]
        families = [as_family(r["id"], t) for r, t in zip(rows, texts, strict=True)]
        methods = {
            "baseline tfidf+avg": lambda texts, families: baseline(texts),
            "storytrace batch": lambda texts, families: StoryClusterer().fit(families).labels_,
            "storytrace streaming": lambda texts, families: (
                StoryClusterer().partial_fit(families).labels_
            ),
            "analyze batch": lambda texts, families, rows=rows: analyzed(rows, "batch"),
            "analyze streaming": lambda texts, families, rows=rows: analyzed(
                rows, "streaming"
            ),
        }
        if embedder is not None:
            methods["batch + embeddings"] = lambda texts, families: (
                StoryClusterer(embedder=embedder).fit(families).labels_
            )
            methods["streaming + embeddings"] = lambda texts, families: (
                StoryClusterer(embedder=embedder).partial_fit(families).labels_
            )
        for method, run in methods.items():
            t0 = time.perf_counter()
            labels = list(run(texts, families))
            seconds = time.perf_counter() - t0
            p, r, f1 = pairwise_scores(gold, labels)
            ari = adjusted_rand_score(gold, labels)
            print(
                f"{name:<10} {method:<22} {p:6.3f} {r:6.3f} {f1:6.3f} {ari:6.3f} "
                f"{len(set(labels)):7d} {seconds:6.2f}"
            )
        print(f"{name:<10} {'gold':<22} {'':>6} {'':>6} {'':>6} {'':>6} {len(set(gold)):7d}")
        filled = [len(content_words(t)) >= MIN_CONTENT_WORDS for t in texts]
        labels = StoryClusterer().fit(families).labels_
        kept_gold = [s for s, keep in zip(gold, filled, strict=True) if keep]
        kept_labels = [int(x) for x, keep in zip(labels, filled, strict=True) if keep]
        p, r, f1 = pairwise_scores(kept_gold, kept_labels)
        ari = adjusted_rand_score(kept_gold, kept_labels)
        print(
            f"{name:<10} {'batch, pages w/ text':<22} {p:6.3f} {r:6.3f} {f1:6.3f} {ari:6.3f} "
            f"{len(set(kept_labels)):7d}"
        )
        stories_of = Counter(gold)
        stories_kept = Counter(kept_gold)
        lost = sum(n * (n - 1) // 2 for n in stories_of.values()) - sum(
            n * (n - 1) // 2 for n in stories_kept.values()
        )
        total = sum(n * (n - 1) // 2 for n in stories_of.values())
        print(
            f"{name:<10} near-empty pages: {filled.count(False)} of {len(texts)}; they are in"
            f" {lost} of {total} same-story pairs, so recall <= {1 - lost / total:.3f}"
        )
        ceiling = recall_ceiling(gold, StoryClusterer().similarity(families))
        print(
            f"{name:<10} recall ceiling: {ceiling:.3f} of same-story pairs are joined by a chain of"
            f" pairs with similarity >= {CEILING_SIMILARITY} inside their story"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
