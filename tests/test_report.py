"""The HTML report: one self-contained file that shows what storytrace found, safely escaped."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from storytrace.model import (
    Attribution,
    Conflict,
    ConflictValue,
    DocumentResult,
    Fact,
    Family,
    FamilyMember,
    InputError,
    Relation,
    RemovedLine,
    Result,
    Signals,
    Story,
)
from storytrace.report import write_html
from storytrace.report.export import read_json, write_json, write_parquet
from storytrace.report.html import compare, html_report, render_html
from storytrace.report.tree import NODE_LABEL_CHARS, copy_tree, layers, short_label
from storytrace.report.views import plain_value

WIRE = (
    "LAKEVILLE, March 3 (Northwire) - The Lakeville town council voted on Tuesday to close "
    "the old Harbour Street bridge after inspectors found deep cracks in two piers.\n"
    "The repairs will cost 4.2 million crowns, council officials said.\n"
    "Reporting by Mara Velden"
)
# The spun copy swaps "officials said" for "officers mentioned" and drops "old".
SPUN = (
    "LAKEVILLE, March 3 (Northwire) - The Lakeville town council voted on Tuesday to close "
    "the Harbour Street bridge after inspectors found deep cracks in two piers.\n"
    "The repairs will cost 4.2 million crowns, council officers mentioned.\n"
    "Reporting by Mara Velden"
)
LOCAL = (
    "The Harbour Street bridge will shut on March 5, the Lakeville Courier has learned.\n"
    "Repairs are put at 3.9 million crowns. <script>alert(1)</script>"
)
OTHER = "The Lakeville Lynx won the regional curling cup on Sunday, beating Fernmoor 7-4."


def _doc(doc_id: str, text: str, family: str, story: str, **extra) -> DocumentResult:
    return DocumentResult(
        id=doc_id,
        source=extra.pop("source", f"corpus/{doc_id}.txt"),
        title=extra.pop("title", None),
        clean_text=text,
        removed=extra.pop("removed", []),
        signals=extra.pop("signals", Signals()),
        family=family,
        story=story,
        attribution=extra.pop("attribution", []),
        **extra,
    )


@pytest.fixture()
def result() -> Result:
    documents = [
        _doc(
            "wire-1",
            WIRE,
            "F0001",
            "S0001",
            title="Lakeville closes Harbour Street bridge",
            date="2026-03-03",
            attribution=[
                Attribution("agency", "(Northwire)", outlet="Northwire"),
                Attribution("reporting", "Reporting by Mara Velden", people=["Mara Velden"]),
            ],
        ),
        _doc(
            "spam-2",
            SPUN,
            "F0001",
            "S0001",
            date="2026-03-04",
            signals=Signals(spun=0.8, evidence=["'officers mentioned' for 'officials said'"]),
            removed=[
                RemovedLine("[ad_1]", "wrapper-marker"),
                RemovedLine("Leave a Reply", "comment-prompt"),
            ],
        ),
        _doc("courier-3", LOCAL, "F0002", "S0001", title="Bridge to shut <b>Friday</b>"),
        _doc("sport-4", OTHER, "F0003", "S0002", title="Lynx take the curling cup"),
    ]
    families = [
        Family(
            "F0001",
            "wire-1",
            [
                FamilyMember("wire-1", "origin"),
                FamilyMember(
                    "spam-2",
                    "spun",
                    parent="wire-1",
                    reasons=["same sentences with synonyms swapped"],
                ),
            ],
            outlet="Northwire",
            authors=["Mara Velden"],
            reasons=["carries the agency dateline"],
        ),
        Family("F0002", "courier-3", [FamilyMember("courier-3", "origin")]),
        Family("F0003", "sport-4", [FamilyMember("sport-4", "origin")]),
    ]
    conflict = Conflict(
        "Harbour Street bridge repairs",
        "money",
        [
            ConflictValue("CROWNS 4200000", ["wire-1", "spam-2"], "4.2 million crowns"),
            ConflictValue("CROWNS 3900000", ["courier-3"], "3.9 million crowns"),
        ],
    )
    stories = [
        Story(
            "S0001",
            "Lakeville closes Harbour Street bridge",
            ["F0001", "F0002"],
            ["wire-1", "spam-2", "courier-3"],
            facts=[
                Fact(
                    "money",
                    "CROWNS 4200000",
                    "4.2 million crowns",
                    ["wire-1", "spam-2"],
                    about="Harbour Street bridge repairs",
                )
            ],
            conflicts=[conflict],
        ),
        Story("S0002", "Lynx take the curling cup", ["F0003"], ["sport-4"]),
    ]
    relations = [
        Relation(
            "wire-1",
            "spam-2",
            "spun",
            0.81,
            evidence=["3 of 3 sentences align, 2 with synonym swaps"],
            metrics={"coverage_a": 1.0},
        )
    ]
    errors = [InputError("corpus/broken.jsonl", "invalid JSON: Expecting value", record="7")]
    stats = {"documents": 4, "seconds": {"clean": 0.01}, "config": {"threshold": 0.5}}
    return Result(documents, relations, families, stories, errors, stats)


@pytest.fixture()
def html(result: Result, tmp_path: Path) -> str:
    path = tmp_path / "out" / "report.html"
    write_html(result, path)
    assert path.exists()
    return path.read_text(encoding="utf-8")


def test_report_is_one_self_contained_file(html: str) -> None:
    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert not re.search(r"<(script|img|iframe)[^>]*\bsrc=", html, re.IGNORECASE)
    assert not re.search(r"<link[^>]*rel=[\"']?stylesheet", html, re.IGNORECASE)
    assert not re.search(r"href=[\"']?https?://", html, re.IGNORECASE)
    assert "@import" not in html and "url(http" not in html
    assert "<style>" in html and "<script>" in html  # CSS and JS are inline


def test_scraped_text_is_escaped_never_run(html: str) -> None:
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>Friday</b>" not in html  # markup in a title is shown, not rendered
    assert html.count("<script>") == 1  # only the report's own filter script


def test_every_document_and_story_appears(result: Result, html: str) -> None:
    for doc in result.documents:
        assert f'id="doc-{doc.id}"' in html
    for story in result.stories:
        assert story.title in html
    assert "Mara Velden" in html and "Northwire" in html


def test_counts_stats_errors_and_relations_are_shown(html: str) -> None:
    assert "<b>4</b> documents" in html and "<b>2</b> stories" in html
    assert "<b>1</b> error</a>" in html
    assert "corpus/broken.jsonl" in html and "invalid JSON: Expecting value" in html
    assert "threshold" in html
    assert "3 of 3 sentences align, 2 with synonym swaps" in html


def test_conflicting_values_are_marked(html: str) -> None:
    for value in ("4.2 million crowns", "3.9 million crowns"):  # in words, not "CROWNS 4200000"
        assert f'<mark class="conflict-value">{value}</mark>' in html
    assert "CROWNS 4200000" not in html
    assert 'class="conflict"' in html


def test_removed_lines_are_struck_out_with_their_reason(html: str) -> None:
    assert re.search(r"<s>\[ad_1\]</s>\s*<span class=\"reason\">wrapper-marker</span>", html)
    assert re.search(r"<s>Leave a Reply</s>\s*<span class=\"reason\">comment-prompt</span>", html)


def test_copy_tree_puts_the_copy_under_its_origin(html: str) -> None:
    family = html[html.index('id="family-F0001"') : html.index('id="family-F0002"')]
    tree = family[family.index('<ul class="tree root">') :]  # the list, not the picture
    origin_at, nested_at, copy_at = (
        tree.index('href="#doc-wire-1"'),
        tree.index('<ul class="tree">'),
        tree.index('href="#doc-spam-2"'),
    )
    assert origin_at < nested_at < copy_at
    assert "same sentences with synonyms swapped" in tree


def test_diff_marks_inserted_and_deleted_words(html: str) -> None:
    assert "<del>old </del>" in html
    assert re.search(r"<del>officials said\.</del>", html)
    assert re.search(r"<ins>officers mentioned\.</ins>", html)


def test_compare_pairs_changed_paragraphs_and_keeps_extra_ones() -> None:
    rows, truncated = compare(
        "One two three.\nKept paragraph here.",
        "One two four.\nKept paragraph here.\nA brand new ending.",
    )
    assert not truncated
    first = rows[0]
    assert [s.op for s in first.left] == ["equal", "del"]
    assert [s.op for s in first.right] == ["equal", "ins"]
    assert rows[-1].left == [] and rows[-1].right[0].op == "ins"


def test_documents_are_on_the_timeline_by_date(html: str) -> None:
    timeline = html[html.index('class="timeline"') :]
    assert timeline.index("wire-1") < timeline.index("spam-2") < timeline.index("courier-3")


def test_an_empty_run_still_gives_a_report(tmp_path: Path) -> None:
    errors = [InputError("in/a.warc.gz", "not a WARC file")]
    path = tmp_path / "report.html"
    write_html(Result([], [], [], [], errors), path)
    html = path.read_text(encoding="utf-8")
    assert "<b>0</b> documents" in html and "not a WARC file" in html


def test_a_family_outside_any_story_is_still_shown(result: Result, tmp_path: Path) -> None:
    result.stories = result.stories[:1]  # the sport family is in no story now
    path = tmp_path / "report.html"
    write_html(result, path)
    html = path.read_text(encoding="utf-8")
    assert "Outside any story" in html and 'id="doc-sport-4"' in html


def _pictures(html: str) -> dict[str, ET.Element]:
    """Each family's copy-tree picture, parsed: the inline SVG is well-formed XML."""
    found = {}
    for match in re.finditer(r'id="family-([^"]+)".*?</article>', html, re.DOTALL):
        svg = re.search(r"<svg .*?</svg>", match.group(0), re.DOTALL)
        if svg:
            found[match.group(1)] = ET.fromstring(svg.group(0))
    return found


def _nodes(svg: ET.Element) -> dict[str, ET.Element]:
    return {a.get("data-id"): a for a in svg.iter("a") if "node" in a.get("class", "").split()}


def _edges(svg: ET.Element) -> dict[tuple[str, str], str]:
    """(parent, child) -> the kind written on the edge."""
    return {
        (g.get("data-parent"), g.get("data-child")): g.find("text").text
        for g in svg.iter("g")
        if "edge" in g.get("class", "").split()
    }


def _family_result(members: list[FamilyMember], origin: str, **sources: str) -> Result:
    documents = [
        _doc(m.id, f"Text of {m.id}.", "F0009", "S0009", source=sources.get(m.id, f"in/{m.id}"))
        for m in members
    ]
    family = Family("F0009", origin, members)
    story = Story("S0009", "A story", ["F0009"], [m.id for m in members])
    return Result(documents, [], [family], [story], [])


# A wire story copied twice, one copy copied again, plus a copy whose parent is not in the family.
TREE_MEMBERS = [
    FamilyMember("wire", "origin"),
    FamilyMember("blog", "verbatim", parent="wire"),
    FamilyMember("spinner", "spun", parent="blog"),
    FamilyMember("abroad", "translated", parent="wire"),
    FamilyMember("digest", "partial", parent="elsewhere"),
]


def test_a_copy_family_is_drawn_as_an_svg_tree(html: str) -> None:
    pictures = _pictures(html)
    assert set(pictures) == {"F0001"}  # the single-document families get no picture
    svg = pictures["F0001"]
    assert set(_nodes(svg)) == {"wire-1", "spam-2"}
    assert _edges(svg) == {("wire-1", "spam-2"): "spun"}
    family = html[html.index('id="family-F0001"') : html.index('id="family-F0002"')]
    assert family.index("<svg") < family.index('<ul class="tree root">')  # drawn above the list


def test_the_picture_has_a_node_per_member_and_an_edge_per_copy_link() -> None:
    svg = _pictures(render_html(_family_result(TREE_MEMBERS, "wire")))["F0009"]
    nodes = _nodes(svg)
    assert set(nodes) == {m.id for m in TREE_MEMBERS}
    assert _edges(svg) == {
        ("wire", "blog"): "verbatim",
        ("blog", "spinner"): "spun",
        ("wire", "abroad"): "translated",
    }
    assert "orphan" in nodes["digest"].get("class").split()  # drawn as an extra root
    assert nodes["abroad"].get("href") == "#doc-abroad"
    tooltip = nodes["spinner"].find("title").text
    assert "in/spinner" in tooltip and "spun copy of blog" in tooltip


def test_the_origin_is_marked_and_each_copy_sits_under_its_parent() -> None:
    svg = _pictures(render_html(_family_result(TREE_MEMBERS, "wire")))["F0009"]
    nodes = _nodes(svg)
    marked = [i for i, a in nodes.items() if "origin" in a.get("class").split()]
    assert marked == ["wire"]
    assert nodes["wire"].find("rect").get("stroke-width") == "2.5"

    def box(node_id: str) -> tuple[float, float]:
        rect = nodes[node_id].find("rect")
        return float(rect.get("x")), float(rect.get("y"))

    assert box("wire")[1] == box("digest")[1] < box("blog")[1] == box("abroad")[1]
    assert box("blog")[1] < box("spinner")[1]
    assert box("blog")[0] == box("spinner")[0]  # a single child straight below its parent
    assert box("wire")[0] == (box("blog")[0] + box("abroad")[0]) / 2  # centred over its copies


def test_ids_and_sources_in_the_picture_are_escaped() -> None:
    members = [
        FamilyMember('a"><script>alert(1)</script>', "origin"),
        FamilyMember("copy", "verbatim", parent='a"><script>alert(1)</script>'),
    ]
    html = render_html(_family_result(members, members[0].id, copy="<script>alert(2)</script>.txt"))
    assert html.count("<script>") == 1  # only the report's own filter script
    assert "&lt;script&gt;alert(2)&lt;/script&gt;.txt" in html
    svg = _pictures(html)["F0009"]  # still well-formed: nothing broke out of an attribute
    nodes = _nodes(svg)
    assert set(nodes) == {members[0].id, "copy"}
    assert "<script>alert(2)</script>.txt" in nodes["copy"].find("title").text


def test_a_wide_family_scales_with_a_view_box() -> None:
    members = [FamilyMember("origin", "origin")] + [
        FamilyMember(f"copy-{i:02d}", "verbatim", parent="origin") for i in range(49)
    ]
    svg = _pictures(render_html(_family_result(members, "origin")))["F0009"]
    width, height = (int(svg.get(k)) for k in ("width", "height"))
    assert svg.get("viewBox") == f"0 0 {width} {height}"
    assert len(_nodes(svg)) == 50 and len(_edges(svg)) == 49
    assert height < 150  # two layers, however wide
    min_width = int(re.search(r"min-width: (\d+)px", svg.get("style")).group(1))
    assert min_width < width  # it shrinks to fit the page, down to a readable size


def test_layout_gives_leaves_consecutive_slots_and_centres_parents() -> None:
    family = Family("F1", "wire", TREE_MEMBERS)
    slot, depth = layers(copy_tree(family))
    assert depth == {"wire": 0, "blog": 1, "spinner": 2, "abroad": 1, "digest": 0}
    assert (slot["spinner"], slot["abroad"], slot["digest"]) == (0, 1, 2)
    assert slot["blog"] == 0 and slot["wire"] == 0.5


def test_long_labels_are_shortened_in_the_middle() -> None:
    assert short_label("05_worldflash_translated") == "05_worldflash_translated"
    label = short_label("https://www.example-news.com/2026/03/bridge-closes-12345")
    assert len(label) == NODE_LABEL_CHARS
    assert label.startswith("example-news.com") and label.endswith("-12345")
    assert "…" in label


def test_a_story_lists_reuse_between_its_families(seeds_result: Result) -> None:
    html = render_html(seeds_result)
    story = html.split('id="story-', 1)[1].split("</section>", 1)[0]
    assert "Reuse between families" in story
    reuse = story.split("Reuse between families", 1)[1].split("</table>", 1)[0]
    assert "002_0b39a9fcbd26b2f4" in reuse and "partial" in reuse
    assert "cites Reuters" in reuse
    # Copies inside one family are in its tree, not in this table.
    assert reuse.count("<tr>") == 2  # the header and the one link


def test_a_big_result_draws_its_largest_stories_and_lists_the_rest(result: Result) -> None:
    html = render_html(result, max_stories=1, max_relations=0)
    assert 'id="story-S0001"' in html and 'id="story-S0002"' not in html
    more = html.split('id="more-stories"', 1)[1].split("</section>", 1)[0]
    assert "Lynx take the curling cup" in more and "S0002" in more
    assert "result.json" in more
    # The listed story's family is not drawn again as a family outside any story.
    assert "Outside any story" not in html and 'id="doc-sport-4"' not in html
    assert "The first 0 of 1 relations" in html
    full = render_html(result)
    assert 'id="more-stories"' not in full and "The first" not in full


# ---------------------------------------------------------------- a report that leads with what matters


def _section(html: str, anchor: str) -> str:
    start = html.index(f'id="{anchor}"')
    return html[start : html.index("</section>", start)]


def _pile(result: Result) -> Result:
    """`result` plus what a realistic pile holds: a bigger story listed later, a story with no
    conflicts, and two pages with no article text (a tweet widget, an archive notice)."""
    big = [
        _doc(f"big-{n}", f"Flooding closes the Fernmoor road, report {n}.", f"F01{n}", "S0003",
             url=f"https://www.outlet{n}.example/flood", title=f"Fernmoor road shut {n}")
        for n in range(5)
    ]
    empty = [
        _doc("tweet-page", "", "F0200", "S0004", notes=["no article text found"],
             removed=[RemovedLine("Embedded tweet", "social-widget")]),
        _doc("archive-page", "", "F0201", "S0005", notes=["no article text found"],
             removed=[RemovedLine("This page is archived", "copyright")]),
    ]
    result.documents += big + empty
    result.families += [Family(f"F01{n}", f"big-{n}", [FamilyMember(f"big-{n}", "origin")])
                        for n in range(5)]
    result.families += [Family("F0200", "tweet-page", [FamilyMember("tweet-page", "origin")]),
                        Family("F0201", "archive-page", [FamilyMember("archive-page", "origin")])]
    result.stories += [
        Story("S0003", "Fernmoor road shut", [f"F01{n}" for n in range(5)],
              [f"big-{n}" for n in range(5)]),
        Story("S0004", "", ["F0200"], ["tweet-page"]),
        Story("S0005", "", ["F0201"], ["archive-page"]),
    ]
    return result


def test_the_overview_comes_first_with_stories_ranked_and_counted(result: Result) -> None:
    html = render_html(_pile(result))
    overview = _section(html, "overview")
    assert html.index('id="overview"') < html.index('id="story-')  # before any story
    rows = re.findall(r'<tr class="story-row[^"]*" data-story="([^"]+)"', overview)
    assert rows == ["S0003", "S0001", "S0002"]  # by documents: 5, 3, 1; no-text pages left out
    first = re.search(r'data-story="S0003".*?</tr>', overview, re.DOTALL).group(0)
    assert re.findall(r'<td class="num[^"]*">(\d+)</td>', first)[:4] == ["1", "5", "0", "5"]
    # drawn in the same order as ranked
    assert html.index('id="story-S0003"') < html.index('id="story-S0001"')


def test_the_story_with_conflicts_is_linked_from_the_first_screen(result: Result) -> None:
    html = render_html(_pile(result))
    leads = html[html.index('class="leads"') : html.index("</ul>", html.index('class="leads"'))]
    assert "Sources disagree" in leads
    assert 'href="#story-S0001"' in leads and "Lakeville closes Harbour Street bridge" in leads
    assert html.index('class="leads"') < html.index('id="overview-table"')


def test_pages_with_no_article_text_are_a_collapsed_list_not_stories(result: Result) -> None:
    html = render_html(_pile(result))
    assert 'id="story-S0004"' not in html and 'id="story-S0005"' not in html
    assert 'id="doc-tweet-page"' not in html  # not drawn as a document with an origin badge
    listing = _section(html, "no-text")
    assert '<details class="no-text">' in listing  # collapsed: no "open"
    assert "Pages with no article text (2)" in listing
    assert "tweet-page" in listing and "social-widget" in listing and "archive-page" in listing
    assert "origin" not in listing
    errors = _section(html, "errors")
    assert "2 pages have no article text" in errors


def test_the_word_filter_does_not_see_signal_bars(result: Result, html: str) -> None:
    # A document with no spin signal shows no "spun 0.00" bar at all; a bar that is shown is
    # marked .nosearch, which the filter script skips.
    courier = html[html.index('id="doc-courier-3"') :].split('<div class="doc"', 1)[0]
    assert "spun" not in courier and "0.00" not in courier
    spam = html[html.index('id="doc-spam-2"') :].split("</details>", 1)[0]
    assert 'class="signals nosearch"' in spam and 'class="bar nosearch"' in spam
    assert "closest(\".nosearch\")" in html


def test_stories_carry_what_the_filters_need(result: Result, html: str) -> None:
    form = html[html.index('<form class="filters"') : html.index("</form>")]
    for control in ('name="q"', 'name="kind"', 'name="outlet"', 'name="conflicts"',
                    'name="from"', 'name="to"'):
        assert control in form
    assert '<option value="spun">spun</option>' in form
    story = re.search(r'<section class="story" id="story-S0001"[^>]*>', html).group(0)
    assert 'data-kinds="spun"' in story and 'data-conflicts="1"' in story
    assert 'data-first="2026-03-03"' in story and 'data-last="2026-03-04"' in story
    assert re.search(r'id="doc-spam-2" data-kind="spun"', html)


def test_link_targets_stop_below_the_sticky_bar(html: str) -> None:
    css = html[html.index("<style>") : html.index("</style>")]
    assert re.search(r"\[id\] \{ scroll-margin-top: 3rem; \}", css)
    bar = re.search(r"nav\.bar \{[^}]*\}", css).group(0)
    assert "position: sticky" in bar and "white-space: nowrap" in bar and "height: 2.4rem" in bar
    assert '<details class="stats">' not in html.split('id="overview"')[0]  # not in the bar


@pytest.mark.parametrize(
    ("kind", "value", "text", "plain"),
    [
        ("money", "USD 3300000000", "about $ 3.3 billion", "$3.3 billion"),
        ("money", "EUR 20000000", "€20m", "€20 million"),
        ("money", "CROWNS 4200000", "4.2 million crowns", "4.2 million crowns"),
        ("money", "USD 5000", "$5,000", "$5,000"),
        ("duration", "P13Y", "13 years", "13 years"),
        ("duration", "P1Y", "a year", "1 year"),
        ("duration", "P68Y", "68-year-old", "68-year-old"),
        ("duration", "PT3H", "three hours", "3 hours"),
        ("date", "--06-02", "June 2", "2 June"),
        ("date", "2021-10-08", "Oct. 8, 2021", "8 October 2021"),
        ("quantity", "300000 people", "300,000 people", "300,000 people"),
        ("year", "2007", "2007", "2007"),
        ("percent", "25%", "25 percent", "25%"),
    ],
)
def test_facts_read_in_plain_language(kind: str, value: str, text: str, plain: str) -> None:
    assert plain_value(kind, value, text) == plain


def test_seed_facts_read_as_a_person_writes_them(seeds_result: Result) -> None:
    html = render_html(seeds_result)
    story = html[html.index('<section class="story"') :]
    for machine in ("P13Y", "USD 3300000000", "USD 3000000000", "P15Y"):
        assert machine not in story
    conflicts = story[story.index('<ul class="conflicts">') : story.index("</ul>")]
    money = next(line for line in conflicts.split("<li") if "(money)" in line)
    assert re.search(r'<mark class="conflict-value">\$3\.3 billion</mark>: <a class="src"[^>]*>'
                     r"Reuters ×2</a>", money)
    assert "13 years" in conflicts and "15 years" in conflicts


def test_documents_are_named_by_outlet_and_title(seeds_result: Result) -> None:
    html = render_html(seeds_result)
    assert ">Reuters · Blinken meets Lopez Obrador to soothe thorny U.S.-Mexico relations</a>" in html
    relations = _section(html, "relations")
    link_texts = re.findall(r'<a class="doclink"[^>]*>([^<]*)</a>', relations)
    assert link_texts and not any(re.fullmatch(r"\d{3}_[0-9a-f]{16}", t) for t in link_texts)


def test_a_lone_rewrite_is_not_badged_origin(seeds_result: Result) -> None:
    html = render_html(seeds_result)
    spun = html[html.index('id="doc-000_f9d6d3d7f493658d"') :].split("</h4>", 1)[0]
    assert ">spun, source not in this pile</span>" in spun and ">origin<" not in spun
    translated = html[html.index('id="doc-002_0b39a9fcbd26b2f4"') :].split("</h4>", 1)[0]
    assert "source not in this pile" in translated and ">origin<" not in translated
    reuters = html[html.index('id="doc-004_ef4aa63dbad51e66"') :].split("</h4>", 1)[0]
    assert ">origin</span>" in reuters  # its dateline and credits say where it comes from


def test_an_uncredited_source_is_only_the_earliest_here() -> None:
    members = [FamilyMember("first", "origin"), FamilyMember("second", "verbatim", parent="first")]
    html = render_html(_family_result(members, "first"))
    first = html[html.index('id="doc-first"') :].split("</h4>", 1)[0]
    assert ">earliest here</span>" in first and ">origin<" not in first


def test_the_timeline_is_a_picture_with_a_dot_per_document(html: str) -> None:
    story = _section(html, "story-S0001")
    svg = ET.fromstring(re.search(r'<svg class="timeline-svg".*?</svg>', story, re.DOTALL).group(0))
    dots = {a.get("data-id"): a for a in svg.iter("a")}
    assert set(dots) == {"wire-1", "spam-2", "courier-3"}
    x = {i: float(a.find("circle").get("cx")) for i, a in dots.items()}
    assert x["wire-1"] < x["spam-2"]  # 3 March before 4 March
    labels = [t.text for t in svg.iter("text")]
    assert "2026-03-03" in labels and "2026-03-04" in labels and "no date" in labels


def test_a_story_says_how_its_families_relate(seeds_result: Result) -> None:
    html = render_html(seeds_result)
    story = html[html.index('<section class="story"') :].split("</section>", 1)[0]
    relate = story[story.index("The families and how they relate") :]
    relate = relate[: relate.index("</ul>")]
    assert "share passages (partial)" in relate
    assert "disagree on Merida Initiative (money)" in relate
    assert "both state" in relate


def test_a_big_report_stays_small_enough_to_open() -> None:
    """10,000 documents in 5,000 stories: the report draws the 500 largest, lists the rest."""
    docs, families, stories = [], [], []
    for n in range(5000):
        ids = [f"d{n}-a", f"d{n}-b"]
        for i in ids:
            docs.append(_doc(i, f"Report {n} about event {n}. " * 40, f"F{n}", f"S{n}",
                             url=f"https://site{n % 50}.example/{i}", title=f"Event {n}"))
        families.append(Family(f"F{n}", ids[0], [FamilyMember(ids[0], "origin"),
                                                   FamilyMember(ids[1], "verbatim", ids[0])]))
        stories.append(Story(f"S{n}", f"Event {n}", [f"F{n}"], ids))
    html = render_html(Result(docs, [], families, stories, []))
    assert html.count('<section class="story" id=') == 500
    assert html.count('<tr class="story-row') == 5000
    assert len(html.encode()) < 25_000_000


def test_an_error_free_run_writes_an_errors_table_duckdb_reads(result: Result, tmp_path: Path) -> None:
    import duckdb

    result.errors = []
    write_parquet(result, tmp_path)
    table = str(tmp_path / "errors.parquet")
    con = duckdb.connect()
    assert con.execute(f"select count(*) from '{table}'").fetchone() == (0,)
    columns = [row[0] for row in con.execute(f"describe select * from '{table}'").fetchall()]
    assert columns == ["source", "reason", "record"]


def test_relation_metrics_are_an_object_in_parquet_as_in_json(result: Result, tmp_path: Path) -> None:
    import duckdb

    write_parquet(result, tmp_path)
    table = str(tmp_path / "relations.parquet")
    coverage = duckdb.connect().execute(f"select metrics.coverage_a from '{table}'").fetchone()
    assert coverage == (result.relations[0].metrics["coverage_a"],)
    read = pq.read_table(table).to_pylist()[0]["metrics"]
    assert read == result.to_dict()["relations"][0]["metrics"]


def test_result_json_reads_back_into_the_same_result(seeds_result: Result, tmp_path: Path) -> None:
    write_json(seeds_result, tmp_path / "result.json")
    assert read_json(tmp_path / "result.json").to_dict() == seeds_result.to_dict()


def _whole_json(result: Result) -> bytes:
    """result.json as the contract defines it: the whole `to_dict()` dumped at once."""
    return json.dumps(result.to_dict(), ensure_ascii=False, indent=1).encode("utf-8")


def test_result_json_written_a_record_at_a_time_is_the_whole_dump(seeds_result: Result,
                                                                   tmp_path: Path) -> None:
    write_json(seeds_result, tmp_path / "result.json")
    assert (tmp_path / "result.json").read_bytes() == _whole_json(seeds_result)


def test_result_json_pieces_keep_awkward_text_and_empty_tables(tmp_path: Path) -> None:
    """Line breaks, quotes and backslashes inside strings, characters beyond the BMP, an
    empty table beside full ones, nested stats: the same bytes as one dump."""
    doc = _doc("a\n\"b\"", 'Line one.\n\n  "Quoted" \\ tab\there 🦆 ü', "F1", "S1",
               removed=[RemovedLine("Related posts\n", "related")])
    result = Result([doc], [], [Family("F1", "a\n\"b\"", [FamilyMember("a\n\"b\"", "origin")])],
                    [], [], {"seconds": {"clean": 0.5}, "config": {"x": [1, {"y": None}]},
                             "empty": {}, "none": []})
    write_json(result, tmp_path / "result.json")
    assert (tmp_path / "result.json").read_bytes() == _whole_json(result)
    empty = Result([], [], [], [], [], {})
    write_json(empty, tmp_path / "empty.json")
    assert (tmp_path / "empty.json").read_bytes() == _whole_json(empty)


def test_one_repeated_mark_does_not_make_a_lone_text_a_rewrite() -> None:
    """A Nigerian original read 0.996 translated on one mark (spaces before full stops ×10)."""
    members = [FamilyMember("paradigm", "origin")]
    result = _family_result(members, "paradigm")
    result.documents[0].signals = Signals(
        translated=0.996, evidence=["translation: a space before a full stop or comma ×10"])
    html = render_html(result)
    heading = html[html.index('id="doc-paradigm"') :].split("</h4>", 1)[0]
    assert "source not in this pile" not in heading and ">no copies here</span>" in heading
    assert 'data-kind="origin"' in html[html.index('id="doc-paradigm"') - 10 :][:200]


# ---------------------------------------------------------------- the outputs on several workers


@pytest.fixture(scope="module")
def multinews_result() -> Result:
    """Multi-News dev (291 pages, some without article text) as analyze finds it."""
    from conftest import DATA

    import storytrace

    return storytrace.analyze([DATA / "multinews" / "dev.jsonl"])


def _files(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("max_stories", [500, 7])
def test_the_outputs_written_on_two_workers_are_one_process_files_byte_for_byte(
        multinews_result: Result, tmp_path: Path, max_stories: int) -> None:
    """result.json, the Parquet tables and report.html, drawn in parts on two workers (the
    page apart from its stories, the stories in parts of several), are what the serial
    writers write; with a few stories drawn, the listed ones and the families outside any
    story are on the page too."""
    from storytrace.engines import get_engine
    from storytrace.report import write_outputs

    write_json(multinews_result, tmp_path / "one" / "result.json")
    write_parquet(multinews_result, tmp_path / "one" / "parquet")
    write_html(multinews_result, tmp_path / "one" / "report.html", max_stories=max_stories)
    with get_engine("local", workers=2) as engine:
        write_outputs(multinews_result, tmp_path / "two", max_stories=max_stories,
                      engine=engine)
    one, two = _files(tmp_path / "one"), _files(tmp_path / "two")
    assert sorted(two) == sorted(one) and "parquet/documents.parquet" in two
    for name in one:
        assert two[name] == one[name], name
    html = one["report.html"].decode()
    ranked = len(html_report(multinews_result).overview)  # the stories with article text
    assert ranked > 100
    assert html.count('<section class="story" id=') == min(max_stories, ranked)
    assert ('id="more-stories"' in html) == (max_stories < ranked)


def test_a_story_drawn_apart_is_the_story_the_page_template_draws(
        multinews_result: Result) -> None:
    """A story's section drawn alone (story_sections, in any process) is what the story macro
    draws inside a page's template, and the page filled with them holds each in its place."""
    from storytrace.report.html import (
        drawn_stories,
        environment,
        fill_page,
        html_report,
        page_html,
        story_sections,
    )

    report = html_report(multinews_result)
    stories = drawn_stories(report)
    assert len(stories) > 20
    in_page = environment().from_string(
        '{% import "macros.html.j2" as m with context %}'
        '{% for view in views %}{{ m.story(view) }}\x00{% endfor %}'
    ).render(report.context(views=[report.story_view(s) for s in stories]))
    sections = story_sections(report, stories[:10]) + story_sections(report, stories[10:])
    assert in_page.split("\x00")[:-1] == sections
    page = fill_page(page_html(report, 2000, len(sections)), sections)
    assert page == render_html(multinews_result)
    assert page.index(sections[0]) < page.index(sections[1]) < page.index(sections[-1])
    with pytest.raises(ValueError, match="story places"):
        fill_page(page_html(report, 2000, len(sections)), sections[:-1])
