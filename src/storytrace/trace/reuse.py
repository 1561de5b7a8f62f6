"""Partial reuse of a cited outlet's report.

A text that says where its material came from ("a Mexican official told the Reuters news
agency") and shares reworded sentences with that outlet's own report in the corpus has taken
them from it. The match stage alone cannot call this reuse: one or two reworded sentences in
common are also what independent reports of one event share (the same facts told the same
way), so it asks for more before it links two texts. The citation is a second, independent
piece of evidence, and with it a single shared sentence is enough.

Only sentences outside quotation marks count: a quotation shared by two reports shows that both
quote the same person, not that one copied the other. And both texts must be in one story (run
this after story clustering): on the Multi-News dev half, without that condition, five links
joined CNN pages of different stories through a leftover video widget line ("JUST WATCHED …
Replay More Videos") that reads alike on every CNN page.
"""

from __future__ import annotations

from storytrace.match.align import align
from storytrace.model import DocumentResult, Family, Relation

# An aligned sentence pair counts as reused when its word similarity reaches this (the aligner
# pairs sentences from 0.5 up), when both sentences are this long (a short sentence such as
# "Blinken arrived on Friday." is shared by chance), and when less than this share of either is
# inside quotation marks.
MIN_SIMILARITY = 0.6
MIN_WORDS = 10
MAX_QUOTED = 0.5


def cited_reuse(
    documents: list[DocumentResult], families: list[Family], relations: list[Relation]
) -> list[Relation]:
    """`partial` relations from each document that cites an outlet to that outlet's report.

    For a document citing outlet O ("cites" attribution) and each family of another outlet-O
    report in the same story, the member sharing the most reused sentences with it (see the
    constants above) is linked, unless the two are already related. Documents must carry their
    `story` (documents without one are compared with every outlet-O report). Relations come in
    input order of their `a`.
    """
    position = {doc.id: n for n, doc in enumerate(documents)}
    by_id = {doc.id: doc for doc in documents}
    related = {frozenset((r.a, r.b)) for r in relations}
    # Families by (outlet, story of a member), and by (outlet, "") for documents without a story.
    candidates: dict[tuple[str, str], list[Family]] = {}
    for family in families:
        if family.outlet:
            for story in {"", *(by_id[m.id].story for m in family.members)}:
                candidates.setdefault((family.outlet, story), []).append(family)
    found: list[Relation] = []
    for doc in documents:
        citations = {a.outlet: a for a in doc.attribution if a.kind == "cites" and a.outlet}
        for outlet, citation in citations.items():
            for family in candidates.get((outlet, doc.story or ""), []):
                if family.id == doc.family:
                    continue
                best: tuple[list[tuple[float, str, str]], str] | None = None
                for member in family.members:
                    source = by_id[member.id]
                    if member.id == doc.id or frozenset((doc.id, member.id)) in related:
                        continue
                    if doc.story and source.story and doc.story != source.story:
                        continue
                    shared = _reused_sentences(doc.clean_text, source.clean_text)
                    if shared and (best is None or _rank(shared) > _rank(best[0])):
                        best = (shared, member.id)
                if best is None:
                    continue
                shared, source_id = best
                found.append(_relation(doc.id, source_id, position, outlet, citation.text, shared))
                related.add(frozenset((doc.id, source_id)))
    return sorted(found, key=lambda r: (position[r.a], position[r.b]))


def _reused_sentences(text: str, source: str) -> list[tuple[float, str, str]]:
    """(similarity, sentence of text, sentence of source) for each reused sentence pair."""
    al = align(text, source)
    out = []
    for i, j, similarity, _ in al.pairs:
        x, y = al.a[i], al.b[j]
        if (
            similarity >= MIN_SIMILARITY
            and min(x.n_words, y.n_words) >= MIN_WORDS
            and max(x.quoted, y.quoted) < MAX_QUOTED
        ):
            out.append((round(float(similarity), 3), x.text, y.text))
    return out


def _rank(shared: list[tuple[float, str, str]]) -> tuple[int, float]:
    return len(shared), max(s for s, _, _ in shared)


def _relation(
    citing: str,
    source: str,
    position: dict[str, int],
    outlet: str,
    citation: str,
    shared: list[tuple[float, str, str]],
) -> Relation:
    a, b = sorted((citing, source), key=position.__getitem__)
    best = max(shared)
    evidence = [
        f"{citing} cites {outlet}: “{_clip(citation, around=outlet)}”",
        (
            f"{len(shared)} of its sentences outside quotes are reworded from "
            f"{source} ({outlet}, best similarity {best[0]:.2f}): “{_clip(best[1])}” ~ “{_clip(best[2])}”"
        ),
    ]
    metrics = {
        "cited_outlet": outlet,
        "citing": citing,
        "reused_sentences": len(shared),
        "best_similarity": best[0],
    }
    return Relation(a, b, "partial", best[0], evidence, metrics)


def _clip(text: str, limit: int = 160, around: str | None = None) -> str:
    """`text` in at most `limit` characters, keeping the part around `around` when given."""
    text = " ".join(text.split()).strip(".… ")
    if len(text) <= limit:
        return text
    at = text.find(around) if around else -1
    start = 0 if at < 0 else max(0, min(at - limit // 2, len(text) - limit))
    clipped = text[start : start + limit].strip()
    return ("…" if start else "") + clipped + ("…" if start + limit < len(text) else "")
