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
from collections import Counter, defaultdict
from collections.abc import Sequence

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


def document_lines(text: str) -> tuple[set[int], set[int]]:
    """The keys of a document's lines, and of those that are prose (one document's part of
    `repeated_lines`, which a stage may compute on its workers)."""
    keys: set[int] = set()
    prose: set[int] = set()
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        key = line_key(line)
        keys.add(key)
        if _is_prose(line):
            prose.add(key)
    return keys, prose


def repeated_lines(texts: Sequence[str], options: CleanOptions | None = None,
                   lines: Sequence[tuple[set[int], set[int]]] | None = None) -> frozenset[int]:
    """Keys (see `line_key`) of the lines that are boilerplate by repetition in `texts`.

    A line is repeated when at least `repeat_min_docs` documents and `repeat_min_share` of the
    corpus hold it, and those documents are not copies of one another: no two of them share
    another line of prose (a line in the same set of documents, such as the second line of a
    two-line footer, is part of the same wrapper and does not count). `lines`: each text's
    `document_lines`, when they were computed already.
    """
    options = options or CleanOptions()
    threshold = max(options.repeat_min_docs, math.ceil(options.repeat_min_share * len(texts)))
    if len(texts) < threshold:
        return frozenset()
    per_doc: list[set[int]] = []
    prose_keys: set[int] = set()
    doc_count: Counter[int] = Counter()
    for keys, prose in (lines if lines is not None else map(document_lines, texts)):
        prose_keys |= prose
        doc_count.update(keys)
        per_doc.append(keys)

    candidates = {k for k, n in doc_count.items() if n >= threshold}
    if not candidates:
        return frozenset()
    shared_prose = {k for k in prose_keys if doc_count[k] >= 2}
    holders: dict[int, list[int]] = defaultdict(list)
    wanted = candidates | shared_prose  # once: rebuilding it per document made this quadratic
    for d, keys in enumerate(per_doc):
        for key in keys & wanted:
            holders[key].append(d)

    repeated = set()
    for key in candidates:
        docs = holders[key]
        if not _documents_share_prose(docs, key, per_doc, shared_prose, holders):
            repeated.add(key)
    return frozenset(repeated)


def _documents_share_prose(
    docs: list[int],
    key: int,
    per_doc: list[set[int]],
    shared_prose: set[int],
    holders: dict[int, list[int]],
) -> bool:
    """Are `docs` copies of one article rather than different articles wrapped alike?

    Yes when two of them share a prose line held by a different set of documents than `key`,
    or when `_SAME_SET_PROSE` prose lines sit in exactly the same documents (a whole copied
    story; a wrapper block is a line or two).
    """
    group = set(docs)
    same_set = tuple(docs)
    same_set_prose = 0
    for d in docs:
        for other in per_doc[d] & shared_prose:
            if other == key:
                continue
            other_docs = holders[other]
            if tuple(other_docs) == same_set:
                same_set_prose += 1
                if same_set_prose >= _SAME_SET_PROSE * len(docs):
                    return True
                continue
            if sum(1 for o in other_docs if o in group) >= 2:
                return True
    return False
