"""The HTTP service: a FastAPI app over an index (or a finished result.json).

JSON under /api (stories sorted, filtered and paged; a story, family, document; a comparison of
two documents; POST a document to add it, or only to query what it would join), the report's
pages served live under / (the same templates as the static report, filtered on the server so
they work without JavaScript), and the OpenAPI schema at /openapi.json. Every error is JSON
with its status code, never a traceback; requests and documents have size limits; a read-only
service refuses adds.

One lock guards the index: DuckDB is one connection, and an add is one transaction anyway.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, urlencode

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from storytrace.model import Document, Result
from storytrace.report.html import (
    Links,
    Report,
    _copy_diff,
    compare,
    environment,
)
from storytrace.report.views import StorySummary

# A POSTed request is refused past this many bytes, a document past this many characters of
# text or HTML: a news article is 2-50 KB; 2 MB of HTML is a big page with its scripts.
MAX_REQUEST_BYTES = 4 * 1024 * 1024
MAX_DOCUMENT_CHARS = 2_000_000
PAGE_SIZE = 50
MAX_PAGE_SIZE = 500

SortKey = Literal["rank", "documents", "copies", "outlets", "conflicts", "date"]


class ServiceError(Exception):
    """An error the service answers with `status` and a JSON body naming the reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class DocumentIn(BaseModel):
    """A document to add or query: its text, or its page's HTML (then the main text is
    extracted as for an .html file)."""

    id: str | None = Field(None, max_length=1000, description="defaults to one made from the text")
    text: str | None = Field(None, description="plain text (one of text or html)")
    html: str | None = Field(None, description="the page's HTML (one of text or html)")
    url: str | None = Field(None, max_length=4000)
    title: str | None = Field(None, max_length=4000)
    date: str | None = Field(None, max_length=40, description="ISO 8601 date")


@dataclass(slots=True)
class StoryFilter:
    """The filters the overview offers: words, copy kind, outlet, has conflicts, date range."""

    q: str = ""
    kind: str = ""
    outlet: str = ""
    conflicts: bool = False
    date_from: str = ""
    date_to: str = ""

    def admits(self, row: StorySummary, report: Report) -> bool:
        if self.kind and self.kind not in row.kinds:
            return False
        if self.outlet and self.outlet not in row.outlets:
            return False
        if self.conflicts and not row.conflicts:
            return False
        if (self.date_from or self.date_to) and not row.first:
            return False
        if self.date_from and (row.last or "") < self.date_from:
            return False
        if self.date_to and (row.first or "") > self.date_to:
            return False
        if self.q:
            words = self.q.lower().split()
            text = " ".join(
                [row.story.title, *row.outlets]
                + [report.names.get(i, "") for i in row.story.documents]
            ).lower()
            if not all(w in text for w in words):
                return False
        return True


class ServedLinks(Links):
    """Links between the served pages: one page per story, documents as anchors in it."""

    def story(self, story_id: str) -> str:
        return f"/stories/{quote(story_id, safe='')}"

    def doc(self, doc_id: str) -> str:
        doc = self.docs.get(doc_id)
        if doc is None:
            return f"/documents/{quote(doc_id, safe='')}"
        return f"/stories/{quote(doc.story, safe='')}#doc-{quote(doc_id, safe='')}"

    def family(self, family_id: str) -> str:
        return f"/families/{quote(family_id, safe='')}"

    def compare(self, a: str, b: str) -> str | None:
        return "/compare?" + urlencode({"a": a, "b": b})

    def section(self, name: str) -> str:
        return f"/#{name}"


class Backend:
    """What the service reads and writes: an `Index`, or a fixed `Result` (read-only)."""

    def __init__(self, index: Any = None, result: Result | None = None,
                 read_only: bool = False) -> None:
        if (index is None) == (result is None):
            raise ValueError("give an index or a result")
        self.index, self._result = index, result
        self.read_only = read_only or index is None
        self.lock = threading.RLock()
        self._report: Report | None = None
        self._stale: set[str] = set()  # stories an add changed since the views were made

    def report(self) -> Report:
        """The report views over everything: built once from the whole index, then brought
        up to date story by story after each add (the stories it changed). The index's
        families and stories are shown as stored, as their last add traced them (what the JSON
        API reads too): re-tracing every family against the whole index's word counts, as
        `index export` does, took 7.9 s of the 8.6 s rebuild at 2,000 documents."""
        with self.lock:
            if self._report is None:
                result = self._result if self.index is None else \
                    self.index.export(retrace=False)
                self._report = Report(result, None)
                self._report.links = ServedLinks(self._report.docs)
            elif self._stale:
                self._report.update(self.index.export_stories(self._stale), self._stale)
            else:
                return self._report
            self._stale.clear()
            for row in self._report.overview:
                row.drawn = True  # every story has its own page here
            return self._report

    def changed(self, stories: list[str]) -> None:
        """An add changed these stories (rebuilt or removed): their views are remade on the
        next read."""
        self._stale.update(stories)

    def document(self, doc_id: str):
        return self._record("document", doc_id, "documents", "docs")

    def family(self, family_id: str):
        return self._record("family", family_id, "families", "families")

    def story(self, story_id: str):
        return self._record("story", story_id, "stories", "stories")

    def _record(self, kind: str, key: str, table: str, view: str):
        """One document, family or story by id: from the index's store (`table`: the store's
        method that reads them by id) or from the served result's report (`view`: its map by
        id); a 404 when there is none."""
        if self.index is not None:
            with self.lock:
                found = getattr(self.index.store, table)([key])
            record = found[0] if found else None
        else:
            record = getattr(self.report(), view).get(key)
        if record is None:
            raise ServiceError(404, f"no {kind} {key!r}")
        return record

    def relation(self, a: str, b: str):
        if self.index is not None:
            with self.lock:
                found = self.index.store.relations([a, b])
        else:
            found = self.report().result.relations
        return next((r for r in found if {r.a, r.b} == {a, b}), None)


def _document(body: DocumentIn, max_chars: int) -> Document:
    if (body.text is None) == (body.html is None):
        raise ServiceError(422, "give the document's text or its html, not both or neither")
    raw = body.text if body.text is not None else body.html
    assert raw is not None
    if len(raw) > max_chars:
        raise ServiceError(413, f"document of {len(raw):,} characters; the limit is {max_chars:,}")
    if not raw.strip():
        raise ServiceError(422, "the document is empty")
    import xxhash

    doc_id = body.id or f"http-{xxhash.xxh3_64_hexdigest(raw.encode('utf-8', 'replace'))}"
    return Document(
        id=doc_id,
        raw=raw,
        source="<http>",
        format="html" if body.html is not None else "text",
        url=body.url,
        title=body.title,
        date=body.date,
    )


def _summary(row: StorySummary) -> dict[str, Any]:
    return {
        "id": row.story.id,
        "title": row.story.title,
        "documents": row.documents,
        "copies": row.copies,
        "outlets": row.outlets,
        "conflicts": row.conflicts,
        "kinds": row.kinds,
        "first": row.first,
        "last": row.last,
    }


_SORT = {
    "rank": lambda r: 0,
    "documents": lambda r: -r.documents,
    "copies": lambda r: -r.copies,
    "outlets": lambda r: -r.outlet_count,
    "conflicts": lambda r: -r.conflicts,
    "date": lambda r: r.first or "9999",
}


def create_app(
    index: Any = None,
    *,
    result: Result | None = None,
    read_only: bool = False,
    max_request_bytes: int = MAX_REQUEST_BYTES,
    max_document_chars: int = MAX_DOCUMENT_CHARS,
) -> FastAPI:
    """The app over `index` (a `storytrace.index.Index`, or the path of an index file, opened
    with its candidate keys kept in memory: a service answers many queries) or over a
    finished `result` (always read-only)."""
    if isinstance(index, (str, Path)):
        from storytrace.index import Index

        index = Index.open(index, read_only=read_only, keys_in_memory=True)
    backend = Backend(index, result, read_only)
    app = FastAPI(
        title="storytrace",
        summary="Copy families, provenance, stories and facts of a pile of news, served.",
        docs_url=None,  # the interactive docs load scripts from a CDN; the schema is enough
        redoc_url=None,
    )
    app.state.backend = backend

    def error(status: int, message: str) -> JSONResponse:
        return JSONResponse({"error": {"status": status, "message": message}}, status_code=status)

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> JSONResponse:
        return error(exc.status, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()
        )
        return error(422, problems or "invalid request")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return error(500, f"internal error: {type(exc).__name__}")

    @app.middleware("http")
    async def _limit(request: Request, call_next):
        length = request.headers.get("content-length")
        if length is not None:
            if not length.isdigit():
                return error(400, "bad Content-Length")
            if int(length) > max_request_bytes:
                return error(413, f"request of {int(length):,} bytes; the limit is "
                                  f"{max_request_bytes:,}")
        elif request.method in ("POST", "PUT") and "chunked" in request.headers.get(
            "transfer-encoding", ""
        ):
            return error(411, "send a Content-Length")
        return await call_next(request)

    # ------------------------------------------------------------------ JSON API
    @app.get("/api/health")
    def health() -> dict[str, Any]:
        report_stats = backend.index.stats() if backend.index is not None else {
            k: len(getattr(backend.report().result, k))
            for k in ("documents", "relations", "families", "stories", "errors")
        }
        return {"ok": True, "read_only": backend.read_only, **report_stats}

    @app.get("/api/stories")
    def stories(
        sort: SortKey = "rank",
        q: str = "",
        kind: str = "",
        outlet: str = "",
        conflicts: bool = False,
        date_from: str = Query("", alias="from"),
        date_to: str = Query("", alias="to"),
        offset: int = Query(0, ge=0),
        limit: int = Query(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
    ) -> dict[str, Any]:
        """Stories with article text, ranked (documents, copies, outlets, conflicts) or sorted
        by one of them, filtered, one page at a time."""
        report = backend.report()
        chosen = StoryFilter(q, kind, outlet, conflicts, date_from, date_to)
        rows = [row for row in report.overview if chosen.admits(row, report)]
        rows = sorted(rows, key=_SORT[sort])  # stable: ties keep the rank order
        return {
            "total": len(rows),
            "offset": offset,
            "limit": limit,
            "stories": [_summary(row) for row in rows[offset : offset + limit]],
        }

    @app.get("/api/stories/{story_id}")
    def story(story_id: str) -> dict[str, Any]:
        return asdict(backend.story(story_id))

    @app.get("/api/families/{family_id}")
    def family(family_id: str) -> dict[str, Any]:
        return asdict(backend.family(family_id))

    @app.get("/api/documents/{doc_id}")
    def document(doc_id: str) -> dict[str, Any]:
        return asdict(backend.document(doc_id))

    @app.get("/api/compare")
    def compare_documents(a: str, b: str) -> dict[str, Any]:
        """Two documents side by side: their relation (if any) and a word diff of b against a."""
        first, second = backend.document(a), backend.document(b)
        rows, truncated = compare(first.clean_text, second.clean_text)
        relation = backend.relation(a, b)
        return {
            "a": a,
            "b": b,
            "relation": None if relation is None else asdict(relation),
            "truncated": truncated,
            "rows": [{"a": [asdict(s) for s in row.left], "b": [asdict(s) for s in row.right]}
                     for row in rows],
        }

    async def read_document(request: Request, id: str | None, url: str | None,
                            title: str | None, date: str | None) -> DocumentIn:
        """The posted document: a JSON `DocumentIn`, or the text (text/plain) or page
        (text/html) itself as the body, its id, url, title and date in the query string."""
        kind = request.headers.get("content-type", "application/json").split(";")[0]
        kind = kind.strip().lower()
        raw = await request.body()
        if len(raw) > max_request_bytes:
            raise ServiceError(413, f"request of {len(raw):,} bytes; the limit is "
                                    f"{max_request_bytes:,}")
        if kind == "application/json":
            try:
                data = json.loads(raw)
            except ValueError as exc:
                raise ServiceError(422, f"invalid JSON: {exc}") from exc
            if not isinstance(data, dict):
                raise ServiceError(422, "send a JSON object: {\"id\", \"text\" or \"html\", ...}")
            try:
                return DocumentIn.model_validate(data)
            except ValidationError as exc:
                raise ServiceError(422, "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
                )) from exc
        if kind in ("text/plain", "text/html"):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ServiceError(422, f"the body is not UTF-8: {exc.reason}") from exc
            field = "text" if kind == "text/plain" else "html"
            return DocumentIn(id=id, url=url, title=title, date=date, **{field: text})
        raise ServiceError(415, f"content type {kind!r}: send application/json, text/plain "
                                "or text/html")

    body_doc = {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": DocumentIn.model_json_schema()},
                "text/plain": {"schema": {"type": "string"}},
                "text/html": {"schema": {"type": "string"}},
            },
        }
    }

    @app.post("/api/documents", status_code=201, openapi_extra=body_doc)
    async def add_document(request: Request, id: str | None = None, url: str | None = None,
                           title: str | None = None, date: str | None = None) -> dict[str, Any]:
        """Add a document to the index; answers what it joined (relations, family, story).
        The body is JSON (`DocumentIn`), or the text or HTML itself."""
        if backend.read_only:
            raise ServiceError(403, "this service is read-only")
        doc = _document(await read_document(request, id, url, title, date), max_document_chars)
        return await run_in_threadpool(add_one, doc)

    def add_one(doc: Document) -> dict[str, Any]:
        with backend.lock:
            summary = backend.index.add([doc])
            backend.changed(summary.stories)
            if summary.errors:
                raise ServiceError(422, "; ".join(e.reason for e in summary.errors))
            added = summary.added[0] if summary.added else doc.id
            stored = backend.index.store.documents([added])
        out = {
            "id": added,
            "added": bool(summary.added),
            "skipped": bool(summary.skipped),
            "relations": summary.relations,
        }
        if stored:
            out["family"], out["story"] = stored[0].family, stored[0].story
        return out

    @app.post("/api/query", openapi_extra=body_doc)
    async def query_document(request: Request, id: str | None = None, url: str | None = None,
                             title: str | None = None, date: str | None = None) -> dict[str, Any]:
        """What a document would join if added (relations, family and origin, story); nothing
        is stored. The body is JSON (`DocumentIn`), or the text or HTML itself."""
        if backend.index is None:
            raise ServiceError(501, "querying needs an index (storytrace serve INDEX)")
        doc = _document(await read_document(request, id, url, title, date), max_document_chars)
        return await run_in_threadpool(query_one, doc)

    def query_one(doc: Document) -> dict[str, Any]:
        with backend.lock:
            return backend.index.query(doc).to_dict()

    # ------------------------------------------------------------------ report pages
    def page(template: str, **context: Any) -> HTMLResponse:
        report = backend.report()
        html = environment().get_template(template).render(
            report.context(served=True, **context)
        )
        return HTMLResponse(html)

    @app.get("/", response_class=HTMLResponse)
    def overview(
        request: Request,
        q: str = "",
        kind: str = "",
        outlet: str = "",
        conflicts: bool = False,
        date_from: str = Query("", alias="from"),
        date_to: str = Query("", alias="to"),
    ) -> HTMLResponse:
        report = backend.report()
        chosen = StoryFilter(q, kind, outlet, conflicts, date_from, date_to)
        rows = [row for row in report.overview if chosen.admits(row, report)]
        return page("served_overview.html.j2", rows=rows, query=chosen,
                    filtered=any((q, kind, outlet, conflicts, date_from, date_to)))

    @app.get("/stories/{story_id}", response_class=HTMLResponse)
    def story_page(story_id: str) -> HTMLResponse:
        report = backend.report()
        story = report.stories.get(story_id)
        if story is None:
            raise ServiceError(404, f"no story {story_id!r}")
        return page("served_story.html.j2", view=report.story_view(story))

    @app.get("/families/{family_id}")
    def family_page(family_id: str) -> RedirectResponse:
        report = backend.report()
        family = report.families.get(family_id)
        if family is None or family.origin not in report.docs:
            raise ServiceError(404, f"no family {family_id!r}")
        story = report.docs[family.origin].story
        return RedirectResponse(report.links.story(story) + f"#family-{quote(family_id, safe='')}",
                                status_code=303)

    @app.get("/documents/{doc_id}")
    def document_page(doc_id: str) -> RedirectResponse:
        report = backend.report()
        doc = report.docs.get(doc_id)
        if doc is None:
            raise ServiceError(404, f"no document {doc_id!r}")
        return RedirectResponse(report.links.doc(doc_id), status_code=303)

    @app.get("/compare", response_class=HTMLResponse)
    def compare_page(a: str, b: str) -> HTMLResponse:
        report = backend.report()
        for doc_id in (a, b):
            if doc_id not in report.docs:
                raise ServiceError(404, f"no document {doc_id!r}")
        from storytrace.model import FamilyMember

        member = report.member_of.get(b)
        kind = member.kind if member and member.parent == a else "compared"
        diff = _copy_diff(FamilyMember(b, kind, parent=a), report.docs)
        return page("served_compare.html.j2", diff=diff, a=report.docs[a], b=report.docs[b],
                    relation=backend.relation(a, b))

    return app
