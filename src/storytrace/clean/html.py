"""HTML pages: main text and metadata with trafilatura, a plain-text fallback when it fails."""

from __future__ import annotations

from dataclasses import dataclass

import lxml.html
import trafilatura
from lxml.etree import ParserError

from storytrace.clean.options import CleanOptions


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


def extract_html(html: str, options: CleanOptions, url: str | None = None) -> HtmlExtraction:
    """Main text and metadata of one page (trafilatura's bare_extraction, comments excluded).

    `page_text` is every text line of the page, so the caller can record what was removed and
    fall back to plain-text cleaning when trafilatura returns nothing.
    """
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
    except Exception:  # noqa: BLE001 - a malformed page must give a fallback, not a crash
        doc = None
    page_text = page_lines(html)
    if doc is None:
        return HtmlExtraction(None, page_text)
    text = doc.text if doc.text and doc.text.strip() else None
    return HtmlExtraction(
        text=text,
        page_text=page_text,
        title=doc.title or None,
        author=doc.author or None,
        date=doc.date or None,
        site=doc.sitename or None,
        url=doc.url or None,
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
    try:
        tree = lxml.html.fromstring(html)
    except (ParserError, ValueError):
        return ""
    for bad in tree.xpath("//script|//style|//noscript|//template|//svg"):
        bad.drop_tree()
    for element in tree.iter(*_BLOCKS):
        element.tail = "\n" + (element.tail or "")
        if element.tag != "br":
            element.text = "\n" + (element.text or "")
    lines = (" ".join(line.split()) for line in tree.text_content().splitlines())
    return "\n".join(line for line in lines if line)
