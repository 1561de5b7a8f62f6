"""What the report shows, in words a reader uses: documents named by outlet and title, facts in
plain language, badges that do not overclaim, and the overview of stories ranked by what they
hold. The static report and the served pages build on these same views.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from storytrace.model import DocumentResult, Family, FamilyMember, Result, Story

# A document whose text reads this spun or translated (0..1, match/signals.py) and whose source
# is not in the pile is labelled as a rewrite with its source missing, not as an origin.
REWRITE_SIGNAL = 0.5
# ...and at least this many different marks of it (match/signals.py's evidence lines): one mark
# repeated, such as spaces before full stops in an outlet's house style, reads 0.996 translated
# on a Nigerian original in the issue-15 pile.
REWRITE_MARKS = 2
_MARK_PREFIX = {"spun": "spin:", "translated": "translation:"}
# Attribution kinds that say where a text comes from (not "cites", which credits someone else,
# nor a scraper's "source-link"): with one of them the root of a copy tree is badged "origin";
# without, it is only "earliest here".
ORIGIN_ATTRIBUTION = frozenset({"agency", "byline", "reporting", "contributor"})
NAME_TITLE_CHARS = 90
_CURRENCY_SIGN = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹"}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip
_UNITS = {"Y": "year", "M": "month", "W": "week", "D": "day", "H": "hour"}
_DURATION = re.compile(r"^P(T?)(\d+(?:\.\d+)?)([YMWDH])$")
_DATE = re.compile(r"^(\d{4}|-)-(\d{2})(?:-(\d{2}))?$")


def outlet_of(doc: DocumentResult) -> str | None:
    """Who published or supplied `doc`: its web site, else the outlet its own credits name."""
    if doc.url:
        host = urlsplit(doc.url).hostname or ""
        host = host.removeprefix("www.")
        if host:
            return host
    for attribution in doc.attribution:
        if attribution.kind in ORIGIN_ATTRIBUTION and attribution.outlet:
            return attribution.outlet
    return None


def title_of(doc: DocumentResult) -> str:
    """The document's title, else its first words, else a note that it has no text."""
    if doc.title and doc.title.strip():
        text = " ".join(doc.title.split())
    else:
        text = " ".join(doc.clean_text[:2000].split()[:14])  # not the whole text, per call
    if not text:
        return "(no article text)"
    return text if len(text) <= NAME_TITLE_CHARS else text[: NAME_TITLE_CHARS - 1] + "…"


def name_of(doc: DocumentResult) -> str:
    """How the report names a document: "outlet · title" (ids are for machines)."""
    outlet = outlet_of(doc)
    return f"{outlet} · {title_of(doc)}" if outlet else title_of(doc)


def has_text(doc: DocumentResult) -> bool:
    return bool(doc.clean_text.strip())


def _amount(value: str) -> str:
    try:
        number = Decimal(value)
    except InvalidOperation:
        return value
    for size, word in ((10**12, "trillion"), (10**9, "billion"), (10**6, "million")):
        if abs(number) >= size:
            scaled = (number / size).normalize()
            return f"{scaled:f} {word}"
    if number == number.to_integral_value():
        return f"{int(number):,}"
    return f"{number.normalize():f}"


def plain_value(kind: str, value: str, text: str | None = None) -> str:
    """A fact's normalised value as a reader would write it.

    "USD 3300000000" -> "$3.3 billion", "P13Y" -> "13 years" ("68-year-old" when the text
    gives an age), "--06-02" -> "2 June", "2021-10-08" -> "8 October 2021",
    "300000 people" -> "300,000 people". Values in no known format are returned as they are.
    """
    value = value.strip()
    if kind == "money":
        code, _, amount = value.partition(" ")
        if not amount:
            return value
        sign = _CURRENCY_SIGN.get(code)
        return f"{sign}{_amount(amount)}" if sign else f"{_amount(amount)} {code.lower()}"
    if kind == "duration":
        m = _DURATION.match(value)
        if not m:
            return value
        count, unit = m.group(2), _UNITS.get(m.group(3), m.group(3))
        if m.group(1) and m.group(3) == "M":
            unit = "minute"
        if unit == "year" and text and re.search(r"\bold\b", text, re.IGNORECASE):
            return f"{count}-year-old"
        return f"{count} {unit}{'' if count == '1' else 's'}"
    if kind == "date":
        m = _DATE.match(value)
        if not m:
            return value
        year, month, day = m.group(1), int(m.group(2)), m.group(3)
        if not 1 <= month <= 12:
            return value
        words = [str(int(day))] if day else []
        words.append(_MONTHS[month - 1])
        if year != "-":
            words.append(year)
        return " ".join(words)
    if kind == "quantity":
        count, _, noun = value.partition(" ")
        return f"{_amount(count)} {noun}".strip()
    if kind == "quote":
        return f"“{value}”"
    return value


def rewrite_of(doc: DocumentResult) -> tuple[str, float] | None:
    """("spun" or "translated", score) when the text itself reads as a rewrite: a signal of
    at least REWRITE_SIGNAL from at least REWRITE_MARKS different marks; else None."""
    signals = doc.signals
    kind, score = max(("spun", signals.spun), ("translated", signals.translated),
                      key=lambda x: x[1])
    marks = [e for e in signals.evidence if e.startswith(_MARK_PREFIX[kind])]
    if score >= REWRITE_SIGNAL and len(marks) >= REWRITE_MARKS:
        return kind, score
    return None


@dataclass(slots=True)
class Badge:
    """What a document is in its family, in words that do not overclaim; `title` says why."""

    label: str
    css: str
    title: str


def badge(member: FamilyMember | None, family: Family | None, doc: DocumentResult) -> Badge:
    """"origin" only when the text says where it comes from; else "earliest here", or, for a
    lone rewritten text, that it is a rewrite whose source is not in the pile."""
    if member is None or family is None:
        return Badge("unplaced", "none", "in no copy family")
    if member.kind != "origin":
        return Badge(member.kind, member.kind, f"{member.kind} copy of {member.parent}")
    rewrite = rewrite_of(doc)
    if len(family.members) == 1:
        if rewrite is not None:
            return Badge(
                f"{rewrite[0]}, source not in this pile",
                "missing",
                f"the text reads {rewrite[0]} ({rewrite[1]:.2f}) but its source is not here",
            )
        return Badge("no copies here", "alone", "no other document in the pile copies it")
    credited = any(a.kind in ORIGIN_ATTRIBUTION for a in doc.attribution)
    if credited and rewrite is None:
        return Badge("origin", "origin", "; ".join(family.reasons) or "the source of its copies")
    return Badge(
        "earliest here",
        "earliest",
        "the source of the others in this pile; nothing in it says it is the original. "
        + "; ".join(family.reasons),
    )


def copy_kind(member: FamilyMember | None, family: Family | None, doc: DocumentResult) -> str:
    """The kind a filter by copy kind sees: the member's kind, or for a lone text that reads
    spun or translated (its source not in the pile) that rewrite; "origin" otherwise."""
    if member is None:
        return "none"
    if member.kind != "origin":
        return member.kind
    if family is not None and len(family.members) == 1:
        rewrite = rewrite_of(doc)
        if rewrite is not None:
            return rewrite[0]
    return "origin"


@dataclass(slots=True)
class StorySummary:
    """One overview row: what a story holds, for ranking and filtering."""

    story: Story
    index: int
    documents: int
    copies: int
    outlets: list[str]
    conflicts: int
    kinds: list[str]
    first: str | None
    last: str | None
    drawn: bool = True
    lead: str = ""
    outlet_count: int = field(init=False)

    def __post_init__(self) -> None:
        self.outlet_count = len(self.outlets)


def summarize(result: Result) -> tuple[list[StorySummary], list[DocumentResult]]:
    """(stories with article text, ranked; documents with no article text).

    Stories rank by documents, then copies, outlets and conflicts (then input order), so the
    first screen shows the stories with the most to untangle; a story whose every page has no
    article text (an archive notice, a tweet widget) is not a story and is left out.
    """
    docs = {d.id: d for d in result.documents}
    member_of = {m.id: m for f in result.families for m in f.members}
    families = {f.id: f for f in result.families}
    rows = [row for index, story in enumerate(result.stories)
            if (row := summary_row(story, index, docs, member_of, families)) is not None]
    return ranked(rows), [d for d in result.documents if not has_text(d)]


def summary_row(story: Story, index: int, docs: dict[str, DocumentResult],
                member_of: dict[str, FamilyMember], families: dict[str, Family]
                ) -> StorySummary | None:
    """A story's overview row (`index`: its place in input order), or None when none of its
    pages has article text."""
    members = [docs[i] for i in story.documents if i in docs]
    if not any(has_text(d) for d in members):
        return None
    kinds = Counter(copy_kind(member_of.get(d.id), families.get(d.family), d) for d in members)
    dates = sorted(d.date[:10] for d in members if d.date)
    return StorySummary(
        story=story,
        index=index,
        documents=len(members),
        copies=sum(1 for d in members if d.id in member_of and member_of[d.id].kind != "origin"),
        outlets=sorted({o for d in members if (o := outlet_of(d))}),
        conflicts=len(story.conflicts),
        kinds=sorted(k for k in kinds if k not in ("origin", "none")),
        first=dates[0] if dates else None,
        last=dates[-1] if dates else None,
        lead=next((name_of(d) for d in members if has_text(d)), ""),
    )


def ranked(rows: list[StorySummary]) -> list[StorySummary]:
    """Overview rows by documents, copies, outlets and conflicts, then input order."""
    return sorted(rows, key=lambda r: (-r.documents, -r.copies, -r.outlet_count, -r.conflicts,
                                       r.index))
