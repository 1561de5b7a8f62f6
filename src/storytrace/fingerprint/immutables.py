"""Immutables: the tokens spinners and translators leave alone (cf. DSpin, NDSS 2014).

Capitalised names (not at a sentence start), numbers, and words inside quotation marks survive
synonym spinning and mostly survive machine translation. Shingles of consecutive immutables,
kept in document order, are a candidate channel for copies whose wording changed. Names and
numbers are shared by *different* articles on the same event too, so this channel only
proposes candidates; sentence alignment decides.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence

import numpy as np
import xxhash

from storytrace.fingerprint.shingles import fold

_TOKEN = re.compile(r"[\"“”«»]|[\w$€£%]+(?:['’.,-]\w+)*", re.UNICODE)
_QUOTE = {'"', "“", "”", "«", "»"}
# Capitalised function words that start clauses or titles: not names.
_NOT_NAMES = frozenset(
    ["the", "a", "an", "and", "but", "or", "if", "in", "on", "at", "of", "for", "to", "by", "with", "from", "as", "it", "its", "this", "that", "these", "those", "he", "she", "they", "we", "i", "you", "his", "her", "their", "our", "my", "your", "there", "here", "when", "while", "after", "before", "what", "which", "who", "how", "why", "where", "mr", "mrs", "ms", "dr"]
)


# Each token with the sentence break right after it, if any (consumed: no token starts with
# one, so the next token is found as before).
_TOKEN_AND_BREAK = re.compile(f"({_TOKEN.pattern})([.!?\\n]?)", re.UNICODE)
_NUMBER_CHARS = re.compile(r"[^\d.]")
_OPENING_QUOTES = frozenset(["“", "«"])


def immutables(text: str) -> list[str]:
    """The immutable tokens of `text`, folded ("Mérida" -> "merida"), in order.

    A token right after a sentence end (".", "!", "?" or a line break right after the previous
    token) is not taken for a name. This runs for every sentence of every aligned pair, so the
    tokens come from one C-level `findall` (each with the sentence break after it) and most of
    them, lower-case words outside quotes, take a fast path that only moves the sentence state.
    """
    out: list[str] = []
    in_quote = False
    sentence_start = True
    for tok, after in _TOKEN_AND_BREAK.findall(text):
        if not in_quote and tok.islower() and tok.isalpha():
            sentence_start = bool(after)
            continue
        if tok in _QUOTE:
            in_quote = not in_quote if tok == '"' else tok in _OPENING_QUOTES
            continue
        if tok.isascii():
            folded = None  # an ASCII token never folds to "" (it starts with [\w$%])
        else:
            folded = fold(tok.strip(".,"))
            if not folded:
                continue
        if not tok.isalpha() and any(c.isdigit() for c in tok):
            out.append(_NUMBER_CHARS.sub("", tok).strip("."))  # "$3,300.5" -> "3300.5"
        elif tok[0].isupper() and not sentence_start or in_quote:
            if folded is None:
                folded = fold(tok.strip(".,"))
            if tok[0].isupper() and not sentence_start and folded not in _NOT_NAMES or \
                    in_quote and len(folded) >= 5:
                out.append(folded)
        sentence_start = bool(after) or tok[-1] in ".!?:;"
    return out


def immutable_shingles(text: str, n: int = 3) -> np.ndarray:
    """Unique uint64 hashes of runs of `n` consecutive immutables (distinct neighbours)."""
    tokens = immutables(text)
    # Repeated names ("Blinken ... Blinken") carry no order information: drop direct repeats.
    tokens = [t for i, t in enumerate(tokens) if i == 0 or t != tokens[i - 1]]
    grams = {" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}
    return np.array(sorted(xxhash.xxh3_64_intdigest(g.encode()) for g in grams), dtype=np.uint64)


def shared_pairs(
    shingles: Mapping[int, np.ndarray] | Sequence[np.ndarray],
    min_shared: int = 3,
    max_df: int = 20,
    max_per_doc: int = 20,
) -> dict[tuple[int, int], int]:
    """Pairs of documents sharing at least `min_shared` hashes (immutable shingles, sentences),
    with the count, from an inverted index.

    Hashes found in more than `max_df` documents (boilerplate, stock phrases) are ignored,
    and each document keeps its `max_per_doc` strongest partners, so the work stays linear.
    """
    items = shingles.items() if isinstance(shingles, Mapping) else enumerate(shingles)
    postings: dict[int, list[int]] = defaultdict(list)
    for doc, hashes in items:
        for h in hashes.tolist():
            postings[h].append(doc)
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for docs in postings.values():
        if 1 < len(docs) <= max_df:
            for i in range(len(docs)):
                for j in range(i + 1, len(docs)):
                    counts[(docs[i], docs[j])] += 1
    strong = [(pair, c) for pair, c in counts.items() if c >= min_shared]
    strong.sort(key=lambda item: -item[1])
    per_doc: dict[int, int] = defaultdict(int)
    kept: dict[tuple[int, int], int] = {}
    for (a, b), c in strong:
        if per_doc[a] < max_per_doc and per_doc[b] < max_per_doc:
            kept[(a, b)] = c
            per_doc[a] += 1
            per_doc[b] += 1
    return kept


shared_immutable_pairs = shared_pairs

__all__ = ["immutable_shingles", "immutables", "shared_immutable_pairs", "shared_pairs"]
