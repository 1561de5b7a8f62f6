"""The plain data that flows through the pipeline.

Every stage reads some of these and produces others; none of them carries behaviour beyond
small conveniences. `Result.to_dict()` is the `result.json` contract: other tools read it, so
fields are only ever added, never renamed or removed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, is_dataclass
from functools import cache
from typing import Any

# Relation kinds between two documents, from "the same bytes" to "reuses some passages"
# (README: "Relation kinds"). Families are connected components over WHOLE_COPY_KINDS;
# `partial` links two documents without making them one article. `rewritten` is an editor's
# rewrite (cut, condensed, reordered, partly reworded) wholly derived from its source.
RELATION_KINDS = ("verbatim", "wrapped", "truncated", "edited", "spun", "translated", "rewritten",
                  "partial")
WHOLE_COPY_KINDS = frozenset(RELATION_KINDS) - {"partial"}


@dataclass(slots=True)
class Document:
    """One input document as read, before any cleaning.

    `raw` is the text as found: HTML source when `format == "html"`, else plain text.
    `source` names where it came from (a path, with `#record` for a row of a JSONL/Parquet file).
    """

    id: str
    raw: str
    source: str
    format: str = "text"  # "text" | "html"
    url: str | None = None
    title: str | None = None
    date: str | None = None  # ISO 8601 date when the input gives one


@dataclass(slots=True)
class RemovedLine:
    """A line the cleaner dropped, and why (e.g. "wrapper-marker", "repeated-in-corpus")."""

    text: str
    reason: str


@dataclass(slots=True)
class CleanText:
    """The main text of a document: one paragraph a line, boilerplate removed.

    `notes` are remarks about the text worth showing a user (mojibake repaired, template
    leftovers such as "{dollars}"). Metadata fields are filled from HTML when the page has them.
    """

    text: str
    removed: list[RemovedLine] = field(default_factory=list)
    title: str | None = None
    author: str | None = None
    date: str | None = None
    site: str | None = None
    url: str | None = None
    language: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def paragraphs(self) -> list[str]:
        return [p for p in self.text.split("\n") if p.strip()]


@dataclass(slots=True)
class Signals:
    """How much a text itself looks spun or machine-translated, each in 0..1, with the marks seen."""

    spun: float = 0.0
    translated: float = 0.0
    evidence: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Attribution:
    """A statement in the text about who wrote or supplied it.

    kind: "byline", "agency" (an agency dateline such as "(Reuters)"), "reporting"
    ("Reporting by ..."), "contributor" ("... contributed to this report"), "cites"
    ("told the Reuters news agency"), "source-link" (a scraper's "Source link" to the original).
    `outlet` and `people` are what the statement names, when it names them.
    """

    kind: str
    text: str
    outlet: str | None = None
    people: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Relation:
    """A verified copy relation between documents `a` and `b` (a < b in input order).

    `evidence` is human-readable ("92% of b's sentences align with a, in order"); `metrics` holds
    the numbers behind it (coverage_a, coverage_b, order, jaccard, substitutions, ...).
    """

    a: str
    b: str
    kind: str
    score: float
    evidence: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class FamilyMember:
    """A document in a copy family: `kind` is "origin" or how it was copied from `parent`."""

    id: str
    kind: str
    parent: str | None = None
    reasons: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Family:
    """Copies of one article: the origin (best evidence of being first) and the copy tree.

    `outlet` is the original outlet when the text names it (e.g. "Reuters"), even if its own page
    is not in the corpus; `authors` the people credited; `reasons` why this origin was chosen.
    """

    id: str
    origin: str
    members: list[FamilyMember]
    outlet: str | None = None
    authors: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Fact:
    """One fact of a story, merged across the documents that state it.

    kind: "money", "quantity", "percent", "date", "year", "duration", "quote".
    `value` is normalised (e.g. "USD 3300000000", "2007", "P13Y", a quote's words);
    `text` is how one document says it; `about` what it is about (e.g. "Merida Initiative");
    `speaker` who said a quote.
    """

    kind: str
    value: str
    text: str
    documents: list[str]
    about: str | None = None
    speaker: str | None = None


@dataclass(slots=True)
class ConflictValue:
    value: str
    documents: list[str]
    text: str | None = None


@dataclass(slots=True)
class Conflict:
    """Sources giving different values of one kind about the same thing."""

    about: str
    kind: str
    values: list[ConflictValue]


@dataclass(slots=True)
class Story:
    """Families that report the same event, with the facts their documents state."""

    id: str
    title: str
    families: list[str]
    documents: list[str]
    facts: list[Fact] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    # How sure the clustering is that every document reports one event: the membership
    # probability of its weakest document (cluster/stories.py, STORY_MEMBERSHIP).
    confidence: float | None = None


@dataclass(slots=True)
class InputError:
    """An input that could not be read: the file, the record in it (if any) and why."""

    source: str
    reason: str
    record: str | None = None


@dataclass(slots=True)
class DocumentResult:
    """Everything the pipeline learned about one document."""

    id: str
    source: str
    title: str | None
    clean_text: str
    removed: list[RemovedLine]
    signals: Signals
    family: str
    story: str
    attribution: list[Attribution]
    url: str | None = None
    date: str | None = None
    language: str | None = None
    notes: list[str] = field(default_factory=list)
    # Mean similarity (0..1) to the other reports of its story; None when it has none.
    story_similarity: float | None = None


@dataclass(slots=True)
class Result:
    """The output of `storytrace.analyze`; `to_dict()` is the result.json contract."""

    documents: list[DocumentResult]
    relations: list[Relation]
    families: list[Family]
    stories: list[Story]
    errors: list[InputError]
    stats: dict[str, Any] = field(default_factory=dict)

    def document(self, doc_id: str) -> DocumentResult:
        for doc in self.documents:
            if doc.id == doc_id:
                return doc
        raise KeyError(doc_id)

    def family_of(self, doc_id: str) -> Family:
        family_id = self.document(doc_id).family
        return next(f for f in self.families if f.id == family_id)

    def story_of(self, doc_id: str) -> Story:
        story_id = self.document(doc_id).story
        return next(s for s in self.stories if s.id == story_id)

    def relation(self, x: str, y: str) -> Relation | None:
        for rel in self.relations:
            if {rel.a, rel.b} == {x, y}:
                return rel
        return None

    def records(self) -> dict[str, list[Any]]:
        """The record lists of result.json, by key, in its order (between "version" and
        "stats"): what `to_dict` writes whole and `report.export` a record at a time."""
        return {"documents": self.documents, "relations": self.relations,
                "families": self.families, "stories": self.stories, "errors": self.errors}

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            **{name: [asdict(r) for r in items] for name, items in self.records().items()},
            "stats": self.stats,
        }


# -- the records back from their JSON form (result.json, the index's stored rows) -------------
@cache
def field_names(cls: type) -> dict[str, None] | None:
    """A dataclass's field names in order (a dict: ordered, and quick to ask `in`); None for
    a class that is not a dataclass. Looked up once per class: records are read and written
    by the thousand."""
    return dict.fromkeys(f.name for f in fields(cls)) if is_dataclass(cls) else None


def _pick(cls: type, row: dict[str, Any], **nested: Any) -> Any:
    """`cls` from a dict; fields a later version added, which this one lacks, are ignored."""
    names = field_names(cls)
    return cls(**{k: v for k, v in row.items() if k in names} | nested)


def document_from_dict(d: dict[str, Any]) -> DocumentResult:
    return _pick(DocumentResult, d,
                 removed=[_pick(RemovedLine, x) for x in d.get("removed", [])],
                 signals=_pick(Signals, d.get("signals") or {}),
                 attribution=[_pick(Attribution, a) for a in d.get("attribution", [])])


def relation_from_dict(d: dict[str, Any]) -> Relation:
    return _pick(Relation, d)


def family_from_dict(d: dict[str, Any]) -> Family:
    return _pick(Family, d, members=[_pick(FamilyMember, m) for m in d.get("members", [])])


def story_from_dict(d: dict[str, Any]) -> Story:
    conflicts = [_pick(Conflict, c, values=[_pick(ConflictValue, v) for v in c.get("values", [])])
                 for c in d.get("conflicts", [])]
    return _pick(Story, d, facts=[_pick(Fact, x) for x in d.get("facts", [])],
                 conflicts=conflicts)


def result_from_dict(data: dict[str, Any]) -> Result:
    """A `Result` back from its result.json form (`Result.to_dict()`)."""
    return Result(
        [document_from_dict(d) for d in data.get("documents", [])],
        [relation_from_dict(r) for r in data.get("relations", [])],
        [family_from_dict(f) for f in data.get("families", [])],
        [story_from_dict(s) for s in data.get("stories", [])],
        [_pick(InputError, e) for e in data.get("errors", [])],
        data.get("stats", {}),
    )
