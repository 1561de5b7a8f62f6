"""A family's copy tree for the report: nested nodes for the HTML list, and a layered picture.

The picture is laid out here, in plain numbers, and drawn as inline SVG by the template, so the
report needs no JavaScript and the template's autoescaping covers every id and source in it.
The layout is the simple tidy one: depth is the layer (the origin on top), leaves take
consecutive slots from left to right, and a parent sits centred over its first and last child.
Edges then only join adjacent layers and never cross a node.
"""

from __future__ import annotations

import datetime
import math
import re
from dataclasses import dataclass, field

from storytrace.model import DocumentResult, Family, FamilyMember

# Picture geometry in CSS pixels. Labels are set in 11px monospace, about 6.6px a character, so a
# node is as wide as the family's longest label (at most NODE_LABEL_CHARS characters) plus
# padding. Nodes are never narrower than NODE_MIN_WIDTH: half a slot then holds a 10px edge label
# as long as "translated", so the labels of neighbouring edges do not run into each other.
NODE_LABEL_CHARS = 24
CHAR_WIDTH = 6.6
NODE_PADDING = 8
NODE_MIN_WIDTH = 104
NODE_HEIGHT = 26
# Between two neighbouring nodes of a layer, and between two layers (room for an edge label).
SLOT_GAP = 14
LAYER_GAP = 46
MARGIN = 8
# A wide picture shrinks to fit the page down to this share of its natural size and scrolls
# sideways beyond that: a star of 50 copies would otherwise shrink to unreadable.
MIN_SCALE = 0.6
ARROW_LENGTH = 7
ARROW_HALF_WIDTH = 3.5

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://(www\.)?", re.IGNORECASE)


@dataclass(slots=True)
class TreeNode:
    member: FamilyMember
    children: list[TreeNode] = field(default_factory=list)


@dataclass(slots=True)
class PictureNode:
    """A document box: `x`, `y` its top-left corner; `tooltip` the full id, source and kind."""

    id: str
    label: str
    tooltip: str
    kind: str
    x: int
    y: int
    origin: bool
    orphan: bool


@dataclass(slots=True)
class PictureEdge:
    """A copy link from a parent's bottom edge to its child's top edge, labelled with the kind."""

    parent: str
    child: str
    kind: str
    x1: int
    y1: int
    x2: int
    y2: int
    label_x: int
    label_y: int
    arrow: str  # the arrowhead's polygon points at the child's end


@dataclass(slots=True)
class TreePicture:
    width: int
    height: int
    min_width: int
    nodes: list[PictureNode]
    edges: list[PictureEdge]
    node_width: int
    node_height: int = NODE_HEIGHT


def copy_tree(family: Family) -> list[TreeNode]:
    """The copy tree: the origin at the root, each member under its parent (orphans at the root)."""
    nodes = {m.id: TreeNode(m) for m in family.members}
    roots: list[TreeNode] = []
    for member in family.members:
        parent = nodes.get(member.parent) if member.parent else None
        if parent is None or member.parent == member.id:
            roots.append(nodes[member.id])
        else:
            parent.children.append(nodes[member.id])
    roots.sort(key=lambda n: n.member.id != family.origin)
    return roots


def short_label(text: str, limit: int = NODE_LABEL_CHARS) -> str:
    """`text` in at most `limit` characters: a URL loses its scheme, a long one its middle.

    The middle goes rather than the end because ids tend to start with the outlet and end with
    what tells one article from the next (a slug, a number).
    """
    if len(text) > limit:
        text = _SCHEME.sub("", text)
    if len(text) <= limit:
        return text
    tail = (limit - 1) // 3
    return text[: limit - 1 - tail] + "…" + text[len(text) - tail :]


def _tooltip(member: FamilyMember, doc: DocumentResult | None) -> str:
    lines = [member.id]
    if doc is not None:
        lines.append(doc.source)
        if doc.title:
            lines.append(doc.title)
    if member.kind == "origin" or not member.parent:
        lines.append(member.kind)
    else:
        lines.append(f"{member.kind} copy of {member.parent}")
    return "\n".join(lines)


def layers(roots: list[TreeNode]) -> tuple[dict[str, float], dict[str, int]]:
    """Each member's slot (x, in node widths) and depth (y, in layers) in the tidy layout.

    Leaves take slots 0, 1, 2, ... in depth-first order, so a subtree fills a run of slots and
    never overlaps its neighbour's; a parent takes the middle of its first and last child.
    """
    slot_of: dict[str, float] = {}
    depth_of: dict[str, int] = {}
    next_leaf = 0

    def place(node: TreeNode, depth: int) -> None:
        nonlocal next_leaf
        depth_of[node.member.id] = depth
        children = [c for c in node.children if c.member.id not in depth_of]
        for child in children:
            place(child, depth + 1)
        if children:
            first, last = slot_of[children[0].member.id], slot_of[children[-1].member.id]
            slot_of[node.member.id] = (first + last) / 2
        else:
            slot_of[node.member.id] = next_leaf
            next_leaf += 1

    for root in roots:
        if root.member.id not in depth_of:
            place(root, 0)
    return slot_of, depth_of


def picture(
    family: Family,
    roots: list[TreeNode],
    docs: dict[str, DocumentResult],
    names: dict[str, str] | None = None,
) -> TreePicture | None:
    """Lay out the copy tree `roots` of `family` for drawing; None for a family of one document.

    Each box is labelled with `names[id]` (an outlet or a title) when given, else the id."""
    if len(family.members) < 2:
        return None
    slot_of, depth_of = layers(roots)
    names = names or {}
    labels = {m.id: short_label(names.get(m.id) or m.id) for m in family.members if m.id in depth_of}
    longest = max(len(label) for label in labels.values())
    node_width = max(NODE_MIN_WIDTH, math.ceil(longest * CHAR_WIDTH) + 2 * NODE_PADDING)

    def left(member_id: str) -> int:
        return round(MARGIN + slot_of[member_id] * (node_width + SLOT_GAP))

    def top(member_id: str) -> int:
        return MARGIN + depth_of[member_id] * (NODE_HEIGHT + LAYER_GAP)

    root_ids = {r.member.id for r in roots}
    placed = [m for m in family.members if m.id in depth_of]
    nodes = [
        PictureNode(
            id=m.id,
            label=labels[m.id],
            tooltip=_tooltip(m, docs.get(m.id)),
            kind=m.kind,
            x=left(m.id),
            y=top(m.id),
            origin=m.id == family.origin,
            orphan=m.id in root_ids and m.id != family.origin,
        )
        for m in placed
    ]
    edges = []
    for m in placed:
        if m.id in root_ids or m.parent is None:
            continue
        x1, y1 = left(m.parent) + node_width // 2, top(m.parent) + NODE_HEIGHT
        x2, y2 = left(m.id) + node_width // 2, top(m.id)
        edges.append(
            PictureEdge(
                parent=m.parent,
                child=m.id,
                kind=m.kind,
                x1=x1,
                y1=y1,
                x2=x2,
                y2=y2,
                label_x=(x1 + x2) // 2,
                label_y=(y1 + y2) // 2 + 3,  # a 10px label's baseline, to centre it on the line
                arrow=_arrowhead(x1, y1, x2, y2),
            )
        )
    leaves = 1 + max(slot_of.values())
    width = round(2 * MARGIN + leaves * (node_width + SLOT_GAP) - SLOT_GAP)
    height = 2 * MARGIN + (1 + max(depth_of.values())) * (NODE_HEIGHT + LAYER_GAP) - LAYER_GAP
    return TreePicture(width, height, math.ceil(width * MIN_SCALE), nodes, edges, node_width)


def _arrowhead(x1: int, y1: int, x2: int, y2: int) -> str:
    length = math.hypot(x2 - x1, y2 - y1) or 1.0
    ux, uy = (x2 - x1) / length, (y2 - y1) / length
    bx, by = x2 - ux * ARROW_LENGTH, y2 - uy * ARROW_LENGTH
    px, py = -uy * ARROW_HALF_WIDTH, ux * ARROW_HALF_WIDTH
    points = [(x2, y2), (bx + px, by + py), (bx - px, by - py)]
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


# The story timeline: one row per family, a dot per document at its date (or at its place in
# the input when the story has no dates), drawn as inline SVG like the copy tree.
TIMELINE_WIDTH = 720
TIMELINE_LABEL_WIDTH = 190
TIMELINE_ROW = 26
TIMELINE_AXIS = 30
TIMELINE_MIN_WIDTH = 480  # below this the picture scrolls sideways instead of shrinking
TIMELINE_LABEL_CHARS = 28
DOT_RADIUS = 6


@dataclass(slots=True)
class TimelineDot:
    id: str
    x: int
    y: int
    kind: str
    tooltip: str


@dataclass(slots=True)
class TimelineRow:
    family: str
    label: str
    y: int


@dataclass(slots=True)
class TimelinePicture:
    width: int
    height: int
    min_width: int
    rows: list[TimelineRow]
    dots: list[TimelineDot]
    ticks: list[tuple[int, str]]  # (x, label) along the axis
    dated: bool
    axis_y: int
    plot_left: int
    plot_right: int


def _day(date: str | None) -> int | None:
    if not date:
        return None
    try:
        return datetime.date.fromisoformat(date[:10]).toordinal()
    except ValueError:
        return None


def timeline_picture(
    families: list[Family],
    docs: dict[str, DocumentResult],
    kinds: dict[str, str],
    labels: dict[str, str],
    names: dict[str, str],
) -> TimelinePicture | None:
    """Lay out a story's timeline: `families` in the story, `kinds` each document's badge class,
    `labels` each family's row label, `names` each document's readable name."""
    rows_docs = [[m.id for m in f.members if m.id in docs] for f in families]
    ids = [i for row in rows_docs for i in row]
    if not ids:
        return None
    days = {i: _day(docs[i].date) for i in ids}
    known = [d for d in days.values() if d is not None]
    dated = bool(known)
    left, right = TIMELINE_LABEL_WIDTH, TIMELINE_WIDTH - 20
    undated_x = right
    if dated and any(d is None for d in days.values()):
        right -= 60  # a column for the undated, apart from the dated
    order = {i: n for n, i in enumerate(ids)}

    def x_of(doc_id: str) -> int:
        if not dated:
            return round(left + (right - left) * (order[doc_id] + 0.5) / len(ids))
        day = days[doc_id]
        if day is None:
            return undated_x
        low, high = min(known), max(known)
        if high == low:
            return (left + right) // 2
        return round(left + (right - left) * (day - low) / (high - low))

    # Rows in order of each family's earliest document.
    ranked = sorted(
        range(len(families)),
        key=lambda n: min((days[i] for i in rows_docs[n] if days[i] is not None), default=10**9),
    )
    rows, dots = [], []
    for slot, n in enumerate(ranked):
        y = 14 + slot * TIMELINE_ROW
        family = families[n]
        rows.append(TimelineRow(family.id, short_label(labels.get(family.id, family.id),
                                                       TIMELINE_LABEL_CHARS), y))
        taken: list[int] = []
        for doc_id in rows_docs[n]:
            x = x_of(doc_id)
            while any(abs(x - t) < 2 * DOT_RADIUS for t in taken):
                x += 2 * DOT_RADIUS  # same day, same family: side by side
            taken.append(x)
            doc = docs[doc_id]
            tip = f"{names.get(doc_id, doc_id)}\n{doc.date or 'no date'} · {kinds.get(doc_id, '')}"
            dots.append(TimelineDot(doc_id, x, y, kinds.get(doc_id, "none"), tip))
    axis_y = 14 + len(rows) * TIMELINE_ROW - TIMELINE_ROW // 2 + 6
    ticks: list[tuple[int, str]] = []
    if dated:
        low, high = min(known), max(known)
        for day in sorted({low, high}):
            ticks.append((x_of_day(day, low, high, left, right), str(datetime.date.fromordinal(day))))
        if any(d is None for d in days.values()):
            ticks.append((undated_x, "no date"))
    else:
        ticks = [(left, "first in input"), (right, "last")]
    height = axis_y + TIMELINE_AXIS
    return TimelinePicture(TIMELINE_WIDTH, height, TIMELINE_MIN_WIDTH, rows, dots, ticks, dated,
                           axis_y, left, right)


def x_of_day(day: int, low: int, high: int, left: int, right: int) -> int:
    if high == low:
        return (left + right) // 2
    return round(left + (right - left) * (day - low) / (high - low))
