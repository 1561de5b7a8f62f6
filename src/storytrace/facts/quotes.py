"""Quotes and who said them.

A quote is a span between curly (“…”) or straight ("…") double quotes; one left open at the
end of a paragraph runs on into the next paragraph's quote (the news convention for a quote
over several paragraphs). The speaker comes from the reporting clause next to it:
  “…,” Blinken said / “…,” said Price / “…,” the official told reporters /
  “…,” Marcelo Ebrard, Mexico's foreign minister, said / Price said that “…”
A second quote with no clause of its own continues the previous speaker; "he"/"she" is the
latest speaker named in the document. Spinners' synonyms ("mentioned", "stated", "informed
reporters") are reporting verbs too.
"""

from __future__ import annotations

import functools
import re
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from storytrace.facts.entities import UPPER, fold, names, person_name, sentences
from storytrace.facts.settings import MAX_ATTRIBUTION_WORDS

REPORTING_VERBS = (
    "said|says|say|mentioned|stated|states|added|adds|told|tells|informed|explained|explains|"
    "noted|asks|recalls|insists|joked|jokes|shouted|testified|"
    "notes|wrote|writes|asked|insisted|argued|argues|declared|announced|continued|remarked|"
    "commented|replied|responded|warned|warns|acknowledged|claimed|claims|recalled|urged|"
    "tweeted|posted|stressed|emphasised|emphasized|observed|conceded|admitted|suggested|"
    "cautioned|concluded|pointed out|went on|according to"
)
# Before a quote, forms that are also common nouns ("the claims", "member states", "jokes")
# would misfire, so that side uses the verbs without them.
_AMBIGUOUS = {"states", "notes", "claims", "jokes", "posted", "continued", "says"}
_VERB = re.compile(
    r"\b(?:" + "|".join(v for v in REPORTING_VERBS.split("|") if v not in _AMBIGUOUS) + r"|says)\b"
)
_PRONOUNS = {"he", "she", "they", "i", "we"}
_DETERMINERS = (
    r"(?:the|a|an|this|that|another|one|two|three|some|several|many|both|its|his|her|their)"
)
_NP_BEFORE_VERB = re.compile(
    rf"(?:\b(?i:{_DETERMINERS})\s+(?:[\w’'-]+\s+){{0,5}}[\w’'-]+|\b(?i:he|she|they|we|I)|[{UPPER}][\w’'-]*(?:\s+[\w’'-]+){{0,4}})\s*$"
)
_TIME_TAIL = re.compile(
    r"(?:,?\s*\b(?:on|in|at|last|earlier|late|early|this)\s+[\w’'.-]+(?:\s+\d{1,2})?,?\s*|,\s*[^,“”\"]{0,60},\s*)$"
)


# A quote opens with “ or " and closes with ” or " (scrapers mix them); a curly one left open
# runs to the end of the paragraph.
_QUOTE = re.compile(r"[“\"]([^“”\"\n]+)[”\"]|“([^“”\"\n]*)$")
# A reporting clause's words: anything but quotes and sentence ends; "K." of an initial is fine.
_ABBREVIATION_DOT = (
    "(?:"
    + "|".join(
        rf"(?<=\b{a})"
        for a in (
            "[A-Z]",
            "Dr",
            "Mr",
            "Ms",
            "Mrs",
            "St",
            "Jr",
            "Sr",
            "Gen",
            "Lt",
            "Sen",
            "Rep",
            "Gov",
            "Col",
            "Prof",
        )
    )
    + r")\."
)
_CLAUSE = rf"(?:[^“”\".;!?]|{_ABBREVIATION_DOT})"
# Characters read on each side of a quote for its reporting clause: 2*MAX_ATTRIBUTION_WORDS
# long words and then some; the longest sentence before a quote in the dev sets is shorter.
REPORTING_WINDOW = 2000


@dataclass(slots=True, frozen=True)
class Quote:
    """A quote in a text: its words, offsets into the text, and the speaker when named."""

    text: str
    start: int
    end: int
    speaker: str | None


def find_quotes(text: str, deadline: float | None = None) -> list[Quote]:
    """Every quote in `text` (one paragraph a line) with its speaker, in text order; those of
    the paragraphs read before `time.monotonic()` passes `deadline`, when one is given."""
    quotes: list[Quote] = []
    last_speaker: str | None = None
    open_quote: Quote | None = None
    known_names = KnownNames(full_names(text))
    for para in re.finditer(r"[^\n]+", text):
        previous_in_para: str | None = None
        carried, open_quote = open_quote, None
        for m in _QUOTE.finditer(para.group()):
            if deadline is not None and time.monotonic() > deadline:
                return quotes
            words = m.group(1) if m.group(1) is not None else m.group(2)
            if not words.strip():
                continue
            start, end = para.start() + m.start(), para.start() + m.end()
            closed = m.group(0).endswith(("”", '"'))
            speaker = _speaker(text, para.start(), para.end(), start, end)
            if speaker is not None and not _plausible(speaker):
                speaker = None
            if speaker is not None and fold(speaker) in _PRONOUNS:
                speaker = last_speaker
            elif speaker is not None:
                speaker = _resolve(speaker, known_names)
            if speaker is None and carried is not None and m.start() == 0:
                speaker = carried.speaker  # a quote continued from the last paragraph
            if speaker is None:
                speaker = previous_in_para
            quote = Quote(words.strip(" ,.\u00a0"), start, end, speaker)
            quotes.append(quote)
            open_quote = None if closed else quote
            if speaker:
                last_speaker = previous_in_para = speaker
    return quotes


def _speaker(text: str, para_start: int, para_end: int, start: int, end: int) -> str | None:
    """The speaker from the reporting clause after the quote, else the one before it."""
    # Only the text near the quote is read (REPORTING_WINDOW): a reporting clause is within
    # MAX_ATTRIBUTION_WORDS words of it, and reading the whole paragraph each time made a
    # paragraph of thousands of quotes quadratic (20,000 unbalanced quotes: minutes).
    after = text[end:min(para_end, end + REPORTING_WINDOW)]
    m = re.match(
        rf"^[\s,.]*(?:{REPORTING_VERBS})\s+(?P<who>(?:[^,.;“”\"(]|{_ABBREVIATION_DOT})+)", after
    )
    if m and not m.group("who").startswith(("that ", "on ", "in ", "at ")):
        return _first_phrase(m.group("who"))
    m = re.match(rf"^[\s,.]*(?P<who>{_CLAUSE}+?)\s+(?P<verb>{REPORTING_VERBS})\b", after)
    if m and len(m.group("who").split()) <= MAX_ATTRIBUTION_WORDS:
        who = m.group("who").strip(" ,")
        if not re.match(r"(?:and|but|or|while|as|so|because|then)\b", who, re.IGNORECASE):
            # "Marcelo Ebrard, Mexico's foreign minister, said": the name before the appositive;
            # "State Department spokesman Ned Price said": the phrase next to the verb
            return _first_phrase(who) if "," in who else _last_phrase(who)
    # before: "<speaker> said (that) ... “" within the same sentence
    lead = text[max(para_start, start - REPORTING_WINDOW):start].rstrip()
    if not lead or lead.endswith((".", "!", "?", "”", '"')):
        return None  # the quote opens a sentence of its own
    lead = re.split(r"(?<=[.!?”])\s+(?=[“\"A-Z])", lead)[-1]
    verbs = list(_VERB.finditer(lead))
    if not verbs:
        return None
    verb = verbs[-1]
    if re.search(r"\bto\s+$", lead[: verb.start()]):
        return None  # "declined to say": no one says it
    if len(lead[verb.end() :].split()) > 2 * MAX_ATTRIBUTION_WORDS:
        return None
    clause = lead[: verb.start()].rstrip()
    if clause.endswith(","):
        # "Carol Glaser, a specialist at Kaiser in Oakland, Calif., said: “…”": the name
        # before the appositive
        first = _first_phrase(re.split(r"(?<=[.!?])\s+", clause)[-1])
        if first and names(first) and names(first)[0].text == first:
            return first
    subject = _TIME_TAIL.sub("", clause)
    subject = re.split(
        r"[,;:]\s+|(?:^|\s+)(?:but|and|while|as|because|when|however|although|though|whereas|yet|so)\s+",
        subject,
        flags=re.IGNORECASE,
    )[-1]
    return _last_phrase(subject)


def _plausible(speaker: str) -> bool:
    """A speaker is a short name or noun phrase, not a clause fragment ("one list that")."""
    words = speaker.split()
    if not words:
        return False
    first, last = fold(words[0]), fold(words[-1])
    # a name, a pronoun or a determined noun phrase; not "eliminating the hassle of having"
    if not (speaker[0].isupper() or re.fullmatch(_DETERMINERS + "|he|she|they|we|i", first)):
        return False
    return len(words) <= 7 and last not in {
        "but", "and", "or", "that", "which", "the", "a", "an", "of", "to", "in", "on", "for",
        "with", "is", "was", "it", "this",
    }  # fmt: skip


def _first_phrase(segment: str) -> str | None:
    """The speaker at the start of a segment: a name, else the noun phrase up to a comma."""
    segment = segment.strip(" ,")
    found = names(segment)
    if found and found[0].start == 0:
        return found[0].text
    phrase = re.split(r",|\s+(?:at|on|in|to|during|after|before|from|who|which)\s+", segment)[
        0
    ].strip()
    if fold(phrase) in {"reporters", "journalists", "cnn", "the press"}:
        return None
    return phrase or None


def _last_phrase(segment: str) -> str | None:
    """The speaker at the end of a segment (the subject just before the verb)."""
    segment = segment.strip(" ,")
    if not segment:
        return None
    found = names(segment)
    if found and found[-1].end >= len(segment) - 1:
        return found[-1].text
    m = _NP_BEFORE_VERB.search(segment)
    if m is None or len(m.group().split()) > 7:
        return None
    return m.group().strip()


def full_names(text: str) -> list[str]:
    """Person-like names of two or more words in the text, titles removed, in order."""
    return list(_full_names(text))


@functools.lru_cache(maxsize=1024)
def _full_names(text: str) -> tuple[str, ...]:
    # Cached: quotes and the story's name list both ask for each document's names.
    out = []
    for sentence in sentences(text):
        for n in names(sentence.text):
            name = person_name(n.text)
            if len(name.split()) >= 2:
                out.append(name)
    return tuple(out)


def _resolve(speaker: str, known_names: KnownNames) -> str:
    """A surname to the full name the text uses ("Price" -> "Ned Price"); titles dropped."""
    found = names(speaker)
    if len(found) != 1 or found[0].text != speaker:
        return speaker  # a noun phrase ("the Mexican official"), not a name
    name = person_name(speaker)
    return resolve_name(name, known_names)


MAX_SPEAKER_WORDS = 8


class KnownNames:
    """The full names of a text or story, indexed by every word-suffix ("Ned Price" under
    "price"), so resolving a surname is one look-up, not a pass over every name: a page of
    5,000 quotes spent 30 s comparing each speaker with every name."""

    def __init__(self, names: Iterable[str]) -> None:
        self._by_suffix: dict[str, Counter[str]] = {}
        for name in names:
            words = fold(name).split()
            # A speaker is a few words (`_plausible`); longer suffixes would never be asked for,
            # and a capitalised run of 10,000 words would cost 10,000 of them.
            for k in range(max(1, len(words) - MAX_SPEAKER_WORDS), len(words)):
                self._by_suffix.setdefault(" ".join(words[k:]), Counter())[name] += 1

    def resolve(self, name: str) -> str:
        """The most used longer name ending with `name`, else `name` itself."""
        matches = self._by_suffix.get(" ".join(fold(name).split()))
        if not matches:
            return name  # no longer name ends with it ("Lopez Obrador" alone stays as it is)
        # the most used full name ("Donald Trump" over a "Melania Trump" mentioned once); the
        # longest on a tie
        return max(matches, key=lambda n: (matches[n], len(n)))


def resolve_name(name: str, known_names: Iterable[str] | KnownNames) -> str:
    """The most used longer name in `known_names` ending with `name`, else `name` itself."""
    if not isinstance(known_names, KnownNames):
        known_names = KnownNames(known_names)
    return known_names.resolve(name)
