"""The HTTP service over an index: what a client of the JSON API and a reader of the pages get."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DATA
from fastapi.testclient import TestClient

from storytrace.index import Index
from storytrace.report.export import read_json, write_json
from storytrace.service import create_app
from storytrace.store import MemoryStore

SEEDS = DATA / "seeds"
REUTERS = "004_ef4aa63dbad51e66"
TRANSLATION = "001_5965018a4c1e8408"


@pytest.fixture(scope="module")
def index() -> Index:
    index = Index(MemoryStore())
    index.add([SEEDS])
    return index


@pytest.fixture(scope="module")
def client(index: Index) -> TestClient:
    return TestClient(create_app(index))


def test_stories_are_ranked_filtered_and_paged(client: TestClient) -> None:
    found = client.get("/api/stories").json()
    assert found["total"] == 1
    story = found["stories"][0]
    assert story["documents"] == 5 and story["conflicts"] == 3 and "Reuters" in story["outlets"]
    assert client.get("/api/stories", params={"conflicts": True}).json()["total"] == 1
    assert client.get("/api/stories", params={"kind": "translated"}).json()["total"] == 1
    assert client.get("/api/stories", params={"kind": "verbatim"}).json()["total"] == 0
    assert client.get("/api/stories", params={"outlet": "Reuters"}).json()["total"] == 1
    assert client.get("/api/stories", params={"q": "Blinken Obrador"}).json()["total"] == 1
    assert client.get("/api/stories", params={"q": "curling"}).json()["total"] == 0
    page = client.get("/api/stories", params={"offset": 1, "limit": 1}).json()
    assert page["total"] == 1 and page["stories"] == []


def test_a_story_family_and_document_by_id(client: TestClient) -> None:
    story_id = client.get("/api/stories").json()["stories"][0]["id"]
    story = client.get(f"/api/stories/{story_id}").json()
    assert len(story["documents"]) == 5 and len(story["conflicts"]) == 3
    doc = client.get(f"/api/documents/{TRANSLATION}").json()
    assert doc["id"] == TRANSLATION and "Blinken" in doc["clean_text"]
    family = client.get(f"/api/families/{doc['family']}").json()
    assert family["origin"] == REUTERS
    assert {m["id"]: m["kind"] for m in family["members"]}[TRANSLATION] == "translated"


def test_two_documents_compared(client: TestClient) -> None:
    found = client.get("/api/compare", params={"a": REUTERS, "b": TRANSLATION}).json()
    assert found["relation"]["kind"] == "translated"
    ops = {s["op"] for row in found["rows"] for s in row["b"]}
    assert {"equal", "ins"} <= ops


def test_unknown_ids_and_bad_requests_are_json_errors(client: TestClient) -> None:
    for path in ("/api/stories/S9999", "/api/documents/nope", "/api/families/F9999",
                 "/stories/S9999", "/no/such/page"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert answer.json()["error"]["status"] == 404
    answer = client.get("/api/stories", params={"limit": 0})
    assert answer.status_code == 422 and "limit" in answer.json()["error"]["message"]
    answer = client.post("/api/documents", json={"id": "x"})
    assert answer.status_code == 422 and "text or its html" in answer.json()["error"]["message"]
    answer = client.post("/api/query", content=b"{not json", headers={"content-type": "application/json"})
    assert answer.status_code == 422 and "Traceback" not in answer.text


def test_request_and_document_size_limits(index: Index) -> None:
    client = TestClient(create_app(index, max_request_bytes=10_000, max_document_chars=1_000))
    answer = client.post("/api/query", json={"text": "word " * 5_000})
    assert answer.status_code == 413 and "limit is 10,000" in answer.json()["error"]["message"]
    answer = client.post("/api/query", json={"text": "word " * 500})
    assert answer.status_code == 413 and "limit is 1,000" in answer.json()["error"]["message"]


def test_a_query_stores_nothing_and_an_add_joins_the_family(tmp_path: Path) -> None:
    index = Index(MemoryStore())
    index.add(sorted(SEEDS.glob("00[0234]_*.txt")))  # all but the translation
    client = TestClient(create_app(index))
    text = (SEEDS / f"{TRANSLATION}.txt").read_text(encoding="utf-8")
    query = client.post("/api/query", json={"id": "incoming", "text": text})
    assert query.status_code == 200
    assert query.json()["origin"] == REUTERS
    assert any(r["kind"] == "translated" for r in query.json()["relations"])
    assert client.get("/api/documents/incoming").status_code == 404  # nothing stored
    added = client.post("/api/documents", json={"id": "incoming", "text": text})
    assert added.status_code == 201, added.text
    family = client.get(f"/api/families/{added.json()['family']}").json()
    assert family["origin"] == REUTERS and "incoming" in {m["id"] for m in family["members"]}
    assert client.get("/api/stories").json()["stories"][0]["documents"] == 5  # pages refreshed


def test_a_read_only_service_refuses_adds(index: Index) -> None:
    client = TestClient(create_app(index, read_only=True))
    answer = client.post("/api/documents", json={"text": "A new article about a bridge."})
    assert answer.status_code == 403 and "read-only" in answer.json()["error"]["message"]
    assert client.post("/api/query", json={"text": "A new article about a bridge."}).status_code == 200


def test_the_openapi_schema_lists_the_endpoints(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for path in ("/api/stories", "/api/stories/{story_id}", "/api/documents", "/api/query",
                 "/api/compare", "/api/families/{family_id}", "/api/documents/{doc_id}"):
        assert path in schema["paths"], path
    assert client.get("/docs").status_code == 404  # no page that loads scripts from a CDN


def test_the_report_pages_are_served_and_filter_without_javascript(client: TestClient) -> None:
    overview = client.get("/")
    assert overview.status_code == 200 and "Sources disagree" in overview.text
    assert 'href="/stories/S' in overview.text
    filtered = client.get("/", params={"kind": "verbatim"}).text
    assert "<b>0</b> of 1 stories match" in filtered and 'class="story-row' not in filtered
    story_id = client.get("/api/stories").json()["stories"][0]["id"]
    page = client.get(f"/stories/{story_id}").text
    assert "Where the sources disagree" in page and '<svg class="timeline-svg"' in page
    assert f'href="/stories/{story_id}#doc-{REUTERS}"' in page
    compare = client.get("/compare", params={"a": REUTERS, "b": TRANSLATION})
    assert compare.status_code == 200 and "<ins>" in compare.text
    moved = client.get(f"/documents/{REUTERS}", follow_redirects=False)
    assert moved.status_code == 303 and moved.headers["location"].endswith(f"#doc-{REUTERS}")


def test_a_result_json_is_served_read_only(seeds_result, tmp_path: Path) -> None:
    write_json(seeds_result, tmp_path / "result.json")
    client = TestClient(create_app(result=read_json(tmp_path / "result.json")))
    assert client.get("/api/stories").json()["total"] == 1
    assert client.post("/api/documents", json={"text": "x y z"}).status_code == 403
    assert client.post("/api/query", json={"text": "x y z"}).status_code == 501


def test_a_copy_in_a_served_story_links_to_its_comparison_page(client: TestClient) -> None:
    story_id = client.get("/api/stories").json()["stories"][0]["id"]
    page = client.get(f"/stories/{story_id}").text
    link = f'href="/compare?a={REUTERS}&amp;b={TRANSLATION}"'
    assert link in page
    compare = client.get("/compare", params={"a": REUTERS, "b": TRANSLATION}).text
    assert "translated" in compare and "Reuters · Blinken meets Lopez Obrador" in compare


def test_a_document_can_be_posted_as_plain_text_or_html(index: Index) -> None:
    client = TestClient(create_app(index))
    text = (SEEDS / f"{TRANSLATION}.txt").read_text(encoding="utf-8")
    query = client.post("/api/query", content=text.encode(), params={"id": "plain"},
                        headers={"content-type": "text/plain; charset=utf-8"})
    assert query.status_code == 200 and query.json()["origin"] == REUTERS
    page = "<html><head><title>Blinken in Mexico</title></head><body><article>" + "".join(
        f"<p>{p}</p>" for p in text.split("\n") if p.strip()) + "</article></body></html>"
    query = client.post("/api/query", content=page.encode(), params={"id": "page"},
                        headers={"content-type": "text/html"})
    assert query.status_code == 200 and query.json()["origin"] == REUTERS
    wrong = client.post("/api/query", content=b"a,b", headers={"content-type": "text/csv"})
    assert wrong.status_code == 415 and "text/plain" in wrong.json()["error"]["message"]
    bad = client.post("/api/query", content=b"\xff\xfe", headers={"content-type": "text/plain"})
    assert bad.status_code == 422 and "not UTF-8" in bad.json()["error"]["message"]


def test_the_schema_documents_the_three_body_types(client: TestClient) -> None:
    body = client.get("/openapi.json").json()["paths"]["/api/documents"]["post"]["requestBody"]
    assert set(body["content"]) == {"application/json", "text/plain", "text/html"}


def test_views_after_adds_are_those_of_the_whole_index_built_again() -> None:
    """The served views are built once, then only the stories an add changed are remade:
    after every add, each page and the story list read as a service started afresh on the
    same index would show them."""
    root = Path(__file__).resolve().parents[1]
    index = Index(MemoryStore())
    index.add([root / "examples" / "corpus"])
    client = TestClient(create_app(index))
    assert client.get("/").status_code == 200  # the views are built here
    for path in sorted(SEEDS.glob("00*.txt")):
        text = path.read_text(encoding="utf-8")
        added = client.post("/api/documents", json={"id": path.stem, "text": text})
        assert added.status_code == 201, added.text
        fresh = TestClient(create_app(index))
        listed = client.get("/api/stories", params={"limit": 500}).json()
        assert listed == fresh.get("/api/stories", params={"limit": 500}).json()
        assert client.get("/").text == fresh.get("/").text
        for story in listed["stories"]:
            page = f"/stories/{story['id']}"
            assert client.get(page).text == fresh.get(page).text, page
    assert len(listed["stories"]) > 2 and listed["stories"][0]["documents"] == 5
