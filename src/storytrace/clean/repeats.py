"""Lines that repeat across a corpus: a line seen in many documents is boilerplate.

One pass over the corpus counts, per normalised line, the documents holding it (xxhash
keys: 8 bytes a distinct line). A site's menu and footer, a scraper's "Source link", the
Wayback Machine's "Alexa Internet" notice repeat this way. Copies of one story repeat too, and
their paragraphs must stay: so a repeated line only counts as boilerplate when the documents
holding it share no other line of prose, i.e. they are different articles wrapped alike.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np
import xxhash

from storytrace.clean.options import CleanOptions

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_DIGITS = re.compile(r"\d+")
# A line this long (in words) that ends like a sentence is prose: evidence that two documents
# share an article when both hold it.
_PROSE_WORDS = 8
# Prose lines (besides the line judged) held by exactly the same documents that make those
# documents copies of one story rather than one wrapper: a footer block is a line or two.
_SAME_SET_PROSE = 2


def line_key(line: str) -> int:
    """A 64-bit key of a line, normalised (case, punctuation, spacing and digits ignored)."""
    norm = _DIGITS.sub("0", _NON_WORD.sub(" ", line.lower())).strip()
    return xxhash.xxh3_64_intdigest(norm.encode("utf-8"))


def _is_prose(line: str) -> bool:
    return len(line.split()) >= _PROSE_WORDS and line.rstrip("\"'”’)»")[-1:] in ".!?…"


class LineKeys(NamedTuple):
    """The line keys of a run of documents, one document after the other: each document's
    distinct keys (`line_key`), whether any of its lines with that key is prose, and how
    many keys each document has. Arrays, 9 bytes a key: as sets of Python ints they took
    ~3.5 kB a bench document, all held at once while the corpus is counted."""

    keys: np.ndarray  # uint64
    prose: np.ndarray  # bool
    per_doc: np.ndarray  # int64, one count per document


def document_lines(texts: Sequence[str]) -> LineKeys:
    """The `LineKeys` of some documents (their part of `repeated_lines`, which a stage may
    compute on its workers)."""
    keys: list[int] = []
    prose: list[bool] = []
    per_doc = np.zeros(len(texts), dtype=np.int64)
    for n, text in enumerate(texts):
        own: dict[int, bool] = {}
        for raw in text.splitlines():
            line = raw.strip()
            if not line:
                continue
            key = line_key(line)
            own[key] = own.get(key, False) or _is_prose(line)
        keys += own
        prose += own.values()
        per_doc[n] = len(own)
    return LineKeys(np.array(keys, dtype=np.uint64), np.array(prose, dtype=bool), per_doc)


def repeated_lines(texts: Sequence[str], options: CleanOptions | None = None,
                   lines: Iterable[LineKeys] | None = None) -> frozenset[int]:
    """Keys (see `line_key`) of the lines that are boilerplate by repetition in `texts`.

    A line is repeated when at least `repeat_min_docs` documents and `repeat_min_share` of the
    corpus hold it, and those documents are not copies of one another: no two of them share
    another line of prose (a line in the same set of documents, such as the second line of a
    two-line footer, is part of the same wrapper and does not count). `lines`: the texts'
    `document_lines`, in order, when they were computed already.
    """
    options = options or CleanOptions()
    threshold = max(options.repeat_min_docs, math.ceil(options.repeat_min_share * len(texts)))
    if len(texts) < threshold:
        return frozenset()
    parts = list(lines) if lines is not None else [document_lines(texts)]
    if not parts:
        return frozenset()
    found = _Keys(LineKeys(*(np.concatenate(column) for column in zip(*parts, strict=True))))
    repeated = [key for key in np.flatnonzero(found.docs >= threshold).tolist()
                if not found.share_prose(key)]
    return frozenset(found.distinct[repeated].tolist())


class _Keys:
    """The corpus's line keys counted: each distinct key's documents (in order), and each
    document's keys that are prose held by two documents or more."""

    def __init__(self, lines: LineKeys) -> None:
        self.distinct, self._of_entry, self.docs = np.unique(
            lines.keys, return_inverse=True, return_counts=True)
        self._of_entry = self._of_entry.ravel()
        prose = np.zeros(len(self.distinct), dtype=bool)
        prose[self._of_entry[lines.prose]] = True
        self._shared_prose = prose & (self.docs >= 2)
        self._doc_of_entry = np.repeat(np.arange(len(lines.per_doc)), lines.per_doc)
        self._doc_start = np.concatenate([[0], np.cumsum(lines.per_doc)])
        self._by_key = np.argsort(self._of_entry, kind="stable")  # documents ascending
        self._key_start = np.concatenate([[0], np.cumsum(self.docs)])
        self._holders: dict[int, tuple[int, ...]] = {}

    def holders(self, key: int) -> tuple[int, ...]:
        """The documents holding distinct key number `key`, ascending."""
        found = self._holders.get(key)
        if found is None:
            entries = self._by_key[self._key_start[key]:self._key_start[key + 1]]
            found = self._holders[key] = tuple(self._doc_of_entry[entries].tolist())
        return found

    def prose_keys(self, doc: int) -> list[int]:
        """The keys of `doc` that are prose held by two documents or more."""
        keys = self._of_entry[self._doc_start[doc]:self._doc_start[doc + 1]]
        return keys[self._shared_prose[keys]].tolist()

    def share_prose(self, key: int) -> bool:
        """Are the documents holding `key` copies of one article rather than different
        articles wrapped alike?

        Yes when two of them share a prose line held by a different set of documents than
        `key`, or when `_SAME_SET_PROSE` prose lines sit in exactly the same documents (a
        whole copied story; a wrapper block is a line or two).
        """
        docs = self.holders(key)
        group = set(docs)
        same_set_prose = 0
        for d in docs:
            for other in self.prose_keys(d):
                if other == key:
                    continue
                other_docs = self.holders(other)
                if other_docs == docs:
                    same_set_prose += 1
                    if same_set_prose >= _SAME_SET_PROSE * len(docs):
                        return True
                    continue
                if sum(1 for o in other_docs if o in group) >= 2:
                    return True
        return False
