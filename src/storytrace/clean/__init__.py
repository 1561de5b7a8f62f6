"""Clean stage: main text from HTML (trafilatura) and boilerplate lines out of plain text.

`clean_corpus(docs)` is what the pipeline calls; `clean_text` and `clean_html` clean one input.
Every removed line is kept with a short reason code, so a report can show what went and why:
markers (clean/data/markers.tsv) "wrapper-marker", "trailer", "read-more", "navigation",
"contact", "related-list", "copyright", "share", "image-credit", "comments", "date-line",
"source-note", "archive-notice", "video-widget", "social-widget"; position "header", "footer",
"sidebar-headlines"; corpus "repeated-in-corpus"; HTML "html-boilerplate" (page text
trafilatura left out).
"""

from storytrace.clean.document import clean_corpus, clean_html, clean_text
from storytrace.clean.options import CleanOptions
from storytrace.clean.repeats import repeated_lines

__all__ = ["CleanOptions", "clean_corpus", "clean_html", "clean_text", "repeated_lines"]
