"""Sentence alignment of two clean texts: which sentence of `a` is which sentence of `b`.

Each sentence pair gets two similarities: characters (rapidfuzz ratio; high for verbatim,
edited and spun sentences) and meaning (overlap of word stems and of immutables; survives the
word and order changes of machine translation). Pairs are matched one-to-one, best first; the
metrics that relation kinds are decided from (coverage, order, exactness, substitutions) are
computed here so a user can read them in `Relation.metrics`.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.process import cdist
from scipy import sparse

from storytrace.fingerprint.immutables import immutables
from storytrace.fingerprint.shingles import words
from storytrace.match.options import MatchOptions

_SPLIT = re.compile(r"(?<=[.!?])[”\"’)]?\s+(?=[“\"‘(\[A-Z0-9])|\n+")
_SPLIT_IN_PARAGRAPH = re.compile(r"(?<=[.!?])[”\"’)]?[^\S\n]+(?=[“\"‘(\[A-Z0-9])")
_QUOTED = re.compile(r"[\"“]([^\"“”]{12,}?)[\"”]")
_STOP = frozenset(
    ["the", "a", "an", "and", "but", "or", "if", "in", "on", "at", "of", "for", "to", "by", "with", "from", "as", "is", "are", "was", "were", "be", "been", "being", "it", "its", "this", "that", "these", "those", "he", "she", "they", "we", "i", "you", "his", "her", "their", "our", "my", "your", "there", "here", "has", "have", "had", "do", "does", "did", "not", "no", "will", "would", "can", "could", "should", "may", "might", "must", "also", "than", "then", "so", "such", "who", "whom", "which", "what", "when", "where", "while", "after", "before", "about", "into", "over", "under", "up", "down", "out", "more", "most", "very", "just", "said", "says", "one", "two"]
)


_NO_IDS = np.zeros(0, dtype=np.int64)


def token_ids(tokens) -> np.ndarray:
    """64-bit hashes of the distinct `tokens`: a set that numpy can intersect (`dice`)."""
    if not isinstance(tokens, (set, frozenset)):
        tokens = set(tokens)
    return np.fromiter((hash(t) for t in tokens), dtype=np.int64, count=len(tokens))


@dataclass(slots=True)
class Sentence:
    text: str
    norm: str
    n_words: int
    # Share of the sentence's characters inside quotation marks, read in its paragraph (a
    # quotation of several sentences marks all of them, not only the one with the opening mark).
    quoted: float = 0.0
    # Its content-word stems and its immutables (fingerprint.immutables), each as the hashes of
    # the distinct tokens (`token_ids`), for `dice`; the token strings themselves are not kept
    # (on the bench corpus they took a sentence from 0.64 to 2.1 kB, and a text's sentences
    # are cached).
    stem_ids: np.ndarray = field(default_factory=lambda: _NO_IDS)
    immutable_ids: np.ndarray = field(default_factory=lambda: _NO_IDS)


@dataclass(slots=True)
class Alignment:
    """Aligned sentence pairs of `a` and `b` and the metrics derived from them.

    `pairs` holds (index in a, index in b, similarity, character ratio), in order of a.
    `substitutions` are one-word replacements inside aligned sentences ("said" -> "mentioned").
    `capped`: a huge pair, whose sentences beyond `MatchOptions.max_align_sentences` or
    `max_align_chars` a side (after identical sentences were paired) were not compared;
    `metrics["capped"]` says so.
    """

    a: list[Sentence]
    b: list[Sentence]
    pairs: list[tuple[int, int, float, float]] = field(default_factory=list)
    substitutions: list[tuple[str, str]] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    capped: bool = False  # some sentences were left out of the comparison (a huge pair)


def split_sentences(text: str) -> list[str]:
    """Sentences of a clean text (paragraph breaks always end a sentence)."""
    return [s.strip() for s in _SPLIT.split(text) if s and s.strip()]


def _closes(paragraph: str, k: int) -> bool:
    """Whether the straight double quote at `k` can only be a closing mark (`said."`, `no,"`)."""
    return (k > 0 and paragraph[k - 1] in ".,!?;:…"
            and (k + 1 == len(paragraph) or paragraph[k + 1].isspace()))


def _orphan_start(paragraph: str, closed: int, k: int) -> int:
    """Where a quotation closed at `k` without an opening mark began: the paragraph start, or
    the first sentence after the previous quotation (`"A," he said. B."` quotes B, not "he
    said")."""
    if closed == 0:
        return 0
    boundary = _SPLIT_IN_PARAGRAPH.search(paragraph, closed, k)
    return boundary.end() if boundary else closed


_QUOTE_MARK = re.compile("[“”\"‘’]")
# Per code point up to U+3000 (the highest whitespace, the ideographic space), and one more
# entry for every point above: not whitespace (as str.isspace).
_SOLID = np.array([not chr(c).isspace() for c in range(0x3001)] + [True])


def _non_space(paragraph: str) -> np.ndarray:
    """Per character of `paragraph`: not whitespace (as str.isspace), without a Python loop."""
    points = np.frombuffer(paragraph.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return _SOLID[np.minimum(points, len(_SOLID) - 1)]


def _quote_mask(paragraph: str) -> np.ndarray:
    """Which characters of one paragraph are inside quotation marks.

    Curly quotes open and close; a straight double quote toggles, except that one right after
    punctuation and before a space or the paragraph end (`he said."`) always closes. A closing
    mark without an opening one closes a quotation that began at the paragraph start or at the
    first sentence after the previous quotation (its opening mark was in an earlier paragraph
    or lost in scraping); a quotation still open at the paragraph end runs to the end (news
    style reopens a long quotation in each paragraph). An apostrophe (’ before a letter) is not
    a closing single quote.
    """
    inside = np.zeros(len(paragraph), dtype=bool)
    opened: int | None = None
    closed = 0  # where a quotation whose opening mark is missing can have begun
    single: int | None = None
    for match in _QUOTE_MARK.finditer(paragraph):  # only quote marks change the state
        k, ch = match.start(), match.group()
        if ch == "“" or (ch == '"' and opened is None and not _closes(paragraph, k)):
            if opened is None:
                opened = k
        elif ch == "”" or ch == '"':
            start = _orphan_start(paragraph, closed, k) if opened is None else opened
            inside[start : k + 1] = True
            opened = None
            closed = k + 1
        elif ch == "‘" and opened is None and single is None:
            single = k
        elif ch == "’" and single is not None and (k + 1 == len(paragraph)
                                                    or not paragraph[k + 1].isalpha()):
            inside[single : k + 1] = True
            single = None
    for start in (opened, single):
        if start is not None:
            inside[start:] = True
    return inside


def _split_with_quotes(text: str) -> list[tuple[str, float]]:
    """(sentence, quoted share) for each sentence of a clean text, as split_sentences splits."""
    out: list[tuple[str, float]] = []
    for paragraph in re.split(r"\n+", text):
        if not paragraph.strip():
            continue
        solid = _non_space(paragraph)
        # Running counts of non-space characters, all and quoted: a sentence's share is two
        # differences of them.
        chars = np.concatenate(([0], np.cumsum(solid)))
        quoted = np.concatenate(([0], np.cumsum(solid & _quote_mask(paragraph))))
        start = 0
        for end, next_start in [*((m.start(), m.end())
                                  for m in _SPLIT_IN_PARAGRAPH.finditer(paragraph)),
                                (len(paragraph), len(paragraph))]:
            piece = paragraph[start:end]
            if piece.strip():
                n = chars[end] - chars[start]
                out.append((piece.strip(), float((quoted[end] - quoted[start]) / n) if n else 0.0))
            start = next_start
    return out


# Copies repeat sentences (a third of the bench corpus's are repeats): each distinct sentence is
# analysed once among the most recent ones. A Sentence is never modified once made.
@lru_cache(maxsize=32768)
def _sentence(text: str, quoted: float = 0.0) -> Sentence:
    toks = words(text)
    stems = frozenset(t[:6] for t in toks if t not in _STOP and len(t) > 2)
    imms = frozenset(immutables(text))
    return Sentence(text, " ".join(toks), len(toks), quoted, token_ids(stems), token_ids(imms))


def sentences(text: str) -> list[Sentence]:
    return [_sentence(s, q) for s, q in _split_with_quotes(text)]


def dice(sets_a: list, sets_b: list) -> np.ndarray:
    """Dice coefficients of every set in `sets_a` with every set in `sets_b`.

    A set is given as its tokens or, faster, as `token_ids(tokens)` (what `Sentence` keeps).
    Shared counts are one product of 0/1 matrices over the pair's own vocabulary.
    """
    ids_a = [s if isinstance(s, np.ndarray) else token_ids(s) for s in sets_a]
    ids_b = [s if isinstance(s, np.ndarray) else token_ids(s) for s in sets_b]
    size_a = np.array([len(x) for x in ids_a], dtype=np.int64)
    size_b = np.array([len(x) for x in ids_b], dtype=np.int64)
    if not size_a.sum() or not size_b.sum():
        return np.zeros((len(ids_a), len(ids_b)))
    tokens_a, tokens_b = np.concatenate(ids_a), np.concatenate(ids_b)
    vocab, column = np.unique(np.concatenate((tokens_a, tokens_b)), return_inverse=True)
    columns_a, columns_b = column[:len(tokens_a)], column[len(tokens_a):]
    if len(ids_a) * len(ids_b) * len(vocab) <= _DENSE_WORK:
        shared = _dense_rows(columns_a, size_a, len(vocab)) @ \
            _dense_rows(columns_b, size_b, len(vocab)).T
    else:
        shared = (_rows(columns_a, size_a, len(vocab))
                  @ _rows(columns_b, size_b, len(vocab)).T).toarray()
    total = size_a[:, None] + size_b[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, 2 * shared.astype(np.float64) / total, 0.0)


def _dense_rows(columns: np.ndarray, sizes: np.ndarray, width: int) -> np.ndarray:
    """`_rows` as a dense array (no sparse-matrix overhead for a small pair)."""
    matrix = np.zeros((len(sizes), width), dtype=np.float32)
    matrix[np.repeat(np.arange(len(sizes)), sizes), columns] = 1.0
    return matrix


def _rows(columns: np.ndarray, sizes: np.ndarray, width: int) -> sparse.csr_matrix:
    """A 0/1 matrix whose row k holds `sizes[k]` consecutive entries of `columns`."""
    indptr = np.concatenate(([0], np.cumsum(sizes)))
    return sparse.csr_matrix((np.ones(len(columns), dtype=np.float32), columns, indptr),
                             shape=(len(sizes), width))


# Dense is faster for small products; past this many multiply-adds a sparse product wins, and
# a BLAS call that large may start threads that wait on a busy machine (measured: 45 ms for a
# 40 x 40 sentence pair on a loaded 2-core machine, 1.3 ms sparse).
_DENSE_WORK = 150_000


def align(a: str, b: str, options: MatchOptions | None = None, *,
          sentences_a: list[Sentence] | None = None,
          sentences_b: list[Sentence] | None = None) -> Alignment:
    """Align the sentences of clean texts `a` and `b` and measure how one copies the other.

    `sentences_a`/`sentences_b` are `sentences(a)`/`sentences(b)` when the caller has them
    already (a document aligned with many candidates is split once).
    """
    options = options or MatchOptions()
    sa = sentences(a) if sentences_a is None else sentences_a
    sb = sentences(b) if sentences_b is None else sentences_b
    result = Alignment(sa, sb)
    usable_a = [i for i, s in enumerate(sa) if s.n_words >= options.min_sentence_words]
    usable_b = [j for j, s in enumerate(sb) if s.n_words >= options.min_sentence_words]
    exact_pairs: list[tuple[int, int, float, float]] = []
    if _too_big(sa, usable_a, sb, usable_b, options):
        # The sentence matrix is len(a) x len(b): a pathological pair (two 10 MB texts) is
        # compared on a bounded part of each side, so no pair costs minutes or gigabytes.
        # Identical sentences are paired first, by hash, so a long copy is still seen whole;
        # only what is left over goes into the bounded matrix.
        exact_pairs, usable_a, usable_b = _identical_first(sa, sb, usable_a, usable_b)
        kept_a, kept_b = _within_caps(sa, usable_a, options), _within_caps(sb, usable_b, options)
        result.capped = bool(usable_a and usable_b) and \
            (len(kept_a) < len(usable_a) or len(kept_b) < len(usable_b))
        usable_a, usable_b = kept_a, kept_b
    if usable_a and usable_b:
        xa = [sa[i] for i in usable_a]
        xb = [sb[j] for j in usable_b]
        ratio = cdist([s.norm for s in xa], [s.norm for s in xb], scorer=fuzz.ratio,
                      dtype=np.float32) / 100.0
        stems = dice([s.stem_ids for s in xa], [s.stem_ids for s in xb])
        imms = dice([s.immutable_ids for s in xa], [s.immutable_ids for s in xb])
        has_imm = np.array([len(s.immutable_ids) >= 2 for s in xa])[:, None] & \
            np.array([len(s.immutable_ids) >= 2 for s in xb])[None, :]
        meaning = np.where(has_imm, 0.6 * stems + 0.4 * imms, stems)
        sim = np.maximum(ratio, meaning)
        result.pairs = _match(sim, ratio, usable_a, usable_b, options.sentence_threshold)
    if exact_pairs:
        result.pairs = sorted(result.pairs + exact_pairs)
    _measure(result, options)
    return result


def _too_big(sa: list[Sentence], usable_a: list[int], sb: list[Sentence], usable_b: list[int],
             options: MatchOptions) -> bool:
    """Would the sentence matrix be too large: too many sentences a side, or characters
    (what comparing costs) multiplying past `max_align_chars` squared?"""
    chars_a = sum(len(sa[k].norm) for k in usable_a)
    chars_b = sum(len(sb[k].norm) for k in usable_b)
    return max(len(usable_a), len(usable_b)) > options.max_align_sentences or \
        chars_a * chars_b > options.max_align_chars ** 2


def _within_caps(sents: list[Sentence], usable: list[int], options: MatchOptions) -> list[int]:
    """The first of `usable` that fit `max_align_sentences` and `max_align_chars`."""
    kept = usable[:options.max_align_sentences]
    return kept[:fitting([len(sents[k].norm) for k in kept], options.max_align_chars)]


def fitting(lengths: list[int], max_chars: int) -> int:
    """How many of the leading items, `lengths` characters each, fit in `max_chars`."""
    return int(np.searchsorted(np.cumsum(lengths), max_chars, side="right"))


def _identical_first(sa: list[Sentence], sb: list[Sentence], usable_a: list[int],
                     usable_b: list[int]) -> tuple[list[tuple[int, int, float, float]],
                                                   list[int], list[int]]:
    """Pair sentences whose normal forms are equal, each in text order, one to one.

    Returns those pairs (similarity 1) and the sentences of each side left unpaired.
    """
    waiting: dict[str, list[int]] = {}
    for j in reversed(usable_b):
        waiting.setdefault(sb[j].norm, []).append(j)
    pairs, left_a = [], []
    for i in usable_a:
        slots = waiting.get(sa[i].norm)
        if slots:
            pairs.append((i, slots.pop(), 1.0, 1.0))
        else:
            left_a.append(i)
    paired_b = {j for _, j, _, _ in pairs}
    return pairs, left_a, [j for j in usable_b if j not in paired_b]


def _match(sim, ratio, rows, cols, threshold) -> list[tuple[int, int, float, float]]:
    """Greedy one-to-one matching of sentence pairs, best similarity first."""
    flat = np.flatnonzero(sim >= threshold)
    order = flat[np.argsort(-sim.reshape(-1)[flat], kind="stable")]
    used_r, used_c, pairs = set(), set(), []
    width = sim.shape[1]
    for k in order.tolist():
        r, c = divmod(k, width)
        if r in used_r or c in used_c:
            continue
        used_r.add(r)
        used_c.add(c)
        pairs.append((rows[r], cols[c], float(sim[r, c]), float(ratio[r, c])))
    pairs.sort()
    return pairs


def _lis_length(seq: list[int]) -> int:
    import bisect
    tails: list[int] = []
    for x in seq:
        k = bisect.bisect_left(tails, x)
        if k == len(tails):
            tails.append(x)
        else:
            tails[k] = x
    return len(tails)


def _is_exact(x: Sentence, y: Sentence, ratio: float) -> bool:
    if ratio >= 0.97:
        return True
    short, long_ = (x.norm, y.norm) if len(x.norm) <= len(y.norm) else (y.norm, x.norm)
    return len(short) >= 30 and long_.startswith(short.rstrip(". "))


def _measure(al: Alignment, options: MatchOptions) -> None:
    words_a = sum(s.n_words for s in al.a) or 1
    words_b = sum(s.n_words for s in al.b) or 1
    pairs = al.pairs
    m: dict[str, float] = {"sentences_a": len(al.a), "sentences_b": len(al.b),
                           "words_a": words_a, "words_b": words_b, "aligned": len(pairs)}
    if al.capped:
        m["capped"] = 1
    m["coverage_a"] = sum(al.a[i].n_words for i, _, _, _ in pairs) / words_a
    m["coverage_b"] = sum(al.b[j].n_words for _, j, _, _ in pairs) / words_b
    if not pairs:
        m.update(order=0.0, exact=0.0, mean_ratio=0.0, mean_similarity=0.0, length_ratio=0.0,
                 substitution_share=0.0, strong=0, spunlike=0.0, reworded=0.0, substitutions=0,
                 indel_share=0.0)
        al.metrics = m
        return
    m["order"] = _lis_length([j for _, j, _, _ in pairs]) / len(pairs)
    exact = [_is_exact(al.a[i], al.b[j], r) for i, j, _, r in pairs]
    m["exact"] = sum(exact) / len(pairs)
    m["mean_ratio"] = float(np.mean([r for *_, r in pairs]))
    m["mean_similarity"] = float(np.mean([s for _, _, s, _ in pairs]))
    # Two reporters quoting the same speech share sentences without copying each other, so a
    # "strong" pair (evidence of a reused passage) must not be a shared quotation: a sentence
    # both texts present inside quotation marks (read per paragraph, so the middle sentences of
    # a long quotation count too). A quotation lifted into the other text as narration is reuse.
    m["strong"] = sum(1 for i, j, s, _ in pairs if s >= options.strong_sentence
                      and min(al.a[i].quoted, al.b[j].quoted) < 0.5)
    lengths = [min(al.a[i].n_words, al.b[j].n_words) / max(al.a[i].n_words, al.b[j].n_words)
               for i, j, _, _ in pairs]
    m["length_ratio"] = float(np.mean(lengths))
    one_to_one = changed = 0
    spunlike = reworded = 0
    indel_words = changed_sentence_words = 0
    subs: list[tuple[str, str]] = []
    for (i, j, _, _), same in zip(pairs, exact):
        if same:
            continue
        ta, tb = al.a[i].norm.split(), al.b[j].norm.split()
        ops = difflib.SequenceMatcher(None, ta, tb, autojunk=False).get_opcodes()
        changed_sentence_words += max(len(ta), len(tb))
        word_subs = other = 0
        for tag, i1, i2, j1, j2 in ops:
            if tag == "equal":
                continue
            changed += max(i2 - i1, j2 - j1)
            if tag in ("insert", "delete"):
                indel_words += max(i2 - i1, j2 - j1)
            if tag == "replace" and i2 - i1 <= 3 and j2 - j1 <= 3:
                one_to_one += max(i2 - i1, j2 - j1)
                pair_subs = list(zip(ta[i1:i2], tb[j1:j2]))
                subs.extend(pair_subs)
                if not all(x.isdigit() or y.isdigit() for x, y in pair_subs):
                    word_subs += 1
            else:
                other += max(i2 - i1, j2 - j1)
        # A spinner swaps words in place; a translator also moves and rewrites clauses.
        if word_subs and other <= max(1, len(ta) // 10):
            spunlike += 1
        elif word_subs or other:
            reworded += 1
    m["substitution_share"] = one_to_one / changed if changed else 0.0
    # Words inserted or deleted (not replaced) in the changed sentences: a spinner swaps words
    # in place and leaves this near 0 (generated spins: max 0.02, the demo's spun copy 0.01);
    # a translation adds and drops function words and moves clauses (seeds' 001: 0.14, demo's
    # round trip: 0.29, generated translations: median 0.13).
    m["indel_share"] = indel_words / changed_sentence_words if changed_sentence_words else 0.0
    m["substitutions"] = len(subs)
    m["spunlike"] = spunlike / len(pairs)
    m["reworded"] = reworded / len(pairs)
    al.substitutions = subs
    quotes = [q.lower() for q in _QUOTED.findall("\n".join(s.text for s in al.a))]
    text_b = "\n".join(s.text for s in al.b).lower()
    m["quotes"] = len(quotes)
    m["quotes_kept"] = sum(q in text_b for q in quotes) / len(quotes) if quotes else 0.0
    # Where the aligned sentences sit: truncation keeps the start of the longer text.
    m["last_aligned_a"] = max(i for i, *_ in pairs) / max(1, len(al.a) - 1)
    m["last_aligned_b"] = max(j for _, j, *_ in pairs) / max(1, len(al.b) - 1)
    al.metrics = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in m.items()}


__all__ = ["Alignment", "Sentence", "align", "dice", "sentences", "split_sentences"]
