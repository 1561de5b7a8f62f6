"""Derivation: how much of one text is explained by others, and is it a rewrite, partial reuse or
an independent report of the same event?

A sub-editor who rewrites wire copy cuts it to the lead, condenses, reorders and rewords; the
result shares few word 5-grams with its source and aligns poorly sentence by sentence, yet
nearly every phrase of it comes from the wire. Two reporters at the same trial share names,
numbers and the quoted testimony, but not their own phrasing. So derivation is measured
*directionally*, on the derived side: how much of the target's wording (IDF-weighted content
words, word 3-grams, 5- and 12-grams outside quotation marks, best-matching sentences) is found
in its sources, and whether what is shared comes as long runs of narration (copying) or as
many short scattered runs (the same event's names and numbers). A target may draw on several
sources (a wire story's first take and new lead): the features are measured against the union
of the sources it was found with.

The decision is a small multinomial logistic regression over those features (`DerivationModel`,
shipped as `match/data/derivation.json`), trained on the METER corpus's journalist labels
(wholly / partially / non-derived) by `bench/reuse.py --train` and cross-validated by
catchline there; its operating point (how much likelier than an independent report a
derivation must be) is chosen by a cross-validation inside the training labels. It is
explainable: each relation lists every feature's value and its contribution to the decided
class.
"""

from __future__ import annotations

import json
import math
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.process import cdist

from storytrace.fingerprint.shingles import words
from storytrace.match.align import Sentence, dice, fitting, token_ids
from storytrace.stopwords import ENGLISH_STOP_WORDS

CLASSES = ("wholly", "partially", "non")
FEATURES = (
    "rare_words",          # IDF-weighted share of the target's content words found in the sources
    "trigram_cover",       # share of the target's words inside a word 3-gram of the sources
    "unquoted_5gram_cover",  # ... outside quotation marks, inside a 5-gram of the sources
    "unquoted_12gram_cover",  # ... inside a 12-gram: long runs of narration are copying
    "shared_runs",         # shared 3-gram runs per 100 words (many short runs: the same event)
    "sentence_chars",      # word-weighted best character similarity of each target sentence
    "sentence_words",      # ... and best word-set overlap, Dice (survives reordered clauses)
    "matched_sentences",   # share of the target's words in sentences with a counterpart (Dice)
    "source_lead_cover",   # share of a source's first words in 3-grams of the target
    "log_sources",         # log of the number of sources (a story built from several takes)
    "log_words",           # log of the target's length in words (a brief is cut, not written)
)
_DESCRIBE = {
    "rare_words": "of its rare words are in the source",
    "trigram_cover": "of its words are in 3-word runs of the source",
    "unquoted_5gram_cover": "of its words outside quotations are in 5-word runs of the source",
    "unquoted_12gram_cover": "of its words outside quotations are in 12-word runs of the source",
    "shared_runs": "separate runs of 3+ shared words per 100 words",
    "sentence_chars": "mean best sentence similarity (characters)",
    "sentence_words": "mean best sentence similarity (word sets)",
    "matched_sentences": "of its words are in sentences with a counterpart in the source",
    "source_lead_cover": "of the source's first 40 words are in 3-word runs of it",
    "log_sources": "sources",
    "log_words": "words long",
}
_MIN_SENTENCE_WORDS = 5
_MAX_SENTENCES = 2000  # as MatchOptions.max_align_sentences: a bounded sentence matrix
_MAX_CHARS = 100_000  # as MatchOptions.max_align_chars (the matrix costs chars x chars)
_LONG_RUN = 12  # words: a shared run this long outside quotations is copied narration
_LEAD_WORDS = 40  # a brief is cut from its source's lead: the first 40 words
# A target sentence has a counterpart when a source sentence shares this Dice of their word
# sets (set once, not tuned; the lead feature's 40 words and the 12-word run likewise).
_COUNTERPART_DICE = 0.4
_GRAM_SIZES = (3, 5, _LONG_RUN)


@dataclass(slots=True, eq=False, weakref_slot=True)
class Text:
    """What derivation needs of one clean text, computed once per document (compared and
    hashed by identity: `Rarity` keeps each text's weights while the text lives)."""

    tokens: list[str]
    quoted: np.ndarray  # per token: inside quotation marks
    sentences: list[str]  # normalised sentences of >= 5 words
    sentence_words: np.ndarray  # their lengths
    vocabulary: frozenset[str] = frozenset()
    # Hashes of the word 3-, 5- and 12-grams starting at each token, and each sentence's word
    # set (`align.token_ids`): a text measured against many targets is hashed once.
    grams: dict[int, np.ndarray] = field(default_factory=dict)
    sentence_ids: list[np.ndarray] = field(default_factory=list)
    lead: int = 0  # tokens up to the end of the first _LEAD_WORDS words
    # Each n's distinct gram hashes, sorted (made when the text is first a source): membership
    # by binary search instead of sorting the sources' grams again for every target.
    sorted_grams: dict[int, np.ndarray] = field(default_factory=dict)

    def has(self, grams: np.ndarray, n: int) -> np.ndarray:
        """Which of `grams` (hashes of n-grams) this text has."""
        keys = self.sorted_grams.get(n)
        if keys is None:
            keys = self.sorted_grams[n] = np.unique(self.grams[n])
        if not len(keys):
            return np.zeros(len(grams), dtype=bool)
        return keys[np.minimum(np.searchsorted(keys, grams), len(keys) - 1)] == grams

    @classmethod
    def from_sentences(cls, split: list[Sentence]) -> Text:
        tokens: list[str] = []
        quoted: list[bool] = []
        # One string object per distinct word, shared by its repeats and the vocabulary (a
        # view is kept for thousands of recent texts: 103 -> 80 kB a bench text).
        one: dict[str, str] = {}
        for s in split:
            toks = [one.setdefault(t, t) for t in s.norm.split()]
            tokens.extend(toks)
            quoted.extend([s.quoted >= 0.5] * len(toks))
            tokens.append("\n")  # no n-gram spans two sentences
            quoted.append(False)
        kept = [s for s in split if s.n_words >= _MIN_SENTENCE_WORDS][:_MAX_SENTENCES]
        hashes = np.fromiter((hash(t) for t in tokens), dtype=np.int64,
                             count=len(tokens)).view(np.uint64)
        lead, seen = 0, 0
        while lead < len(tokens) and seen < _LEAD_WORDS:
            seen += tokens[lead] != "\n"
            lead += 1
        return cls(tokens, np.array(quoted, dtype=bool), [s.norm for s in kept],
                   np.array([s.n_words for s in kept], dtype=np.float64), frozenset(tokens),
                   {n: _gram_ids(hashes, n) for n in _GRAM_SIZES},
                   [token_ids(frozenset(s.norm.split())) for s in kept], lead)


@dataclass(slots=True)
class Rarity:
    """Inverse document frequency of words in the corpus being analysed (no word list)."""

    df: Counter = field(default_factory=Counter)
    n_docs: int = 0

    @classmethod
    def from_texts(cls, texts: list[str],
                   vocabulary: Callable[[str], frozenset[str]] | None = None) -> Rarity:
        """Document frequencies over `texts`; `vocabulary(text)` gives a text's set of words
        when the caller keeps them (`PreparedTexts.vocabulary`), else they are found here."""
        df: Counter = Counter()
        for text in texts:
            df.update(vocabulary(text) if vocabulary is not None else set(words(text)))
        return cls(df, len(texts))

    # Each text's weights, for as long as the text lives: a caller may hold only the texts
    # it is working on (`relations._measured` keeps the most recent ones).
    cache: weakref.WeakKeyDictionary[Text, dict[str, float]] = field(
        default_factory=weakref.WeakKeyDictionary, repr=False, compare=False)

    def __reduce__(self) -> tuple:
        """Pickled (for an engine's workers) without its per-text cache."""
        return type(self), (self.df, self.n_docs)

    def idf(self, word: str) -> float:
        return math.log((1 + self.n_docs) / (1 + self.df.get(word, 0)))

    def weights(self, target: Text) -> dict[str, float]:
        """Each content word of `target` with its IDF times its count (kept per text)."""
        found = self.cache.get(target)
        if found is None:
            found = {}
            # Each distinct word's IDF once, added as often as the word occurs (the same sum,
            # bit for bit, as adding it at each occurrence).
            for token, count in Counter(_content(target)).items():
                idf = self.idf(token)
                weight = idf
                for _ in range(count - 1):
                    weight += idf
                found[token] = weight
            self.cache[target] = found
        return found


def _gram_ids(hashes: np.ndarray, n: int) -> np.ndarray:
    """A hash of the word n-gram starting at each token (len(tokens) - n + 1 of them), from the
    tokens' hashes combined as a polynomial (uint64 arithmetic wraps around)."""
    count = max(0, len(hashes) - n + 1)
    out = np.zeros(count, dtype=np.uint64)
    for j in range(n):
        out = out * _GRAM_BASE + hashes[j:j + count]
    return out


_GRAM_BASE = np.uint64(0x9E3779B97F4A7C15)  # an odd 64-bit constant (the golden ratio's)


def _covered(target: Text, sources: list[Text], n: int) -> np.ndarray:
    """Which tokens of `target` lie inside an n-gram that the sources also have (a tiling of
    shared runs)."""
    return _spread(_shared(target, sources, n), n, len(target.tokens))


def _shared(target: Text, sources: list[Text], n: int) -> np.ndarray:
    """Which of the target's n-grams (by start) one of the sources has."""
    found = np.zeros(len(target.grams[n]), dtype=bool)
    for source in sources:
        found |= source.has(target.grams[n], n)
    return found


def _spread(starts: np.ndarray, n: int, length: int) -> np.ndarray:
    """Tokens inside one of the n-grams whose starts are marked (a token is covered when one
    of the n grams that contain it is)."""
    if not len(starts):
        return np.zeros(length, dtype=bool)
    return np.convolve(starts, np.ones(n, dtype=int))[:length] > 0


def _runs(starts: np.ndarray) -> int:
    """How many separate runs of marked starts (each a shared run of 3+ words)."""
    return int(np.count_nonzero(starts[1:] & ~starts[:-1]) + bool(len(starts) and starts[0]))


def _lead_cover(source: Text, target: Text) -> float:
    """Share of `source`'s first _LEAD_WORDS words inside 3-grams that the target has."""
    lead = source.tokens[:source.lead]
    starts = target.has(source.grams[3][:source.lead], 3)
    covered = _spread(starts, 3, len(lead))
    real = np.array([t != "\n" for t in lead], dtype=bool)
    return float((covered & real).sum() / real.sum()) if real.any() else 0.0


def _content(target: Text) -> list[str]:
    return [t for t in target.tokens if t != "\n" and len(t) > 2 and t not in ENGLISH_STOP_WORDS]


def rare_words(target: Text, vocabulary: set[str] | frozenset[str], rarity: Rarity) -> float:
    """IDF-weighted share of the target's content words that are in `vocabulary`."""
    weights = rarity.weights(target)
    total = sum(weights.values())
    return sum(w for t, w in weights.items() if t in vocabulary) / total if total else 0.0


def features(target: Text, sources: list[Text], rarity: Rarity) -> dict[str, float]:
    """The derivation features of `target` against the union of `sources` (see FEATURES).

    Two reporters of one trial share its names, numbers and quoted testimony: scattered short
    runs and material inside quotation marks. A rewrite keeps runs of the source's narration
    and takes most of its sentences from it. The features measure both sides of that.
    """
    real = np.array([t != "\n" for t in target.tokens], dtype=bool)
    n_words = int(real.sum())
    rare = rare_words(target, frozenset().union(*(s.vocabulary for s in sources)), rarity)
    tri_starts = _shared(target, sources, 3)
    tri = _spread(tri_starts, 3, len(target.tokens)) & real
    five = _covered(target, sources, 5) & real
    long_runs = _covered(target, sources, _LONG_RUN) & real
    unquoted = real & ~target.quoted
    n_unquoted = unquoted.sum()
    out = {
        "rare_words": rare,
        "trigram_cover": tri.sum() / n_words if n_words else 0.0,
        "unquoted_5gram_cover": (five & unquoted).sum() / n_unquoted if n_unquoted else 0.0,
        "unquoted_12gram_cover":
            (long_runs & unquoted).sum() / n_unquoted if n_unquoted else 0.0,
        "shared_runs": 100 * _runs(tri_starts) / n_words if n_words else 0.0,
        "sentence_chars": 0.0,
        "sentence_words": 0.0,
        "matched_sentences": 0.0,
        "source_lead_cover": max(_lead_cover(s, target) for s in sources),
        "log_sources": math.log(len(sources)),
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
        out["matched_sentences"] = float(weight @ (word_sets >= _COUNTERPART_DICE))
    return {k: round(float(v), 4) for k, v in out.items()}


def _best_ratios(targets: list[str], sources: list[str]) -> np.ndarray:
    """For each target sentence, its best character similarity to a source sentence (0-1).

    Sentences found verbatim among the sources score 1 by hash (what comparing them gives);
    the rest are compared with each distinct source sentence. When the two sides' characters
    multiply past `_MAX_CHARS` squared (a huge text), they are compared on the first
    `_MAX_CHARS` of each side; what is left uncompared scores 0.
    """
    known = set(sources)
    best = np.array([sentence in known for sentence in targets], dtype=np.float32)
    rest = [k for k, sentence in enumerate(targets) if sentence not in known]
    if sum(map(len, targets)) * sum(map(len, sources)) <= _MAX_CHARS ** 2:
        if rest:
            best[rest] = cdist([targets[k] for k in rest], list(dict.fromkeys(sources)),
                               scorer=fuzz.ratio, dtype=np.float32).max(axis=1) / 100.0
        return best
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
    non_offset: float = 0.0  # the model's operating point (log-odds added to `non`)


@dataclass(frozen=True, slots=True)
class DerivationModel:
    """Multinomial logistic regression over standardised FEATURES (numpy only at run time).

    `non_offset` is the operating point: log-odds added to `non` before the decision, chosen by
    cross-validation on the training rows only (`fit`), so a pair must be that much more
    likely derived than independent to be linked.
    """

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # (classes, features)
    intercept: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)
    non_offset: float = 0.0

    def decide(self, values: dict[str, float]) -> Decision:
        x = (np.array([values[f] for f in FEATURES]) - self.mean) / self.scale
        logits = self.coef @ x + self.intercept
        logits[CLASSES.index("non")] += self.non_offset
        p = np.exp(logits - logits.max())
        p /= p.sum()
        k = int(np.argmax(p))
        # Contribution of each feature to the chosen class against the average of the others.
        others = np.delete(self.coef, k, axis=0).mean(axis=0)
        push = (self.coef[k] - others) * x
        return Decision(CLASSES[k], {c: round(float(v), 4) for c, v in zip(CLASSES, p)},
                        {f: round(float(v), 3) for f, v in zip(FEATURES, push)},
                        self.non_offset)

    def to_dict(self) -> dict[str, Any]:
        return {"features": list(FEATURES), "classes": list(CLASSES),
                "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "coef": self.coef.tolist(), "intercept": self.intercept.tolist(),
                "non_offset": self.non_offset, "meta": self.meta}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DerivationModel:
        if tuple(data["features"]) != FEATURES or tuple(data["classes"]) != CLASSES:
            raise ValueError("derivation model was trained on other features or classes")
        return cls(np.array(data["mean"]), np.array(data["scale"]), np.array(data["coef"]),
                   np.array(data["intercept"]), data.get("meta", {}),
                   float(data.get("non_offset", 0.0)))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")


# Operating points tried by `fit` (log-odds added to `non`): from linking more to linking less.
OFFSETS = tuple(np.round(np.arange(-0.5, 2.01, 0.25), 2).tolist())


def fit(rows: list[dict[str, float]], labels: list[str], c: float = 1.0,
        meta: dict[str, Any] | None = None, groups: list[str] | None = None,
        folds: int = 10) -> DerivationModel:
    """Train the model on feature rows and METER-style labels (wholly / partially / non).

    Classes are weighted inversely to their frequency, so no class wins by being common. With
    `groups` (e.g. METER catchlines), the operating point `non_offset` is the one of `OFFSETS`
    with the best Youden J (derived recall - independent link rate) in a cross-validation by
    group over these rows alone; `meta["operating_points"]` keeps that curve.
    """
    x = np.array([[r[f] for f in FEATURES] for r in rows], dtype=np.float64)
    y = np.asarray(labels)
    model = _fit_matrix(x, y, c, meta or {})
    if groups is None:
        return model
    from sklearn.model_selection import GroupKFold

    logits = np.zeros((len(y), len(CLASSES)))
    for train, test in GroupKFold(min(folds, len(set(groups)))).split(x, groups=groups):
        inner = _fit_matrix(x[train], y[train], c, {})
        logits[test] = ((x[test] - inner.mean) / inner.scale) @ inner.coef.T + inner.intercept
    curve = operating_curve(logits, y)
    # Best J; on a tie, the larger offset (fewer links between independent reports).
    best = max(curve, key=lambda point: (point["youden_j"], point["offset"]))
    return DerivationModel(model.mean, model.scale, model.coef, model.intercept,
                           {**model.meta, "operating_points": curve}, best["offset"])


def operating_curve(logits: np.ndarray, labels: np.ndarray) -> list[dict[str, float]]:
    """For each of `OFFSETS`: derived recall, independent (non) link rate and Youden J of the
    decisions that the logits (rows x CLASSES) give with that offset added to `non`."""
    derived = labels != "non"
    curve = []
    for offset in OFFSETS:
        shifted = logits.copy()
        shifted[:, CLASSES.index("non")] += offset
        linked = np.array(CLASSES)[shifted.argmax(axis=1)] != "non"
        recall = float(linked[derived].mean()) if derived.any() else 0.0
        false_links = float(linked[~derived].mean()) if (~derived).any() else 0.0
        curve.append({"offset": offset, "derived_linked": round(recall, 4),
                      "non_linked": round(false_links, 4),
                      "youden_j": round(recall - false_links, 4)})
    return curve


def _fit_matrix(x: np.ndarray, y: np.ndarray, c: float, meta: dict[str, Any]) -> DerivationModel:
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
    model.fit((x - mean) / scale, y)
    order = [list(model.classes_).index(k) for k in CLASSES]
    return DerivationModel(mean, scale, model.coef_[order], model.intercept_[order], meta)


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
        if name.startswith("log_"):
            shown = f"{round(math.exp(value))}"
        elif "cover" in name or name in ("rare_words", "matched_sentences"):
            shown = f"{round(100 * value)}%"
        elif name == "shared_runs":
            shown = f"{value:.1f}"
        else:
            shown = f"{value:.2f}"
        push = decision.contributions[name]
        lines.append(f"{shown} {_DESCRIBE[name]} ({'+' if push >= 0 else ''}{push:.2f} "
                     f"towards {decision.cls})")
    if decision.non_offset:
        lines.append(f"operating point: {decision.non_offset:+.2f} towards non (a derivation "
                     "must be that much likelier than an independent report; chosen by "
                     "cross-validation on the training labels)")
    return lines


__all__ = ["CLASSES", "FEATURES", "OFFSETS", "Decision", "DerivationModel", "Rarity", "Text",
           "explain", "features", "fit", "operating_curve", "rare_words", "shipped_model"]
