"""The founding case, end to end: five scraped copies of one event (../shared/data/seeds)."""

import re

from conftest import DATA


def short(result):
    """Map "001" -> the seed's full document id."""
    return {d.id[:3]: d for d in result.documents}


def test_five_seeds_are_one_story(seeds_result):
    assert len(seeds_result.documents) == 5
    assert len(seeds_result.stories) == 1
    assert len(seeds_result.stories[0].documents) == 5
    assert seeds_result.errors == []


def test_reuters_copies_form_one_family_linked_as_translated(seeds_result):
    docs = short(seeds_result)
    assert docs["001"].family == docs["004"].family
    relation = seeds_result.relation(docs["001"].id, docs["004"].id)
    assert relation is not None and relation.kind == "translated"
    assert relation.evidence


def test_other_reports_are_families_of_their_own(seeds_result):
    docs = short(seeds_result)
    for n in ("000", "002", "003"):
        family = seeds_result.family_of(docs[n].id)
        assert [m.id for m in family.members] == [docs[n].id]
    assert len(seeds_result.families) == 4


def test_spin_signals(seeds_result):
    docs = short(seeds_result)
    assert docs["000"].signals.spun >= 0.5
    assert docs["003"].signals.spun >= 0.5
    assert docs["004"].signals.spun < 0.5


def test_boilerplate_is_gone_and_article_paragraphs_stay(seeds_result):
    docs = short(seeds_result)
    junk = ["[ad_1]", "[ad_2]", "Source link", "Source hyperlink", "Leave a Reply",
            "Leave a Comment", "Related posts", "Your email address will not be published",
            "Email Us", "Contact Us", "+1 718 874 1545", "Skip to main content",
            "Moss Spores Survive", "Megalodon VS T. Rex", "Apple Watch Series 7",
            "Copyrights ©", "Go to mobile version", "Filed Under", "Primary Sidebar"]
    for doc in docs.values():
        for marker in junk:
            assert marker not in doc.clean_text, (doc.id, marker)
        assert doc.removed, doc.id
    # Every article paragraph (a long line of prose in the scraped file) survives. A photo
    # caption is long prose too, but it is not the article: it must go, as an image credit.
    for doc in docs.values():
        raw = (DATA / "seeds" / f"{doc.id}.txt").read_text(encoding="utf-8")
        credits = {_norm(r.text.strip()) for r in doc.removed if r.reason == "image-credit"}
        for line in raw.splitlines():
            line = line.strip()
            if len(line.split()) < 25 or line.startswith("•"):
                continue
            if _PHOTO_CREDIT.search(line):
                assert _norm(line) in credits, (doc.id, "caption not removed as image credit")
            else:
                assert _norm(line) in _norm(doc.clean_text), (doc.id, line[:80])


# A wire photo caption ends with its credit: "Ian Langsdon / Pool via REUTERS".
_PHOTO_CREDIT = re.compile(r"(?:via|/)\s*(?:REUTERS|AP|AFP|Getty Images)\s*$")


def _norm(text):
    return re.sub(r"\s+", " ", text)


def _conflict_values(story, kind=None):
    found = []
    for conflict in story.conflicts:
        if kind is None or conflict.kind == kind:
            found.append((conflict.about, {v.value for v in conflict.values}, conflict))
    return found


def test_story_conflicts_on_merida_size_and_start(seeds_result):
    story = seeds_result.stories[0]
    docs = short(seeds_result)
    merida = [c for c in story.conflicts if "merida" in c.about.lower().replace("é", "e")]
    assert merida, [c.about for c in story.conflicts]
    money = [c for c in merida if c.kind == "money"]
    assert money, [(c.kind, [v.value for v in c.values]) for c in merida]
    by_docs = {frozenset(d[:3] for d in v.documents): v.value for c in money for v in c.values}
    values_for = {}
    for documents, value in by_docs.items():
        for d in documents:
            values_for.setdefault(d, set()).add(value)
    assert values_for["004"] != values_for["002"]  # $3.3 billion (Reuters) vs $3 billion
    assert any("3300000000" in v.replace(",", "") or "3.3" in v for v in values_for["004"])
    years = [c for c in merida if c.kind == "year"]
    assert years
    year_values = {v.value for c in years for v in c.values}
    assert {"2007", "2008"} <= year_values
    assert docs  # every value names the documents that state it
    for conflict in merida:
        for value in conflict.values:
            assert value.documents


def test_al_jazeera_002_partly_reuses_the_reuters_report_it_cites(seeds_result):
    docs = short(seeds_result)
    links = [
        r for r in seeds_result.relations
        if docs["002"].id in (r.a, r.b) and r.kind == "partial"
    ]  # fmt: skip
    assert len(links) == 1
    (link,) = links
    other = link.b if link.a == docs["002"].id else link.a
    assert other in (docs["001"].id, docs["004"].id)
    assert "Reuters" in link.evidence[0] and "news agency" in link.evidence[0]
    assert "heavy blow last October" in link.evidence[1]
    # Partial reuse does not make 002 a copy: it stays a family of its own.
    assert docs["002"].family != docs["001"].family
    # No other report is said to reuse Reuters: 000 and 003 do not cite it.
    assert all(
        not r.metrics.get("citing") or r.metrics["citing"] == docs["002"].id
        for r in seeds_result.relations
    )


def test_a_removed_source_link_still_says_the_page_is_a_reprint(seeds_result):
    docs = short(seeds_result)
    assert "Source link" not in docs["002"].clean_text
    assert "Source link" in [r.text for r in docs["002"].removed]
    assert [a.text for a in docs["002"].attribution if a.kind == "source-link"] == ["Source link"]
    # The Reuters copy on a spam site says so too, and still wins its family on the wire evidence.
    assert any(a.kind == "source-link" for a in docs["004"].attribution)
    assert seeds_result.family_of(docs["004"].id).origin == docs["004"].id
