"""Plain-text boilerplate removal: classify each line, then find the article body.

The project's own line classifier. Each line gets
  (a) a marker verdict: a known wrapper or trailer (`[ad_1]`, "Source link", "Leave a Reply",
      "Copyright ©", image credits...) from clean/data/markers.tsv;
  (b) a shape: prose (a long line ending like a sentence, rich in stop words), a short line
      (menu item, heading, bullet), or an attribution line ("By ...", "(Reporting by ...)");
  (d) a corpus verdict: seen in many documents of the corpus (see repeats.py).
Then (c) position: the body is the run of lines with the largest sum of values, where prose
counts its length and short or marked lines cost a fixed amount (the maximum-subarray idea of
Finn et al.'s Body Text Extraction, applied to lines instead of tags). Lines before the body are
header/navigation, lines after it footer/sidebar (prose there is other stories' teasers or
readers' comments); inside the body only marked lines and runs of menu-like short lines go, so
a sentence of the story outweighs any shape rule. Short sentences right after the body, and
attribution lines ("By ...", "(Reporting by ...)") next to it, stay with the story.

Tuned on the flattened AEB pages (bench/cleaning.py): F1 0.913 against 0.832 for the C4 rules.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress
from typing import Any

from storytrace.clean.markers import marker_reason
from storytrace.clean.options import CleanOptions
from storytrace.clean.repeats import line_key
from storytrace.model import RemovedLine

_BULLET = re.compile(r"^(?:[•·▪►▸◦‣∙*+\-–—]|\d{1,2}[.)])\s+")
# The characters a bullet can start with (besides a digit): most lines start otherwise, and this
# test is cheaper than the regex.
_BULLET_STARTS = frozenset("•·▪►▸◦‣∙*+-–—")
_WORD = re.compile(r"\w+", re.UNICODE)
# On ASCII text (most English news lines; str.isascii() costs nothing) `\w` is [0-9A-Za-z_]:
# bytes.translate turning every other byte into a space, then split(), gives the same words as
# _WORD.findall three times faster; a second table lower-cases them on the way.
_ASCII_WORDS = bytes(c if chr(c).isalnum() or c == 0x5F else 0x20 for c in range(128)) + bytes(
    [0x20] * 128
)
_ASCII_LOWER_WORDS = _ASCII_WORDS.translate(
    bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")
)
# Punctuation that keeps many English lines from being ASCII. None of it is a word character, so
# as spaces it leaves the words as they are: the line can take the ASCII path.
_WIDE_PUNCTUATION = ("’", "‘", "“", "”", "—", "–")
# More generally, a line whose only non-ASCII characters are not word characters ("…", "©",
# "•", a zero-width space, mojibake's "\x80") has the words of its ASCII encoding with "?" for
# each of them. Its UTF-8 without the ASCII bytes is the UTF-8 of just those characters.
_ASCII_BYTES = bytes(range(128))
_WORD_CHAR = re.compile(r"\w")


def _only_ascii_words(text: str) -> bool:
    """No word character of `text` is outside ASCII."""
    others = text.encode("utf-8", "surrogatepass").translate(None, _ASCII_BYTES)
    return _WORD_CHAR.search(others.decode("utf-8", "surrogatepass")) is None

_CLOSERS = "\"'”’»)]"
_SENTENCE_MARKS = frozenset(".!?…:;。！？")


def _ends_sentence(text: str) -> bool:
    """Ends in sentence punctuation, possibly inside closing quotes/brackets, or in a quote."""
    if text and text[-1] in '"”’»':
        return True
    stripped = text.rstrip(_CLOSERS)
    return bool(stripped) and stripped[-1] in _SENTENCE_MARKS


# Lines that credit the article's authors; they belong to the article (a later stage reads them).
_ATTRIBUTION = re.compile(
    r"^(?:\(?\s*(?i:(?:additional\s+)?(?:reporting|writing|editing|compiled|edited|written|"
    r"reported)\s+by)\b|(?i:by)\s+[A-Z][\w.'’-]+(?:\s+[A-Z][\w.'’-]+){0,3}\s*(?:[,|]|$))",
)
_CONTRIBUTED = re.compile(r"\bcontributed to this (?:report|story|article)\b", re.IGNORECASE)
# The characters _ATTRIBUTION can start with, besides whitespace: "(" and the first letters of
# "additional", "reporting", "writing", "editing", "compiled"..., "by" in either case (checked
# on every code point: no other character matches them case-insensitively). Most lines start
# otherwise, and skip the regex call.
_ATTRIBUTION_STARTS = frozenset("(AaBbCcEeRrWw")


def _is_attribution(text: str) -> bool:
    """ "By Simon Lewis", "(Reporting by ...)", "CNN's X contributed to this report."."""
    first = text[:1]
    return (
        (first in _ATTRIBUTION_STARTS or first.isspace()) and _ATTRIBUTION.match(text) is not None
    ) or ("contributed" in text and bool(_CONTRIBUTED.search(text)))


_DATE_ONLY = re.compile(
    r"^(?:(?:updated|published|posted)\s*:?\s*)?(?:\w+day,?\s+)?(?:\w+\.?\s+\d{1,2},?\s+\d{4}|"
    r"\d{1,2}\s+\w+\.?\s+\d{4}|\d{4}-\d{2}-\d{2})(?:[\s,|at]+\d{1,2}:\d{2}\s*(?:[ap]\.?m\.?)?"
    r"(?:\s*\w{2,4})?)?$",
    re.IGNORECASE,
)
# Each form of _DATE_ONLY holds a digit: looking for one first is cheaper than the match.
_DIGIT = re.compile(r"\d")


@dataclass(slots=True)
class Line:
    text: str
    words: int
    prose: bool
    bullet: bool
    attribution: bool
    reason: str | None  # set when a marker or the corpus names the line boilerplate
    value: float = 0.0


@dataclass(slots=True)
class LineCleaning:
    paragraphs: list[str]
    removed: list[RemovedLine]
    title: str | None


def _headline_start(words: list[str] | list[bytes], stopwords: Collection[Any]) -> bool:
    """A line opening in headline case ("Police Seek Tips About Elk Poached In ...").

    Headlines capitalise function words; sentences do not. Teaser lists (a headline run into
    its summary) look like prose otherwise.
    """
    capitalised = 0
    for word in words[1:12]:  # str or (ASCII) bytes words: word[:1], not word[0]
        if word[:1].isupper() and not word.isupper() and word.lower() in stopwords:
            capitalised += 1
    return capitalised >= 2


@lru_cache(maxsize=64)
def _ascii_stopwords(stopwords: frozenset[str]) -> frozenset[bytes]:
    """The stop words as bytes, for ASCII lines (a non-ASCII stop word never equals their words)."""
    return frozenset(word.encode("ascii") for word in stopwords if word.isascii())


def _ascii_is_prose(raw: bytes, text: str, stopwords: frozenset[bytes]) -> bool:
    """`_is_prose`'s test for a line of ASCII (non-word characters aside), the same answer.

    The stop-word share comes first and decides most lines; the headline test only runs on a
    line that would otherwise be prose, and reads the words' own case only when two or more
    of words 1-11 are stop words, not all of them in lower case.
    """
    lowered = raw.translate(_ASCII_LOWER_WORDS).split()
    if not lowered:
        return False
    stop = sum(map(stopwords.__contains__, lowered)) / len(lowered)
    if not ((stop >= 0.15 and _ends_sentence(text)) or stop >= 0.30):
        return False
    head = list(map(stopwords.__contains__, lowered[1:12]))
    if sum(head) < 2:
        return True
    # maxsplit: words 1-11 exactly as a full split gives them; the rest of the line stays one
    words = raw.translate(_ASCII_WORDS).split(None, 12)
    if b"".join(compress(words[1:12], head)).islower():
        return True
    return not _headline_start(words[:12], stopwords)


def _is_prose(
    text: str,
    n_words: int,
    stopwords: Collection[str],
    min_words: int,
    ascii_stopwords: frozenset[bytes] | None = None,
) -> bool:
    if not stopwords:  # no stop list (Chinese, Japanese...): length and a sentence ending
        return len(text) >= 4 * min_words and _ends_sentence(text)
    if n_words < min_words:
        return False
    if ascii_stopwords is not None:
        plain = text
        if not plain.isascii():
            for mark in _WIDE_PUNCTUATION:
                plain = plain.replace(mark, " ")
        if plain.isascii():
            return _ascii_is_prose(plain.encode("ascii"), text, ascii_stopwords)
        if _only_ascii_words(plain):  # 8% of bench/dedup.py's non-ASCII lines, 10x faster
            return _ascii_is_prose(plain.encode("ascii", "replace"), text, ascii_stopwords)
    words = _WORD.findall(text)
    if not words or _headline_start(words, stopwords):
        return False
    stop = sum(map(stopwords.__contains__, map(str.lower, words))) / len(words)
    # A sentence ending plus some function words, or many function words (no ending needed:
    # scraped paragraphs sometimes lose their last character).
    return (stop >= 0.15 and _ends_sentence(text)) or stop >= 0.30


# A line's description: (text, words, prose, bullet, attribution, marker reason).
_Described = tuple[str, int, bool, bool, bool, str | None]
# Lines described before, per (marker_max_words, prose_min_words, stop words). A line's
# description depends on nothing else, and sites repeat their menus and footers page after page:
# 49% of the AEB pages' non-empty lines repeat an earlier one, 10% on bench/dedup.py's corpus
# (16,384 lines hold nearly all of those repeats). Emptied when full: about 12 MB of bench lines
# a cache, and at most four caches (languages), all dropped when a fifth is wanted.
_CACHE_LINES = 16384
_CACHES = 4
_described: dict[tuple[int, int, frozenset[str]], dict[str, _Described]] = {}


def _describe(
    raw: str,
    max_words: int,
    min_words: int,
    stopwords: Collection[str],
    ascii_stopwords: frozenset[bytes] | None,
) -> _Described:
    """The description of one line of str.splitlines() that holds more than whitespace."""
    # The only whitespace a printable line can hold is the space (checked on every code point):
    # without spaces at its ends and twice in a row, it is what split() and join would make of
    # it. Multi-News paragraphs start with a space: stripping it is 4x cheaper than splitting.
    # An ASCII line of splitlines() can hold no other whitespace than the space, tab and \x1f
    # (the rest end lines): two searches instead of isprintable()'s look-up per character.
    if raw.isascii():
        only_spaces = "\t" not in raw and "\x1f" not in raw
    else:
        only_spaces = raw.isprintable()
    stripped = raw.strip(" ") if only_spaces else None
    if stripped is not None and "  " not in stripped:
        n = stripped.count(" ") + 1
    else:
        parts = raw.split()
        stripped, n = " ".join(parts), len(parts)
    first = stripped[0]
    found = _BULLET.match(stripped) if first in _BULLET_STARTS or first.isdecimal() else None
    bullet = found is not None
    body = stripped[found.end() :] if found is not None else stripped
    if bullet:
        n -= 1
    reason = marker_reason(body, n, max_words)
    attribution = reason is None and n <= 40 and _is_attribution(body)
    prose = _is_prose(body, n, stopwords, min_words, ascii_stopwords)
    return stripped, n, prose, bullet, attribution, reason


def describe_lines(
    text: str,
    options: CleanOptions,
    stopwords: Collection[str],
    repeated: Collection[int] = (),
) -> list[Line]:
    """Non-empty lines of `text` with their shape and marker/corpus verdicts."""
    lines = []
    max_words = options.marker_max_words
    min_words = options.prose_min_words
    cache: dict[str, _Described] | None = None
    ascii_stopwords = None
    if isinstance(stopwords, frozenset):
        ascii_stopwords = _ascii_stopwords(stopwords)
        key = (max_words, min_words, stopwords)
        cache = _described.get(key)
        if cache is None:
            if len(_described) >= _CACHES:
                _described.clear()
            cache = _described[key] = {}
    for raw in text.splitlines():
        if not raw or raw.isspace():  # what split() leaves nothing of
            continue
        described = cache.get(raw) if cache is not None else None
        if described is None:
            described = _describe(raw, max_words, min_words, stopwords, ascii_stopwords)
            if cache is not None:
                if len(cache) >= _CACHE_LINES:
                    cache.clear()
                cache[raw] = described
        stripped, n, prose, bullet, attribution, reason = described
        if reason is None and repeated and line_key(stripped) in repeated:
            reason = "repeated-in-corpus"
        lines.append(Line(stripped, n, prose, bullet, attribution, reason))
    return lines


# Reasons that mark the end of an article (comments, related lists, a footer): the body never
# runs across them.
END_OF_ARTICLE = frozenset({"trailer", "comments", "copyright"})


_NEG_INF = float("-inf")


def _values(lines: list[Line], options: CleanOptions) -> None:
    bad = -options.bad_line_cost
    short = options.short_line_cost
    short_sentence = -options.short_line_cost * options.short_sentence_factor
    for line in lines:
        reason = line.reason
        if reason is not None:
            line.value = _NEG_INF if reason in END_OF_ARTICLE else bad
        elif line.prose:
            line.value = float(len(line.text))
        elif line.attribution:
            line.value = short
        elif line.words >= 3 and _ends_sentence(line.text):
            line.value = short_sentence
        else:
            line.value = -short


def _max_run(values: list[float], lo: int, hi: int) -> tuple[float, int, int]:
    """(sum, start, end) of the contiguous run in values[lo:hi] with the largest sum (Kadane)."""
    best, best_start, best_end = 0.0, lo, lo
    run, start = 0.0, lo
    for i in range(lo, hi):
        v = values[i]
        if run <= 0:
            run, start = v, i
        else:
            run += v
        if run > best:
            best, best_start, best_end = run, start, i + 1
    return best, best_start, best_end


def _best_span(values: list[float], first_share: float) -> tuple[int, int]:
    """[start, end) of the article body; (0, 0) when no run has a positive sum.

    End-of-article markers (value -inf) split the lines into sections; each section's best run
    is found, and the FIRST one scoring at least `first_share` of the best wins: an article
    comes before its comments, which can be longer than the article itself.
    """
    runs = []
    lo = 0
    for i, v in enumerate([*values, _NEG_INF]):
        if v == _NEG_INF:
            if i > lo:
                runs.append(_max_run(values, lo, i))
            lo = i + 1
    best = max((r[0] for r in runs), default=0.0)
    if best <= 0:
        return 0, 0
    for score, start, end in runs:
        if score >= first_share * best:
            return start, end
    return 0, 0


def _is_sentence(line: Line) -> bool:
    return (
        line.reason is None
        and not line.bullet
        and line.words >= 4
        and _ends_sentence(line.text)
        and not _headline_like(line)
    )


def _extend_over_sentences(lines: list[Line], start: int, end: int) -> tuple[int, int]:
    """Grow the body over adjacent short sentences ("The death occurred Saturday."): a last
    short paragraph is still the story's."""
    while end < len(lines) and _is_sentence(lines[end]):
        end += 1
    while start > 0 and _is_sentence(lines[start - 1]):
        start -= 1
    return start, end


def _is_date(line: Line) -> bool:
    """A line that is only a date (and maybe a time): "October 8, 2021", "2019-11-19 08:57"."""
    return (
        line.words <= 9
        and _DIGIT.search(line.text) is not None
        and _DATE_ONLY.match(line.text) is not None
    )


def _headline_like(line: Line) -> bool:
    return (
        line.reason is None
        and not line.bullet
        and 3 <= line.words <= 20
        and not line.text.endswith((".", ":", ";", ","))
        and not _is_date(line)
        and not line.attribution
    )


def _outside_reason(line: Line, before_body: bool) -> str:
    if _is_date(line):
        return "date-line"
    if before_body:
        return "navigation" if line.words <= 4 or line.bullet else "header"
    if line.bullet and line.words >= 5:
        return "sidebar-headlines"
    return "footer" if not line.bullet else "navigation"


def _short_runs(lines: list[Line], start: int, end: int, min_run: int) -> set[int]:
    """Indexes in [start, end) inside runs of >= min_run lines that are neither prose nor
    attribution: menus, tag lists, teaser titles. A lone heading between paragraphs stays."""
    found: set[int] = set()
    run: list[int] = []
    for i in range(start, end + 1):
        line = lines[i] if i < end else None
        if (
            line is not None
            and not line.prose
            and not line.attribution
            and not _ends_sentence(line.text)
            and line.words <= 8
        ):
            run.append(i)
            continue
        if len(run) >= min_run:
            found.update(run)
        run = []
    return found


def clean_lines(
    text: str,
    options: CleanOptions,
    stopwords: Collection[str],
    repeated: Collection[int] = (),
) -> LineCleaning:
    """Split `text` into article paragraphs, removed lines (with reasons) and a title."""
    lines = describe_lines(text, options, stopwords, repeated)
    if not lines:
        return LineCleaning([], [], None)
    _values(lines, options)
    start, end = _best_span([line.value for line in lines], options.first_body_share)
    if start == end:  # no prose at all: keep what no rule names (a short note, a tweet)
        start, end = 0, len(lines)

    start, end = _extend_over_sentences(lines, start, end)
    title_at = None
    for i in range(start - 1, max(-1, start - 8), -1):
        if _headline_like(lines[i]):
            title_at = i
            break
    if title_at is None and start + 1 < end and _headline_like(lines[start]):
        title_at = start  # a headline that reads like prose, right at the top of the body

    menu_run = _short_runs(lines, start, end, options.menu_run_min)
    paragraphs: list[str] = []
    removed: list[RemovedLine] = []
    after_related = False
    for i, line in enumerate(lines):
        if i == title_at:
            continue
        inside = start <= i < end
        if line.reason is not None:
            after_related = line.reason == "related-list"
            removed.append(RemovedLine(line.text, line.reason))
        elif line.prose and (inside or options.keep_outside_prose):
            after_related = False
            paragraphs.append(line.text)
        elif (line.attribution and start - 3 <= i < end + 3) or (inside and i not in menu_run):
            paragraphs.append(line.text)
        elif inside:
            removed.append(RemovedLine(line.text, "navigation"))
        elif after_related and (line.bullet or _headline_like(line)):
            removed.append(RemovedLine(line.text, "related-list"))
        else:
            removed.append(RemovedLine(line.text, _outside_reason(line, i < start)))
    title = lines[title_at].text if title_at is not None else None
    return LineCleaning(paragraphs, removed, title)
