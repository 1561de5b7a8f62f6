"""Names in a sentence (runs of capitalised words), their keys, and sentence splitting.

No NLP model is available at run time, so a "named entity" here is a run of capitalised words
(allowing "of", "de", ... inside: "Bank of America"), minus words that are capitalised only
because they start a sentence or are calendar words. Keys fold accents, case and a leading
"the", so "Mérida Initiative" and "the Merida Initiative" are one thing.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

UPPER = "A-ZÀ-ÖØ-ÞĀ-Ž"
# A capitalised token: "Merida", "Felbab-Brown", "U.S.", "McDonald’s", "US-Mexico".
_TOKEN = rf"[{UPPER}][\w’'.&]*(?:-[\w’'.&]+)*"
_CONNECTOR = r"(?:of|de|del|la|van|von|da|du|der|al|bin|for|on)"
ENTITY_RE = re.compile(rf"(?<![\w’'-])({_TOKEN}(?:\s+(?:{_CONNECTOR}\s+)?{_TOKEN})*)")

MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}  # fmt: skip
WEEKDAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}

# Capitalised words that are not names: function words at a sentence start, pronouns, calendar.
_NOT_NAMES = {
    "a", "an", "the", "in", "on", "at", "to", "for", "of", "by", "with", "from", "as", "but",
    "and", "or", "if", "when", "while", "after", "before", "since", "until", "during", "though",
    "although", "because", "so", "yet", "meanwhile", "however", "still", "also", "then", "now",
    "this", "that", "these", "those", "it", "its", "he", "she", "they", "we", "i", "you", "our",
    "his", "her", "their", "my", "your", "there", "here", "what", "which", "who", "whom", "whose",
    "where", "why", "how", "some", "many", "most", "more", "all", "both", "each", "every",
    "no", "not", "one", "two", "three", "other", "another", "such", "last", "next", "first",
    "according", "speaking", "asked", "today", "yesterday", "tomorrow", "look", "well", "yes",
    "mr", "mrs", "ms", "dr", "read", "source", "reporting", "editing", "writing", "photo",
} | set(MONTHS) | WEEKDAYS  # fmt: skip

# Plural nouns that often open a news sentence ("Officials said ..."): not names there.
_COMMON_SUBJECTS = {
    "officials", "experts", "analysts", "regulators", "residents", "authorities", "police",
    "investigators", "critics", "protesters", "witnesses", "prosecutors", "lawmakers", "sources",
    "scientists", "researchers", "doctors", "economists", "observers", "diplomats", "voters",
    "citizens", "workers", "officers", "troops", "soldiers", "rebels", "militants", "activists",
    "supporters", "opponents", "leaders", "ministers", "members", "employees", "students",
    "parents", "people", "users", "customers", "investors", "traders", "shareholders",
    "farmers", "migrants", "refugees", "demonstrators", "rescuers", "firefighters", "medics",
}  # fmt: skip

# Words that name a role, not a person: stripped from the front of a person's name run
# ("US Secretary of State Antony Blinken" -> "Antony Blinken").
TITLE_WORDS = {
    "secretary", "state", "president", "minister", "foreign", "spokesman", "spokeswoman",
    "spokesperson", "general", "attorney", "homeland", "security", "senator", "sen", "rep",
    "representative", "governor", "gov", "mayor", "prime", "chief", "director", "ceo", "chairman",
    "chairwoman", "chair", "judge", "justice", "king", "queen", "prince", "princess", "pope",
    "mr", "mrs", "ms", "dr", "prof", "professor", "sir", "lord", "lady", "gen", "col", "capt",
    "lt", "sgt", "officer", "ambassador", "commissioner", "chancellor", "premier", "vice",
    "deputy", "acting", "former", "department", "us", "u.s.", "uk", "un", "eu", "house", "white",
    "defense", "defence", "interior", "finance", "treasury", "commerce", "trade", "health",
    "labor", "energy", "education", "affairs", "party", "leader", "senior", "analyst",
    "sheriff", "detective", "sergeant", "inspector", "coach", "writer", "author", "lawyer",
}  # fmt: skip

# Sentence ends: .!? (and closing quotes) then space and a capital or an opening quote; not
# after common abbreviations or single initials ("U.S.", "Oct.", "J.").
# The mark is matched first and the lookbehinds (each ending with "." for the mark itself) are
# tried only there: put before it, they ran at every character of the text.
_NOT_AFTER = (
    r"\b[A-Z]", r"\bMr", r"\bMrs", r"\bMs", r"\bDr", r"\bSt", r"\bJr", r"\bSr", r"\bvs",
    r"\bJan", r"\bFeb", r"\bMar", r"\bApr", r"\bAug", r"\bSept", r"\bSep", r"\bOct", r"\bNov",
    r"\bDec", r"\bNo", r"\bInc", r"\bCorp", r"\bCo", r"\bGen", r"\bGov", r"\bSen", r"\bRep",
)  # fmt: skip
_ABBREV = "".join(f"(?<!{word}.)" for word in _NOT_AFTER)
_SENTENCE_END = re.compile(rf"[.!?]{_ABBREV}[\"”’)\]]*(?=\s+[\"“‘(]?[{UPPER}0-9])")


@dataclass(slots=True, frozen=True)
class Span:
    """A piece of a text: `start`/`end` offsets into the text it was found in."""

    text: str
    start: int
    end: int


# Patterns of the functions below, compiled once (they run for every sentence and name).
_SPACES = re.compile(r"\s+")
_ARTICLE = re.compile(r"^(?:the|a|an)\s+")
_POSSESSIVE = re.compile(r"'s?$")
_POSSESSIVE_S = re.compile(r"'s$")
_WORD = re.compile(r"\S+")
_PARTICIPLE_OR_ADVERB = re.compile(r"[A-Z][a-z]+(?:ed|ing|ly)")


def sentences(text: str) -> list[Span]:
    """Split a text into sentences (offsets into `text`); paragraphs (lines) always end one."""
    return list(_sentences(text))


@functools.lru_cache(maxsize=1024)
def _sentences(text: str) -> tuple[Span, ...]:
    # Cached: the facts of one document split it three times (values, quotes, names).
    out: list[Span] = []
    for para in re.finditer(r"[^\n]+", text):
        start = para.start()
        for end_mark in _SENTENCE_END.finditer(para.group()):
            end = para.start() + end_mark.end()
            out.append(Span(text[start:end], start, end))
            start = end
            while start < para.end() and text[start].isspace():
                start += 1
        if start < para.end():
            out.append(Span(text[start : para.end()], start, para.end()))
    return tuple(s for s in out if s.text.strip())


@functools.lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Accents off, case folded, curly apostrophes straightened, spaces collapsed."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.replace("’", "'").replace("‘", "'")
    return _SPACES.sub(" ", text).strip().casefold()


def entity_key(name: str) -> str:
    """The key under which mentions of one thing are merged: "Mérida's" -> "merida"."""
    key = fold(name)
    key = _ARTICLE.sub("", key)
    key = _POSSESSIVE.sub("", key)
    return key.strip(" .,;:")


def names(sentence: str) -> list[Span]:
    """The named entities of one sentence: capitalised runs, minus non-name words at the ends."""
    return list(_names(sentence))


@functools.lru_cache(maxsize=8192)
def _names(sentence: str) -> tuple[Span, ...]:
    # Cached: a sentence's names are asked for by every fact found in it.
    found: list[Span] = []
    sentence_start = len(sentence) - len(sentence.lstrip(' “"‘('))
    for m in ENTITY_RE.finditer(sentence):
        words = list(_WORD.finditer(m.group(1)))
        # drop non-name words from the front ("The", "In", "Friday") and the back
        first, last = 0, len(words)
        while first < last and _is_not_name(words[first].group()):
            first += 1
        while first < last and (
            _is_not_name(words[last - 1].group())
            or words[last - 1].group() in {"of", "de", "for", "on", "la", "del", "al"}
        ):
            last -= 1
        if first == last:
            continue
        start = m.start(1) + words[first].start()
        end = m.start(1) + words[last - 1].end()
        text = sentence[start:end].rstrip(".’'")
        if text.endswith(("’s", "'s")):
            text = text[:-2]
        if len(text) < 2:
            continue
        # a lone word that is capitalised only because it opens the sentence: a participle
        # or adverb ("Launched in 2007, ...") or a common plural subject ("Officials said")
        opens_sentence = start == sentence_start
        if (
            opens_sentence
            and " " not in text
            and (_PARTICIPLE_OR_ADVERB.fullmatch(text) or fold(text) in _COMMON_SUBJECTS)
        ):
            continue
        found.append(Span(text, start, start + len(text)))
    return tuple(found)


def _is_not_name(word: str) -> bool:
    return fold(word).strip("“”\"'‘’.,") in _NOT_NAMES


def person_name(run: str) -> str:
    """A person's name from a name run, without titles in front ("State Antony Blinken")."""
    words = run.split()
    last_title = -1
    for i, word in enumerate(words[:-1]):
        folded = _POSSESSIVE_S.sub("", fold(word))
        if (
            folded in TITLE_WORDS
            or folded.rstrip(".") in TITLE_WORDS
            or word in {"of", "de", "for"}
        ):
            last_title = i
    return " ".join(words[last_title + 1 :])
