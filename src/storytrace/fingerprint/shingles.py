"""Word tokens and word n-gram shingles, hashed once to uint64 with xxhash.

Every later step (MinHash, LSH, immutables) works on these integer hashes, so a text is
tokenised and hashed exactly once.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import xxhash

_WORD = re.compile(r"\w+(?:['’.]\w+)*", re.UNICODE)

# Odd 64-bit multipliers used to combine word hashes into an n-gram hash (position-dependent,
# so "a b" and "b a" differ). Any odd constants work; these are from splitmix64.
_MIX = np.array(
    [0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB, 0xD6E8FEB86659FD93,
     0xA0761D6478BD642F, 0xE7037ED1A0B428DB, 0x8EBC6AF09C88C6E3, 0x589965CC75374CC3],
    dtype=np.uint64,
)


def fold(word: str) -> str:
    """Lower-case, strip accents and inner dots: "Mérida" -> "merida", "U.S." -> "us"."""
    word = word.lower().replace(".", "").replace("’", "'")
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The folded word tokens of `text`, in order (each as `fold` would give it)."""
    found = _WORD.findall(text.lower().replace("’", "'"))
    if text.isascii():
        return [w.replace(".", "") if "." in w else w for w in found]
    # Tokens are lower-cased already: only dots and, in the few non-ASCII words, accents.
    return [(w.replace(".", "") if "." in w else w) if w.isascii() else fold(w) for w in found]


class WordHasher:
    """Hashes words to uint64 with xxh3, caching the (Zipf-distributed) vocabulary."""

    def __init__(self, seed: int = 0, max_cache: int = 2_000_000) -> None:
        self.seed = seed
        self.max_cache = max_cache
        self._cache: dict[str, int] = {}

    def __call__(self, tokens: list[str]) -> np.ndarray:
        get = self._cache.get
        hashed = [get(tok) for tok in tokens]
        if None in hashed:
            # Each word missed is hashed once, however often it occurs: a text's own vocabulary
            # repeats (the longest bench texts: 3,900-7,600 words, 1,200-1,700 distinct), and all
            # of it misses on a fresh hasher (one a query makes).
            new = dict.fromkeys(tok for tok, h in zip(tokens, hashed) if h is None)
            for tok in new:
                new[tok] = self._miss(tok)
            hashed = [new[tok] if h is None else h for tok, h in zip(tokens, hashed)]
        return np.array(hashed, dtype=np.uint64)

    def _miss(self, tok: str) -> int:
        h = xxhash.xxh3_64_intdigest(tok.encode(), self.seed)
        if len(self._cache) < self.max_cache:
            self._cache[tok] = h
        return h


def ngram_hashes(word_hashes: np.ndarray, n: int) -> np.ndarray:
    """Hashes of every run of `n` consecutive words (one hash if the text is shorter)."""
    if n < 1 or n > len(_MIX):
        raise ValueError(f"n must be in [1, {len(_MIX)}]")
    count = len(word_hashes)
    if count == 0:
        return np.zeros(0, dtype=np.uint64)
    n = min(n, count)
    width = count - n + 1
    with np.errstate(over="ignore"):  # in place: one temporary, whatever n is
        out = np.multiply(word_hashes[:width], _MIX[0])
        term = np.empty_like(out)
        for k in range(1, n):
            np.multiply(word_hashes[k : k + width], _MIX[k], out=term)
            out ^= term
        np.right_shift(out, np.uint64(29), out=term)
        out ^= term
        out *= _MIX[1]
        np.right_shift(out, np.uint64(32), out=term)
        out ^= term
    return out


def shingle_hashes(text: str, n: int = 5, hasher: WordHasher | None = None) -> np.ndarray:
    """Unique uint64 hashes of the word `n`-grams of `text`."""
    hasher = hasher or WordHasher()
    return np.unique(ngram_hashes(hasher(words(text)), n))


_SENTENCE_BREAK = re.compile(r"(?<=[.!?])[”\"’)]?\s+|\n+")


def sentence_hashes(text: str, min_words: int = 8) -> np.ndarray:
    """Unique uint64 hashes of the sentences of `text` with at least `min_words` words.

    Shared sentences reveal reused passages even when the two documents as wholes are far
    apart (a few wire paragraphs inside another article).
    """
    found = set()
    for sentence in _SENTENCE_BREAK.split(text):
        toks = words(sentence)
        if len(toks) >= min_words:
            found.add(xxhash.xxh3_64_intdigest(" ".join(toks).encode()))
    return np.array(sorted(found), dtype=np.uint64)


__all__ = ["WordHasher", "batch_shingles", "fold", "fold_text", "ngram_hashes", "sentence_hashes", "shingle_hashes", "words"]


# --- the batch path: tokenise and hash many texts at once with numpy ------------------------

_CASE_BITS = np.uint64(0x2020202020202020)
_COMBINING = re.compile(r"[\u0300-\u036f]")
_ACCENTED = re.compile(r"[\u00c0-\u024f]")
# Masks keeping the first L bytes of a little-endian uint64 (L = 0..8).
_BYTE_MASKS = np.array([(1 << (8 * n)) - 1 for n in range(8)] + [2**64 - 1], dtype=np.uint64)
# Zero bytes after the last text: a non-word byte ends the last word and the 16-byte loads of
# the last words stay inside the buffer.
_PAD = bytes(32)


def fold_text(text: str) -> str:
    """The whole text lower-cased and its accents folded away (one pass)."""
    text = text.lower()
    if not text.isascii() and _ACCENTED.search(text):
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    return text


def _word_bytes(data: np.ndarray) -> np.ndarray:
    """Which bytes belong to words: ASCII letters and digits and every byte of a non-ASCII
    character, except typographic punctuation (which would otherwise glue words together).

    Arithmetic on whole arrays (about 5x faster than a 256-entry table lookup per byte).
    """
    is_word = data >= 0x80
    letter = data | np.uint8(0x20)
    letter -= np.uint8(ord("a"))
    is_word |= letter < 26
    del letter
    digit = data - np.uint8(ord("0"))
    is_word |= digit < 10
    del digit
    _unmark_punctuation(data, is_word)
    return is_word


def _unmark_punctuation(data: np.ndarray, is_word: np.ndarray) -> None:
    """Un-mark the UTF-8 bytes of typographic punctuation (curly quotes, dashes, no-break
    space: U+00A0-U+00BF and U+2000-U+206F)."""
    lead = np.flatnonzero(data[:-2] >= 0xC2)
    if len(lead) == 0:
        return
    nxt = data[lead + 1]
    latin = lead[(data[lead] == 0xC2) & (nxt >= 0xA0)]
    is_word[latin] = False
    is_word[latin + 1] = False
    general = lead[(data[lead] == 0xE2) & ((nxt == 0x80) | (nxt == 0x81))]
    for k in range(3):
        is_word[general + k] = False


def batch_shingles(texts: list[str] | list[bytes], n: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Word `n`-gram hashes of many texts at once: (hashes, document index of each hash).

    The fast path of lexical dedup (texts as str, or already UTF-8 encoded): words are the runs
    of letters and digits (split at every other byte, so "U.S." is "u", "s"), ASCII case is
    ignored, accents are kept (like datasketch's lexical path). Each word's hash mixes its first
    16 bytes and its length, for all words of the batch together (numpy, no Python loop per
    word; longer words sharing 16 bytes and a length collide, harmlessly). A text with fewer
    than `n` words has no shingles.
    """
    empty = np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    if not texts:
        return empty
    if n < 1 or n > len(_MIX):
        raise ValueError(f"n must be in [1, {len(_MIX)}]")
    encoded = [t if isinstance(t, bytes) else t.encode("utf-8") for t in texts]
    # One buffer "\n" text "\n" text ... pad: every word has a non-word byte on both sides.
    buffer = b"\n".join([b"", *encoded, _PAD])
    data = np.frombuffer(buffer, dtype=np.uint8)
    is_word = _word_bytes(data)
    # Word boundaries alternate start, end, start, end... because the buffer starts and ends
    # with non-word bytes.
    flips = np.flatnonzero(is_word[1:] != is_word[:-1])
    del is_word
    flips += 1
    starts, ends = flips[0::2], flips[1::2]
    n_words = len(starts)
    if n_words < n:
        return empty
    lengths = ends - starts
    del flips, ends
    # Each word's first 16 bytes as two little-endian uint64 loads (unaligned, strided view;
    # np.take gathers from it ~4x faster than indexing), masked to the word's length. OR-ing
    # 0x20 into every byte lower-cases ASCII letters and leaves digits as they are, so no
    # lower-cased copy of the text is made. In place: new arrays of this size cost page faults.
    loads = np.ndarray((len(buffer) - 7,), dtype="<u8", buffer=buffer, strides=(1,))
    word = lengths.astype(np.uint64)
    word *= _MIX[2]
    shifted = np.empty_like(word)
    # Bytes 9-16 are loaded only for the words that have them (mostly under 9 bytes).
    long_words = np.flatnonzero(lengths > 8)
    with np.errstate(over="ignore"):
        for k in range(2):
            if k == 0:
                chunk = np.take(loads, starts)
                chunk |= _CASE_BITS
                chunk &= _BYTE_MASKS.take(np.minimum(lengths, 8))
                word ^= chunk
            else:  # the other words' second load is 0: only the long ones change
                chunk = np.take(loads, starts[long_words] + 8)
                chunk |= _CASE_BITS
                chunk &= _BYTE_MASKS.take(np.minimum(lengths[long_words] - 8, 8))
                word[long_words] ^= chunk
            word *= _MIX[4 + k]
            np.right_shift(word, np.uint64(31), out=shifted)
            word ^= shifted
        word *= _MIX[3]
        np.right_shift(word, np.uint64(29), out=shifted)
        word ^= shifted
    del chunk, shifted, lengths
    grams = ngram_hashes(word, n)
    del word
    # Words per text, from the position of the "\n" after each text; an n-gram is kept when
    # its n words lie in one text (its first word is not among the last n-1 of a text).
    separators = np.cumsum([len(e) + 1 for e in encoded], dtype=np.int64)
    word_end = np.searchsorted(starts, separators)
    per_text = np.diff(word_end, prepend=0)
    keep = np.ones(len(grams), dtype=bool)
    for back in range(1, n):
        cut = word_end - back
        cut = cut[(per_text >= back) & (cut < len(grams))]
        keep[cut] = False
    doc = np.repeat(np.arange(len(encoded), dtype=np.int64), np.maximum(per_text - n + 1, 0))
    return grams[keep], doc
