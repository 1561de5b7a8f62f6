"""Spin and machine-translation marks read from one document alone.

The lexicon below is general knowledge of what article spinners and round-trip machine
translation do to English news (reporting verbs swapped for "mentioned"/"stated", set phrases
with one word replaced, proper nouns translated word by word, stray spaces before
punctuation, doubled negation). It is deliberately separate from the thesaurus of the test
generator in tests/rewrites.py: neither imports the other, so scores on generated rewrites are
not circular. Scores are 1 - exp(-rate / SCALE), rate = weighted marks per 1000 words.
"""

from __future__ import annotations

import math
import re

from storytrace.clean.markers import may_match
from storytrace.model import Signals

_DAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_Q = r"[”\"’]"
_US_STATE = (r"(?:Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|"
             r"Florida|Georgia|Hawaii|Idaho|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|"
             r"Maine|Maryland|Massachusetts|Michigan|Minnesota|Mississippi|Missouri|Montana|"
             r"Nebraska|Nevada|New Hampshire|New Jersey|New Mexico|New York|North Carolina|"
             r"North Dakota|Ohio|Oklahoma|Oregon|Pennsylvania|Rhode Island|South Carolina|"
             r"South Dakota|Tennessee|Texas|Utah|Vermont|Virginia|Washington|West Virginia|"
             r"Wisconsin|Wyoming)")
# One-syllable adjectives whose comparative English forms with -er ("faster", not "more fast").
_SHORT_ADJ = (r"(?:big|bright|cheap|clean|close|cold|dark|deep|dry|early|easy|fast|fine|great|"
              r"hard|heavy|high|hot|large|late|light|long|loud|low|near|new|old|poor|quick|rich|"
              r"safe|short|slow|small|soft|strong|tall|thick|thin|warm|weak|wet|wide|young)")

# (name shown in evidence, pattern, weight). Weights: 2 = almost never in edited English news,
# 1 = rare but possible, 0.5 = a weak hint that only counts in numbers. Every pattern is written
# for a kind of change (a reporting verb, a set phrase, an institution's name), never for the
# words of one text; hits on 291 Multi-News originals (189k words) are noted where not zero.
SPIN_MARKS: list[tuple[str, re.Pattern[str], float]] = [
    (name, re.compile(pattern), weight)
    for name, pattern, weight in [
        ('"mentioned" as a reporting verb', (rf"{_Q},?\s+(?:[\w.’'-]+\s+){{0,6}}?mentioned\b|"
         rf"\b(?:he|she|they|officials?|spokesm[ae]n|spokeswoman)\s+mentioned\b|"
         rf"\bmentioned\s+(?:on\s+)?{_DAY}|\bmentioned[.,]"), 2),  # Multi-News: 1 hit
        ('"stated" as a reporting verb', (rf"{_Q},?\s+(?:[\w.’'-]+\s+){{0,6}}?stated\b|"
         rf"\b(?:official|officials|he|she|they)\s+stated\b|\bstated\s+(?:on\s+)?{_DAY}"), 1),
        ('"informed reporters" for "told reporters"', r"\binformed (?:reporters|journalists)\b", 2),
        ('"brand new" for "new"', r"\b(?:the|a) brand new\b", 1.5),
        ('"yr" for "year"', r"\byrs?\b", 2),
        ('"a whole bunch of" for "hundreds of"', r"\bwhole bunch of\b", 2),
        ('"tens of hundreds" for "tens of thousands"', r"\btens of hundreds\b", 2),
        # A government's people called "officers": a nationality or an office before it, or
        # "officers" with a spun reporting verb (police and army officers are not marked).
        ('"officers" for "officials"',
         (r"\b(?:US|U\.S\.|UN|EU|[A-Z][a-z]+(?:an|ese|ish|i))\s+officers\b|"
         r"\b(?:government|administration|White House|election|health|embassy|ministry|"
         r"State Department|state department)\s+officers\b|"
         r"\bofficers (?:stated|mentioned|wouldn|declined)"), 1),
        ('"safety" for "security" in a set phrase',
         (r"\b(?:[Hh]omeland|[Nn]ationwide|bilateral)\s+[Ss]afety\b|"
         r"\bsafety (?:forces|co-?operation|dialogue|relationship|challenges|pact|agreement|"
         r"apparatus|partnership|establishment)\b"), 1),
        # Spinners swap words inside the fixed names of institutions.
        ("a translated proper noun", (r"\b[A-Z][a-z]+ Metropolis\b|\bNationwide (?:Guard|"
         r"Safety|Meeting)\b|\bWhite Home\b|\bSupreme Courtroom\b|\bHome of "
         r"Representatives\b|\bDivision of (?:State|Justice|Homeland|Protection|Well being)\b"),
         2),
        ('"College" for "University" in a state university\'s name',
         rf"\bCollege of (?:(?:Southern|Northern|Eastern|Western|Central) )?{_US_STATE}\b", 1),
        ("a broken idiom", (r"\bthe tip of (?:the )?(?:yr|year|month|week|January|February|"
         r"March|April|May|June|July|August|September|October|November|December)\b|"
         r"\bstep one to\b|\bstep ahead\b(?! of)|\b[Oo]n the bottom\b(?! of)|"
         r"\bin depth (?:plan|report)\b|\b(?:has|have) turn into\b|\bturned synonymous\b|"
         r"\bfelony justice\b|\bfinal (?:yr|year|month|week)\b|\bmarketing campaign\b(?= to)"),
         1.5),
        ('"settlement" for "agreement"', r"\b(?:new|security|safety|the) settlement\b", 0.5),
        ('"additionally" for "also"', r"\badditionally\b", 0.5),
    ]
]

# Round-trip machine translation through a Romance or Germanic language leaves that
# language's grammar in the English: its word order, tenses, prepositions and compounds.
TRANSLATION_MARKS: list[tuple[str, re.Pattern[str], float]] = [
    (name, re.compile(pattern), weight)
    for name, pattern, weight in [
        # Scraped originals have these too (a removed link leaves "Forbes ."): 30 hits in 20
        # Multi-News originals, so only a weak hint.
        ("a space before a full stop or comma", r"\w \.(?=\s|$)|\w ,(?=\s)", 0.5),
        ("doubled punctuation", rf"{_Q} \.|\. ,|, \.|(?<!\.)\.\.(?!\.)", 1.5),  # 3 hits
        ("a space after a currency sign", r"[$€£] \d", 1.5),
        ("doubled negation", (r"\b(?:do|does|did|can|will|would) not (?:cannot|can not|do not|"
         r"don’t|don't|won’t|won't|not)\b|\bnot no\b"), 2),
        ("a sentence that goes on after a full stop",
         r"\b[a-z]{3,}\. (?:to|of|and|the|in|that|which|with|for)\b(?! [A-Z])", 1.5),
        ("a repeated word", r"\b(?:the the|a a|to to|of of|and and|in in)\b", 1),  # 2 hits
        ("a calqued phrase", (r"\b(?:in the framework of|on the occasion of|it is about|"
         r"at the level of|the same day of|in what concerns|with the objective of)\b"), 0.5),
        # Grammar carried over from the other language (0 hits in Multi-News unless noted).
        ('"since" with a duration (French "depuis", Spanish "desde hace")',
         (r"\bsince (?:years|months|weeks|days|decades|(?:a|one|\d+|two|three|four|five|six|"
         r"seven|eight|nine|ten|many|several|some|long) (?:years?|months?|weeks?|days?|"
         r"decades?|hours?))\b(?! ago)"), 1.5),
        ('"more"/"most" with a short adjective ("more fast")',
         (rf"\b(?:more|most) {_SHORT_ADJ}\b(?!-)(?= than\b|[.,;:]|$| (?:registered|recorded|"
         rf"seen|observed|measured)\b)"), 1.5),
        ("a present perfect with a past time", (rf"\b(?:has|have) (?:been )?(?!been\b)[a-z]+"
         rf"(?:ed|en) (?:[a-z]+ly )?(?:(?:(?:late|early) )?on {_DAY}|yesterday|last (?:night|"
         rf"week|month|year)|\d+ (?:days|weeks|months|years) ago)\b"), 1.5),
        ('"for" with a gerund after "too"/"enough" ("too early for estimating")',
         r"\b(?:too|enough) \w+ for [a-z]+ing\b", 1),
        ('an inverted "said" with an "X of the Y" subject ("said the officials of the town")',
         r"[,”\"]\s*said the (?:[a-z]+ )?[a-z]+s of (?:the )?[a-z]+\b", 1),
        ('a title with an article and no comma before a name ("the mayor Jane Doe")',
         (r"\b[Tt]he (?:[a-z]+ )?(?:mayor|president|minister|spokes(?:man|woman|person)|chief|"
         r"director|governor|secretary|senator|judge|prosecutor|ambassador|commissioner|"
         r"chairman|chairwoman|head|leader|premier)(?: of (?:the )?(?!the\b)[a-z]+)? "
         r"[A-Z][a-z]+ [A-Z][a-z]+"), 0.5),
        ('an institution "of" a name "of" a place ("the Chamber of Commerce of X")',
         (r"\b(?:Service|Authority|Chamber|Department|Ministry|Office|Council|Agency|Bureau|"
         r"Institute|Commission|Directorate) of (?:the )?[A-Z][a-z]+(?: (?:and )?[A-Z][a-z]+)*"
         r" of (?:the )?[A-Z]"), 0.5),  # 1 hit
        ('"of" with a bare noun where English makes a compound ("teams of rescue")',
         (r"\b[a-z]+s of (?:emergency|rescue|cleaning|reserve|maintenance|repair|construction|"
         r"transport)\b"), 0.5),
        ("a plural of an uncountable noun", (r"\b(?:informations|advices|evidences|equipments|"
         r"furnitures|luggages|feedbacks|knowledges|homeworks)\b"), 1.5),
        ('impersonal "one" as a subject ("One told us")',
         (r"\bOne (?:told|tells|informed|assured|promised|asked|warned) (?:us|me|them|him|"
         r"her)\b"), 1.5),
        ("a reflexive verb calque (\"opened itself\")",
         (r"\b(?:opened|closed|produced|installed|deployed|developed|formed|moved|raised|"
         r"realized|realised|finished|ended|started|revealed|declared|happened|passed|broke|"
         r"approached|retired|stopped) itself\b"), 1),
        ('a day with "in the morning" ("Monday in the morning")',
         rf"\b(?:{_DAY}|yesterday|today|tomorrow) in the (?:morning|afternoon|evening|night)\b",
         1),
        ('"said X to the journalists" for "told reporters"',
         r"\bsaid (?:[A-Z][a-z]+ ){1,2}to (?:the )?(?:journalists|reporters|press|media)\b", 1),
        ('"persons" after a number', r"\b\d[\d,]* persons\b", 0.5),
    ]
]

# Marks per 1000 words at which a score reaches 1 - 1/e (0.63). Chosen so that Multi-News
# originals score below 0.2 on average and the seeds' spun/translated copies above 0.5
# (measured by bench/dedup.py --signals; numbers in the report).
SPIN_SCALE = 4.0
TRANSLATION_SCALE = 3.0


# Weak hints alone (weight under 1: a space before a full stop, a calqued phrase) are a house
# style or a scraping artefact as often as a machine's: without one stronger mark they keep the
# score below the 0.5 that reads as "spun" or "translated" however often they repeat (a
# Nigerian outlet that sets a space before every full stop scored 0.996 "translated" on that).
WEAK_ONLY_CAP = 0.45


def _score(text: str, marks, scale: float, found: dict[str, bool]) -> tuple[float, list[str]]:
    n_words = max(1, len(text.split()))
    total = 0.0
    strong = False
    evidence = []
    for name, pattern, weight in marks:
        if not may_match(text, pattern, found):
            continue
        hits = pattern.findall(text)
        if hits:
            total += weight * len(hits)
            strong = strong or weight >= 1
            evidence.append(f"{name} ×{len(hits)}")
    rate = 1000.0 * total / max(n_words, 300)
    score = 1.0 - math.exp(-rate / scale)
    return round(score if strong else min(score, WEAK_ONLY_CAP), 3), evidence


def document_signals(text: str) -> Signals:
    """How spun / machine-translated one clean text looks, from the text alone."""
    found: dict[str, bool] = {}
    spun, spin_evidence = _score(text, SPIN_MARKS, SPIN_SCALE, found)
    translated, mt_evidence = _score(text, TRANSLATION_MARKS, TRANSLATION_SCALE, found)
    evidence = [f"spin: {e}" for e in spin_evidence] + [f"translation: {e}" for e in mt_evidence]
    return Signals(spun=spun, translated=translated, evidence=evidence)


__all__ = ["SPIN_MARKS", "TRANSLATION_MARKS", "document_signals"]
