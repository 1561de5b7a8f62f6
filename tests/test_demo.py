"""The bundled demo corpus gives what examples/README.md promises a user who runs `make demo`."""

import pytest
from conftest import REPO

import storytrace

CORPUS = REPO / "examples" / "corpus"


@pytest.fixture(scope="module")
def demo():
    return storytrace.analyze([CORPUS])


def _by_id(result):
    return {d.id[:2]: d for d in result.documents}


def _relation(result, x, y):
    for rel in result.relations:
        if {rel.a[:2], rel.b[:2]} == {x, y}:
            return rel
    return None


def test_six_documents_no_errors(demo):
    assert len(demo.documents) == 6
    assert demo.errors == []


def test_families_and_how_each_copy_was_made(demo):
    docs = _by_id(demo)
    families = {}
    for d in docs.values():
        families.setdefault(d.family, set()).add(d.id[:2])
    assert sorted(map(sorted, families.values())) == [["01", "03", "05"], ["02", "04"], ["06"]]

    members = {m.id[:2]: m for f in demo.families for m in f.members}
    assert members["01"].kind == "origin" and members["02"].kind == "origin"
    assert members["03"].kind in {"wrapped", "verbatim"} and members["03"].parent[:2] == "01"
    assert members["05"].kind == "translated" and members["05"].parent[:2] == "01"
    assert members["04"].kind == "spun" and members["04"].parent[:2] == "02"
    assert docs["04"].signals.spun >= 0.5 and docs["05"].signals.translated >= 0.5
    assert docs["01"].signals.spun < 0.5 and docs["02"].signals.spun < 0.5


def test_the_unrelated_article_stands_alone(demo):
    docs = _by_id(demo)
    assert all("06" not in {r.a[:2], r.b[:2]} for r in demo.relations)
    levee = {docs[k].story for k in ("01", "02", "03", "04", "05")}
    assert len(levee) == 1 and docs["06"].story not in levee
    assert len(demo.stories) == 2


def test_wrapper_lines_are_removed_and_the_page_is_reduced_to_its_article(demo):
    docs = _by_id(demo)
    wrapped = docs["03"]
    for junk in ("[ad_1]", "[ad_2]", "Source link", "Leave a Reply", "Skip to content",
                 "Related posts", "Recent Posts", "Leave a Comment"):
        assert junk not in wrapped.clean_text, junk
        assert any(junk in r.text for r in wrapped.removed), junk
    assert wrapped.clean_text.strip() == docs["01"].clean_text.strip()
    for junk in ("[ad_1]", "[ad_2]", "Source link"):
        assert junk not in docs["04"].clean_text
    page = docs["02"]
    assert page.title == "Eastmead under water: levee breach floods 410 homes"
    assert page.date == "2026-03-03"
    assert "Most read" not in page.clean_text and "Newsletter" not in page.clean_text


def test_origins_are_traced_to_their_bylines(demo):
    docs = _by_id(demo)
    northwire = [a for a in docs["01"].attribution if a.outlet == "Northwire"]
    assert northwire, docs["01"].attribution
    people = {p for a in docs["01"].attribution for p in a.people}
    assert "Jonas Adeyemi" in people


def _conflict_sides(story, *needles):
    """For the conflict whose values mention every needle: {needle: documents stating it}."""
    for conflict in story.conflicts:
        sides = {}
        for v in conflict.values:
            shown = f"{v.text or ''} {v.value}"
            for needle in needles:
                if needle in shown:
                    sides[needle] = {d[:2] for d in v.documents}
        if set(sides) == set(needles):
            return sides
    return None


def test_the_two_outlets_disagree_on_homes_and_on_the_repair_date(demo):
    docs = _by_id(demo)
    story = next(s for s in demo.stories if s.id == docs["01"].story)
    shown = [[f"{v.text} {v.value}" for v in c.values] for c in story.conflicts]
    homes = _conflict_sides(story, "340", "410")
    assert homes, shown
    assert {"01", "03"} <= homes["340"] and "02" in homes["410"]
    assert not homes["340"] & homes["410"]
    repair = _conflict_sides(story, "15", "30")
    assert repair, shown
    assert "01" in repair["15"] and "02" in repair["30"]
