"""The clean stage over documents: plain text, HTML pages, and a whole corpus."""

from __future__ import annotations

from collections.abc import Collection

from storytrace.clean.html import HtmlExtraction, extract_html, page_lines_noted
from storytrace.clean.language import detect_language, stopwords_for
from storytrace.clean.lines import clean_lines, describe_lines
from storytrace.clean.options import CleanOptions
from storytrace.clean.repair import repair_text
from storytrace.clean.repeats import line_key, repeated_lines
from storytrace.ingest.limits import LIMITS
from storytrace.model import CleanText, Document, RemovedLine


def cut_long_text(clean: CleanText, max_chars: int = LIMITS.max_text_chars) -> CleanText:
    """`clean` with its text cut at `max_chars` characters (at the last line end in the final
    tenth, if there is one), noted; the same object when it is not that long."""
    if len(clean.text) <= max_chars:
        return clean
    cut = clean.text.rfind("\n", max_chars - max_chars // 10, max_chars + 1)
    cut = cut if cut > 0 else max_chars
    clean.notes.append(f"text cut at {cut:,} of its {len(clean.text):,} characters (a document "
                       f"may have {max_chars:,}: storytrace.ingest.Limits.max_text_chars)")
    clean.text = clean.text[:cut]
    return clean


def clean_text(
    text: str,
    options: CleanOptions | None = None,
    *,
    repeated: Collection[int] = frozenset(),
) -> CleanText:
    """Clean already-scraped plain text: repair it, drop boilerplate lines, find the title.

    `repeated` holds the keys of lines that repeat across the corpus (see `repeated_lines`);
    `clean_corpus` computes it, a single text has none.
    """
    options = options or CleanOptions()
    if not text.strip():
        return CleanText("", notes=["empty text"])
    notes: list[str] = []
    if options.repair_text:
        text, notes = repair_text(text)
    language = detect_language(text) if options.detect_language else None
    lines = clean_lines(text, options, stopwords_for(language), repeated)
    clean = "\n".join(lines.paragraphs)
    if not clean:
        notes.append(_empty_note(lines.removed))
    return cut_long_text(CleanText(
        clean,
        lines.removed,
        title=lines.title,
        language=language,
        notes=notes,
    ))


def clean_html(
    html: str,
    options: CleanOptions | None = None,
    *,
    url: str | None = None,
    repeated: Collection[int] = frozenset(),
) -> CleanText:
    """Clean an HTML page: trafilatura's main text and metadata, markers dropped.

    When trafilatura finds no main text, the page's text lines go through plain-text cleaning.
    """
    options = options or CleanOptions()
    if not html.strip():
        return CleanText("", notes=["empty page"])
    return _finish_html(extract_html(html, options, url), options, repeated)


def clean_corpus(docs: list[Document], options: CleanOptions | None = None) -> list[CleanText]:
    """Clean every document, in input order; lines repeated across the corpus are found first.

    Never raises for odd input: a document that cannot be cleaned gives an empty CleanText
    with a note saying why.
    """
    options = options or CleanOptions()
    extractions: dict[int, HtmlExtraction] = {}
    line_texts: list[str] = []
    for n, doc in enumerate(docs):
        if doc.format == "html":
            try:
                extraction = extract_html(doc.raw, options, doc.url)
            except Exception as exc:  # noqa: BLE001 - one bad page must not stop the corpus
                page_text, _ = page_lines_noted(doc.raw or "")
                extraction = HtmlExtraction(None, page_text, notes=[
                    f"HTML extraction failed ({type(exc).__name__}: {str(exc)[:200]})"])
            extractions[n] = extraction
            line_texts.append(extraction.text or extraction.page_text)
        else:
            line_texts.append(doc.raw or "")
    repeated = repeated_lines(line_texts, options)

    cleaned: list[CleanText] = []
    for n, doc in enumerate(docs):
        try:
            if n in extractions:
                cleaned.append(_finish_html(extractions[n], options, repeated))
            else:
                cleaned.append(clean_text(doc.raw or "", options, repeated=repeated))
        except Exception as exc:  # noqa: BLE001 - report, never crash the pipeline
            cleaned.append(CleanText("", notes=[f"cleaning failed: {type(exc).__name__}: {exc}"]))
    return cleaned


def _finish_html(
    extraction: HtmlExtraction, options: CleanOptions, repeated: Collection[int]
) -> CleanText:
    if extraction.text is None:
        result = clean_text(extraction.page_text, options, repeated=repeated)
        result.notes += extraction.notes
        result.notes.append("trafilatura found no main text: page lines cleaned as plain text")
        return result
    text, notes = repair_text(extraction.text) if options.repair_text else (extraction.text, [])
    language = detect_language(text) if options.detect_language else None
    paragraphs: list[str] = []
    removed: list[RemovedLine] = []
    # trafilatura keeps the page's main block; markers and corpus repeats inside it still go.
    for line in describe_lines(text, options, stopwords_for(language), repeated):
        if line.reason is not None:
            removed.append(RemovedLine(line.text, line.reason))
        else:
            paragraphs.append(line.text)
    seen = {line_key(line) for line in paragraphs} | {line_key(r.text) for r in removed}
    for raw in extraction.page_text.splitlines():
        line = raw.strip()
        if line and line != extraction.title and line_key(line) not in seen:
            removed.append(RemovedLine(line, "html-boilerplate"))
    clean = "\n".join(paragraphs)
    if not clean:
        notes.append(_empty_note(removed))
    return cut_long_text(CleanText(
        clean,
        removed,
        title=extraction.title,
        author=extraction.author,
        date=extraction.date,
        site=extraction.site,
        url=extraction.url,
        language=language,
        notes=extraction.notes + notes,
    ))


def _empty_note(removed: list[RemovedLine]) -> str:
    """Why a document has no text left. When every line went because other documents of the
    corpus hold it too, say so: repetition alone cannot tell a site template (the Wayback
    Machine's notice on five archive stubs) from one article reprinted many times, and the
    user must be able to see which it was (the lines stay in `removed`)."""
    reasons = {line.reason for line in removed} - {"html-boilerplate"}
    if reasons == {"repeated-in-corpus"}:
        return ("no article text found: every line repeats in other documents of the corpus "
                "and was removed as boilerplate (a site template, or one text reprinted many "
                "times: see removed)")
    return "no article text found"

