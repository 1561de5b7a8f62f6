"""A story's facts: equal facts merged across its documents, and where sources disagree.

Two mentions are one fact when kind, normalised value and the key of what they are about are
equal ("$ 3.3 billion" and "about $3.3 billion" about the Merida Initiative); a quote is one
fact when its folded words are equal. Two values conflict only when they say the same kind of
thing about the same thing: an amount against an amount (a "$5.2 billion loss" only against
another loss), a start year against a start year, an age in years against an age, a deadline
against a deadline, a count against a count of the same things with the same outcome.

What a value is about: for a count of what the story's event did ("about 340 homes flooded",
"inundating 410 houses": counted noun folded to its synonym group, outcome verb to its stem
and synonyms) the story itself, so the slot is "homes flooded" story-wide (split by a place it
is counted in); for other values the name or noun phrase the sentence ties them to. Deadline
slots whose sentences state one thing in other words (a spun or translated copy) are joined.
Dates without a year take the year nearest the document's date, or the story's when its
documents are dated close together. Years, dates and durations with no role are never
compared; rounding ("about $973,000" vs $972,814), amounts in other currencies and values
several sources state side by side are not disagreements.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter, OrderedDict, defaultdict
from datetime import date
from decimal import Decimal

import xxhash

from storytrace.facts.about import sort_of
from storytrace.facts.entities import MONTHS, entity_key, fold, names
from storytrace.facts.extract import FactMention, extract_within, parse_reference
from storytrace.facts.quotes import KnownNames, full_names
from storytrace.facts.settings import (
    FACTS_MAX_CHARS,
    FACTS_MAX_PER_DOCUMENT,
    FACTS_SECONDS_PER_DOCUMENT,
    MAX_CONFLICT_RATIO,
    MIN_SIDE_BY_SIDE_DOCUMENTS,
    SAME_STATEMENT_OVERLAP,
    STORY_DATE_SPAN_DAYS,
)
from storytrace.facts.values import EVENT_OUTCOMES, agrees, hedge_of
from storytrace.model import Conflict, ConflictValue, DocumentResult, Fact

# (kind, role) pairs whose values are comparable; quantity roles are "people killed", ...
COMPARABLE_ROLES = {
    ("money", "amount"),
    ("year", "start"),
    ("duration", "age"),
    ("date", "deadline"),
}


# A story in an index grows a document at a time and its facts are merged again on each add:
# the facts of the documents it already had are taken from here, not extracted again. Only
# complete extractions are kept (one the time budget cut short may find more next time).
_KEPT_EXTRACTIONS = 8192
_extractions: OrderedDict[tuple[int, str | None],
                          tuple[list[FactMention], list[str]]] = OrderedDict()


def _extracted(text: str, reference: str | None
               ) -> tuple[list[FactMention], int | None, list[str]]:
    """`extract_within(text, reference)` with the budget, and the text's full names."""
    key = (xxhash.xxh3_64_intdigest(text.encode("utf-8", "surrogatepass")), reference)
    kept = _extractions.get(key)
    if kept is not None:
        _extractions.move_to_end(key)
        return list(kept[0]), None, kept[1]
    found, stopped_at = extract_within(text, reference, FACTS_SECONDS_PER_DOCUMENT)
    names_in_text = full_names(text)
    if stopped_at is None:
        _extractions[key] = (found, names_in_text)
        if len(_extractions) > _KEPT_EXTRACTIONS:
            _extractions.popitem(last=False)
    return list(found), stopped_at, names_in_text


# What one document states, as `story_facts` uses it: the date its relative dates were read
# against, its fact mentions, and the full names in its text. An index keeps these per
# document, so a story re-merged in a later process does not extract its old documents again.
Extraction = tuple[str | None, list[FactMention], list[str]]


def references(documents: list[DocumentResult]) -> dict[str, str | None]:
    """The date each document's facts are read against in this story: its own, else the
    story's (`_story_date`)."""
    story_date = _story_date(documents)
    return {doc.id: doc.date or story_date for doc in documents}


def extract_documents(items: list[tuple[str, str | None]]) -> list[Extraction | None]:
    """The extraction of each (clean text, reference date); None for one the time budget cut
    short (it may find more next time, so it is not worth keeping)."""
    out: list[Extraction | None] = []
    for text, reference in items:
        found, stopped_at, names_in_text = _extracted(text[:FACTS_MAX_CHARS], reference)
        out.append(None if stopped_at is not None else (reference, found, names_in_text))
    return out


def story_facts(documents: list[DocumentResult],
                extracted: dict[str, Extraction] | None = None
                ) -> tuple[list[Fact], list[Conflict]]:
    """The facts the story's documents state (each with the documents that state it) and the
    conflicts between them (each value with the documents that state it). `extracted`
    (document id -> Extraction, optional): documents extracted already; one whose reference
    date is not the one it has in this story is extracted again."""
    order = {doc.id: n for n, doc in enumerate(documents)}
    mentions: list[tuple[str, FactMention]] = []
    story_names: list[str] = []
    story_date = _story_date(documents)
    reference_of = references(documents)
    for doc in documents:
        text = doc.clean_text[:FACTS_MAX_CHARS]
        kept = (extracted or {}).get(doc.id)
        if kept is not None and kept[0] == reference_of[doc.id]:
            found, stopped_at, names_in_text = list(kept[1]), None, kept[2]
        else:
            found, stopped_at, names_in_text = _extracted(text, reference_of[doc.id])
        if stopped_at is not None:
            doc.notes.append(
                f"facts: time budget of {FACTS_SECONDS_PER_DOCUMENT:g} s spent; text after "
                f"character {stopped_at:,} not searched for facts"
            )
        elif len(text) < len(doc.clean_text):
            doc.notes.append(
                f"facts: only the first {FACTS_MAX_CHARS:,} characters searched for facts"
            )
        if len(found) > FACTS_MAX_PER_DOCUMENT:
            doc.notes.append(
                f"facts: {len(found):,} found; only the first {FACTS_MAX_PER_DOCUMENT:,} kept"
            )
            found = found[:FACTS_MAX_PER_DOCUMENT]
        mentions += [(doc.id, m) for m in found]
        story_names += names_in_text
    known = KnownNames(story_names)
    aliases = _alias_keys(
        {entity_key(m.about) for _, m in mentions if m.about} | _name_keys(documents)
    )
    display = _display_names(mentions, aliases)

    story_year = story_date[:4] if story_date else None

    def about_key(m: FactMention) -> str | None:
        event = _event_slot(m, story_year)
        if event:
            return event  # "homes flooded": what the story's event did, story-wide
        if not m.about:
            return None
        key = entity_key(m.about)
        return aliases.get(key, key)

    for _, m in mentions:
        event = _event_slot(m, story_year)
        if event:
            display[event] = event

    groups: dict[tuple, list[tuple[str, FactMention]]] = defaultdict(list)
    for doc_id, m in mentions:
        key = (m.kind, m.value) if m.kind == "quote" else (m.kind, m.value, about_key(m))
        groups[key].append((doc_id, m))

    facts = []
    for key, members in groups.items():
        first = members[0][1]
        speaker = _speaker(members, known) if first.kind == "quote" else None
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
            by_slot[(m.kind, m.role, key)][_comparable_value(m)].append((doc_id, m))
    _adopt_bare_counts(mentions, by_slot)
    conflicts = []
    for (kind, _role, key), values in _same_statements(by_slot).items():
        if kind == "date":
            values = _years_filled(values)
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
                        text=_shown(stated),
                    )
                    for value, stated in sorted(
                        values.items(), key=lambda kv: -len({d for d, _ in kv[1]})
                    )
                ],
            )
        )
    conflicts.sort(key=lambda c: -sum(len(v.documents) for v in c.values))
    return conflicts


def _event_slot(m: FactMention, story_year: str | None) -> str | None:
    """The story-wide slot of a count of what an event did ("homes flooded", "people killed in
    Indonesia"), or None for other facts. A sentence that dates what it counts with another
    year than the story's ("In September 2009 a quake killed more than 1000 people") tells of
    an earlier event: its count gets a slot of that year, so it is not compared with today's."""
    if m.kind != "quantity" or " " not in m.role:
        return None
    if m.role.split(" in ")[0].split()[-1] not in EVENT_OUTCOMES:
        return None
    years = sorted(set(_YEAR_IN_SENTENCE.findall(m.sentence)) - {story_year})
    return f"{m.role} ({years[0]})" if years else m.role


_YEAR_IN_SENTENCE = re.compile(r"(?<![\w.,$-])((?:19|20)\d\d)(?![\w%-]|,\d)")


def _adopt_bare_counts(mentions, by_slot: dict) -> None:
    """A count of things whose sentence says nothing of what happened to them ("sending
    floodwater by 410 houses", a spinner's rewording) joins the story's one event slot for
    that noun ("homes flooded"), when its document states nothing else in that slot. Counts of
    people are left alone: a story counts people in many ways."""
    slots_of: dict[str, list[tuple]] = defaultdict(list)
    for slot in by_slot:
        kind, role, key = slot
        if kind == "quantity" and key == role and " in " not in role:
            slots_of[role.split()[0]].append(slot)
    for doc_id, m in mentions:
        if m.kind != "quantity" or m.role:
            continue
        slots = slots_of.get(m.value.split()[-1], [])
        if len(slots) != 1:
            continue
        stating = {d for stated in by_slot[slots[0]].values() for d, _ in stated}
        if doc_id not in stating:
            by_slot[slots[0]][m.value].append((doc_id, m))


def _comparable_value(m: FactMention) -> str:
    """The value a conflict compares: a toll of "40 Palestinians" is "40 people" against "42
    people" killed in the same attack."""
    if m.kind == "quantity" and " " in m.role:
        return f"{m.value.split()[0]} {m.role.split()[0]}"
    return m.value


def _years_filled(values: dict) -> dict:
    """Within one slot a date without a year ("--12-15") is the dated value with its month and
    day, when exactly one such value exists: "December 15" and "December 15, 2013" agree."""
    joined: dict[str, list] = defaultdict(list)
    for value, stated in values.items():
        if value.startswith("--"):
            dated = [v for v in values if not v.startswith("--") and v[4:] == value[1:]]
            if len(dated) == 1:
                value = dated[0]
        joined[value] += stated
    return joined


def _story_date(documents: list[DocumentResult]) -> str | None:
    """The date an undated document of the story is read against: the earliest of its
    documents' dates when they all fall within STORY_DATE_SPAN_DAYS (one event reported over
    a few days); None when no document is dated or the dates are far apart (ambiguous)."""
    dates = sorted(
        d for d in (parse_reference(doc.date) for doc in documents) if isinstance(d, date)
    )
    if dates and (dates[-1] - dates[0]).days <= STORY_DATE_SPAN_DAYS:
        return dates[0].isoformat()
    return None


_STOPWORDS = {
    "the", "and", "that", "with", "for", "from", "this", "was", "were", "are", "has", "have",
    "had", "been", "will", "would", "should", "could", "said", "says", "its", "their", "his",
    "her", "which", "who", "not", "but", "than", "then", "into", "onto", "out", "over", "after",
    "before", "about", "also", "there", "they", "them", "what", "when", "where", "while", "our",
}  # fmt: skip


def _content_words(sentence: str) -> set[str]:
    words = set(re.findall(r"[a-z][a-z'-]{2,}", fold(sentence)))
    return {w for w in words if w not in _STOPWORDS and w not in MONTHS}


# Kinds whose slots are joined by sentence likeness. Not money, counts or ages: on the dev sets
# that joined e.g. "$5.4 billion" for AMD with "$4.2 billion" and a 2-year-old with a
# 27-year-old (6 false conflicts); two deadlines told alike are one deadline.
JOINED_KINDS = {"date"}


def _same_statements(by_slot: dict) -> dict:
    """Join date slots of one role whose mentions are one statement told in other words:
    sentences sharing SAME_STATEMENT_OVERLAP of the shorter one's content words ("A permanent
    repair is expected to be completed by April 15, spokeswoman Priya Castellane said" and the
    spun "An everlasting restore won't be accomplished earlier than April 30, spokeswoman Priya
    Castellane mentioned") are about the same thing whatever noun each chose for it."""
    slots = list(by_slot)
    parent = {slot: slot for slot in slots}

    def root(slot):
        while parent[slot] != slot:
            parent[slot] = parent[parent[slot]]
            slot = parent[slot]
        return slot

    # one word set per distinct sentence: a sentence stating 1,000 dates is read once
    sentence_words: dict[str, frozenset[str]] = {}
    for slot in slots:
        for stated in by_slot[slot].values():
            for _, m in stated:
                if m.sentence not in sentence_words:
                    sentence_words[m.sentence] = frozenset(_content_words(m.sentence))
    words = {
        slot: list(dict.fromkeys(sentence_words[m.sentence] for stated in by_slot[slot].values()
                                 for _, m in stated))
        for slot in slots
    }
    # Only slots of one kind and role can join (amounts, counts and ages in like sentences are
    # often of two things): compare within those groups, in the order of `slots`.
    groups: dict[tuple, list[tuple]] = defaultdict(list)
    for slot in slots:
        if slot[0] in JOINED_KINDS:
            groups[slot[:2]].append(slot)
    pairs = (
        (a, b) for group in groups.values() for i, a in enumerate(group) for b in group[i + 1 :]
    )
    for a, b in pairs:
        if root(a) == root(b):
            continue
        if any(
            len(x & y) >= SAME_STATEMENT_OVERLAP * min(len(x), len(y))
            for x in words[a]
            for y in words[b]
            if x and y
        ):
            # the slot with more mentions names the joined one
            big, small = sorted((root(a), root(b)), key=lambda s: -_size(by_slot[s]))
            parent[small] = big
    joined: dict[tuple, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for slot in slots:
        for value, stated in by_slot[slot].items():
            joined[root(slot)][value] += stated
    return joined


def _size(values: dict) -> int:
    return sum(len(stated) for stated in values.values())


def _number(value: str) -> Decimal:
    """The number in a value: "USD 3300000000", "300000 people", "P13Y"."""
    m = re.search(r"\d+(?:\.\d+)?", value)
    return Decimal(m.group()) if m else Decimal(0)


def _shown(stated: list[tuple[str, FactMention]]) -> str:
    """The surface text a conflict shows for a value: the first statement without a hedge."""
    return next((m.text for _, m in stated if hedge_of(m.text) == "exact"), stated[0][1].text)


def _unit(value: str) -> str:
    """What a value counts in: "USD" of "USD 3300000000", "homes" of "340 homes"."""
    return re.sub(r"\d+(?:\.\d+)?", "", value).strip()


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
        if _unit(value) != _unit(top):
            continue  # EUR 200 million and USD 265 million: a conversion, not a disagreement
        if n > 0 and max(n, base) / min(n, base) <= MAX_CONFLICT_RATIO:
            kept[value] = stated
    return kept


def _without_agreeing(values: dict) -> dict:
    """Drop hedged statements consistent with another value ("about $973,000" with "$972,814",
    "more than $2 billion" with "$2.5 billion"): rounding is not disagreement. A value that
    other documents state exactly stays ("more than 40" in one report, "40" in five)."""
    kept = {}
    for value, stated in values.items():
        number = _number(value)
        committed = any(
            (hedge := hedge_of(m.text)) == "exact"
            or not any(other != value and agrees(number, hedge, _number(other)) for other in values)
            for _, m in stated
        )
        if committed:
            kept[value] = stated
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


_name_keys_of: OrderedDict[int, frozenset[str]] = OrderedDict()  # text hash -> its name keys


def _name_keys(documents: list[DocumentResult]) -> set[str]:
    """The keys of every name in the story's texts (kept per text, like the extractions: a
    story re-merged on each add would find the names of its old documents again)."""
    keys: set[str] = set()
    for doc in documents:
        text = doc.clean_text[:FACTS_MAX_CHARS]
        digest = xxhash.xxh3_64_intdigest(text.encode("utf-8", "surrogatepass"))
        found = _name_keys_of.get(digest)
        if found is None:
            found = frozenset(entity_key(n.text) for line in text.split("\n")
                              for n in names(line))
            _name_keys_of[digest] = found
            if len(_name_keys_of) > _KEPT_EXTRACTIONS:
                _name_keys_of.popitem(last=False)
        else:
            _name_keys_of.move_to_end(digest)
        keys |= found
    return keys


def _alias_keys(keys: set[str]) -> dict[str, str]:
    """Short names to the full name they abbreviate: "merida" -> "merida initiative", when the
    full name is the short one plus a head saying what it is (initiative, bank, agreement...)
    and only one such full name exists in the story."""
    aliases = {}
    ordered = sorted(keys)
    for short in keys:
        # the keys that start with `short + " "` sit together in sorted order
        prefix = short + " "
        first = bisect.bisect_left(ordered, prefix)
        longer = []
        for k in ordered[first:]:
            if not k.startswith(prefix):
                break
            if sort_of(k):
                longer.append(k)
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


def _speaker(members: list[tuple[str, FactMention]], known: KnownNames) -> str | None:
    """The speaker most documents name for a quote, with a surname resolved story-wide."""
    speakers = Counter(
        known.resolve(m.speaker) if m.speaker[:1].isupper() else m.speaker
        for _, m in members
        if m.speaker
    )
    if not speakers:
        return None
    return max(speakers, key=lambda s: (speakers[s], len(s)))
