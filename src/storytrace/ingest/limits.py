"""Every limit that keeps one hostile input from costing a run, in one place.

A file or record over a limit becomes an `InputError` naming it and the limit; the run goes on.
The values are far above real news (the longest of the 181 AEB pages in ../shared/data is
1.5 MB of HTML, the longest Multi-News JSONL row 50 kB) and far below what would exhaust a small
machine: reading holds at most one document of `max_document_bytes` at a time.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    """How much any one input may be; `Limits()` is what the CLI and `analyze()` use."""

    # One document (a file, a JSONL line's text, a Parquet cell, a WARC response body) after
    # decompression. Over it the document is rejected, not truncated: a 10 MB "article" is a
    # dump or a log, and half of one would be mistaken for a shorter article.
    max_document_bytes: int = 10 * 1024 * 1024
    # The clean text of one document, in characters: past it the text is cut (at a line end)
    # with a note. The later stages are superlinear in one text's length (a 9 MB text took
    # 98 s to analyze, 2 MB 8 s; bench/hostile.py); the longest article of the 10,000-document
    # bench corpus is 120 kB.
    max_text_chars: int = 1_000_000
    # A line of a JSONL file (its document plus the other fields).
    max_line_bytes: int = 12 * 1024 * 1024
    # Decompressed size over compressed size, checked once the output passes
    # `ratio_floor_bytes`: gzip of real text is 3-10x; a bomb is 1,000x.
    max_compression_ratio: float = 100.0
    ratio_floor_bytes: int = 1024 * 1024
    # Row groups of a Parquet file bigger than this (uncompressed, as its footer says) are
    # rejected unread: pyarrow materialises a row group's columns whole.
    max_row_group_bytes: int = 512 * 1024 * 1024
    # Bytes read at a time when streaming a file.
    chunk_bytes: int = 1024 * 1024

    def __post_init__(self) -> None:
        for name in ("max_document_bytes", "max_text_chars", "max_line_bytes", "ratio_floor_bytes",
                     "max_row_group_bytes", "chunk_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.max_compression_ratio < 1:
            raise ValueError("max_compression_ratio must be at least 1")


LIMITS = Limits()

__all__ = ["LIMITS", "Limits"]
