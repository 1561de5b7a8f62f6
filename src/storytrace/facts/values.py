"""Numbers in news text and their normalised values: money, quantities, percentages,
durations, dates and years.

Each finder returns `Found` items (the surface span, the normalised value and a `role` saying
what kind of statement the number makes, e.g. a year that starts something). Values are
written so that equal facts compare equal as strings: "USD 3300000000", "25%", "P13Y",
"2021-10-08", "--12-01" (a day without a year), "2007".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from storytrace.facts.entities import MONTHS
from storytrace.facts.settings import APPROX_TOLERANCE

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
    out = []
    for m in _MONEY_PREFIX.finditer(text):
        cur = m.group("cur")
        code = CURRENCY_SYMBOLS.get(cur.lower(), cur.upper())
        amount = _scaled(m.group("num"), m.group("mult"))
        if amount is not None:
            out.append(
                Found(
                    "money",
                    money_value(code, amount),
                    m.group(),
                    m.start(),
                    m.end(),
                    _money_role(text, m.end()),
                )
            )
    for m in _MONEY_SUFFIX.finditer(text):
        if any(f.start <= m.start() < f.end for f in out):
            continue
        amount = _scaled(m.group("num"), m.group("mult"))
        if amount is not None:
            code = CURRENCY_WORDS[m.group("word").lower()]
            out.append(
                Found(
                    "money",
                    money_value(code, amount),
                    m.group(),
                    m.start(),
                    m.end(),
                    _money_role(text, m.end()),
                )
            )
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
_QUANTITY = re.compile(
    rf"(?<![\w$€£.,-])(?P<hedge>{HEDGE})?(?P<num>{NUMBER})(?:\s(?P<mult>thousand|million|billion))?"
    r"\s+(?:(?:more|other|new|additional|Haitian|[a-z]+-[a-z]+)\s+)?(?P<unit>[a-z]{3,}s|[A-Z][a-z]{2,}(?:ans|ese|is|ers)|people)\b",
)
_NOT_UNITS = {"years", "months", "weeks", "days", "decades", "hours", "minutes", "centuries",
              "dollars", "euros", "pounds", "rupees", "pesos", "francs", "percent", "yrs", "was",
              "has", "is", "this", "its", "times", "as"}  # fmt: skip
# What a count of people says happened to them: the classic conflicting number in news.
_PEOPLE_STATES = re.compile(
    r"^\s*(?:(?:have|had|has|were|was|are|been|being|reported|feared|now|still|already)\s+){0,3}"
    r"(?P<state>killed|dead|died|murdered|injured|wounded|hurt|missing|displaced|arrested|"
    r"detained|evacuated|infected|lacking)\b",
    re.IGNORECASE,
)
_STATE_NAMES = {"lacking": "missing", "murdered": "killed", "dead": "killed", "died": "killed",
                "hurt": "injured", "wounded": "injured", "detained": "arrested"}  # fmt: skip
_PEOPLE = {"people", "persons", "individuals", "civilians", "residents", "migrants", "children",
           "adults", "soldiers", "workers", "victims", "refugees", "patients", "deaths"}  # fmt: skip


def find_quantities(text: str, taken: list[Found]) -> list[Found]:
    """ "300,000 people", "nearly 100,000 individuals" -> value "300000 people"; skips spans in
    `taken` (money, durations, percents, years already found)."""
    out = []
    for m in _QUANTITY.finditer(text):
        unit = m.group("unit").lower()
        if unit in _NOT_UNITS or any(f.start <= m.start("num") < f.end for f in taken):
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
        role = ""
        state = _PEOPLE_STATES.match(text[m.end() :])
        if state:  # "600 Palestinians have been killed": a toll, whoever they are
            role = "people " + _STATE_NAMES.get(
                state.group("state").lower(), state.group("state").lower()
            )
        elif unit in _PEOPLE:
            role = "people"
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


def find_dates(text: str, reference_year: int | None = None) -> list[Found]:
    """Calendar dates: "October 8, 2021" -> "2021-10-08", "Oct. 8" -> "--10-08" (or the
    reference year filled in), "end of January 2022" -> "2022-01". Weekdays are not dates.
    A date after "by" is a deadline (role "deadline")."""
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
        if not year and reference_year is not None:
            year = str(reference_year + (1 if after.lstrip().startswith("next year") else 0))
        if day:
            value = (
                f"{year}-{month:02d}-{int(day):02d}" if year else f"--{month:02d}-{int(day):02d}"
            )
        else:
            value = f"{year}-{month:02d}"
        before = text[max(0, m.start() - 12) : m.start()].lower()
        role = (
            "deadline" if re.search(r"\b(?:by|before|until|no later than)\s+$", before) else "date"
        )
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
    for m in _YEAR.finditer(text):
        if any(f.start <= m.start() < f.end for f in taken):
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


def find_numbers(text: str, reference_year: int | None = None) -> list[Found]:
    """Every number fact in `text`, in text order, without overlaps."""
    found: list[Found] = []
    for finder in (find_money, find_percents, find_durations):
        for f in finder(text):
            if not any(_overlaps(f, g) for g in found):
                found.append(f)
    for f in find_dates(text, reference_year):
        if not any(_overlaps(f, g) for g in found):
            found.append(f)
    found += [f for f in find_years(text, found) if not any(_overlaps(f, g) for g in found)]
    found += [f for f in find_quantities(text, found) if not any(_overlaps(f, g) for g in found)]
    return sorted(found, key=lambda f: f.start)


def _overlaps(a: Found, b: Found) -> bool:
    return a.start < b.end and b.start < a.end
