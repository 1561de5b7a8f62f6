"""The whole path from documents to a Result: clean -> match -> cluster -> trace -> facts.

Each stage is imported from its own package and called over plain data; this module only
wires them together and counts what happened, so any stage can be replaced alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from storytrace.clean import clean_corpus
from storytrace.cluster import cluster_stories, copy_families
from storytrace.cluster.embeddings import Embedder
from storytrace.errors import ConfigError
from storytrace.facts import story_facts
from storytrace.match import document_signals, find_relations
from storytrace.model import (
    Document,
    DocumentResult,
    Family,
    InputError,
    Relation,
    Result,
    Story,
)
from storytrace.trace import cited_reuse, find_attribution, page_attribution, trace_family
from storytrace.trace.wording import Vocabulary

STORY_MODES = ("batch", "streaming")

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): called as work advances (the CLI draws a bar from it)."""


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


def _dedupe_ids(docs: list[Document]) -> list[Document]:
    """Make document ids unique (a second "a" becomes "a~2") so every id names one document."""
    seen: dict[str, int] = {}
    for doc in docs:
        n = seen.get(doc.id, 0) + 1
        seen[doc.id] = n
        if n > 1:
            doc.id = f"{doc.id}~{n}"
    return docs


def analyze_documents(
    docs: Iterable[Document],
    errors: Iterable[InputError] = (),
    progress: Progress = _no_progress,
    embedder: Embedder | None = None,
    story_mode: str = "batch",
) -> Result:
    """Run every stage over `docs` and return the Result (see `storytrace.analyze`).

    `embedder` (optional): texts -> vectors, mixed into story clustering
    (`storytrace.cluster.embeddings.load_static_model` makes one from a model directory).
    `story_mode`: "batch" (every family at once) or "streaming" (families in date order, each
    joining a story or opening one, as a live feed would).
    """
    if story_mode not in STORY_MODES:
        raise ConfigError(f"story mode must be one of {', '.join(STORY_MODES)}, not {story_mode!r}")
    started = time.perf_counter()
    timings: dict[str, float] = {}
    docs = _dedupe_ids(list(docs))
    errors = list(errors)

    def timed(stage: str, fn, *args):
        t0 = time.perf_counter()
        progress(stage, 0, 1)
        out = fn(*args)
        timings[stage] = round(time.perf_counter() - t0, 3)
        progress(stage, 1, 1)
        return out

    cleaned = timed("clean", clean_corpus, docs)

    def per_document():
        results = []
        for n, (doc, clean) in enumerate(zip(docs, cleaned, strict=True)):
            results.append(
                DocumentResult(
                    id=doc.id,
                    source=doc.source,
                    title=doc.title or clean.title,
                    clean_text=clean.text,
                    removed=clean.removed,
                    signals=document_signals(clean.text),
                    family="",
                    story="",
                    attribution=_attribution(clean),
                    url=doc.url or clean.url,
                    date=doc.date or clean.date,
                    language=clean.language,
                    notes=clean.notes,
                )
            )
            progress("signals", n + 1, len(docs))
        return results

    documents = timed("signals", per_document)
    by_id = {d.id: d for d in documents}

    relations = timed("match", find_relations, {d.id: d.clean_text for d in documents}, None,
                      {d.id: d.date for d in documents})
    groups = timed("families", copy_families, [d.id for d in documents], relations)

    def trace_families() -> list[Family]:
        vocabulary = Vocabulary.from_documents(documents)
        group_of = {doc_id: n for n, member_ids in enumerate(groups) for doc_id in member_ids}
        inside: dict[int, list[Relation]] = {}
        for r in relations:
            if r.a in group_of and group_of[r.a] == group_of.get(r.b):
                inside.setdefault(group_of[r.a], []).append(r)
        families = []
        for n, member_ids in enumerate(groups):
            family_id = f"F{n + 1:04d}"
            members = [by_id[i] for i in member_ids]
            families.append(trace_family(family_id, members, inside.get(n, []), vocabulary))
            for doc in members:
                doc.family = family_id
        return families

    families = timed("trace", trace_families)
    story_groups = timed(
        "stories", cluster_stories, [[by_id[i] for i in ids] for ids in groups], embedder,
        story_mode == "streaming",
    )  # fmt: skip

    def story_records() -> list[Story]:
        stories = []
        for n, family_indexes in enumerate(story_groups, start=1):
            story_id = f"S{n:04d}"
            story_families = [families[i] for i in family_indexes]
            doc_ids = [m.id for f in story_families for m in f.members]
            for doc_id in doc_ids:
                by_id[doc_id].story = story_id
            facts, conflicts = story_facts([by_id[i] for i in doc_ids])
            stories.append(
                Story(
                    id=story_id,
                    title=_story_title(story_families, by_id),
                    families=[f.id for f in story_families],
                    documents=doc_ids,
                    facts=facts,
                    conflicts=conflicts,
                )
            )
        return stories

    stories = timed("facts", story_records)
    # A text citing an outlet whose report on the same story is here, and reusing its sentences.
    relations = relations + timed("reuse", cited_reuse, documents, families, relations)
    timings["total"] = round(time.perf_counter() - started, 3)
    stats = {
        "documents": len(documents),
        "families": len(families),
        "stories": len(stories),
        "relations": len(relations),
        "errors": len(errors),
        "story_mode": story_mode,
        "seconds": timings,
    }
    return Result(documents, relations, families, stories, errors, stats)


def _attribution(clean) -> list:
    """What the text says about its authors, plus the page's own author metadata if it says none
    and the source a removed line names ("Source link": the cleaner drops it as boilerplate, but
    it says the page was taken from elsewhere)."""
    found = find_attribution(clean.text)
    if not any(a.kind == "source-link" for a in found):
        removed = (a for line in clean.removed for a in find_attribution(line.text))
        source = next((a for a in removed if a.kind == "source-link"), None)
        if source is not None:
            found.append(source)
    if not any(a.kind == "byline" for a in found):
        meta = page_attribution(clean.author, clean.site)
        if meta is not None:
            found.insert(0, meta)
    return found


def _story_title(families: list[Family], by_id: dict[str, DocumentResult]) -> str:
    """The title of the largest family's origin, else its first sentence."""
    biggest = max(families, key=lambda f: len(f.members))
    origin = by_id[biggest.origin]
    if origin.title:
        return origin.title
    first = origin.clean_text.strip().split("\n", 1)[0]
    return first if len(first) <= 120 else first[:117].rsplit(" ", 1)[0] + "..."
