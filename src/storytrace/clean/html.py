"""HTML pages: main text and metadata with trafilatura, a plain-text fallback when it fails."""

from __future__ import annotations

import html as html_entities
import re
from dataclasses import dataclass, field
from functools import lru_cache

from storytrace.clean.options import CleanOptions
from storytrace.ingest.decode import safe_text


@dataclass(slots=True)
class HtmlExtraction:
    """What trafilatura found in a page; `text` is None when it found no main text."""

    text: str | None
    page_text: str
    title: str | None = None
    author: str | None = None
    date: str | None = None
    site: str | None = None
    url: str | None = None
    # What went wrong on the way, for the document's notes (an extractor that raised, a page
    # nested deeper than the HTML parser reads).
    notes: list[str] = field(default_factory=list)


def extract_html(html: str, options: CleanOptions, url: str | None = None) -> HtmlExtraction:
    """Main text and metadata of one page (trafilatura's bare_extraction, comments excluded).

    `page_text` is every text line of the page, so the caller can record what was removed and
    fall back to plain-text cleaning when trafilatura returns nothing.
    """
    # Imported here: a corpus of plain text never needs it, and it takes 0.2 s to import.
    import trafilatura

    html = safe_text(html)  # lxml refuses control characters (a vertical tab in a real page)
    notes: list[str] = []
    try:
        doc = trafilatura.bare_extraction(
            html,
            url=url,
            favor_precision=options.favor_precision,
            favor_recall=options.favor_recall,
            include_comments=False,
            include_tables=True,
            with_metadata=True,
            deduplicate=False,
        )
    except Exception as exc:  # noqa: BLE001 - a malformed page must give a fallback, not a crash
        doc = None
        notes.append(f"trafilatura failed ({type(exc).__name__}: {str(exc)[:200]})")
    page_text, page_note = page_lines_noted(html)
    if page_note:
        notes.append(page_note)
    if doc is None:
        return HtmlExtraction(None, page_text, notes=notes)
    text = doc.text if doc.text and doc.text.strip() else None
    return HtmlExtraction(
        text=text,
        page_text=page_text,
        title=doc.title or None,
        author=doc.author or None,
        date=doc.date or None,
        site=doc.sitename or None,
        url=doc.url or None,
        notes=notes,
    )


_BLOCKS = (
    "p",
    "div",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "td",
    "th",
    "tr",
    "pre",
    "blockquote",
    "dt",
    "dd",
    "section",
    "article",
    "header",
    "footer",
    "nav",
    "aside",
    "figcaption",
    "caption",
    "title",
    "br",
    "ul",
    "ol",
    "table",
    "form",
    "main",
    "figure",
    "address",
)


def page_lines(html: str) -> str:
    """All visible text of a page, one block a line (scripts and styles left out)."""
    return page_lines_noted(html)[0]


def page_lines_noted(html: str) -> tuple[str, str | None]:
    """`page_lines`, and a note when the HTML parser could not read the page and its text
    was taken by stripping the tags instead (a page nested deeper than libxml2 reads, about
    255 levels, parses as empty)."""
    from lxml.etree import ParserError

    html = safe_text(html)
    try:
        text = _parsed_lines(html)
    except (ParserError, ValueError, TypeError) as exc:
        return _stripped_lines(html), f"HTML parser failed ({exc}); text taken by stripping tags"
    if text:
        return text, None
    stripped = _stripped_lines(html)
    if stripped:
        return stripped, ("HTML parser read no text (nesting too deep?); text taken by "
                          "stripping tags")
    return "", None


def _parsed_lines(html: str) -> str:
    # lxml imported here: plain-text corpora never parse a page (dedup's workers start without it)
    import lxml.html
    from lxml.etree import ParserError

    try:
        tree = lxml.html.fromstring(html, parser=_html_parser())
    except ParserError:
        return ""
    for bad in tree.xpath("//script|//style|//noscript|//template|//svg"):
        bad.drop_tree()
    for element in tree.iter(*_BLOCKS):
        element.tail = "\n" + (element.tail or "")
        if element.tag != "br":
            element.text = "\n" + (element.text or "")
    lines = (" ".join(line.split()) for line in tree.text_content().splitlines())
    return "\n".join(line for line in lines if line)


@lru_cache(maxsize=1)
def _html_parser():
    import lxml.html

    return lxml.html.HTMLParser(huge_tree=True)  # no size limit; depth still stops near 2,000


_HIDDEN = ("script", "style", "noscript", "template", "svg")
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)?[^<>]*>")
_BLOCK_NAMES = frozenset(_BLOCKS)


def _stripped_lines(html: str) -> str:
    """The page's text without a parser: tags dropped (a block tag ends a line), scripts and
    styles cut out, entities decoded. Linear in the page: one pass of a regex with no
    nested repetition."""
    parts: list[str] = []
    at = 0
    hidden: str | None = None
    for m in _TAG.finditer(html):
        name = (m.group(2) or "").lower()
        if hidden is None:
            parts.append(html[at : m.start()])
            if name in _HIDDEN and not m.group(1):
                hidden = name
            elif name in _BLOCK_NAMES:
                parts.append("\n")
        elif m.group(1) and name == hidden:
            hidden = None
        at = m.end()
    if hidden is None:
        parts.append(html[at:])
    text = html_entities.unescape("".join(parts))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)
