"""A story's facts: equal facts merged across its documents, and where sources disagree.

Two mentions are one fact when kind, normalised value and the key of what they are about are
equal ("$ 3.3 billion" and "about $3.3 billion" about the Merida Initiative); a quote is one
fact when its folded words are equal. Two values conflict only when they say the same kind of
thing about the same thing: an amount against an amount (a "$5.2 billion loss" only against
another loss), a start year against a start year, an age in years against an age, a deadline
against a deadline, a toll ("70 people injured") against a toll of the same state. Years,
dates and durations with no such role are never compared; rounding ("about $973,000" vs
$972,814) and values several sources state side by side are not disagreements.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from decimal import Decimal

from storytrace.facts.about import sort_of
from storytrace.facts.entities import entity_key, names
from storytrace.facts.extract import FactMention, extract_facts
from storytrace.facts.quotes import full_names, resolve_name
from storytrace.facts.settings import MAX_CONFLICT_RATIO, MIN_SIDE_BY_SIDE_DOCUMENTS
from storytrace.facts.values import agrees, hedge_of
from storytrace.model import Conflict, ConflictValue, DocumentResult, Fact

# (kind, role) pairs whose values are comparable; quantity roles are "people killed", ...
COMPARABLE_ROLES = {
    ("money", "amount"),
    ("year", "start"),
    ("duration", "age"),
    ("date", "deadline"),
}


def story_facts(documents: list[DocumentResult]) -> tuple[list[Fact], list[Conflict]]:
    """The facts the story's documents state (each with the documents that state it) and the
    conflicts between them (each value with the documents that state it)."""
    order = {doc.id: n for n, doc in enumerate(documents)}
    mentions: list[tuple[str, FactMention]] = []
    story_names: list[str] = []
    for doc in documents:
        mentions += [(doc.id, m) for m in extract_facts(doc.clean_text, doc.date)]
        story_names += full_names(doc.clean_text)
    aliases = _alias_keys(
        {entity_key(m.about) for _, m in mentions if m.about} | _name_keys(documents)
    )
    display = _display_names(mentions, aliases)

    def about_key(m: FactMention) -> str | None:
        if not m.about:
            return None
        key = entity_key(m.about)
        return aliases.get(key, key)

    groups: dict[tuple, list[tuple[str, FactMention]]] = defaultdict(list)
    for doc_id, m in mentions:
        key = (m.kind, m.value) if m.kind == "quote" else (m.kind, m.value, about_key(m))
        groups[key].append((doc_id, m))

    facts = []
    for key, members in groups.items():
        first = members[0][1]
        speaker = _speaker(members, story_names) if first.kind == "quote" else None
        about = None if first.kind == "quote" else key[2]
        facts.append(
            Fact(
                kind=first.kind,
                value=first.value,
                text=first.text,
                documents=sorted({d for d, _ in members}, key=order.__getitem__),
                about=display.get(about) if about else None,
                speaker=speaker,
            )
        )
    facts.sort(key=lambda f: (-len(f.documents), order[f.documents[0]]))
    return facts, _conflicts(mentions, about_key, display, order)


def _conflicts(mentions, about_key, display, order) -> list[Conflict]:
    """Slots (kind, role, about) whose documents give different values, after dropping
    roundings, far-apart amounts and values stated side by side."""
    by_slot: dict[tuple, dict[str, list[tuple[str, FactMention]]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for doc_id, m in mentions:
        key = about_key(m)
        if key is None:
            continue
        if m.kind == "duration" and not m.value.endswith("Y"):
            continue  # "day 11" vs "day 12" of an ongoing event: reports of different days
        comparable = (
            (m.kind, m.role) in COMPARABLE_ROLES
            or (m.kind == "money" and m.role.startswith("amount:"))
            or (m.kind == "quantity" and " " in m.role)
        )
        if comparable:
            by_slot[(m.kind, m.role, key)][m.value].append((doc_id, m))
    conflicts = []
    for (kind, _role, key), values in by_slot.items():
        if kind in {"money", "quantity"}:
            values = _close_values(values)
        values = _without_agreeing(values)
        values = _without_side_by_side(values)
        if len(values) < 2:
            continue
        documents = {d for stated in values.values() for d, _ in stated}
        if len(documents) < 2:
            continue  # one document giving two values is more likely two different things
        if len(values) > len(documents):
            continue  # a thing with many figures (prices before and after, yearly budgets)
        conflicts.append(
            Conflict(
                about=display.get(key, key),
                kind=kind,
                values=[
                    ConflictValue(
                        value=value,
                        documents=sorted({d for d, _ in stated}, key=order.__getitem__),
                        text=stated[0][1].text,
                    )
                    for value, stated in sorted(
                        values.items(), key=lambda kv: -len({d for d, _ in kv[1]})
                    )
                ],
            )
        )
    conflicts.sort(key=lambda c: -sum(len(v.documents) for v in c.values))
    return conflicts


def _number(value: str) -> Decimal:
    """The number in a value: "USD 3300000000", "300000 people", "P13Y"."""
    m = re.search(r"\d+(?:\.\d+)?", value)
    return Decimal(m.group()) if m else Decimal(0)


def _close_values(values: dict) -> dict:
    """Keep the values within MAX_CONFLICT_RATIO of the most stated one: amounts further apart
    are different amounts (a part and a whole), not two reports of one."""
    top = max(values, key=lambda v: len(values[v]))
    base = _number(top)
    if base <= 0:
        return {top: values[top]}
    kept = {}
    for value, stated in values.items():
        n = _number(value)
        if n > 0 and max(n, base) / min(n, base) <= MAX_CONFLICT_RATIO:
            kept[value] = stated
    return kept


def _without_agreeing(values: dict) -> dict:
    """Drop hedged values consistent with another value ("about $973,000" with "$972,814",
    "more than $2 billion" with "$2.5 billion"): rounding is not disagreement."""
    kept = dict(values)
    for value, stated in values.items():
        hedge = hedge_of(stated[0][1].text)
        if hedge == "exact":
            continue
        number = _number(value)
        if any(other != value and agrees(number, hedge, _number(other)) for other in kept):
            del kept[value]
    return kept


def _without_side_by_side(values: dict) -> dict:
    """Drop the less stated of two values that several documents each state together ("$334
    million, including $281 million in cash"): those sources know them as two amounts."""
    docs = {value: {d for d, _ in stated} for value, stated in values.items()}
    kept = dict(values)
    for a in values:
        for b in values:
            if (
                a < b
                and a in kept
                and b in kept
                and len(docs[a] & docs[b]) >= MIN_SIDE_BY_SIDE_DOCUMENTS
            ):
                del kept[min((a, b), key=lambda v: len(docs[v]))]
    return kept


def _name_keys(documents: list[DocumentResult]) -> set[str]:
    keys = set()
    for doc in documents:
        for line in doc.clean_text.split("\n"):
            keys.update(entity_key(n.text) for n in names(line))
    return keys


def _alias_keys(keys: set[str]) -> dict[str, str]:
    """Short names to the full name they abbreviate: "merida" -> "merida initiative", when the
    full name is the short one plus a head saying what it is (initiative, bank, agreement...)
    and only one such full name exists in the story."""
    aliases = {}
    for short in keys:
        longer = [k for k in keys if k != short and k.startswith(short + " ") and sort_of(k)]
        if len(longer) == 1 and sort_of(short) is None:
            aliases[short] = longer[0]
    return aliases


def _display_names(mentions, aliases: dict[str, str]) -> dict[str, str]:
    """For each about key, the surface name most often used for it (in its full form)."""
    surfaces: dict[str, Counter] = defaultdict(Counter)
    for _, m in mentions:
        if m.about:
            key = entity_key(m.about)
            surfaces[aliases.get(key, key)][m.about] += 2 if key == aliases.get(key, key) else 1
    return {key: counts.most_common(1)[0][0] for key, counts in surfaces.items()}


def _speaker(members: list[tuple[str, FactMention]], story_names: list[str]) -> str | None:
    """The speaker most documents name for a quote, with a surname resolved story-wide."""
    speakers = Counter(
        resolve_name(m.speaker, story_names) if m.speaker[:1].isupper() else m.speaker
        for _, m in members
        if m.speaker
    )
    if not speakers:
        return None
    return max(speakers, key=lambda s: (speakers[s], len(s)))
