"""The stage graph: which stage runs over what, as plain functions over plain data.

    per document   clean_documents(docs, options)    clean text (lines repeated across the
                                                       corpus found between two parallel steps)
                   document_results(docs, cleaned)   clean text -> DocumentResult (signals,
                                                       attribution); family/story come later
                   document_keys(texts, options)     candidate keys per channel (the store
                                                       keeps them to find candidates by a join)
    corpus-wide    clean_corpus (repeated lines), Vocabulary (word and page-line counts)
    per pair       find_relations / relate            (match/)
    per family     trace_family                       (trace/)
    per story      story_record: title, families, documents, facts, conflicts; cited_reuse

`pipeline.analyze_documents` and `index.Index` both call these, so a batch run and an index
that grows document by document run the same code. The per-document stages take an engine
(storytrace.engines) that decides where their batches run; the answer is the same at any
number of workers (tests/test_engines.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from storytrace.engines import Texts
from storytrace.match import document_signals
from storytrace.match.options import MatchOptions
from storytrace.model import CleanText, Document, DocumentResult, Family, Story
from storytrace.trace import find_attribution, page_attribution

if TYPE_CHECKING:
    from storytrace.clean import CleanOptions
    from storytrace.clean.html import HtmlExtraction
    from storytrace.engines import Engine

# Candidate channels the store keeps keys for, and the least number of keys two documents must
# share to be proposed to the match stage, which then re-derives its own candidates among them
# (so these only need to be a superset: minhash any shared band, the others match/options.py).
KEY_CHANNELS = ("minhash", "immutables", "sentences")


# Documents per batch sent to a worker: at ~1 ms of cleaning and signals a document, the cost
# of shipping a batch (pickling ~5 kB a text each way) is a few percent from about 16. At most
# MAX_BATCH, so the batches in flight (four a worker) hold a few MB of text, not a share of the
# pile (a quarter of a worker's share of 300,000 documents would be ~200 MB a batch).
MIN_BATCH = 16
MAX_BATCH = 1000


def _parts(items: list, engine: Engine | None) -> list[list] | None:
    """`items` in batches for the engine's workers (at least 4 a worker, so a slow batch does
    not leave the others idle; none under MIN_BATCH or over MAX_BATCH unless it must be); None
    when the engine has one worker."""
    from storytrace.engines import part_count, split

    if engine is None or engine.workers == 1 or not items:
        return None
    return split(items, part_count(len(items), engine.workers, MAX_BATCH), MIN_BATCH)


def clean_documents(docs: list[Document], options: CleanOptions,
                    engine: Engine | None = None) -> list[CleanText]:
    """`clean.clean_corpus` with its per-document work on the engine's workers: pages are
    extracted in parallel, the lines repeated across the corpus are counted here, then each
    document is cleaned in parallel. The same CleanTexts as clean_corpus, which runs when the
    engine has one worker."""
    from storytrace.clean import clean_corpus
    from storytrace.clean.repeats import document_lines, repeated_lines

    if _parts(docs, engine) is None:
        return clean_corpus(docs, options)
    # Only HTML pages have a main text to extract: plain texts are not shipped for nothing.
    pages = [doc for doc in docs if doc.format == "html"]
    extracted = iter([e for part in engine.map_batches(_extract_batch, _parts(pages, engine) or [],
                                                       options) for e in part])
    extractions = [next(extracted) if doc.format == "html" else None for doc in docs]
    line_texts = [(e.text or e.page_text) if e is not None else (doc.raw or "")
                  for doc, e in zip(docs, extractions, strict=True)]
    # each document's line keys, counted across the corpus here
    lines = list(engine.map_batches(document_lines, _parts(line_texts, engine)))
    repeated = repeated_lines(line_texts, options, lines)
    pairs = _parts(list(zip(docs, extractions, strict=True)), engine)
    return [c for part in engine.map_batches(_finish_batch, pairs, options, repeated)
            for c in part]


# The two halves of clean_corpus's loop, as it writes them (a failure is a note, never a
# crash); tests/test_engines.py checks that both paths clean alike.
def _extract_batch(docs: list[Document], options: CleanOptions) -> list[HtmlExtraction | None]:
    from storytrace.clean.html import HtmlExtraction, extract_html, page_lines_noted

    out: list[HtmlExtraction | None] = []
    for doc in docs:
        if doc.format != "html":
            out.append(None)
            continue
        try:
            out.append(extract_html(doc.raw, options, doc.url))
        except Exception as exc:  # noqa: BLE001 - one bad page must not stop the corpus
            page_text, _ = page_lines_noted(doc.raw or "")
            out.append(HtmlExtraction(None, page_text, notes=[
                f"HTML extraction failed ({type(exc).__name__}: {str(exc)[:200]})"]))
    return out


def _finish_batch(pairs: list[tuple[Document, HtmlExtraction | None]], options: CleanOptions,
                  repeated) -> list[CleanText]:
    from storytrace.clean import clean_text
    from storytrace.clean.document import _finish_html

    out: list[CleanText] = []
    for doc, extraction in pairs:
        try:
            if extraction is not None:
                out.append(_finish_html(extraction, options, repeated))
            else:
                out.append(clean_text(doc.raw or "", options, repeated=repeated))
        except Exception as exc:  # noqa: BLE001 - report, never crash the pipeline
            out.append(CleanText("", notes=[f"cleaning failed: {type(exc).__name__}: {exc}"]))
    return out


def _results_batch(pairs: list[tuple[Document, CleanText]]) -> list[DocumentResult]:
    docs, cleaned = zip(*pairs, strict=True)
    return document_results(docs, cleaned)


def document_results(docs: Sequence[Document], cleaned: Sequence[CleanText],
                     progress=None, engine: Engine | None = None) -> list[DocumentResult]:
    """The per-document stage: each document's clean text, signals and attribution (on the
    engine's workers when it has several)."""
    parts = _parts(list(zip(docs, cleaned, strict=True)), engine)
    if parts is not None:
        results: list[DocumentResult] = []
        for part in engine.map_batches(_results_batch, parts):
            results += part
            if progress is not None:
                progress("signals", len(results), len(docs))
        return results
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
                attribution=attribution(clean),
                url=doc.url or clean.url,
                date=doc.date or clean.date,
                language=clean.language,
                notes=clean.notes,
            )
        )
        if progress is not None:
            progress("signals", n + 1, len(docs))
    return results


def attribution(clean: CleanText) -> list:
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


def story_title(families: list[Family], by_id: dict[str, DocumentResult]) -> str:
    """The title of the largest family's origin, else its first sentence."""
    biggest = max(families, key=lambda f: len(f.members))
    origin = by_id[biggest.origin]
    if origin.title:
        return origin.title
    first = origin.clean_text.strip().split("\n", 1)[0]
    return first if len(first) <= 120 else first[:117].rsplit(" ", 1)[0] + "..."


def story_record(story_id: str, families: list[Family],
                 by_id: dict[str, DocumentResult], extracted: dict | None = None) -> Story:
    """A story from its families (in input order): title, documents and merged facts
    (`extracted`: the documents' fact extractions made already, see `fact_extractions`)."""
    from storytrace.facts import story_facts

    doc_ids = [m.id for f in families for m in f.members]
    facts, conflicts = story_facts([by_id[i] for i in doc_ids], extracted)
    return Story(
        id=story_id,
        title=story_title(families, by_id),
        families=[f.id for f in families],
        documents=doc_ids,
        facts=facts,
        conflicts=conflicts,
    )


def story_records(story_families: dict[str, list[Family]], by_id: dict[str, DocumentResult],
                  engine: Engine | None = None, extracted: dict | None = None) -> list[Story]:
    """`story_record` of each story (id -> its families in order), on the engine's workers
    when it has several. The facts stage notes on a document it cut short; those notes come
    back from the workers onto `by_id`'s documents, as a run in this process leaves them."""
    items = list(story_families.items())
    extracted = extracted or {}
    if engine is None or engine.workers == 1 or len(items) < 2:
        return [story_record(story_id, families, by_id, extracted)
                for story_id, families in items]
    from storytrace.engines import weighted_parts

    # Stories differ in size by 100x: consecutive parts of about equal document counts, 4 per
    # worker, so one part of big stories does not leave the other workers idle. The documents
    # reach each worker once (map_shared: the local engine's workers inherit them), not
    # pickled with each part: at 5,000 bench documents that was ~0.4 CPU s here and more in
    # the workers.
    sizes = [sum(len(f.members) for f in families) for _, families in items]
    share = max(1, min(MAX_BATCH, sum(sizes) // (4 * engine.workers)))
    parts = weighted_parts(items, sizes, share)
    stories: list[Story] = []
    for part in engine.map_shared(_story_batch, (by_id, extracted), parts):
        for story, notes in part:
            stories.append(story)
            for doc_id, doc_notes in notes.items():
                by_id[doc_id].notes = doc_notes
    return stories


def _story_batch(shared: tuple[dict[str, DocumentResult], dict],
                 items: list[tuple[str, list[Family]]]
                 ) -> list[tuple[Story, dict[str, list[str]]]]:
    by_id, extracted = shared
    out = []
    for story_id, families in items:
        story = story_record(story_id, families, by_id, extracted)
        out.append((story, {m.id: by_id[m.id].notes for f in families for m in f.members}))
    return out


def fact_extractions(story_families: dict[str, list[Family]], by_id: dict[str, DocumentResult],
                     kept: dict, engine: Engine | None = None) -> dict:
    """The fact extractions (`facts.merge.Extraction`) these stories need that `kept` lacks
    (none yet, or made against another reference date than the document has in its story
    now), made on the engine's workers when it has several. One the time budget cut short is
    left out: the story's merge extracts it again and notes the cut."""
    from storytrace.facts.merge import extract_documents, references

    wanted: list[tuple[str, str | None]] = []
    for families in story_families.values():
        docs = [by_id[m.id] for f in families for m in f.members]
        for doc_id, reference in references(docs).items():
            if doc_id not in kept or kept[doc_id][0] != reference:
                wanted.append((doc_id, reference))
    items = [(by_id[doc_id].clean_text, reference) for doc_id, reference in wanted]
    parts = _parts(items, engine)
    made = extract_documents(items) if parts is None else \
        [e for part in engine.map_batches(_extract_part, map(_texts_apart, parts))
         for e in part]
    return {doc_id: e for (doc_id, _), e in zip(wanted, made, strict=True) if e is not None}


def _texts_apart(items: list[tuple[str, Any]]) -> tuple[Texts, list[Any]]:
    """(text, value) items as their texts (`Texts`: shipped as UTF-8) and their values."""
    return Texts(text for text, _ in items), [value for _, value in items]


def _extract_part(part: tuple[list[str], list[str | None]]) -> list:
    from storytrace.facts.merge import extract_documents

    return extract_documents(list(zip(*part, strict=True)))


def document_keys(texts: Sequence[str], options: MatchOptions) -> list[dict[str, np.ndarray]]:
    """Each clean text's candidate keys per channel (KEY_CHANNELS), as the match stage makes
    them (`match.relations.candidate_keys`): LSH band keys of the word-shingle MinHash (band
    i's key at column i, so equal keys of one band are a shared bucket), immutable shingles,
    sentence hashes."""
    from storytrace.match.relations import candidate_keys

    return [{channel: keys[channel] for channel in KEY_CHANNELS}
            for keys in candidate_keys(list(texts), options)]


__all__ = ["KEY_CHANNELS", "attribution", "clean_documents", "document_keys", "document_results",
           "story_record", "story_records", "story_title"]
