"""Provenance of a copy family: which member is the origin, who copied from whom, and why.

The origin is the member with the best evidence of being first, scored from:
- date: the strictly earliest dated member;
- attribution: a wire agency's dateline, a credit block ("Reporting by ..."), a byline;
- marks of rewriting: spinning and machine translation (`DocumentResult.signals`) count against;
- completeness: a copy truncated from another is not the origin; a longer clean text helps;
- the page around the text: a line crediting where it was taken from ("Source link",
  "Originally published at") counts against, as does a page that is mostly site boilerplate
  (a reprint on a spam site wraps the article in navigation, related posts and sidebars).
Every other member gets as parent the member it most likely copied from: the tree grows from
the origin along the strongest relations (Prim's algorithm), so a spun copy of a wrapped copy
hangs under the wrapped copy when their relation is stronger than its relation to the origin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from storytrace.model import Attribution, DocumentResult, Family, FamilyMember, Relation
from storytrace.trace.attribution import credited_roles, find_attribution
from storytrace.trace.outlets import WIRE_AGENCIES

# Evidence weights for choosing the origin. Not fitted (no labelled provenance data yet): set by
# judgement so that a date, when members have one, outweighs everything else; attribution and
# rewriting marks come next; text length only breaks near-ties.
DATE_WEIGHT = 4.0
WIRE_DATELINE_WEIGHT = 2.0
OTHER_DATELINE_WEIGHT = 1.0
CREDITS_WEIGHT = 1.0
BYLINE_WEIGHT = 1.0
REWRITE_WEIGHT = 3.0  # times max(spun, translated), each in 0..1
TRUNCATED_WEIGHT = 2.0
LENGTH_WEIGHT = 0.5  # times len / longest len
REPRINT_WEIGHT = 1.0  # the page names a source it was taken from
BOILERPLATE_WEIGHT = 0.5  # times the share of the page's characters removed as boilerplate

_AUTHOR_ROLES = {"reporting", "additional reporting", "writing", "written", "compiled"}
_OUTLET_PRIORITY = ("agency", "byline", "contributor", "source-link")


@dataclass(slots=True)
class _Evidence:
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)

    def add(self, points: float, reason: str) -> None:
        self.score += points
        self.reasons.append(reason)


def trace_family(
    family_id: str, members: list[DocumentResult], relations: list[Relation]
) -> Family:
    """Choose the family's origin, build its copy tree and name its outlet and authors.

    `members` are the family's documents in input order; `relations` the copy relations among
    them. Every decision carries human-readable `reasons`.
    """
    if not members:
        raise ValueError("a family needs at least one member")
    attributions = {d.id: d.attribution or find_attribution(d.clean_text) for d in members}
    if len(members) == 1:
        doc = members[0]
        reasons = ["the only document of its family"]
        reasons += _attribution_reasons(attributions[doc.id])
        outlet, authors = (
            _family_outlet(members, attributions),
            _family_authors(members, attributions),
        )
        return Family(
            id=family_id,
            origin=doc.id,
            members=[FamilyMember(doc.id, "origin", None, reasons)],
            outlet=outlet,
            authors=authors,
            reasons=reasons,
        )

    evidence = _origin_evidence(members, relations, attributions)
    order = {d.id: n for n, d in enumerate(members)}
    origin = max(members, key=lambda d: (evidence[d.id].score, -order[d.id])).id
    reasons = list(evidence[origin].reasons)
    runner_up = max(
        (d for d in members if d.id != origin), key=lambda d: (evidence[d.id].score, -order[d.id])
    )
    reasons.append(
        f"origin evidence {evidence[origin].score:.2f} against {evidence[runner_up.id].score:.2f} "
        f"for {runner_up.id}, the next best ({'; '.join(evidence[runner_up.id].reasons)})"
    )
    tree = _copy_tree(origin, members, relations, order)
    origin_first = sorted(members, key=lambda d: d.id != origin)  # stable: then input order
    outlet = _family_outlet(origin_first, attributions)
    authors = _family_authors(origin_first, attributions)
    family_members = []
    for doc in members:
        if doc.id == origin:
            family_members.append(FamilyMember(doc.id, "origin", None, reasons))
            continue
        parent, relation = tree[doc.id]
        member_reasons = []
        if relation is None:
            member_reasons.append(f"no copy relation found; attached to the origin {origin}")
            kind = "unknown"
        else:
            kind = relation.kind
            member_reasons.append(
                f"{kind} copy of {parent} (relation score {relation.score:.2f})"
                + ("" if parent == origin else f", which hangs under the origin {origin}")
            )
            member_reasons.extend(relation.evidence[:2])
        member_reasons.extend(
            r for r in evidence[doc.id].reasons if r.startswith(("spin", "transl", "trunc"))
        )
        family_members.append(FamilyMember(doc.id, kind, parent, member_reasons))
    return Family(
        id=family_id,
        origin=origin,
        members=family_members,
        outlet=outlet,
        authors=authors,
        reasons=reasons,
    )


def _origin_evidence(
    members: list[DocumentResult],
    relations: list[Relation],
    attributions: dict[str, list[Attribution]],
) -> dict[str, _Evidence]:
    evidence = {d.id: _Evidence() for d in members}
    dates = {d.id: _parse_date(d.date) for d in members}
    dated = {i: d for i, d in dates.items() if d is not None}
    if len(dated) >= 2:
        first = min(dated.values())
        earliest = [i for i, d in dated.items() if d == first]
        if len(earliest) == 1:
            later = sorted({d.isoformat() for i, d in dated.items() if i != earliest[0]})
            evidence[earliest[0]].add(
                DATE_WEIGHT, f"earliest date {first.isoformat()} (others: {', '.join(later)})"
            )
    for doc in members:
        ev = evidence[doc.id]
        for attribution in attributions[doc.id]:
            if attribution.kind == "agency":
                weight = (
                    WIRE_DATELINE_WEIGHT
                    if attribution.outlet in WIRE_AGENCIES
                    else OTHER_DATELINE_WEIGHT
                )
                ev.add(weight, f"agency dateline naming {attribution.outlet}: {attribution.text!r}")
                break
        for attribution in attributions[doc.id]:
            if attribution.kind == "reporting":
                ev.add(CREDITS_WEIGHT, f"credits: {attribution.text!r}")
                break
        for attribution in attributions[doc.id]:
            if attribution.kind == "byline":
                ev.add(BYLINE_WEIGHT, f"byline: {attribution.text!r}")
                break
        spun, translated = doc.signals.spun, doc.signals.translated
        if max(spun, translated) > 0:
            mark = "spin" if spun >= translated else "translation"
            ev.add(
                -REWRITE_WEIGHT * max(spun, translated), f"{mark} marks {max(spun, translated):.2f}"
            )
    for doc in members:
        reprint = next((a.text for a in attributions[doc.id] if a.kind == "source-link"), None)
        if reprint:
            evidence[doc.id].add(-REPRINT_WEIGHT, f"names a source it was taken from: {reprint!r}")
        removed = sum(len(line.text) for line in doc.removed)
        if removed:
            share = removed / (removed + len(doc.clean_text))
            evidence[doc.id].add(
                -BOILERPLATE_WEIGHT * share, f"{share:.0%} of the page is site boilerplate"
            )
    lengths = {d.id: len(d.clean_text) for d in members}
    longest = max(lengths.values()) or 1
    for doc in members:
        evidence[doc.id].add(
            LENGTH_WEIGHT * lengths[doc.id] / longest,
            f"clean text of {lengths[doc.id]:,} characters",
        )
    for relation in relations:
        if relation.kind != "truncated" or relation.a not in lengths or relation.b not in lengths:
            continue
        shorter, longer = sorted((relation.a, relation.b), key=lambda i: lengths[i])
        evidence[shorter].add(-TRUNCATED_WEIGHT, f"truncated: a shortened copy of {longer}")
    return evidence


def _copy_tree(
    origin: str,
    members: list[DocumentResult],
    relations: list[Relation],
    order: dict[str, int],
) -> dict[str, tuple[str, Relation | None]]:
    """Parent and relation of every non-origin member: a maximum spanning tree from the origin."""
    links: dict[str, list[tuple[str, Relation]]] = {d.id: [] for d in members}
    for relation in relations:
        if relation.a in links and relation.b in links:
            links[relation.a].append((relation.b, relation))
            links[relation.b].append((relation.a, relation))
    placed = {origin}
    tree: dict[str, tuple[str, Relation | None]] = {}
    while len(placed) < len(members):
        best: tuple[float, int, int, str, str, Relation] | None = None
        for parent in placed:
            for child, relation in links[parent]:
                if child in placed:
                    continue
                # strongest relation first; ties go to the origin, then to earlier documents
                key = (relation.score, parent == origin, -order[parent], child, parent, relation)
                if best is None or key[:3] > best[:3]:
                    best = key
        if best is None:
            for doc in members:
                if doc.id not in placed:
                    tree[doc.id] = (origin, None)
                    placed.add(doc.id)
            break
        child, parent, relation = best[3], best[4], best[5]
        tree[child] = (parent, relation)
        placed.add(child)
    return tree


def _family_outlet(
    members: list[DocumentResult], attributions: dict[str, list[Attribution]]
) -> str | None:
    """The original outlet a member's text names (dateline first); citations do not count."""
    for kind in _OUTLET_PRIORITY:
        for doc in members:
            for attribution in attributions[doc.id]:
                if attribution.kind == kind and attribution.outlet:
                    return attribution.outlet
    return None


def _family_authors(
    members: list[DocumentResult], attributions: dict[str, list[Attribution]]
) -> list[str]:
    """People credited with writing or reporting (editors are not authors)."""
    authors: list[str] = []
    for doc in members:
        for attribution in attributions[doc.id]:
            if attribution.kind in ("byline", "contributor"):
                authors.extend(attribution.people)
            elif attribution.kind == "reporting":
                for role, people in credited_roles(attribution.text):
                    if role in _AUTHOR_ROLES:
                        authors.extend(people)
    return list(dict.fromkeys(authors))


def _attribution_reasons(attributions: list[Attribution]) -> list[str]:
    return [f"{a.kind}: {a.text!r}" for a in attributions if a.kind != "cites"][:3]


def _parse_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None
