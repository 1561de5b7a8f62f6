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

from storytrace.model import Signals

_DAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_Q = r"[”\"’]"

# (name shown in evidence, pattern, weight). Weights: 2 = almost never in edited English news,
# 1 = rare but possible, 0.5 = a weak hint that only counts in numbers.
SPIN_MARKS: list[tuple[str, re.Pattern[str], float]] = [
    (name, re.compile(pattern), weight)
    for name, pattern, weight in [
        ('"mentioned" as a reporting verb', rf"{_Q},?\s+(?:[\w.’'-]+\s+){{0,6}}?mentioned\b|"
         rf"\b(?:he|she|they|officials?|spokesm[ae]n|spokeswoman)\s+mentioned\b|"
         rf"\bmentioned\s+(?:on\s+)?{_DAY}|\bmentioned[.,]", 2),
        ('"stated" as a reporting verb', rf"{_Q},?\s+(?:[\w.’'-]+\s+){{0,6}}?stated\b|"
         rf"\b(?:official|officials|he|she|they)\s+stated\b|\bstated\s+(?:on\s+)?{_DAY}", 1),
        ('"informed reporters" for "told reporters"', r"\binformed (?:reporters|journalists)\b", 2),
        ('"brand new" for "new"', r"\b(?:the|a) brand new\b", 1.5),
        ('"yr" for "year"', r"\byrs?\b", 2),
        ('"a whole bunch of" for "hundreds of"', r"\bwhole bunch of\b", 2),
        ('"tens of hundreds" for "tens of thousands"', r"\btens of hundreds\b", 2),
        ('"officers" for "officials"',
         r"\b(?:government|administration|senior|state|federal|US|U\.S\.|Mexican|American|"
         r"Chinese|health|election|White House|Biden|Trump|Mexico|European|EU)\s+officers\b|"
         r"\bofficers (?:stated|mentioned|wouldn|declined)", 1),
        ('"safety" for "security" in a set phrase',
         r"\b(?:[Hh]omeland|[Nn]ational|[Nn]ationwide|bilateral)\s+[Ss]afety\b|"
         r"\bsafety (?:forces|council|co-?operation|dialogue|relationship|challenges)\b", 1),
        ("a translated proper noun", r"\b[A-Z][a-z]+ Metropolis\b|\bNationwide (?:Guard|"
         r"Safety|Meeting|Meeting)\b|\bWhite Home\b|\bSupreme Courtroom\b|\bHome of "
         r"Representatives\b|\bDivision of (?:State|Justice|Homeland|Protection|Well being)\b|"
         r"\bCollege of (?:Southern )?[A-Z][a-z]+ (?:California|Carolina|Texas|Florida)\b|"
         r"\bCollege of (?:Southern California|California|Michigan|Texas|Oxford|Cambridge)\b",
         2),
        ("a broken idiom", r"\bthe tip of (?:the )?(?:yr|year|month|week|January|February|"
         r"March|April|May|June|July|August|September|October|November|December)\b|"
         r"\bstep one to\b|\bstep ahead\b|\bon the bottom\b|\bin depth (?:plan|report)\b|"
         r"\bhas turn into\b|\bhave turn into\b|\bturned synonymous\b|\bfelony justice\b|"
         r"\bfinal (?:yr|year|month|week)\b|\bmarketing campaign\b(?= to)", 1.5),
        ('"settlement" for "agreement"', r"\b(?:new|security|safety|the) settlement\b", 0.5),
        ('"additionally" for "also"', r"\badditionally\b", 0.5),
    ]
]

TRANSLATION_MARKS: list[tuple[str, re.Pattern[str], float]] = [
    (name, re.compile(pattern), weight)
    for name, pattern, weight in [
        ("a space before a full stop or comma", r"\w \.(?=\s|$)|\w ,(?=\s)", 1),
        ("doubled punctuation", rf"{_Q} \.|\. ,|, \.|(?<!\.)\.\.(?!\.)", 1.5),
        ("a space after a currency sign", r"[$€£] \d", 1.5),
        ("doubled negation", r"\b(?:do|does|did|can|will|would) not (?:cannot|can not|do not|"
         r"don’t|don't|won’t|won't|not)\b|\bnot no\b", 2),
        ("a sentence that goes on after a full stop",
         r"\b[a-z]{3,}\. (?:to|of|and|the|in|that|which|with|for)\b(?! [A-Z])", 1.5),
        ("a repeated word", r"\b(the|a|to|of|and|in) \1\b", 1),
        ("a calqued phrase", r"\b(?:in the framework of|on the occasion of|it is about|"
         r"at the level of|the same day of|in what concerns|with the objective of)\b", 0.5),
    ]
]

# Marks per 1000 words at which a score reaches 1 - 1/e (0.63). Chosen so that Multi-News
# originals score below 0.2 on average and the seeds' spun/translated copies above 0.5
# (measured by bench/dedup.py --signals; numbers in the report).
SPIN_SCALE = 4.0
TRANSLATION_SCALE = 3.0


def _score(text: str, marks, scale: float) -> tuple[float, list[str]]:
    n_words = max(1, len(text.split()))
    total = 0.0
    evidence = []
    for name, pattern, weight in marks:
        hits = pattern.findall(text)
        if hits:
            total += weight * len(hits)
            evidence.append(f"{name} ×{len(hits)}")
    rate = 1000.0 * total / max(n_words, 300)
    return round(1.0 - math.exp(-rate / scale), 3), evidence


def document_signals(text: str) -> Signals:
    """How spun / machine-translated one clean text looks, from the text alone."""
    spun, spin_evidence = _score(text, SPIN_MARKS, SPIN_SCALE)
    translated, mt_evidence = _score(text, TRANSLATION_MARKS, TRANSLATION_SCALE)
    evidence = [f"spin: {e}" for e in spin_evidence] + [f"translation: {e}" for e in mt_evidence]
    return Signals(spun=spun, translated=translated, evidence=evidence)


__all__ = ["SPIN_MARKS", "TRANSLATION_MARKS", "document_signals"]
