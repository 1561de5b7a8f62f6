"""Bytes to text, with a reason when that is not possible."""

from __future__ import annotations

import gzip
import zlib

import charset_normalizer

# A document bigger than this is almost certainly not one article (a dump, a binary); the
# limit keeps one bad file from exhausting memory. Record files (JSONL, Parquet, WARC) are
# streamed and not subject to it, but each record is.
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


class DecodeError(ValueError):
    """Why some bytes are not a text document."""


def gunzip(data: bytes, name: str) -> bytes:
    if not name.endswith(".gz"):
        return data
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as exc:
        raise DecodeError(f"not a valid gzip file ({exc})") from exc


def looks_binary(data: bytes) -> bool:
    """NUL bytes or many control characters in the first 8 KiB: an image, a PDF, an archive."""
    head = data[:8192]
    if b"\x00" in head:
        return True
    control = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 12, 13))
    return control > len(head) * 0.05


def decode_text(data: bytes) -> str:
    """Decode bytes as UTF-8 (with or without BOM), else the best guess of charset_normalizer.

    Raises DecodeError for empty, oversized, binary or undecodable input.
    """
    if not data.strip():
        raise DecodeError("empty file")
    if len(data) > MAX_DOCUMENT_BYTES:
        raise DecodeError(
            f"too large for one document ({len(data):,} bytes > {MAX_DOCUMENT_BYTES:,})"
        )
    if looks_binary(data):
        raise DecodeError("binary content, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    matches = list(charset_normalizer.from_bytes(data))
    if not matches:
        raise DecodeError("undecodable: not UTF-8 and no other encoding fits")
    best = matches[0]
    # Among equally plausible guesses prefer Windows-1252, by far the most common legacy
    # encoding of scraped Western news; charset_normalizer ties them on short texts.
    for match in matches:
        if match.encoding == "cp1252" and match.chaos <= best.chaos and match.coherence >= best.coherence:
            best = match
            break
    return str(best)
