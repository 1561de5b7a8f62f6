"""Boilerplate markers (clean/data/markers.tsv): which known wrapper/trailer a line is, if any."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from re import _constants as sre  # the regex parser's vocabulary, to read the rows' shapes
from re import _parser as sre_parse
from typing import Any, NamedTuple

# How much of a line's end the `.*` patterns look at: they name endings (a photo credit,
# "... Leave a Comment"); 80 instead changed AEB F1 by 0.0002 and cost time.
_TAIL_CHARS = 48


class _TailRow(NamedTuple):
    """A row naming how a line ends, with cheap tests every line it matches passes."""

    reason: str
    pattern: re.Pattern[str]
    contains: tuple[str, ...]  # strings every match holds
    endings: tuple[str, ...] | None  # the line ends in one of these, trailing spaces aside


@dataclass(frozen=True, slots=True)
class _Markers:
    head_by_first: dict[str, re.Pattern[str]]  # a line's first character -> the head rows for it
    head_other: re.Pattern[str]  # the head rows for any other first character
    head_reasons: list[str]
    tail: list[_TailRow]
    # A line no tail row can match fails all three (one test for all rows before one per row):
    tail_endings: tuple[str, ...]  # every row's endings
    tail_contains: tuple[str, ...]  # a string each row without endings must contain
    tail_always: bool  # some row has neither
    # Rows starting with `^`: how a line of any length starts (a widget's unmistakable shape),
    # each with the literal text a match starts with.
    anywhere: list[tuple[str, re.Pattern[str], str]]
    # Those texts, and how many characters of a line hold the longest: a line whose start,
    # lower-cased, begins with none of them matches no such row (one test a long line).
    anywhere_prefixes: tuple[str, ...]
    anywhere_chars: int


@lru_cache(maxsize=1)
def _compiled() -> _Markers:
    """The markers.tsv rows, compiled for speed.

    `head`: the rows naming the whole line (ending in `$`) or how it starts, matched at the
    start as one alternation: one regex call instead of one per row. An empty named group after
    each row (not around it) says which matched, so a branch starts with the row's own first
    character and the engine leaves a row that cannot match after one comparison. And a line
    only meets the rows that can start with its first character (plus those that can start with
    anything), in file order, so the first row that matches is the one the full alternation
    would find. Both together: three times faster on AEB's lines.
    `tail`: the rows starting with `.*` (they name how a line ends), each compiled alone and
    searched near the end; alone, each keeps the regex engine's literal-prefix scan, which an
    alternation loses (three times faster, measured on AEB). Before any search, `in` and
    `endswith` look for the strings a match must contain or end the line with (read from the
    row's pattern): most lines hold none of them, and those tests cost less than a regex call.
    """
    text = resources.files("storytrace.clean").joinpath("data/markers.tsv").read_text("utf-8")
    head: list[tuple[str, _First | None]] = []
    reasons: list[str] = []
    tail: list[_TailRow] = []
    anywhere: list[tuple[str, re.Pattern[str], str]] = []
    for raw in text.splitlines():
        if not raw.strip() or raw.startswith("#"):
            continue
        reason, pattern = raw.split("\t", 1)
        if pattern.startswith("^"):
            pattern = pattern[1:]
            anywhere.append((reason, re.compile(pattern), _literal_prefix(_parse(pattern))))
        if pattern.startswith(".*"):
            pattern = pattern[2:]
            items = _parse(pattern)
            tail.append(
                _TailRow(
                    reason,
                    re.compile(pattern),
                    _contained(items) if items is not None else (),
                    _endings(items) if items is not None else None,
                )
            )
        else:
            items = _parse(pattern)
            head.append((f"(?:{pattern})(?P<m{len(reasons)}>)", _first_chars(items)))
            reasons.append(reason)
    # Rows are written in lower case and matched against the lower-cased line: faster than
    # re.IGNORECASE, which lower-cases every character compared.
    known: set[str] = set()
    for _, first in head:
        if first is not None:
            known |= first[0]
            for category in first[1]:  # its ASCII members get their own alternation
                known.update(c for c in map(chr, range(128)) if _CATEGORY_TESTS[category](c))
    by_first = {
        char: _alternation([row for row, first in head if _may_start(first, char)])
        for char in sorted(known)
    }
    other = _alternation([row for row, first in head if first is None or first[1]])
    endings = tuple(e for row in tail if row.endings is not None for e in row.endings)
    contains = tuple(row.contains[0] for row in tail if row.endings is None and row.contains)
    always = any(row.endings is None and not row.contains for row in tail)
    prefixes = tuple(prefix for _, _, prefix in anywhere)
    return _Markers(by_first, other, reasons, tail, endings, contains, always, anywhere,
                    prefixes, max(map(len, prefixes), default=0))


def _literal_prefix(items: list[tuple[Any, Any]] | None) -> str:
    """The literal characters every match of `items` starts with ("" when unknown)."""
    prefix = []
    for op, av in items or []:
        if op is not sre.LITERAL:
            break
        prefix.append(chr(av))
    return "".join(prefix)


def _alternation(rows: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(rows) or r"(?!x)x")


# Reading a row's shape: the regex parser's tree of (opcode, argument) items. Every answer is a
# necessary condition (a row passing it may still not match); anything unexpected gives "no
# condition" (None or an empty tuple), so a row is never skipped that could have matched.


def _parse(pattern: str) -> list[tuple[Any, Any]] | None:
    try:
        parsed = sre_parse.parse(pattern)
    except (re.error, AttributeError, TypeError):  # pragma: no cover - compile() reports it
        return None
    if parsed.state.flags & ~re.UNICODE:  # (?i), (?m)...: literals or `$` mean more
        return None
    return list(parsed.data)


def _plain_group(op: Any, av: Any) -> list[tuple[Any, Any]] | None:
    """The items of a group without flags, matched exactly once."""
    if op is sre.SUBPATTERN and not av[1] and not av[2]:
        return list(av[3].data)
    return None


# The categories a row may start with that `_first_chars` understands, with the str method
# that tests the same characters (`\d` is exactly str.isdecimal, checked on every code point).
_CATEGORY_TESTS: dict[Any, Callable[[str], bool]] = {sre.CATEGORY_DIGIT: str.isdecimal}

_First = tuple[frozenset[str], frozenset[Any]]  # characters, categories


def _first_chars(items: list[tuple[Any, Any]] | None) -> _First | None:
    """The characters and categories a match of `items` can start with; None for any."""
    if items is None:
        return None
    found = _sequence_first(items)
    if found is None or found[2]:  # unknown, or the row can match empty text
        return None
    return frozenset(found[0]), frozenset(found[1])


def _sequence_first(items: list[tuple[Any, Any]]) -> tuple[set[str], set[Any], bool] | None:
    """(characters, categories, can match empty text) of a sequence of items."""
    chars: set[str] = set()
    categories: set[Any] = set()
    for op, av in items:
        found = _item_first(op, av)
        if found is None:
            return None
        chars |= found[0]
        categories |= found[1]
        if not found[2]:
            return chars, categories, False
    return chars, categories, True


def _item_first(op: Any, av: Any) -> tuple[set[str], set[Any], bool] | None:
    if op is sre.LITERAL:
        return {chr(av)}, set(), False
    if op is sre.IN:
        chars: set[str] = set()
        categories: set[Any] = set()
        for kind, value in av:
            if kind is sre.LITERAL:
                chars.add(chr(value))
            elif kind is sre.RANGE and value[1] - value[0] < 256:
                chars.update(map(chr, range(value[0], value[1] + 1)))
            elif kind is sre.CATEGORY and value in _CATEGORY_TESTS:
                categories.add(value)
            else:  # a negated set, another category (\w, \s...)
                return None
        return chars, categories, False
    if op is sre.BRANCH:
        chars, categories, empty = set(), set(), False
        for alternative in av[1]:
            found = _sequence_first(list(alternative.data))
            if found is None:
                return None
            chars |= found[0]
            categories |= found[1]
            empty = empty or found[2]
        return chars, categories, empty
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
        found = _sequence_first(list(av[2].data))
        if found is None:
            return None
        return found[0], found[1], found[2] or av[0] == 0
    if op is sre.AT:  # ^, $, \b: assertions, they match no character
        return set(), set(), True
    group = _plain_group(op, av)
    return _sequence_first(group) if group is not None else None


def _may_start(first: _First | None, char: str) -> bool:
    if first is None:
        return True
    chars, categories = first
    return char in chars or any(_CATEGORY_TESTS[c](char) for c in categories)


# A row's requirements are kept as alternatives of strings that must all be present; past
# this many alternatives a branch adds no requirement (its product would grow too large).
_MAX_NEEDS = 64


def _needs(items: list[tuple[Any, Any]]) -> list[tuple[str, ...]]:
    """What a match of `items` must contain: alternatives, each the strings (runs of literal
    characters) that one way of matching holds; [()] when nothing is known to be needed."""
    alternatives: list[tuple[str, ...]] = [()]
    run: list[str] = []

    def require(found: list[tuple[str, ...]]) -> None:
        nonlocal alternatives
        product = [(*a, *b) for a in alternatives for b in found]
        if len(product) <= _MAX_NEEDS:
            alternatives = [tuple(dict.fromkeys(x)) for x in product]

    for op, av in [*items, (None, None)]:
        if op is sre.LITERAL:
            run.append(chr(av))
            continue
        text, run = "".join(run), []
        if op is sre.BRANCH:
            # the parser moves a prefix the alternatives share out of them ("x (?:a|b)" for
            # "x a|x b"): each alternative gets it back, to need "x a" or "x b", not "x "
            prefix = [(sre.LITERAL, ord(c)) for c in text]
            found = [need for alternative in av[1]
                     for need in _needs([*prefix, *alternative.data])]
            if all(found):  # each way through the branch needs something
                require(found)
                continue
        if text and not text.isspace():
            require([(text,)])
        if op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and av[0] >= 1:
            require(_needs(list(av[2].data)))
        elif op is not None and (group := _plain_group(op, av)) is not None:
            require(_needs(group))
    return alternatives


def _contained(items: list[tuple[Any, Any]]) -> tuple[str, ...]:
    """Strings every match holds, whichever way it matches."""
    first, *others = _needs(items)
    return tuple(x for x in first if all(x in other for other in others))


def required_literals(pattern: str) -> tuple[tuple[str, ...], ...] | None:
    """Alternatives, each the strings that one way of matching `pattern` must contain; None
    when some way needs none (or the pattern cannot be read): then any text may match. A text
    that holds all the strings of no alternative cannot match the pattern."""
    items = _parse(pattern)
    if not items:
        return None
    needs = _needs(items)
    return tuple(needs) if all(needs) else None


@cache
def _required(pattern: re.Pattern[str]) -> tuple[tuple[str, ...], ...]:
    """`required_literals` of a compiled pattern, each alternative's longest (most often its
    rarest) string first; ((),) when nothing is known to be needed."""
    needs = required_literals(pattern.pattern) if not pattern.flags & ~re.UNICODE else None
    return tuple(tuple(sorted(alt, key=len, reverse=True)) for alt in needs or ((),))


def may_match(text: str, pattern: re.Pattern[str], found: dict[str, bool] | None = None) -> bool:
    """False when `text` lacks some string of each way of matching `pattern`: then the pattern
    cannot match, and `in` tests cost less than its search (most patterns need words most texts
    lack). `found` keeps which strings `text` holds, for several patterns over one text."""
    found = {} if found is None else found
    for alternative in _required(pattern):
        for literal in alternative:
            held = found.get(literal)
            if held is None:
                held = found[literal] = literal in text
            if not held:
                break
        else:
            return True
    return False


def _is_space(op: Any, av: Any) -> bool:
    """`\\s`, `\\s*`, `\\s+`...: whitespace only."""
    if op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
        body = list(av[2].data)
        return len(body) == 1 and _is_space(*body[0])
    return op is sre.IN and list(av) == [(sre.CATEGORY, sre.CATEGORY_SPACE)]


def _endings(items: list[tuple[Any, Any]]) -> tuple[str, ...] | None:
    """For a row ending in `$` (maybe after `\\s*`): the strings a matched line, trailing
    whitespace stripped, ends with."""
    if not items or items[-1] != (sre.AT, sre.AT_END):
        return None
    items = items[:-1]
    while items and _is_space(*items[-1]):
        items = items[:-1]
    return _trailing_literals(items)


def _trailing_literals(items: list[tuple[Any, Any]]) -> tuple[str, ...] | None:
    if not items:
        return None
    op, av = items[-1]
    if op is sre.LITERAL:
        run = []
        for item_op, item_av in reversed(items):
            if item_op is not sre.LITERAL:
                break
            run.append(chr(item_av))
        ending = "".join(reversed(run))
        # rstrip() would also remove an ending's own trailing space
        return (ending,) if not ending[-1].isspace() else None
    if op is sre.BRANCH:
        endings: list[str] = []
        for alternative in av[1]:
            found = _trailing_literals(list(alternative.data))
            if found is None:
                return None
            endings.extend(found)
        return tuple(endings)
    group = _plain_group(op, av)
    return _trailing_literals(group) if group is not None else None


def marker_reason(line: str, n_words: int, max_words: int) -> str | None:
    """The reason code of a marker naming `line`, else None.

    Patterns that name how a line ends apply at any length, to lines not ending in a full stop;
    the others name a whole short line or how it starts, so they apply to short lines only: a
    long story sentence that starts with "Source" or "Read more" stays. Rows starting with `^`
    name a shape no sentence has (a video widget's), so they apply at any length.
    """
    markers = _MARKERS or _load()
    # Lower-casing never makes or unmakes a final ".", "!" or "?" (checked on every code point),
    # so the line is tested as given, and a long sentence is never lower-cased.
    tail_applies = n_words >= 3 and line[-1:] not in ".!?"
    if n_words > max_words:
        # a row's test below passes only if this one does (lower-casing the longer start keeps
        # the shorter one's lower case as its own start)
        if markers.anywhere and line[: markers.anywhere_chars].lower().startswith(
            markers.anywhere_prefixes
        ):
            for reason, pattern, prefix in markers.anywhere:
                if line[: len(prefix)].lower() == prefix and pattern.match(line.lower()):
                    return reason
        if not tail_applies:
            return None
    line = line.lower()
    if n_words <= max_words:  # whole-line rows only name short lines (menus, markers)
        found = markers.head_by_first.get(line[:1], markers.head_other).match(line)
        if found is not None and found.lastgroup is not None:
            return markers.head_reasons[int(found.lastgroup[1:])]
    if tail_applies:
        # Credits and trailers ("Pool via REUTERS", "... Leave a Comment") have a few words and
        # no full stop; skipping the rest matters, as this search is the slowest step.
        start = max(0, len(line) - _TAIL_CHARS)
        window = line[start:]
        trimmed = line.rstrip()
        if not (
            markers.tail_always
            or trimmed.endswith(markers.tail_endings)
            or any(map(window.__contains__, markers.tail_contains))
        ):
            return None
        for reason, pattern, contains, endings in markers.tail:
            if endings is not None and not trimmed.endswith(endings):
                continue
            if contains and not all(map(window.__contains__, contains)):
                continue
            if pattern.search(line, start):
                return reason
    return None


_MARKERS: _Markers | None = None


def _load() -> _Markers:
    # Loaded on first use, not at import; after that, one global lookup a line.
    global _MARKERS
    _MARKERS = _compiled()
    return _MARKERS
