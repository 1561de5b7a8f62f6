"""Numbers in news text and their normalised values: money, quantities, percentages,
durations, dates and years.

Each finder returns `Found` items (the surface span, the normalised value and a `role` saying
what kind of statement the number makes, e.g. a year that starts something). Values are
written so that equal facts compare equal as strings: "USD 3300000000", "25%", "P13Y",
"2021-10-08", "--12-01" (a day without a year), "2007".
"""

from __future__ import annotations

import bisect
import datetime
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from storytrace.facts.entities import MONTHS
from storytrace.facts.settings import APPROX_TOLERANCE

# What a date without a year is read against: the document's date, or only its year.
Reference = datetime.date | int

WORD_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90, "hundred": 100,
}  # fmt: skip
MULTIPLIERS = {
    "thousand": 10**3, "k": 10**3, "million": 10**6, "mn": 10**6, "mln": 10**6, "m": 10**6,
    "billion": 10**9, "bn": 10**9, "bln": 10**9, "b": 10**9, "trillion": 10**12, "tn": 10**12,
    "trn": 10**12,
}  # fmt: skip
CURRENCY_SYMBOLS = {
    "us$": "USD", "$": "USD", "c$": "CAD", "a$": "AUD", "hk$": "HKD", "nz$": "NZD", "€": "EUR",
    "£": "GBP", "¥": "JPY", "₹": "INR", "₩": "KRW", "₽": "RUB", "r$": "BRL",
}  # fmt: skip
CURRENCY_CODES = {"USD", "EUR", "GBP", "JPY", "CNY", "INR", "CAD", "AUD", "CHF", "HKD", "MXN",
                  "BRL", "RUB", "KRW", "SEK", "NOK", "DKK", "NZD", "ZAR", "TRY", "SGD"}  # fmt: skip
CURRENCY_WORDS = {
    "dollars": "USD", "dollar": "USD", "euros": "EUR", "euro": "EUR", "pounds": "GBP",
    "pound": "GBP", "yen": "JPY", "yuan": "CNY", "renminbi": "CNY", "rupees": "INR",
    "rupee": "INR", "pesos": "MXN", "francs": "CHF", "roubles": "RUB", "rubles": "RUB",
}  # fmt: skip
DURATION_UNITS = {
    "year": "Y", "yr": "Y", "month": "M", "week": "W", "day": "D", "decade": "Y", "century": "Y",
    "hour": "H", "minute": "MIN",
}  # fmt: skip

# "about", "nearly", "some": hedges kept in the surface text, not in the value
HEDGE = r"(?:(?i:about|around|roughly|nearly|almost|some|approximately|over|more\s+than|less\s+than|fewer\s+than|at\s+least|up\s+to|an\s+estimated)\s+)"
NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_MULT = r"(?:thousand|million|billion|trillion|mln|bln|mn|bn|trn|tn|[kmb])"
_WORD_NUMBER = "|".join(sorted(WORD_NUMBERS, key=len, reverse=True))


@dataclass(slots=True, frozen=True)
class Found:
    """One number found in a text: `kind`, normalised `value`, `role`, span `start`..`end`."""

    kind: str
    value: str
    text: str
    start: int
    end: int
    role: str = ""


def parse_number(text: str) -> Decimal | None:
    """ "3,300" -> 3300, "3.3" -> 3.3, "three" -> 3; None when it is not a number."""
    text = text.strip().lower()
    if text in WORD_NUMBERS:
        return Decimal(WORD_NUMBERS[text])
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None


def format_amount(amount: Decimal) -> str:
    """An amount as plain digits: 3300000000, 12.5 (no exponent, no trailing zeros)."""
    if amount == amount.to_integral_value():
        return str(int(amount))
    return format(amount.normalize(), "f")


def money_value(currency: str, amount: Decimal) -> str:
    return f"{currency} {format_amount(amount)}"


_MONEY_PREFIX = re.compile(
    rf"(?<![\w$])(?P<hedge>{HEDGE})?"
    rf"(?P<cur>US\$|HK\$|NZ\$|C\$|A\$|R\$|[$€£¥₹₩₽]|(?:{'|'.join(sorted(CURRENCY_CODES))})\b)"
    rf"\s?(?P<num>{NUMBER})(?:\s?(?P<mult>{_MULT})\b)?",
    re.IGNORECASE,
)
_MONEY_SUFFIX = re.compile(
    rf"(?<![\w$])(?P<hedge>{HEDGE})?(?P<num>{NUMBER})(?:\s?(?P<mult>{_MULT}))?\s+"
    rf"(?:(?:US|U\.S\.|Canadian|Australian|Mexican)\s+)?"
    rf"(?P<word>{'|'.join(sorted(CURRENCY_WORDS, key=len, reverse=True))})\b",
    re.IGNORECASE,
)


def find_money(text: str) -> list[Found]:
    """ "$3.3 billion", "$ 3 billion", "3.3 billion dollars", "€20m", "USD 5,000"."""
    out: list[Found] = []

    def add(m: re.Match[str], code: str) -> None:
        amount = _scaled(m.group("num"), m.group("mult"))
        if amount is not None:
            role = _money_role(text, m.end())
            out.append(Found("money", money_value(code, amount), m.group(), m.start(), m.end(), role))

    for m in _MONEY_PREFIX.finditer(text):
        cur = m.group("cur")
        add(m, CURRENCY_SYMBOLS.get(cur.lower(), cur.upper()))
    for m in _MONEY_SUFFIX.finditer(text):
        if not any(f.start <= m.start() < f.end for f in out):
            add(m, CURRENCY_WORDS[m.group("word").lower()])
    return out


# Words after an amount that do not name what the amount is ("$3 billion for", "$5m a year").
_NOT_MONEY_NOUNS = {
    "to", "for", "in", "on", "from", "of", "by", "at", "into", "over", "under", "with", "and",
    "or", "but", "that", "which", "who", "was", "were", "is", "are", "has", "had", "have", "will",
    "would", "could", "should", "may", "might", "last", "this", "next", "per", "each", "a", "an",
    "the", "annually", "apiece", "since", "as", "than", "more", "less", "worth", "so", "while",
}  # fmt: skip


def _money_role(text: str, end: int) -> str:
    """ "amount", or "amount:<noun>" when a noun says what the amount is ("$5.2 billion loss",
    "$9.8bn charge"): a loss and a charge are different amounts, not a conflict."""
    m = re.match(r"^\s+([a-z]+)\b", text[end:])
    if m and m.group(1) not in _NOT_MONEY_NOUNS and not m.group(1).endswith("ly"):
        return f"amount:{m.group(1)}"
    return "amount"


_APPROX = re.compile(
    r"^(?:about|around|roughly|nearly|almost|some|approximately|an\s+estimated)\b", re.IGNORECASE
)
_LOWER = re.compile(r"^(?:over|more\s+than|at\s+least)\b", re.IGNORECASE)
_UPPER = re.compile(r"^(?:less\s+than|fewer\s+than|up\s+to|under)\b", re.IGNORECASE)


def hedge_of(text: str) -> str:
    """How a surface number commits to its value: "approx", "at-least", "at-most" or "exact"."""
    if _APPROX.match(text):
        return "approx"
    if _LOWER.match(text):
        return "at-least"
    if _UPPER.match(text):
        return "at-most"
    return "exact"


def agrees(hedged: Decimal, hedge: str, other: Decimal) -> bool:
    """Whether `other` is consistent with a hedged number: "about $973,000" with $972,814
    (it rounds to the hedged number's last significant digit and is within APPROX_TOLERANCE),
    "more than $2 billion" with $2.5 billion. Exact numbers agree only with themselves."""
    if hedge == "at-least":
        return other >= hedged
    if hedge == "at-most":
        return other <= hedged
    if hedge == "approx" and hedged > 0:
        digits = str(int(hedged)) if hedged == hedged.to_integral_value() else None
        if digits is None:
            return other == hedged
        unit = Decimal(10) ** (len(digits) - len(digits.rstrip("0")))
        rounds_to = (other / unit).to_integral_value() * unit == hedged
        return rounds_to and abs(other - hedged) <= Decimal(str(APPROX_TOLERANCE)) * hedged
    return other == hedged


def _scaled(number: str, multiplier: str | None) -> Decimal | None:
    amount = parse_number(number)
    if amount is None:
        return None
    if multiplier:
        amount *= MULTIPLIERS[multiplier.lower()]
    return amount


_PERCENT = re.compile(
    rf"(?<![\w.])(?P<hedge>{HEDGE})?(?P<num>{NUMBER})\s?(?:%|per\s?cent\b|percent\b|pct\b)",
    re.IGNORECASE,
)


def find_percents(text: str) -> list[Found]:
    """ "25%", "25 percent", "2.5 per cent" -> "25%", "2.5%"."""
    out = []
    for m in _PERCENT.finditer(text):
        amount = parse_number(m.group("num"))
        if amount is not None:
            out.append(
                Found(
                    "percent", f"{format_amount(amount)}%", m.group(), m.start(), m.end(), "share"
                )
            )
    return out


_DURATION = re.compile(
    rf"(?<![\w$.,-])(?P<hedge>{HEDGE})?(?P<num>{NUMBER}|{_WORD_NUMBER})"
    rf"(?:(?P<hyphen>-)|\s+)(?P<unit>year|yr|month|week|day|decade|centur(?:y|ie)|hour|minute)"
    rf"(?P<plural>s)?(?P<old>-old)?\b",
    re.IGNORECASE,
)
# What makes a duration the age of something ("13 years of Mérida", "13-year-old initiative",
# "for 13 years now", "15 years that Merida has been in place") rather than a term ("a
# three-year plan") or a time reference ("two years ago").
_AGE_AFTER = re.compile(
    r"^\s*(?:now\b|of\b|old\b|that\s+\S+(?:\s+\S+)?\s+(?:has|have)\s+been\b|since\b)", re.IGNORECASE
)


def find_durations(text: str) -> list[Found]:
    """ "13 years", "some 15 years", "13-year-old" -> "P13Y"; "three months" -> "P3M"."""
    out = []
    for m in _DURATION.finditer(text):
        count = parse_number(m.group("num"))
        if count is None:
            continue
        unit = m.group("unit").lower().rstrip("s")
        unit = "century" if unit.startswith("centur") else unit
        if unit == "decade":
            count *= 10
        elif unit == "century":
            count *= 100
        code = DURATION_UNITS[unit]
        value = (
            f"PT{format_amount(count)}{code[0]}"
            if code in {"H", "MIN"}
            else f"P{format_amount(count)}{code}"
        )
        if code == "MIN":
            value = f"PT{format_amount(count)}M"
        after = text[m.end() : m.end() + 40]
        if m.group("old"):
            role = "age"
        elif re.match(r"^\s*(?:ago|earlier|later|before|after|from now)\b", after, re.IGNORECASE):
            role = "relative"
        elif m.group("hyphen"):
            role = "term"  # "a three-year framework"
        elif _AGE_AFTER.match(after):
            role = "age"
        else:
            role = "duration"
        out.append(Found("duration", value, m.group(), m.start(), m.end(), role))
    return out


# Counted things: a number then a plural noun ("300,000 people", "2,000 miles").
# A participle between the number and the noun says what happened to them ("340 flooded
# homes"). Numbers in words are left out: news writes one to nine in words, and those small
# counts are mostly parts of a story's toll ("Two people died on the scene" of three killed;
# "three Gazans were killed" at another school), which made 3 false conflicts on the dev sets.
_QUANTITY = re.compile(
    rf"(?<![\w$€£.,-])(?P<hedge>{HEDGE})?(?P<num>{NUMBER})"
    r"(?:\s(?P<mult>thousand|million|billion))?"
    r"\s+(?:(?:more|other|new|additional|Haitian|[a-z]+-[a-z]+|(?P<state>[a-z]{3,}ed))\s+)?"
    r"(?P<unit>[a-z]{3,}s|[A-Z][a-z]{2,}(?:ans|ese|is|ers)|people)\b",
)
_NOT_UNITS = {"years", "months", "weeks", "days", "decades", "hours", "minutes", "centuries",
              "dollars", "euros", "pounds", "rupees", "pesos", "francs", "percent", "yrs", "was",
              "has", "is", "this", "its", "times", "as"}  # fmt: skip
# Counted nouns that name one kind of thing, whatever word a source (or its spinner or
# translator) chose: the first noun of each group is the one values are written with.
_UNIT_SYNONYMS = [
    ("people", "persons", "individuals"),
    ("residents", "inhabitants"),
    ("homes", "houses", "dwellings", "residences"),
    ("buildings", "structures"),
    ("children", "kids"),
    ("workers", "employees"),
    ("soldiers", "troops"),
    ("firefighters", "firemen"),
    ("vehicles", "cars"),
    ("students", "pupils"),
]
UNIT_OF = {noun: group[0] for group in _UNIT_SYNONYMS for noun in group}
_PEOPLE = {"people", "others", "residents", "civilians", "migrants", "children", "adults",
           "soldiers", "workers", "victims", "refugees", "patients", "deaths"}  # fmt: skip

# What happened to the counted things: a predicate right after the count ("600 Palestinians
# have been killed", "340 homes flooded") or a verb governing it ("flooding 340 homes",
# "killed 8 people"). Predicates are compared by stem, with the synonyms news uses for one
# outcome folded together, so "inundating 340 houses" and "flooding 410 homes" are one slot.
_AUXILIARIES = (
    r"(?:have|had|has|were|was|are|is|been|being|be|reported|feared|believed|now|still|already|"
    r"also|all|left|later|reportedly)"
)
_STATE_AFTER = re.compile(
    rf"^\s*(?:{_AUXILIARIES}\s+){{0,3}}(?P<verb>[a-z]+ed|dead|died|hurt|missing|lacking|"
    r"lost|burnt|struck|hit|shot|taken|stolen|broken)\b"
)
_VERB_BEFORE = re.compile(
    r"\b(?P<verb>[a-z]{3,}(?:ing|ed|(?<![su])s)|hit|left|shot|lost|struck|cut)\s+$"
)  # "floods 410 homes", not "across 24 states" or "famous 5"
# Words before a count that look like verbs but say how it was counted or what it is part of,
# not what happened: "including 14 residents", "reported 20 deaths", "has 300 members".
_NOT_PREDICATES = {
    "includ", "exclud", "involv", "regard", "concern", "follow", "accord", "total", "number",
    "featur", "contain", "count", "estimat", "report", "record", "list", "confirm", "expect",
    "nam", "add", "rang", "amount", "compar", "bas", "locat", "aged", "ag", "rank", "need",
    "want", "say", "said", "tell", "told", "is", "was", "has", "ha", "does", "do", "us",
    "thi", "wa", "it", "it's", "hi", "a", "plus", "les", "tim", "lik", "unlik", "besid",
}  # fmt: skip
# Stems of one outcome, folded to the word shown ("killed").
_PREDICATE_NAMES = {
    "kill": "killed", "dead": "killed", "died": "killed", "dies": "killed", "dying": "killed",
    "murder": "killed", "slain": "killed",
    "injur": "injured", "wound": "injured", "hurt": "injured",
    "missing": "missing", "lacking": "missing",
    "flood": "flooded", "inundat": "flooded", "submerg": "flooded", "swamp": "flooded",
    "arrest": "arrested", "detain": "arrested",
    "evacuat": "evacuated", "displac": "displaced",
    "rescu": "rescued", "sav": "rescued",
    "destroy": "destroyed", "raz": "destroyed", "damag": "damaged",
    "hospitaliz": "hospitalized", "hospitalis": "hospitalized",
    "infect": "infected", "sicken": "infected",
}  # fmt: skip
# What an event (the story) does to people and things: a count of them is a toll of the story's
# event wherever the sentence names it. Other counts ("20 points scored") belong to a name.
EVENT_OUTCOMES = set(_PREDICATE_NAMES.values())


def verb_stem(word: str) -> str:
    """A crude stem that makes a verb's forms meet: flooding, floods, flooded -> "flood";
    inundate, inundating -> "inundat"; carried, carrying -> "carry"."""
    word = word.lower()
    if word.endswith("ied") or (word.endswith("ies") and len(word) > 4):
        return word[:-3] + "y"
    for suffix in ("ing", "ed", "es", "s", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
        word = word[:-1]  # stopped -> stop
    return word


def predicate_name(word: str) -> str | None:
    """The outcome a verb form names, as shown ("inundating" -> "flooded"); None for words
    that say how a number was counted ("including", "reported")."""
    lowered = word.lower()
    if lowered in _PREDICATE_NAMES:
        return _PREDICATE_NAMES[lowered]
    stem = verb_stem(lowered)
    if stem in _NOT_PREDICATES or lowered in _NOT_PREDICATES:
        return None
    if stem in _PREDICATE_NAMES:
        return _PREDICATE_NAMES[stem]
    if re.search(r"[^aeiou]y$", stem):
        return stem[:-1] + "ied"
    return stem + "ed"


def _predicate(
    text: str, start: int, end: int, modifier: str | None = None
) -> tuple[str | None, int]:
    """What happened to the things counted at text[start:end], from the words around it (a
    predicate after the count, a participle inside it, a verb before it), and where the words
    about the count end."""
    after = _STATE_AFTER.match(text[end:])
    if after:
        name = predicate_name(after.group("verb"))
        if name:
            return name, end + after.end()
    if modifier and predicate_name(modifier):
        return predicate_name(modifier), end
    before = _VERB_BEFORE.search(text[max(0, start - 30) : start])
    if before and not re.search(
        r"\b(?:the|a|an|its|their|his|her)\s+\S+\s+$", text[max(0, start - 40) : start]
    ):
        return predicate_name(before.group("verb")), end
    return None, end


# The place a toll is counted in: "168,000 people in Indonesia's Aceh province" is a part of
# "230,000 people" across a dozen countries, not a different count of one thing.
# A list of places ("dead in Indonesia, Sri Lanka, India and other countries") is the whole.
_PLACE_AFTER = re.compile(
    r"^\s+in\s+(?:the\s+)?(?P<place>[A-Z][\w-]+)\b"
    r"(?!(?:\s+[A-Z][\w-]+)*(?:,\s+[A-Z][\w-]+(?:\s+[A-Z][\w-]+)*)+\s*(?:,|and\b))"
    r"(?!(?:\s+[A-Z][\w-]+)*\s+and\s+[A-Z])"
)


def find_quantities(text: str, taken: list[Found]) -> list[Found]:
    """ "300,000 people", "nearly 100,000 individuals" -> value "300000 people" (the counted
    noun folded to its synonym group's first word); skips spans in `taken` (money, durations,
    percents, years already found). Role "<noun> <outcome>" ("homes flooded") when the
    sentence says what happened to what was counted, "people" for other counts of people."""
    out = []
    inside = _covered(taken)
    for m in _QUANTITY.finditer(text):
        surface = m.group("unit").lower()
        if surface in _NOT_UNITS or inside(m.start("num")):
            continue
        if re.search(
            r"\b[A-Z][\w-]*\s+$", text[max(0, m.start() - 20) : m.start()]
        ) and not m.group("hedge"):
            continue  # "Series 7 arrives", "Group 20 members": a number inside a name
        count = _scaled(m.group("num"), m.group("mult"))
        if count is None:
            continue
        if re.fullmatch(r"(?:1[89]|20)\d\d", m.group("num")) and not m.group("hedge"):
            continue  # "2008 pact"-like years are not counts
        unit = UNIT_OF.get(surface, surface)
        # "600 Palestinians", "14 residents": people, whoever they are, for what happened
        counted = "people" if unit in _PEOPLE or m.group("unit")[:1].isupper() else unit
        outcome, said_end = _predicate(text, m.start(), m.end(), m.group("state"))
        if outcome:
            role = f"{counted} {outcome}"
            place = _PLACE_AFTER.match(text[said_end:])
            if place:
                role += " in " + re.sub(r"[’']s$", "", place.group("place"))
        elif counted == "people":
            role = "people"
        else:
            role = ""
        out.append(
            Found("quantity", f"{format_amount(count)} {unit}", m.group(), m.start(), m.end(), role)
        )
    return out


# ---------------------------------------------------------------- dates and years

_MONTH_NAMES = "|".join(sorted((m for m in MONTHS), key=len, reverse=True))
_DATE = re.compile(
    rf"(?<![\w])(?P<qual>(?:the\s+)?(?:end|start|beginning|middle|tip|close)\s+of\s+|(?:early|mid|late)[-\s])?"
    rf"(?P<month>{_MONTH_NAMES})\.?"
    rf"(?:\s+(?P<day>[0-3]?\d)(?:st|nd|rd|th)?\b(?!,\d)(?!\s*(?:%|percent|people|years)))?"
    rf"(?:,?\s+(?P<year>(?:1[89]|20)\d\d)\b)?"
    rf"|(?<![\w])(?P<day2>[0-3]?\d)(?:st|nd|rd|th)?\s+(?P<month2>{_MONTH_NAMES})\.?(?:,?\s+(?P<year2>(?:1[89]|20)\d\d)\b)?",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?<![\w$€£.,'’-])(?P<year>(?:1[89]|20)\d\d)(?![\w%-]|,\d|\.\d)")
# A year that dates the start of something: "launched in 2007", "since 2008", "a 2008 pact".
_START_BEFORE = re.compile(
    r"(?:\bsince|\b(?:launched|began|begun|started|founded|established|created|introduced|"
    r"signed|set up|inaugurated|opened|formed|enacted|adopted|began operating)\s+(?:in\s+)?"
    r"(?:(?:early|late|mid-?)\s+)?)\s*$",
    re.IGNORECASE,
)
_AGREEMENT_NOUN = re.compile(
    r"^\s*(?:[a-z]+\s+)?(?:pact|agreement|accord|treaty|deal|law|act|initiative|programme|"
    r"program|plan|alliance|partnership|convention|charter)\b",
    re.IGNORECASE,
)


# A date that bounds when something happens: "by April 15", "not before April 30", spun
# "earlier than April 30", translated "finished for April 15", "scheduled for May 2".
_DEADLINE_BEFORE = re.compile(
    r"\b(?:by|before|until|till|no\s+later\s+than|(?:no\s+)?earlier\s+than|later\s+than|"
    r"ahead\s+of|in\s+time\s+for|(?:due|ready|set|scheduled|planned|slated|expected|"
    r"finished|completed|done|postponed|delayed|moved|pushed\s+back)\s+(?:for|to|until))\s+$"
)


def _nearest_year(month: int, day: int | None, reference: Reference) -> int:
    """The year that puts a month and day nearest the reference date: "January 30" in a
    report of 8 October 2021 is 2022-01-30, "December 28" in one of 5 January 2022 is
    2021-12-28. With only a reference year, that year."""
    if isinstance(reference, int):
        return reference
    best = reference.year
    for year in (reference.year - 1, reference.year + 1):
        try:
            here = datetime.date(year, month, day or 15)
            current = datetime.date(best, month, day or 15)
        except ValueError:  # 29 February
            continue
        if abs((here - reference).days) < abs((current - reference).days):
            best = year
    return best


def find_dates(text: str, reference: Reference | None = None) -> list[Found]:
    """Calendar dates: "October 8, 2021" -> "2021-10-08", "Oct. 8" -> "--10-08", or with the
    year nearest `reference` (the document's date, or just its year) filled in; "end of
    January 2022" -> "2022-01". Weekdays are not dates. A date after "by", "not before",
    "scheduled for" ... is a deadline (role "deadline")."""
    out = []
    for m in _DATE.finditer(text):
        month_word = (m.group("month") or m.group("month2")).lower()
        day = m.group("day") or m.group("day2")
        year = m.group("year") or m.group("year2")
        if not (m.group("month") or m.group("month2"))[0].isupper():
            continue  # "may", "march": news capitalises month names
        if not day and not year:
            continue  # a bare month name: too vague to be a fact
        month = MONTHS[month_word]
        if day and not 1 <= int(day) <= 31:
            continue
        after = text[m.end() : m.end() + 12].lower()
        if not year and reference is not None:
            year = str(_nearest_year(month, int(day) if day else None, reference))
            if after.lstrip().startswith("next year"):
                year = str(reference.year + 1)
        if day:
            value = (
                f"{year}-{month:02d}-{int(day):02d}" if year else f"--{month:02d}-{int(day):02d}"
            )
        else:
            value = f"{year}-{month:02d}"
        before = text[max(0, m.start() - 30) : m.start()].lower()
        role = "deadline" if _DEADLINE_BEFORE.search(before) else "date"
        out.append(Found("date", value, m.group().strip(), m.start(), m.end(), role))
    return out


# A year is a year (not a count like "2000 people") when a preposition, article or comma
# introduces it, or it opens the text.
_YEAR_INTRO = re.compile(
    r"\b(?:in|since|from|until|till|by|of|during|after|before|through|circa|year|early|late|"
    r"mid|a|an|the|its|their|his|her|and|or|to)\s+$|^\s*$|[(,]\s*$",
    re.IGNORECASE,
)
_COUNTED_NOUN = re.compile(
    r"^\s+(?!pact|agreement|accord|treaty|deal|law|act|plan|elections?)[a-z]+s\b"
)
_PREPOSITION_BEFORE = re.compile(
    r"\b(?:in|since|of|by|from|until|during|a|an|the)\s+$", re.IGNORECASE
)
_ARTICLE_BEFORE = re.compile(r"\b(?:a|an|the|its)\s+$", re.IGNORECASE)


def find_years(text: str, taken: list[Found]) -> list[Found]:
    """Years on their own ("in 2007", "a 2008 pact", "since 2008"), not those inside dates,
    money or counts. Role "start" when the year dates a beginning, else "year"."""
    out = []
    inside = _covered(taken)
    for m in _YEAR.finditer(text):
        if inside(m.start()):
            continue
        before = text[max(0, m.start() - 40) : m.start()]
        after = text[m.end() : m.end() + 30]
        if _COUNTED_NOUN.match(after) and not _PREPOSITION_BEFORE.search(before):
            continue  # "2000 people": a count
        if not _YEAR_INTRO.search(before):
            continue
        starts = _START_BEFORE.search(before) or (
            _ARTICLE_BEFORE.search(before) and _AGREEMENT_NOUN.match(after)
        )
        role = "start" if starts else "year"
        out.append(Found("year", m.group("year"), m.group(), m.start(), m.end(), role))
    return out


# Every finder's pattern needs a digit or a number in words (money, percents, dates, years and
# quantities a digit; durations either): a sentence with neither holds no number fact, and most
# sentences are such (78% of the dedup benchmark's, where the finders took 42% of the facts
# stage), so `find_numbers` does not run them there.
_MAY_HOLD_NUMBER = re.compile(rf"\d|\b(?:{_WORD_NUMBER})\b", re.IGNORECASE)
# The same on ASCII text lower-cased: an ASCII text holds none of the characters that only
# ignoring case would match (the Kelvin sign for "k"), and a case-sensitive search of the
# lower-cased text costs 40% less (most sentences are ASCII and hold no number).
_MAY_HOLD_NUMBER_LOWER = re.compile(rf"\d|\b(?:{_WORD_NUMBER})\b")


def may_hold_number(text: str) -> bool:
    """False when `text` has no digit and no number in words, so no finder finds anything."""
    if text.isascii():
        return _MAY_HOLD_NUMBER_LOWER.search(text.lower()) is not None
    return _MAY_HOLD_NUMBER.search(text) is not None


def find_numbers(text: str, reference: Reference | None = None) -> list[Found]:
    """Every number fact in `text`, in text order, without overlaps."""
    return _run_finders(text, reference) if may_hold_number(text) else []


def _run_finders(text: str, reference: Reference | None) -> list[Found]:
    taken = _Taken()
    for finder in (find_money, find_percents, find_durations):
        for f in finder(text):
            taken.add(f)
    for f in find_dates(text, reference):
        taken.add(f)
    for f in find_years(text, taken.found()):
        taken.add(f)
    for f in find_quantities(text, taken.found()):
        taken.add(f)
    return taken.found()


class _Taken:
    """Non-overlapping spans kept in text order, so that each new finding is checked against
    its two neighbours (bisect) rather than every earlier one: a sentence of 20,000 amounts
    took 18 s when each was compared with all the others."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._spans: list[Found] = []

    def add(self, f: Found) -> bool:
        """Keep `f` unless it overlaps a span already kept (the earlier finder wins)."""
        at = bisect.bisect_left(self._starts, f.start)
        if at < len(self._spans) and _overlaps(f, self._spans[at]):
            return False
        if at > 0 and _overlaps(f, self._spans[at - 1]):
            return False
        self._starts.insert(at, f.start)
        self._spans.insert(at, f)
        return True

    def found(self) -> list[Found]:
        return list(self._spans)


def _covered(taken: list[Found]):
    """pos -> whether a span of `taken` covers it; by bisection over the spans in order (they
    do not overlap), so thousands of numbers in one sentence stay linear."""
    spans = sorted(taken, key=lambda f: f.start)
    starts = [f.start for f in spans]

    def inside(pos: int) -> bool:
        at = bisect.bisect_right(starts, pos) - 1
        return at >= 0 and pos < spans[at].end

    return inside


def _overlaps(a: Found, b: Found) -> bool:
    return a.start < b.end and b.start < a.end
