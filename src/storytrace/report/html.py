"""The HTML report: one self-contained file a person can open to see what storytrace found.

It opens on an overview: the stories ranked by documents, copies, outlets and conflicts, the
stories whose sources disagree linked on the first screen, and filters (words, copy kind,
outlet, conflicts, dates). Then each story: where its sources disagree, a timeline drawn as a
picture, its families and how they relate, its facts in plain language, and each family's copy
tree (drawn, and as a list) with a word-level diff of every copy against its source. Pages with
no article text are one collapsed list. Documents are named by outlet and title (views.py).
Everything from the documents is untrusted scraped text, so the templates autoescape all of it;
the only markup is ours. CSS and JS are inlined: the file works offline and without JS.
The served pages (storytrace.service) use the same `Report` and templates.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AnyStr

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from rapidfuzz.distance import Indel

from storytrace.model import DocumentResult, Family, FamilyMember, Relation, Result, Story
from storytrace.report.tree import copy_tree, picture, short_label, timeline_picture
from storytrace.report.views import (
    badge,
    copy_kind,
    has_text,
    name_of,
    outlet_of,
    plain_value,
    ranked,
    summarize,
    summary_row,
    title_of,
)

# A copy's diff is computed over at most this many words per side: difflib is quadratic in the
# worst case, and past a few thousand words a reader scrolls rather than compares. At 4,000
# words a pair of ~700-word news texts diffs in a few milliseconds (measured on the demo corpus).
DIFF_MAX_WORDS = 4000
# Clean texts longer than this many characters are folded closed in the report, to keep a page
# of ~1,000 documents readable; shorter ones are shown open.
FOLD_TEXT_CHARS = 1200
# Two paragraphs are paired for a word diff when their word-level similarity reaches this
# ratio; below it they are shown as one deleted and one inserted paragraph. 0.3 pairs a spun
# paragraph (about half its words changed) with its source and leaves unrelated ones apart.
PARAGRAPH_PAIR_RATIO = 0.3
# A report of a big corpus must still open in a browser: the demo's pages take about 10 KB of
# HTML per document (Multi-News dev: 2.8 MB for 291 documents), so 20,000 documents would make
# 200 MB. Only this many stories are drawn in full (the largest, by documents); the rest are
# listed a line each, and the relations table stops after MAX_RELATIONS rows. result.json and
# the Parquet tables always hold everything.
MAX_STORIES = 500
MAX_RELATIONS = 2000

_WORD = re.compile(r"\S+\s*")


@dataclass(slots=True)
class Segment:
    """A run of words in a diff: `op` is "equal", "del" (only in the parent) or "ins"."""

    op: str
    text: str


@dataclass(slots=True)
class DiffRow:
    """One aligned paragraph pair: parent side and copy side (either may be empty)."""

    left: list[Segment]
    right: list[Segment]


@dataclass(slots=True)
class CopyDiff:
    child: str
    parent: str
    kind: str
    rows: list[DiffRow]
    inserted: int = 0
    deleted: int = 0
    truncated: bool = False


def _words(text: str) -> list[str]:
    return _WORD.findall(text)


def word_diff(parent: str, child: str) -> tuple[list[Segment], list[Segment]]:
    """Word-level diff of two paragraphs: (parent side with deletions, child side with insertions)."""
    a, b = _words(parent), _words(child)
    matcher = difflib.SequenceMatcher(
        None, [w.strip() for w in a], [w.strip() for w in b], autojunk=False
    )
    left: list[Segment] = []
    right: list[Segment] = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            left.append(Segment("equal", "".join(a[i1:i2])))
            right.append(Segment("equal", "".join(b[j1:j2])))
            continue
        if i2 > i1:
            left.append(Segment("del", "".join(a[i1:i2])))
        if j2 > j1:
            right.append(Segment("ins", "".join(b[j1:j2])))
    return left, right


def _similarity(a: str, b: str) -> float:
    """Share of words two paragraphs have in common, in order (difflib's ratio, computed fast)."""
    return Indel.normalized_similarity(a.lower().split(), b.lower().split())


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.split("\n") if p.strip()]


def _cap_words(paragraphs: list[str], limit: int) -> tuple[list[str], bool]:
    kept, total = [], 0
    for para in paragraphs:
        n = len(para.split())
        if total + n > limit:
            return kept, True
        kept.append(para)
        total += n
    return kept, False


def compare(parent_text: str, child_text: str) -> tuple[list[DiffRow], bool]:
    """Align the paragraphs of a copy with its parent's, then diff each aligned pair by words.

    Paragraphs are first matched exactly (difflib over the paragraph lists); inside a changed
    block each copy paragraph is paired, in order, with the next parent paragraph that is similar
    enough, so a spun or edited paragraph is shown word by word next to its source.
    Returns the rows and whether the texts were cut to `DIFF_MAX_WORDS`.
    """
    pa, cut_a = _cap_words(_paragraphs(parent_text), DIFF_MAX_WORDS)
    pb, cut_b = _cap_words(_paragraphs(child_text), DIFF_MAX_WORDS)
    rows: list[DiffRow] = []
    key = [" ".join(p.split()).lower() for p in pa], [" ".join(p.split()).lower() for p in pb]
    matcher = difflib.SequenceMatcher(None, key[0], key[1], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            rows.extend(
                DiffRow([Segment("equal", p)], [Segment("equal", q)])
                for p, q in zip(pa[i1:i2], pb[j1:j2], strict=True)
            )
            continue
        i = i1
        for q in pb[j1:j2]:
            best, best_ratio = None, PARAGRAPH_PAIR_RATIO
            for k in range(i, min(i2, i + 6)):  # look a few paragraphs ahead, keeping order
                ratio = _similarity(pa[k], q)
                if ratio >= best_ratio:
                    best, best_ratio = k, ratio
            if best is None:
                rows.append(DiffRow([], [Segment("ins", q)]))
                continue
            rows.extend(DiffRow([Segment("del", p)], []) for p in pa[i:best])
            left, right = word_diff(pa[best], q)
            rows.append(DiffRow(left, right))
            i = best + 1
        rows.extend(DiffRow([Segment("del", p)], []) for p in pa[i:i2])
    return rows, cut_a or cut_b


def _copy_diff(member: FamilyMember, docs: dict[str, DocumentResult]) -> CopyDiff | None:
    if member.parent is None or member.parent not in docs or member.id not in docs:
        return None
    rows, truncated = compare(docs[member.parent].clean_text, docs[member.id].clean_text)
    diff = CopyDiff(member.id, member.parent, member.kind, rows, truncated=truncated)
    for row in rows:
        diff.deleted += sum(len(s.text.split()) for s in row.left if s.op == "del")
        diff.inserted += sum(len(s.text.split()) for s in row.right if s.op == "ins")
    return diff


def _format_stat(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("storytrace.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["stat"] = _format_stat
    env.filters["pct"] = lambda x: f"{max(0.0, min(1.0, float(x or 0))) * 100:.0f}"
    env.filters["plain"] = lambda fact: plain_value(fact.kind, fact.value, fact.text)
    env.filters["plain_cv"] = lambda value, kind: plain_value(kind, value.value, value.text)
    return env


_ENV: Environment | None = None


def environment() -> Environment:
    """The report's jinja2 environment (templates in report/templates), built once."""
    global _ENV
    if _ENV is None:
        _ENV = _environment()
    return _ENV


class Links:
    """Where the report's links point. The static report is one page of anchors; the served
    report (`storytrace.service`) overrides these with one page per story and document."""

    def __init__(self, docs: dict[str, DocumentResult]) -> None:
        self.docs = docs

    def story(self, story_id: str) -> str:
        return f"#story-{story_id}"

    def doc(self, doc_id: str) -> str:
        return f"#doc-{doc_id}"

    def family(self, family_id: str) -> str:
        return f"#family-{family_id}"

    def compare(self, a: str, b: str) -> str | None:
        return None  # the static report shows each copy's comparison inside its family

    def section(self, name: str) -> str:
        return f"#{name}"


class Report:
    """Everything the templates need about one Result, computed once: names, badges, the ranked
    overview, and per-story views built on demand (a served page draws one story)."""

    def __init__(self, result: Result, links: Links | None = None) -> None:
        self.result = result
        self.docs = {d.id: d for d in result.documents}
        self.families = {f.id: f for f in result.families}
        self.stories = {s.id: s for s in result.stories}
        self.member_of = {m.id: m for f in result.families for m in f.members}
        self.links = links or Links(self.docs)
        self.names = {d.id: name_of(d) for d in result.documents}
        self.outlets = {d.id: outlet_of(d) for d in result.documents}
        self.badges = {
            d.id: badge(self.member_of.get(d.id), self.families.get(d.family), d)
            for d in result.documents
        }
        self.kinds = {
            d.id: copy_kind(self.member_of.get(d.id), self.families.get(d.family), d)
            for d in result.documents
        }
        self.overview, self.empty = summarize(result)
        self.summary_of = {row.story.id: row for row in self.overview}
        self.all_outlets = sorted({o for o in self.outlets.values() if o}, key=str.lower)
        self.all_kinds = sorted({k for k in self.kinds.values() if k not in ("origin", "none")})

    def update(self, part: Result, story_ids: Iterable[str]) -> None:
        """Bring the views of some stories up to date, keeping every other view as it was (a
        served index after an add: the cost is what those stories hold, not a rebuild of the
        whole report). `part` holds those of `story_ids` still in the index, with their
        families, documents and every relation of those documents (`Index.export_stories`);
        the stories of `story_ids` not in it are gone. Documents keep their places (new ones
        last, as the newest input) and stories are ordered as the index orders them."""
        changed = set(story_ids)
        kept_stories = {s.id: s for s in part.stories}
        old_families = {f for i in changed if i in self.stories for f in self.stories[i].families}
        new_families = {f.id: f for f in part.families}
        for family_id in old_families - new_families.keys():
            gone = self.families.pop(family_id, None)
            for m in gone.members if gone is not None else ():
                self.member_of.pop(m.id, None)
        self.families.update(new_families)
        self.member_of.update((m.id, m) for f in part.families for m in f.members)
        touched = {d.id for d in part.documents}
        for doc in part.documents:
            self.docs[doc.id] = doc
        # stories in the index's order: by the input place of their families' first members
        position = {doc_id: n for n, doc_id in enumerate(self.docs)}
        stories = {i: s for i, s in self.stories.items() if i not in changed} | kept_stories
        self.stories = dict(sorted(stories.items(), key=lambda kv: min(
            (position[self.families[f].members[0].id] for f in kv[1].families
             if f in self.families), default=len(position))))
        for doc in part.documents:
            self.names[doc.id], self.outlets[doc.id] = name_of(doc), outlet_of(doc)
            member, family = self.member_of.get(doc.id), self.families.get(doc.family)
            self.badges[doc.id] = badge(member, family, doc)
            self.kinds[doc.id] = copy_kind(member, family, doc)
        relations = [r for r in self.result.relations if r.a not in touched
                     and r.b not in touched] + part.relations
        place = {story_id: n for n, story_id in enumerate(self.stories)}
        rows = [row for row in self.overview if row.story.id not in changed]
        for row in rows:
            row.index = place[row.story.id]
        for story in part.stories:
            row = summary_row(story, place[story.id], self.docs, self.member_of, self.families)
            if row is not None:
                rows.append(row)
        self.overview = ranked(rows)
        self.summary_of = {row.story.id: row for row in self.overview}
        self.empty = [d for d in self.empty if d.id not in touched] + [
            d for d in part.documents if not has_text(d)]
        self.all_outlets = sorted({o for o in self.outlets.values() if o}, key=str.lower)
        self.all_kinds = sorted({k for k in self.kinds.values() if k not in ("origin", "none")})
        stats = dict(self.result.stats)
        counts = {"documents": len(self.docs), "families": len(self.families),
                  "stories": len(self.stories), "relations": len(relations)}
        stats.update({k: v for k, v in counts.items() if k in stats})
        self.result = Result(list(self.docs.values()), relations, list(self.families.values()),
                             list(self.stories.values()), self.result.errors, stats)

    def source_names(self, doc_ids: list[str]) -> list[tuple[str, str]]:
        """(first document id, short name) for a fact's documents: the outlet when known, a
        name shared by several documents once with their count ("Reuters ×2")."""
        grouped: dict[str, list[str]] = {}
        for doc_id in doc_ids:
            grouped.setdefault(self.short_name(doc_id), []).append(doc_id)
        return [(ids[0], name if len(ids) == 1 else f"{name} ×{len(ids)}")
                for name, ids in grouped.items()]

    def short_name(self, doc_id: str) -> str:
        """A document's name for a small box: its outlet, else its title, shortened."""
        doc = self.docs.get(doc_id)
        if doc is None:
            return doc_id
        return self.outlets[doc_id] or short_label(title_of(doc), 40)

    def family_view(self, family: Family) -> dict[str, Any]:
        names = {m.id: self.short_name(m.id) for m in family.members}
        counts = Counter(names.values())
        for m in family.members:  # two boxes both called "Reuters": name them by title
            if counts[names[m.id]] > 1 and m.id in self.docs:
                names[m.id] = short_label(title_of(self.docs[m.id]), 40)
        return _family_view(family, self.docs, names)

    def family_label(self, family: Family) -> str:
        origin = self.docs.get(family.origin)
        if origin is None:
            return family.id
        return family.outlet or self.outlets[family.origin] or title_of(origin)

    def story_view(self, story: Story) -> dict[str, Any]:
        docs = self.docs
        story_families = [self.families[f] for f in story.families if f in self.families]
        timeline, dated = _timeline(story, docs)
        conflict_keys = {(c.about, c.kind) for c in story.conflicts}
        conflict_values = {(c.kind, v.value) for c in story.conflicts for v in c.values}
        inside = set(story.documents)
        reuse = [
            r for r in self.result.relations
            if r.a in inside and r.b in inside and docs[r.a].family != docs[r.b].family
        ]  # fmt: skip
        kinds = {i: self.badges[i].css for i in inside if i in self.badges}
        picture = timeline_picture(
            story_families,
            docs,
            kinds,
            {f.id: self.family_label(f) for f in story_families},
            self.names,
        )
        return {
            "story": story,
            "summary": self.summary_of.get(story.id),
            "timeline": timeline,
            "timeline_picture": picture,
            "dated": dated,
            "families": [self.family_view(f) for f in story_families],
            "relate": self.family_relations(story, story_families, reuse),
            "conflict_keys": conflict_keys,
            "conflict_values": conflict_values,
            "reuse": reuse,
        }

    def family_relations(
        self, story: Story, families: list[Family], reuse: list[Relation]
    ) -> list[dict[str, Any]]:
        """How the families of a story relate, one line per pair that shares anything: passages
        one reuses from the other, facts they both state, values they disagree on."""
        if len(families) < 2:
            return []
        family_of = {m.id: f.id for f in families for m in f.members}
        pairs: dict[tuple[str, str], dict[str, list[str]]] = {}

        def note(a: str, b: str, what: str, text: str) -> None:
            if a == b:
                return
            key = (a, b) if a < b else (b, a)
            pairs.setdefault(key, {"reuse": [], "agree": [], "disagree": []})[what].append(text)

        for r in reuse:
            if r.a in family_of and r.b in family_of:
                note(family_of[r.a], family_of[r.b], "reuse", r.kind)
        for fact in story.facts:
            stating = sorted({family_of[d] for d in fact.documents if d in family_of})
            for n, a in enumerate(stating):
                for b in stating[n + 1 :]:
                    note(a, b, "agree", plain_value(fact.kind, fact.value, fact.text))
        for conflict in story.conflicts:
            for n, v in enumerate(conflict.values):
                for w in conflict.values[n + 1 :]:
                    for a in {family_of[d] for d in v.documents if d in family_of}:
                        for b in {family_of[d] for d in w.documents if d in family_of}:
                            note(a, b, "disagree", f"{conflict.about} ({conflict.kind})")
        rows = []
        for (a, b), how in sorted(pairs.items()):
            rows.append(
                {
                    "a": self.families[a],
                    "b": self.families[b],
                    "reuse": sorted(set(how["reuse"])),
                    "agree": list(dict.fromkeys(how["agree"])),
                    "disagree": list(dict.fromkeys(how["disagree"])),
                }
            )
        rows.sort(key=lambda r: (-len(r["disagree"]), -len(r["reuse"]), -len(r["agree"])))
        return rows

    def context(self, **extra: Any) -> dict[str, Any]:
        return {
            "result": self.result,
            "r": self,
            "links": self.links,
            "docs": self.docs,
            "member_of": self.member_of,
            "stats": self.result.stats,
            "fold_chars": FOLD_TEXT_CHARS,
            **extra,
        }


def _timeline(story: Story, docs: dict[str, DocumentResult]) -> tuple[list[DocumentResult], bool]:
    """The story's documents by date when any has one (undated last), else in input order."""
    members = [docs[i] for i in story.documents if i in docs]
    dated = any(d.date for d in members)
    if dated:
        members = sorted(members, key=lambda d: (d.date is None, d.date or ""))
    return members, dated


def render_html(
    result: Result, max_stories: int = MAX_STORIES, max_relations: int = MAX_RELATIONS
) -> str:
    """The report as one HTML string (see `write_html`)."""
    report = html_report(result, max_stories)
    sections = story_sections(report, drawn_stories(report))
    return fill_page(page_html(report, max_relations, len(sections)), sections)


def html_report(result: Result, max_stories: int = MAX_STORIES) -> Report:
    """The `Report` the static page draws, its overview rows marked drawn (the first
    `max_stories`) or listed a line each."""
    report = Report(result)
    drawn_ids = {s.id for s in _shown_stories([row.story for row in report.overview], max_stories)[0]}
    for row in report.overview:
        row.drawn = row.story.id in drawn_ids
    return report


def drawn_stories(report: Report) -> list[Story]:
    """The stories the page draws in full, in the page's order (`html_report` marked them)."""
    return [row.story for row in report.overview if row.drawn]


def story_sections(report: Report, stories: list[Story]) -> list[str]:
    """Each story's section of the page, as the page's template draws it: the parts of a
    page that take most of its time (a story's diffs and its macro), and independent of each
    other, so they can be drawn in any process that holds `report` (report/write.py)."""
    macros = environment().get_template("macros.html.j2").make_module(report.context())
    return [str(macros.story(report.story_view(story))) for story in stories]


# Where `page_html` leaves each story's section for `fill_page`: a comment, which no text from
# the documents can be (the templates escape every "<" of theirs).
_SECTION = "<!--storytrace:story-section-->"


def page_html(report: Report, max_relations: int = MAX_RELATIONS, sections: int = 0) -> str:
    """The page around the stories' sections: `sections` places left for `fill_page`."""
    result = report.result
    placed = {f for story in result.stories for f in story.families}
    empty_ids = {d.id for d in report.empty}
    loose = [
        report.family_view(f)
        for f in result.families
        if f.id not in placed and not all(m.id in empty_ids for m in f.members)
    ]
    in_family = {m.id for f in result.families for m in f.members}
    unplaced_docs = [d for d in result.documents if d.id not in in_family and d.id not in empty_ids]
    return (
        environment()
        .get_template("report.html.j2")
        .render(
            report.context(
                stories=[Markup(_SECTION)] * sections,
                more_stories=[row.story for row in report.overview if not row.drawn],
                relations=result.relations[:max_relations],
                loose_families=loose,
                unplaced_docs=unplaced_docs,
            )
        )
    )


def fill_page(page: AnyStr, sections: list[AnyStr]) -> AnyStr:
    """`page_html`'s page with each story's section in its place."""
    return page[:0].join(page_pieces(page, sections))


def page_pieces(page: AnyStr, sections: list[AnyStr]) -> list[AnyStr]:
    """The pieces of `fill_page`'s page, in order: text, or all of them encoded as UTF-8 (a
    writer writes them one after the other, without joining ~80 MB at 5,000 documents)."""
    parts = page.split(_SECTION if isinstance(page, str) else _SECTION.encode())
    if len(parts) != len(sections) + 1:
        raise ValueError(f"the page has {len(parts) - 1} story places for {len(sections)} stories")
    return [part for pair in zip(parts, [*sections, page[:0]], strict=True) for part in pair]


def _shown_stories(stories: list[Story], limit: int) -> tuple[list[Story], list[Story]]:
    """(stories drawn in full, stories listed a line each): the first `limit` of `stories`
    (already ranked), each list in the order given."""
    return list(stories[:limit]), list(stories[limit:])


def _family_view(
    family: Family, docs: dict[str, DocumentResult], names: dict[str, str] | None = None
) -> dict[str, Any]:
    diffs = [d for m in family.members if m.kind != "origin" and (d := _copy_diff(m, docs))]
    tree = copy_tree(family)
    return {
        "family": family,
        "tree": tree,
        "picture": picture(family, tree, docs, names),
        "members": [docs[m.id] for m in family.members if m.id in docs],
        "diffs": diffs,
    }


def write_html(
    result: Result, path: Path, max_stories: int = MAX_STORIES, max_relations: int = MAX_RELATIONS
) -> None:
    """Write the self-contained HTML report (inline CSS/JS, no network) for `result` to `path`.

    The `max_stories` largest stories are drawn in full, the others listed a line each; the
    relations table shows the first `max_relations` relations.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(render_html(result, max_stories, max_relations), encoding="utf-8")
    tmp.replace(path)  # a reader never sees a half-written report
