"""Derivation: how much of one text is explained by others, and is it a rewrite, partial reuse or
an independent report of the same event?

A sub-editor who rewrites wire copy cuts it to the lead, condenses, reorders and rewords; the
result shares few word 5-grams with its source and aligns poorly sentence by sentence, yet
nearly every phrase of it comes from the wire. Two reporters at the same trial share names,
numbers and the quoted testimony, but not their own phrasing. So derivation is measured
*directionally*, on the derived side: how much of the target's wording (IDF-weighted content
words, word 3-grams, 5-grams outside quotation marks, best-matching sentences) is found in
its sources. A target may draw on several sources (a wire story's first take and new lead):
the features are measured against the union of the sources it was found with.

The decision is a small multinomial logistic regression over those features (`DerivationModel`,
shipped as `match/data/derivation.json`), trained on the METER corpus's journalist labels
(wholly / partially / non-derived) by `bench/reuse.py --train` and cross-validated by
catchline there. It is explainable: each relation lists every feature's value and its
contribution to the decided class.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.process import cdist
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from storytrace.fingerprint.shingles import words
from storytrace.match.align import Sentence, dice, fitting, token_ids

CLASSES = ("wholly", "partially", "non")
FEATURES = (
    "rare_words",          # IDF-weighted share of the target's content words found in the sources
    "trigram_cover",       # share of the target's words inside a word 3-gram of the sources
    "unquoted_5gram_cover",  # ... outside quotation marks, inside a 5-gram of the sources
    "sentence_chars",      # word-weighted best character similarity of each target sentence
    "sentence_words",      # ... and best word-set overlap, Dice (survives reordered clauses)
    "log_words",           # log of the target's length in words (a brief is cut, not written)
)
_DESCRIBE = {
    "rare_words": "of its rare words are in the source",
    "trigram_cover": "of its words are in 3-word runs of the source",
    "unquoted_5gram_cover": "of its words outside quotations are in 5-word runs of the source",
    "sentence_chars": "mean best sentence similarity (characters)",
    "sentence_words": "mean best sentence similarity (word sets)",
    "log_words": "words long",
}
_MIN_SENTENCE_WORDS = 5
_MAX_SENTENCES = 2000  # as MatchOptions.max_align_sentences: a bounded sentence matrix
_MAX_CHARS = 100_000  # as MatchOptions.max_align_chars (the matrix costs chars x chars)


@dataclass(slots=True)
class Text:
    """What derivation needs of one clean text, computed once per document."""

    tokens: list[str]
    quoted: np.ndarray  # per token: inside quotation marks
    sentences: list[str]  # normalised sentences of >= 5 words
    sentence_words: np.ndarray  # their lengths
    vocabulary: frozenset[str] = frozenset()
    # Hashes of the word 3- and 5-grams starting at each token, and each sentence's word set
    # (`align.token_ids`): a text measured against many targets is hashed once.
    grams: dict[int, np.ndarray] = field(default_factory=dict)
    sentence_ids: list[np.ndarray] = field(default_factory=list)

    @classmethod
    def from_sentences(cls, split: list[Sentence]) -> Text:
        tokens: list[str] = []
        quoted: list[bool] = []
        for s in split:
            toks = s.norm.split()
            tokens.extend(toks)
            quoted.extend([s.quoted >= 0.5] * len(toks))
            tokens.append("\n")  # no n-gram spans two sentences
            quoted.append(False)
        kept = [s for s in split if s.n_words >= _MIN_SENTENCE_WORDS][:_MAX_SENTENCES]
        return cls(tokens, np.array(quoted, dtype=bool), [s.norm for s in kept],
                   np.array([s.n_words for s in kept], dtype=np.float64), frozenset(tokens),
                   {n: _gram_ids(tokens, n) for n in (3, 5)},
                   [token_ids(frozenset(s.norm.split())) for s in kept])


@dataclass(slots=True)
class Rarity:
    """Inverse document frequency of words in the corpus being analysed (no word list)."""

    df: Counter = field(default_factory=Counter)
    n_docs: int = 0

    @classmethod
    def from_texts(cls, texts: list[str]) -> Rarity:
        df: Counter = Counter()
        for text in texts:
            df.update(set(words(text)))
        return cls(df, len(texts))

    cache: dict[int, dict[str, float]] = field(default_factory=dict)

    def idf(self, word: str) -> float:
        return math.log((1 + self.n_docs) / (1 + self.df.get(word, 0)))

    def weights(self, target: Text) -> dict[str, float]:
        """Each content word of `target` with its IDF times its count (kept per text)."""
        found = self.cache.get(id(target))
        if found is None:
            found = {}
            for token in _content(target):
                found[token] = found.get(token, 0.0) + self.idf(token)
            self.cache[id(target)] = found
        return found


def _gram_ids(tokens: list[str], n: int) -> np.ndarray:
    """A hash of the word n-gram starting at each token (len(tokens) - n + 1 of them): the
    tokens' hashes combined as a polynomial (uint64 arithmetic wraps around)."""
    count = max(0, len(tokens) - n + 1)
    hashes = np.fromiter((hash(t) for t in tokens), dtype=np.int64,
                         count=len(tokens)).view(np.uint64)
    out = np.zeros(count, dtype=np.uint64)
    for j in range(n):
        out = out * _GRAM_BASE + hashes[j:j + count]
    return out


_GRAM_BASE = np.uint64(0x9E3779B97F4A7C15)  # an odd 64-bit constant (the golden ratio's)


def _covered(target: Text, sources: list[Text], n: int) -> np.ndarray:
    """Which tokens of `target` lie inside an n-gram that the sources also have (a tiling of
    shared runs)."""
    starts = np.isin(target.grams[n], np.concatenate([s.grams[n] for s in sources]))
    # A token is covered when one of the n grams that contain it is shared.
    return np.convolve(starts, np.ones(n, dtype=int))[:len(target.tokens)] > 0 \
        if len(starts) else np.zeros(len(target.tokens), dtype=bool)


def _content(target: Text) -> list[str]:
    return [t for t in target.tokens if t != "\n" and len(t) > 2 and t not in ENGLISH_STOP_WORDS]


def rare_words(target: Text, vocabulary: set[str] | frozenset[str], rarity: Rarity) -> float:
    """IDF-weighted share of the target's content words that are in `vocabulary`."""
    weights = rarity.weights(target)
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in vocabulary) / total if total else 0.0


def features(target: Text, sources: list[Text], rarity: Rarity) -> dict[str, float]:
    """The derivation features of `target` against the union of `sources` (see FEATURES)."""
    real = np.array([t != "\n" for t in target.tokens], dtype=bool)
    n_words = int(real.sum())
    rare = rare_words(target, frozenset().union(*(s.vocabulary for s in sources)), rarity)
    tri = _covered(target, sources, 3) & real
    five = _covered(target, sources, 5) & real
    unquoted = real & ~target.quoted
    out = {
        "rare_words": rare,
        "trigram_cover": tri.sum() / n_words if n_words else 0.0,
        "unquoted_5gram_cover": (five & unquoted).sum() / unquoted.sum() if unquoted.any() else 0.0,
        "sentence_chars": 0.0,
        "sentence_words": 0.0,
        "log_words": math.log(max(1, n_words)),
    }
    source_sentences = [s for src in sources for s in src.sentences][:_MAX_SENTENCES]
    if target.sentences and source_sentences:
        weight = target.sentence_words / target.sentence_words.sum()
        chars = _best_ratios(target.sentences, source_sentences)
        source_ids = [ids for src in sources for ids in src.sentence_ids][:_MAX_SENTENCES]
        word_sets = dice(target.sentence_ids, source_ids).max(axis=1)
        out["sentence_chars"] = float(weight @ chars)
        out["sentence_words"] = float(weight @ word_sets)
    return {k: round(float(v), 4) for k, v in out.items()}


def _best_ratios(targets: list[str], sources: list[str]) -> np.ndarray:
    """For each target sentence, its best character similarity to a source sentence (0-1).

    When the two sides' characters multiply past `_MAX_CHARS` squared (a huge text),
    sentences found verbatim among the sources score 1 by hash, and the rest are compared on
    the first `_MAX_CHARS` of each side; what is left uncompared scores 0.
    """
    if sum(map(len, targets)) * sum(map(len, sources)) <= _MAX_CHARS ** 2:
        return cdist(targets, sources, scorer=fuzz.ratio, dtype=np.float32).max(axis=1) / 100.0
    known = set(sources)
    best = np.array([sentence in known for sentence in targets], dtype=np.float32)
    rest = [k for k, sentence in enumerate(targets) if sentence not in known]
    rest = rest[:fitting([len(targets[k]) for k in rest], _MAX_CHARS)]
    compared = sources[:fitting([len(s) for s in sources], _MAX_CHARS)]
    if rest and compared:
        best[rest] = cdist([targets[k] for k in rest], compared,
                           scorer=fuzz.ratio, dtype=np.float32).max(axis=1) / 100.0
    return best


@dataclass(frozen=True, slots=True)
class Decision:
    """A derivation decision: the class, its probabilities and what decided it."""

    cls: str
    probabilities: dict[str, float]
    contributions: dict[str, float]  # feature -> its push towards `cls` (log-odds units)


@dataclass(frozen=True, slots=True)
class DerivationModel:
    """Multinomial logistic regression over standardised FEATURES (numpy only at run time)."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # (classes, features)
    intercept: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)

    def decide(self, values: dict[str, float]) -> Decision:
        x = (np.array([values[f] for f in FEATURES]) - self.mean) / self.scale
        logits = self.coef @ x + self.intercept
        p = np.exp(logits - logits.max())
        p /= p.sum()
        k = int(np.argmax(p))
        # Contribution of each feature to the chosen class against the average of the others.
        others = np.delete(self.coef, k, axis=0).mean(axis=0)
        push = (self.coef[k] - others) * x
        return Decision(CLASSES[k], {c: round(float(v), 4) for c, v in zip(CLASSES, p)},
                        {f: round(float(v), 3) for f, v in zip(FEATURES, push)})

    def to_dict(self) -> dict[str, Any]:
        return {"features": list(FEATURES), "classes": list(CLASSES),
                "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "coef": self.coef.tolist(), "intercept": self.intercept.tolist(),
                "meta": self.meta}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DerivationModel:
        if tuple(data["features"]) != FEATURES or tuple(data["classes"]) != CLASSES:
            raise ValueError("derivation model was trained on other features or classes")
        return cls(np.array(data["mean"]), np.array(data["scale"]), np.array(data["coef"]),
                   np.array(data["intercept"]), data.get("meta", {}))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")


def fit(rows: list[dict[str, float]], labels: list[str], c: float = 1.0,
        meta: dict[str, Any] | None = None) -> DerivationModel:
    """Train the model on feature rows and METER-style labels (wholly / partially / non).

    Classes are weighted inversely to their frequency, so no class wins by being common.
    """
    from sklearn.linear_model import LogisticRegression

    x = np.array([[r[f] for f in FEATURES] for r in rows], dtype=np.float64)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
    model.fit((x - mean) / scale, labels)
    order = [list(model.classes_).index(k) for k in CLASSES]
    return DerivationModel(mean, scale, model.coef_[order], model.intercept_[order], meta or {})


_SHIPPED: DerivationModel | None = None


def shipped_model() -> DerivationModel:
    """The model trained on METER's shared half (bench/reuse.py --train writes it)."""
    global _SHIPPED
    if _SHIPPED is None:
        data = resources.files("storytrace.match").joinpath("data/derivation.json").read_text()
        _SHIPPED = DerivationModel.from_dict(json.loads(data))
    return _SHIPPED


def explain(values: dict[str, float], decision: Decision) -> list[str]:
    """Evidence lines a reader can check: each feature's value and how it pushed the decision."""
    lines = []
    for name in sorted(FEATURES, key=lambda f: -abs(decision.contributions[f])):
        value = values[name]
        shown = f"{round(math.exp(value))}" if name == "log_words" else (
            f"{round(100 * value)}%" if "cover" in name or name == "rare_words" else f"{value:.2f}")
        push = decision.contributions[name]
        lines.append(f"{shown} {_DESCRIBE[name]} ({'+' if push >= 0 else ''}{push:.2f} "
                     f"towards {decision.cls})")
    return lines


__all__ = ["CLASSES", "FEATURES", "Decision", "DerivationModel", "Rarity", "Text", "explain",
           "features", "fit", "rare_words", "shipped_model"]
