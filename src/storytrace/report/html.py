"""The HTML report: one self-contained file a person can open to see what storytrace found.

Stories -> families -> documents, with each family's copy tree (drawn, and as a list), the facts
and their conflicts, per-document signals, attribution, clean text and removed boilerplate, and a
word-level diff of every copy against its parent. Everything from the documents is untrusted scraped text, so the
template autoescapes all of it; the only markup is ours. CSS and JS are inlined: the file works
offline and can be mailed around.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from rapidfuzz.distance import Indel

from storytrace.model import DocumentResult, Family, FamilyMember, Result, Story
from storytrace.report.tree import copy_tree, picture

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


def _timeline(story: Story, docs: dict[str, DocumentResult]) -> tuple[list[DocumentResult], bool]:
    """The story's documents by date when any has one (undated last), else in input order."""
    members = [docs[i] for i in story.documents if i in docs]
    dated = any(d.date for d in members)
    if dated:
        members = sorted(members, key=lambda d: (d.date is None, d.date or ""))
    return members, dated


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
    return env


def render_html(
    result: Result, max_stories: int = MAX_STORIES, max_relations: int = MAX_RELATIONS
) -> str:
    """The report as one HTML string (see `write_html`)."""
    docs = {d.id: d for d in result.documents}
    families = {f.id: f for f in result.families}
    member_of = {m.id: m for f in result.families for m in f.members}
    shown, more = _shown_stories(result.stories, max_stories)
    stories = []
    placed: set[str] = {f for story in more for f in story.families}
    for story in shown:
        timeline, dated = _timeline(story, docs)
        story_families = [families[f] for f in story.families if f in families]
        placed.update(f.id for f in story_families)
        conflict_keys = {(c.about, c.kind) for c in story.conflicts}
        conflict_values = {(c.kind, v.value) for c in story.conflicts for v in c.values}
        inside = set(story.documents)
        reuse = [
            r for r in result.relations
            if r.a in inside and r.b in inside and docs[r.a].family != docs[r.b].family
        ]  # fmt: skip
        stories.append(
            {
                "story": story,
                "timeline": timeline,
                "dated": dated,
                "families": [_family_view(f, docs) for f in story_families],
                "conflict_keys": conflict_keys,
                "conflict_values": conflict_values,
                "reuse": reuse,
            }
        )
    loose = [_family_view(f, docs) for f in result.families if f.id not in placed]
    in_family = {m.id for f in result.families for m in f.members}
    unplaced_docs = [d for d in result.documents if d.id not in in_family]
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            result=result,
            stories=stories,
            more_stories=more,
            relations=result.relations[:max_relations],
            loose_families=loose,
            unplaced_docs=unplaced_docs,
            member_of=member_of,
            docs=docs,
            stats=result.stats,
            fold_chars=FOLD_TEXT_CHARS,
        )
    )


def _shown_stories(stories: list[Story], limit: int) -> tuple[list[Story], list[Story]]:
    """(stories drawn in full, stories listed a line each): the `limit` stories with the most
    documents (then families; then input order) are drawn, each list in input order."""
    if len(stories) <= limit:
        return list(stories), []
    ranked = sorted(
        range(len(stories)),
        key=lambda n: (-len(stories[n].documents), -len(stories[n].families), n),
    )
    keep = set(ranked[:limit])
    return (
        [s for n, s in enumerate(stories) if n in keep],
        [s for n, s in enumerate(stories) if n not in keep],
    )


def _family_view(family: Family, docs: dict[str, DocumentResult]) -> dict[str, Any]:
    diffs = [d for m in family.members if m.kind != "origin" and (d := _copy_diff(m, docs))]
    tree = copy_tree(family)
    return {
        "family": family,
        "tree": tree,
        "picture": picture(family, tree, docs),
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
