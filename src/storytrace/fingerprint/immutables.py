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

from storytrace.fingerprint.parts import PART_ENTRIES, hash_parts
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
    items = list(shingles.items() if isinstance(shingles, Mapping) else enumerate(shingles))
    if all(len(np.unique(hashes)) == len(hashes) for _, hashes in items):
        return _shared_pairs_arrays(items, min_shared, max_df, max_per_doc)
    return _shared_pairs_loop(items, min_shared, max_df, max_per_doc)


def _shared_pairs_loop(items: list, min_shared: int, max_df: int, max_per_doc: int
                       ) -> dict[tuple[int, int], int]:
    """`shared_pairs` as its definition reads: a posting list per hash, pairs counted in the
    order the hashes were first seen, the strongest kept first (ties in that order)."""
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


def _shared_pairs_arrays(items: list, min_shared: int, max_df: int, max_per_doc: int,
                         part_entries: int = PART_ENTRIES) -> dict[tuple[int, int], int]:
    """`_shared_pairs_loop` with numpy, for documents whose hashes are distinct: the same
    pairs, counts and order. A pair's place in the loop's order is where it first occurs:
    the first-seen hash two of its documents share (ranked by the position where it is first
    seen), then its position in that hash's documents. The hashes are grouped one range of
    values at a time (`hash_parts`), so the temporaries are a part's, not the pile's."""
    ids = [doc for doc, _ in items]
    firsts, seconds, orders = [], [], []
    for part in hash_parts([hashes for _, hashes in items], part_entries):
        _, first, which, counts = np.unique(part.hashes, return_index=True,
                                            return_inverse=True, return_counts=True)
        if not ((counts >= 2) & (counts <= max_df)).any():
            continue
        by_hash = np.argsort(which, kind="stable")  # entries hash by hash, documents in order
        owner = part.owner[by_hash]
        starts = np.cumsum(counts) - counts
        first_seen = part.position[first]
        for size in range(2, max_df + 1):
            of_size = counts == size
            if not of_size.any():
                continue
            members = owner[starts[of_size][:, None] + np.arange(size)]  # (hashes, size)
            i, j = np.triu_indices(size, 1)  # the loop's (i, j) order
            firsts.append(members[:, i].ravel())
            seconds.append(members[:, j].ravel())
            orders.append((first_seen[of_size][:, None] * (max_df * max_df)
                           + i * max_df + j).ravel())
    if not firsts:
        return {}
    a, b, order = np.concatenate(firsts), np.concatenate(seconds), np.concatenate(orders)
    by_order = np.argsort(order, kind="stable")
    keys = a[by_order] * len(items) + b[by_order]
    pair_keys, first_at, pair_counts = np.unique(keys, return_index=True, return_counts=True)
    strong = pair_counts >= min_shared
    pair_keys, first_at, pair_counts = pair_keys[strong], first_at[strong], pair_counts[strong]
    ranked = np.lexsort((first_at, -pair_counts))  # strongest first, ties in the loop's order
    per_doc = np.zeros(len(items), dtype=np.int64)
    kept: dict[tuple[int, int], int] = {}
    for key, count in zip(pair_keys[ranked].tolist(), pair_counts[ranked].tolist(),
                          strict=True):
        x, y = divmod(key, len(items))
        if per_doc[x] < max_per_doc and per_doc[y] < max_per_doc:
            kept[(ids[x], ids[y])] = count
            per_doc[x] += 1
            per_doc[y] += 1
    return kept


shared_immutable_pairs = shared_pairs

__all__ = ["immutable_shingles", "immutables", "shared_immutable_pairs", "shared_pairs"]
