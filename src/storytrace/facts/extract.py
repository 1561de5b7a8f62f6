"""Facts as one document states them: `extract_facts(text) -> list[FactMention]`."""

from __future__ import annotations

import bisect
import datetime
import re
import time
from dataclasses import dataclass

from storytrace.facts.about import attach, candidates, subject_phrase
from storytrace.facts.entities import fold, names, sentences
from storytrace.facts.quotes import find_quotes
from storytrace.facts.settings import MIN_QUOTE_WORDS
from storytrace.facts.values import Reference, find_numbers


@dataclass(slots=True)
class FactMention:
    """One fact as stated in one document.

    kind: "money", "quantity", "percent", "date", "year", "duration", "quote".
    `value` is normalised ("USD 3300000000", "P13Y", "2021-10-08", a quote's folded words);
    `text` the surface span; `sentence` the sentence it is in; `about` the name it is tied to;
    `speaker` who said a quote; `position` the offset of `text` in the document; `role` what
    the number says of `about` ("amount", "start", "age", "deadline", ...), which decides what
    it may be compared with.
    """

    kind: str
    value: str
    text: str
    sentence: str
    about: str | None = None
    speaker: str | None = None
    position: int = 0
    role: str = ""


_DOTS_AND_APOSTROPHES = re.compile(r"[.']")
_PUNCTUATION = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")


def quote_value(words: str) -> str:
    """A quote's words with case, accents, punctuation and spacing folded away, so the same
    quote in two documents compares equal."""
    folded = _DOTS_AND_APOSTROPHES.sub("", fold(words))  # "U.S." = "US", "don't" = "dont"
    return _SPACES.sub(" ", _PUNCTUATION.sub(" ", folded)).strip()


def parse_reference(iso: str | None) -> Reference | None:
    """A document date ("2021-10-08", "2021-10-08T02:15:00Z", "2021") as a reference for
    dates without a year; None when it is not ISO."""
    if not iso:
        return None
    try:
        return datetime.date.fromisoformat(iso[:10])
    except ValueError:
        return int(iso[:4]) if iso[:4].isdigit() else None


def extract_facts(text: str, reference_date: str | None = None) -> list[FactMention]:
    """Money, quantities, percentages, dates, years, durations and quotes in `text`.

    `reference_date` (ISO, the document's date) fills the year of dates that give none
    ("December 1" in a report of October 2021 is 2021-12-01, "January 30" 2022-01-30). Facts
    come in text order.
    """
    return extract_within(text, reference_date)[0]


def extract_within(
    text: str, reference_date: str | None = None, seconds: float | None = None
) -> tuple[list[FactMention], int | None]:
    """`extract_facts` with a time budget: the facts found within `seconds`, and the offset in
    `text` where the search stopped (None when it read the whole text)."""
    deadline = None if seconds is None else time.monotonic() + seconds
    reference = parse_reference(reference_date)
    mentions: list[FactMention] = []
    earlier_names: list[str] = []
    sentence_spans = sentences(text)
    stopped_at: int | None = None
    for sentence in sentence_spans:
        if deadline is not None and time.monotonic() > deadline:
            stopped_at = sentence.start
            break
        numbers = find_numbers(sentence.text, reference)
        found_candidates = candidates(sentence.text, earlier_names) if numbers else []
        for number in numbers:
            target = (number.kind == "date" and subject_phrase(sentence.text, number.start)) or (
                attach(sentence.text, number.start, number.end, found_candidates)
            )
            mentions.append(
                FactMention(
                    kind=number.kind,
                    value=number.value,
                    text=number.text,
                    sentence=sentence.text,
                    about=target.text if target else None,
                    position=sentence.start + number.start,
                    role=number.role,
                )
            )
        earlier_names += [n.text for n in names(sentence.text)]
    sentence_starts = [s.start for s in sentence_spans]
    for quote in find_quotes(text, deadline=deadline):
        if stopped_at is not None and quote.start >= stopped_at:
            break
        value = quote_value(quote.text)
        if len(value.split()) < MIN_QUOTE_WORDS:
            continue
        at = bisect.bisect_right(sentence_starts, quote.start) - 1
        inside = at >= 0 and quote.start < sentence_spans[at].end
        mentions.append(
            FactMention(
                kind="quote",
                value=value,
                text=quote.text,
                sentence=sentence_spans[at].text if inside else quote.text,
                speaker=quote.speaker,
                position=quote.start,
                role="quote",
            )
        )
    if stopped_at is None and deadline is not None and time.monotonic() > deadline:
        stopped_at = mentions[-1].position if mentions else 0
    return sorted(mentions, key=lambda m: m.position), stopped_at
