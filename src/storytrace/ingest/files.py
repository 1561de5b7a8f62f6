"""Readers for every input format, behind one function that walks paths."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from storytrace.ingest.decode import MAX_DOCUMENT_BYTES, DecodeError, decode_text, gunzip
from storytrace.model import Document, InputError

TEXT_SUFFIXES = (".txt", ".text")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
PARQUET_SUFFIXES = (".parquet",)
WARC_SUFFIXES = (".warc",)
KNOWN_SUFFIXES = TEXT_SUFFIXES + HTML_SUFFIXES + JSONL_SUFFIXES + PARQUET_SUFFIXES + WARC_SUFFIXES

_HTML_SNIFF = re.compile(rb"^\s*(<!doctype html|<html|<head|<body)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class FieldMap:
    """Which fields of a JSONL/Parquet row hold the document's parts."""

    id: str = "id"
    text: str = "text"
    url: str | None = "url"
    date: str | None = "date"
    title: str | None = "title"
    html: str | None = None  # a field holding HTML instead of text, when the rows are pages


@dataclass(slots=True)
class Inputs:
    """What reading the inputs produced: documents, errors, and files passed over."""

    documents: list[Document] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _suffix(path: Path) -> str:
    """The format suffix, looking through a trailing .gz: "a.html.gz" -> ".html"."""
    name = path.name.lower()
    name = name.removesuffix(".gz")
    return Path(name).suffix


def document_id(path: Path) -> str:
    """The file name without its extensions: "000_f9d6.txt" -> "000_f9d6", "a.html.gz" -> "a"."""
    name = path.name
    if name.lower().endswith(".gz"):
        name = name[:-3]
    stem = Path(name).stem
    return stem or name


def walk(paths: Iterable[str | Path]) -> Iterator[tuple[Path, bool]]:
    """Yield (file, named) for each input: files as given, directories walked recursively
    (only files with a known suffix; `named` is False for those)."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if any(part.startswith(".") for part in child.relative_to(path).parts):
                    continue
                yield child, False
        else:
            yield path, True


def iter_inputs(
    paths: Iterable[str | Path], fields: FieldMap = FieldMap()
) -> Iterator[Document | InputError | Path]:
    """Stream Documents and InputErrors from `paths`; a bare Path means "skipped, unknown type"."""
    for path, named in walk(paths):
        suffix = _suffix(path)
        if suffix in JSONL_SUFFIXES:
            yield from _read_jsonl(path, fields)
        elif suffix in PARQUET_SUFFIXES:
            yield from _read_parquet(path, fields)
        elif suffix in WARC_SUFFIXES:
            yield from _read_warc(path)
        elif suffix in TEXT_SUFFIXES + HTML_SUFFIXES or named:
            yield _read_single(path, suffix)
        else:
            yield path


def read_inputs(paths: Iterable[str | Path], fields: FieldMap = FieldMap()) -> Inputs:
    """Read everything in `paths` (see module docstring); never raises for bad input."""
    inputs = Inputs()
    for item in iter_inputs(paths, fields):
        if isinstance(item, Document):
            inputs.documents.append(item)
        elif isinstance(item, InputError):
            inputs.errors.append(item)
        else:
            inputs.skipped.append(str(item))
    return inputs


def _read_single(path: Path, suffix: str) -> Document | InputError:
    source = str(path)
    if not path.exists():
        return InputError(source, "no such file or directory")
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES * 4:  # even compressed, too big to be one article
            return InputError(source, f"too large for one document ({size:,} bytes)")
        data = gunzip(path.read_bytes(), path.name.lower())
        text = decode_text(data)
    except DecodeError as exc:
        return InputError(source, str(exc))
    except OSError as exc:
        return InputError(source, f"cannot read: {exc.strerror or exc}")
    is_html = suffix in HTML_SUFFIXES or (
        suffix not in TEXT_SUFFIXES and _HTML_SNIFF.match(data[:512]) is not None
    )
    return Document(
        id=document_id(path), raw=text, source=source, format="html" if is_html else "text"
    )


def _open_text(path: Path):
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="strict")
    return path.open("r", encoding="utf-8", errors="strict")


def _read_jsonl(path: Path, fields: FieldMap) -> Iterator[Document | InputError]:
    source = str(path)
    try:
        handle = _open_text(path)
        with handle:
            line_no = 0
            while True:
                line_no += 1
                try:
                    line = handle.readline()
                except UnicodeDecodeError as exc:
                    yield InputError(source, f"not UTF-8 ({exc.reason}); rest of file skipped",
                                     record=f"line {line_no}")
                    return
                if not line:
                    break
                if not line.strip():
                    continue
                record = f"line {line_no}"
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield InputError(source, f"malformed JSON: {exc.msg}", record=record)
                    continue
                if not isinstance(row, dict):
                    yield InputError(source, "a row must be a JSON object", record=record)
                    continue
                yield document_from_row(row, fields, source, record, default_id=f"{document_id(path)}-{line_no}")
    except (OSError, EOFError) as exc:
        yield InputError(source, f"cannot read: {exc}")


def _read_parquet(path: Path, fields: FieldMap) -> Iterator[Document | InputError]:
    import pyarrow.parquet as pq

    source = str(path)
    try:
        parquet = pq.ParquetFile(path)
        row_no = 0
        for batch in parquet.iter_batches(batch_size=1024):
            for row in batch.to_pylist():
                record = f"row {row_no}"
                yield document_from_row(row, fields, source, record, default_id=f"{document_id(path)}-{row_no}")
                row_no += 1
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many types for a broken file
        yield InputError(source, f"cannot read Parquet: {exc}")


def _read_warc(path: Path) -> Iterator[Document | InputError]:
    from warcio.archiveiterator import ArchiveIterator

    source = str(path)
    try:
        with path.open("rb") as stream:
            for n, record in enumerate(ArchiveIterator(stream)):
                if record.rec_type is None:
                    yield InputError(source, "malformed WARC: a record without WARC-Type",
                                     record=f"record {n}")
                    return
                if record.rec_type != "response":
                    continue
                url = record.rec_headers.get_header("WARC-Target-URI")
                ref = f"record {n}" + (f" {url}" if url else "")
                content_type = (record.http_headers.get_header("Content-Type") or "").lower() \
                    if record.http_headers else ""
                if content_type and "html" not in content_type and "text" not in content_type:
                    continue
                try:
                    text = decode_text(record.content_stream().read())
                except DecodeError as exc:
                    yield InputError(source, str(exc), record=ref)
                    continue
                rec_id = record.rec_headers.get_header("WARC-Record-ID") or f"{n}"
                yield Document(
                    id=url or rec_id.strip("<>"), raw=text, source=f"{source}#{ref}",
                    format="html" if "html" in content_type or _HTML_SNIFF.match(text[:512].encode()) else "text",
                    url=url, date=_iso_date(record.rec_headers.get_header("WARC-Date")),
                )
    except Exception as exc:  # noqa: BLE001 - warcio raises ArchiveLoadFailed and more on junk
        yield InputError(source, f"malformed WARC: {exc}")


def document_from_row(
    row: dict[str, Any], fields: FieldMap, source: str, record: str, default_id: str
) -> Document | InputError:
    is_html = fields.html is not None and row.get(fields.html) not in (None, "")
    body = row.get(fields.html) if is_html else row.get(fields.text)
    if body is None:
        wanted = fields.html if fields.html else fields.text
        return InputError(source, f"no '{wanted}' field", record=record)
    if not isinstance(body, str):
        return InputError(source, f"field '{fields.text}' is not a string", record=record)
    if not body.strip():
        return InputError(source, "empty text", record=record)
    if len(body.encode("utf-8", "surrogatepass")) > MAX_DOCUMENT_BYTES:
        return InputError(source, "text too large for one document", record=record)
    raw_id = row.get(fields.id)
    doc_id = str(raw_id) if raw_id not in (None, "") else default_id

    def optional(name: str | None) -> str | None:
        value = row.get(name) if name else None
        return None if value in (None, "") else str(value)

    return Document(
        id=doc_id,
        raw=body,
        source=f"{source}#{record}",
        format="html" if is_html else "text",
        url=optional(fields.url),
        title=optional(fields.title),
        date=_iso_date(row.get(fields.date) if fields.date else None),
    )


def _iso_date(value: Any) -> str | None:
    """An ISO date (YYYY-MM-DD) from a date, datetime or string; None if there is none."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})", text)
    if match:
        return match.group(0)
    try:
        return parsedate_to_datetime(text).date().isoformat()  # RFC 2822, as in feeds and HTTP
    except (TypeError, ValueError, IndexError):
        return None
