"""Readers for every input format, behind one function that walks paths.

Every reader isolates its records: whatever goes wrong with one line, row or WARC record
becomes an `InputError` naming the file, the record and the reason, and reading goes on with
the next one (or, where the file itself is broken past that point, with the next file). The
limits on what any one input may cost are in `storytrace.ingest.limits`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, BinaryIO

from storytrace.ingest.decode import (
    COMPRESSIONS,
    DecodeError,
    compression,
    decode_text,
    decompress_stream,
    json_plainly_safe,
    safe_text,
)
from storytrace.ingest.limits import LIMITS, Limits
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


# result.json names this many of the files passed over as of unknown type (and counts all).
SKIPPED_NAMED = 20


def note_skipped(result, skipped: list[str]):
    """`result` with `stats["skipped_files"]` ({"count", "examples"}) when input files were
    passed over as of unknown type (an image, a .zip, a README): not errors, but a reader of
    the outputs alone must be able to see that they were not read."""
    if skipped:
        named = [safe_text(path) for path in skipped[:SKIPPED_NAMED]]
        result.stats["skipped_files"] = {"count": len(skipped), "examples": named}
    return result


def _suffix(path: Path) -> str:
    """The format suffix, looking through a compression suffix: "a.html.gz" -> ".html"."""
    name = path.name.lower()
    name = name.removesuffix(compression(name) or "")
    return Path(name).suffix


def document_id(path: Path) -> str:
    """The file name without its extensions: "000_f9d6.txt" -> "000_f9d6", "a.html.gz" -> "a"."""
    name = path.name
    name = name[:len(name) - len(compression(name) or "")]
    stem = Path(name).stem
    return safe_text(stem or name)


_FILE_TYPES = (
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _not_regular(mode: int) -> str | None:
    """Why a file of this mode is refused unread, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    for test, name in _FILE_TYPES:
        if test(mode):
            return f"not a regular file: {name}"
    return "not a regular file"


def _inside(path: Path, folders: list[Path]) -> bool:
    return any(path == f or f in path.parents for f in folders)


def walk(
    paths: Iterable[str | Path], exclude: Iterable[str | Path] = ()
) -> Iterator[tuple[Path, bool] | InputError]:
    """Yield (file, named) for each input: files as given, directories walked recursively
    (hidden entries and everything under `exclude` left out; `named` is False for their
    files; links to directories are followed). A directory that cannot be listed is an
    InputError, not a silent gap. A file or directory reached twice (inputs that overlap,
    links to one file, a link that loops back) is read once."""
    excluded = [Path(os.path.abspath(p)) for p in exclude]
    seen: set[str] = set()
    for item in _walk(paths, excluded):
        if not isinstance(item, InputError):
            real = os.path.realpath(item[0])
            if real in seen:
                continue
            seen.add(real)
        yield item


def _walk(paths: Iterable[str | Path], excluded: list[Path]) -> Iterator[tuple[Path, bool] | InputError]:
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found: list[Path] = []
            problems: list[InputError] = []

            def unlisted(exc: OSError, problems=problems, top=path) -> None:
                problems.append(InputError(str(exc.filename or top),
                                           f"cannot read directory: {exc.strerror or exc}"))

            # Links to directories are followed (a user links a folder in to have it read),
            # each real directory once, so a link back up (`loop -> .`) ends the walk there.
            visited: set[str] = set()
            for folder, dirs, files in os.walk(path, onerror=unlisted, followlinks=True):
                here = Path(folder)
                real = os.path.realpath(here)
                if real in visited:
                    dirs[:] = []
                    continue
                visited.add(real)
                dirs[:] = [d for d in dirs if not d.startswith(".")
                           and not _inside(Path(os.path.abspath(here / d)), excluded)
                           and not _inside(Path(os.path.realpath(here / d)), excluded)]
                found += [here / f for f in files if not f.startswith(".")]
            yield from problems
            for child in sorted(found):
                if not _inside(Path(os.path.abspath(child)), excluded):
                    yield child, False
        else:
            yield path, True


def iter_inputs(
    paths: Iterable[str | Path],
    fields: FieldMap = FieldMap(),
    limits: Limits = LIMITS,
    exclude: Iterable[str | Path] = (),
) -> Iterator[Document | InputError | Path]:
    """Stream Documents and InputErrors from `paths`; a bare Path means "skipped, unknown type".

    Paths under `exclude` (the run's own output directory) are never read. Every source
    and record named is safe text (a file name that is not UTF-8 shows U+FFFD).
    """
    for item in _iter_inputs(paths, fields, limits, exclude):
        if isinstance(item, Document | InputError):
            item.source = safe_text(item.source)
        if isinstance(item, InputError) and item.record is not None:
            item.record = safe_text(item.record)
        yield item


def _iter_inputs(paths, fields: FieldMap, limits: Limits, exclude) -> Iterator[Document | InputError | Path]:
    for item in walk(paths, exclude):
        if isinstance(item, InputError):
            yield item
            continue
        path, named = item
        suffix = _suffix(path)
        if not named and suffix not in KNOWN_SUFFIXES:
            yield path
            continue
        source = str(path)
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            yield InputError(source, "no such file or directory")
            continue
        except OSError as exc:
            yield InputError(source, f"cannot read: {exc.strerror or exc}")
            continue
        refused = _not_regular(mode)
        if refused is not None:
            yield InputError(source, refused)
            continue
        packed = compression(path.name)
        if packed and (suffix in PARQUET_SUFFIXES or suffix in WARC_SUFFIXES and packed != ".gz"):
            how = "decompress it first" if suffix in PARQUET_SUFFIXES else \
                "decompress it or gzip it first (WARC is read as .warc or .warc.gz)"
            yield InputError(source, f"a {suffix} file compressed with {COMPRESSIONS[packed]}: "
                             f"not read; {how}")
            continue
        if suffix in JSONL_SUFFIXES:
            reader = _read_jsonl(path, fields, limits)
        elif suffix in PARQUET_SUFFIXES:
            reader = _read_parquet(path, fields, limits)
        elif suffix in WARC_SUFFIXES:
            reader = _read_warc(path, limits)
        else:
            reader = iter([_read_single(path, suffix, limits)])
        try:
            yield from reader
        except Exception as exc:  # noqa: BLE001 - one file must never end the run
            yield InputError(source, f"reading stopped: {type(exc).__name__}: {_why(exc)}")


def read_inputs(
    paths: Iterable[str | Path],
    fields: FieldMap = FieldMap(),
    limits: Limits = LIMITS,
    exclude: Iterable[str | Path] = (),
) -> Inputs:
    """Read everything in `paths` (see module docstring); never raises for bad input."""
    inputs = Inputs()
    for item in iter_inputs(paths, fields, limits, exclude):
        if isinstance(item, Document):
            inputs.documents.append(item)
        elif isinstance(item, InputError):
            inputs.errors.append(item)
        else:
            inputs.skipped.append(str(item))
    return inputs


def unique_ids(docs: list[Document]) -> list[Document]:
    """Give every document an id of its own: a second "a" becomes "a~2" (or "a~3" when the
    input already has an "a~2"), so every id names one document and one family member."""
    taken = {doc.id for doc in docs}
    seen: set[str] = set()
    for doc in docs:
        if doc.id in seen:
            n = 2
            while f"{doc.id}~{n}" in taken:
                n += 1
            doc.id = f"{doc.id}~{n}"
            taken.add(doc.id)
        seen.add(doc.id)
    return docs


def unique_stream(docs: Iterable[Document]) -> Iterator[Document]:
    """`unique_ids` for a stream (dedup): a repeated "a" becomes the first free "a~N" among
    the ids seen so far, so an "a~2" arriving later is renamed in its turn. Holds one 64-bit
    hash per id, not the ids."""
    import xxhash

    seen: set[int] = set()
    for doc in docs:
        key = xxhash.xxh3_64_intdigest(doc.id.encode("utf-8", "surrogatepass"))
        if key in seen:
            n = 2
            while xxhash.xxh3_64_intdigest(f"{doc.id}~{n}".encode("utf-8", "surrogatepass")) in seen:
                n += 1
            doc.id = f"{doc.id}~{n}"
            key = xxhash.xxh3_64_intdigest(doc.id.encode("utf-8", "surrogatepass"))
        seen.add(key)
        yield doc


def safe_document(doc: Document) -> Document:
    """`doc` with every text field made safe for the outputs (`safe_text`); the same object
    when nothing needed it."""
    changed = {
        name: safe_text(value) for name in ("id", "raw", "source", "url", "title", "date")
        if isinstance(value := getattr(doc, name), str) and safe_text(value) is not value
    }
    return dataclasses.replace(doc, **changed) if changed else doc


def _read_limited(stream: BinaryIO, name: str, limits: Limits) -> bytes:
    """All of a stream (decompressed for a compressed file's name), refusing more than one
    document."""
    if compression(name):
        return b"".join(decompress_stream(stream, name, limits))
    data = stream.read(limits.max_document_bytes + 1)
    if len(data) > limits.max_document_bytes:
        raise DecodeError(f"too large for one document (over {limits.max_document_bytes:,} bytes)")
    return data


def _read_single(path: Path, suffix: str, limits: Limits) -> Document | InputError:
    source = str(path)
    try:
        with path.open("rb") as stream:
            data = _read_limited(stream, path.name.lower(), limits)
        text = decode_text(data, limits)
    except DecodeError as exc:
        return InputError(source, str(exc))
    except OSError as exc:
        return InputError(source, f"cannot read: {exc.strerror or exc}")
    is_html = suffix in HTML_SUFFIXES or (
        suffix not in TEXT_SUFFIXES and _HTML_SNIFF.match(text[:512].encode()) is not None
    )
    return Document(
        id=document_id(path), raw=text, source=source, format="html" if is_html else "text"
    )


def _chunks(path: Path, stream: BinaryIO, limits: Limits) -> Iterator[bytes]:
    if compression(path.name):
        # a record file may inflate past one document; the ratio still stops a bomb
        yield from decompress_stream(stream, path.name, limits, max_bytes=2**62)
        return
    while chunk := stream.read(limits.chunk_bytes):
        yield chunk


def _lines(chunks: Iterator[bytes], max_line: int) -> Iterator[bytes | None]:
    """The lines of a byte stream (without their newline); None for a line over `max_line`
    bytes, which is skipped without being held in memory."""
    parts: list[bytes] = []
    size = 0
    too_long = False
    for chunk in chunks:
        pieces = chunk.split(b"\n")
        for n, piece in enumerate(pieces):
            last = n == len(pieces) - 1
            if not too_long:
                size += len(piece)
                if size > max_line:
                    too_long, parts = True, []
                else:
                    parts.append(piece)
            if not last:
                yield None if too_long else b"".join(parts)
                parts, size, too_long = [], 0, False
    if too_long:
        yield None
    elif size:
        yield b"".join(parts)


def _file_lines(stream: BinaryIO, max_line: int) -> Iterator[bytes | None]:
    """`_lines` of an uncompressed file, by the buffered reader's own readline: the same
    lines (and None for a line over `max_line` bytes, read past in pieces of that size),
    at about half the CPU (0.07-0.12 -> 0.04 s on the 20k bench corpus)."""
    while line := stream.readline(max_line + 1):
        if line.endswith(b"\n"):
            yield line[:-1]
        elif len(line) <= max_line:  # the last line, without a newline
            yield line
        else:
            while (rest := stream.readline(max_line + 1)) and not rest.endswith(b"\n"):
                pass
            yield None


def _decode_line(line: bytes) -> tuple[str, bool]:
    """A JSONL line as text: UTF-8 as JSON requires, else (one bad byte must not cost the
    row, nor the rows around it) Windows-1252, the usual legacy encoding of scraped news.
    Also whether the line was strict UTF-8 (the condition of `json_plainly_safe`)."""
    try:
        return line.decode("utf-8"), True
    except UnicodeDecodeError:
        pass
    try:
        return line.decode("utf-8", "surrogatepass"), False
    except UnicodeDecodeError:
        return line.decode("cp1252", "replace"), False


def _read_jsonl(path: Path, fields: FieldMap, limits: Limits) -> Iterator[Document | InputError]:
    source = safe_text(str(path))  # once here, so a plainly safe row needs no test at all
    default = document_id(path)
    try:
        with path.open("rb", buffering=limits.chunk_bytes) as stream:
            lines = (_lines(_chunks(path, stream, limits), limits.max_line_bytes)
                     if compression(path.name) else _file_lines(stream, limits.max_line_bytes))
            for line_no, raw in enumerate(lines, start=1):
                record = f"line {line_no}"
                if raw is None:
                    yield InputError(source, f"line longer than {limits.max_line_bytes:,} bytes",
                                     record=record)
                    continue
                if line_no == 1:
                    raw = raw.removeprefix(b"\xef\xbb\xbf")
                if not raw.strip():
                    continue
                yield _row_document(raw, fields, source, record, f"{default}-{line_no}", limits)
    except DecodeError as exc:
        yield InputError(source, f"{_why(exc)}; the rest of the file is not read")
    except OSError as exc:
        yield InputError(source, f"cannot read: {exc.strerror or exc}")


def _row_document(raw: bytes, fields: FieldMap, source: str, record: str,
                  default_id: str, limits: Limits) -> Document | InputError:
    try:
        text, strict = _decode_line(raw)
        row = json.loads(text)
    except json.JSONDecodeError as exc:
        return InputError(source, f"malformed JSON: {exc.msg}", record=record)
    except RecursionError:
        return InputError(source, "malformed JSON: nested too deeply", record=record)
    except ValueError as exc:
        return InputError(source, f"malformed JSON: {_why(exc)}", record=record)
    if not isinstance(row, dict):
        return InputError(source, "a row must be a JSON object", record=record)
    try:
        return document_from_row(row, fields, source, record, default_id, limits,
                                 safe=strict and json_plainly_safe(raw))
    except Exception as exc:  # noqa: BLE001 - one odd row must not end the file
        return InputError(source, f"unusable row: {type(exc).__name__}: {_why(exc)}", record=record)


def _read_parquet(path: Path, fields: FieldMap, limits: Limits) -> Iterator[Document | InputError]:
    import pyarrow.parquet as pq

    source = str(path)
    default = document_id(path)
    try:
        parquet = pq.ParquetFile(path)
        names = parquet.schema_arrow.names
    except Exception as exc:  # noqa: BLE001 - pyarrow raises many types for a broken file
        yield InputError(source, f"cannot read Parquet: {_why(exc)}")
        return
    wanted = [f for f in (fields.id, fields.text, fields.url, fields.date, fields.title,
                          fields.html) if f]
    columns = [c for c in dict.fromkeys(wanted) if c in names]
    if fields.text not in names and (fields.html is None or fields.html not in names):
        body = fields.text if fields.html is None else f"{fields.text}' or '{fields.html}"
        yield InputError(source, f"no '{body}' column (columns: {_listed(names)})")
        return
    first_row = 0
    for group in range(parquet.metadata.num_row_groups):
        meta = parquet.metadata.row_group(group)
        rows = meta.num_rows
        where = f"row group {group} (rows {first_row}-{first_row + rows - 1})"
        if meta.total_byte_size > limits.max_row_group_bytes:
            yield InputError(source, f"row group of {meta.total_byte_size:,} bytes, over "
                                     f"{limits.max_row_group_bytes:,}", record=where)
            first_row += rows
            continue
        row_no = first_row
        try:
            for batch in parquet.iter_batches(batch_size=256, row_groups=[group],
                                              columns=columns):
                values = {name: _column_values(batch.column(name)) for name in batch.schema.names}
                for i in range(batch.num_rows):
                    row = {name: values[name][i] for name in values}
                    record = f"row {row_no}"
                    try:
                        yield document_from_row(row, fields, source, record,
                                                f"{default}-{row_no}", limits)
                    except Exception as exc:  # noqa: BLE001 - one odd row must not end the file
                        yield InputError(source, f"unusable row: {_why(exc)}", record=record)
                    row_no += 1
        except Exception as exc:  # noqa: BLE001 - a corrupt row group: report it, read the next
            left = f"rows {row_no}-{first_row + rows - 1}" if row_no > first_row else where
            yield InputError(source, f"cannot read Parquet: {_why(exc)}", record=left)
        first_row += rows


class _Unreadable:
    """A Parquet cell whose value pyarrow cannot turn into Python (a date out of range)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _column_values(column) -> list[Any]:
    """A column's values; when converting it whole fails, cell by cell, so that one bad
    value costs its row's field, not the file."""
    try:
        return column.to_pylist()
    except Exception:  # noqa: BLE001 - pyarrow's conversion errors vary by type
        out: list[Any] = []
        for i in range(len(column)):
            try:
                out.append(column[i].as_py())
            except Exception as exc:  # noqa: BLE001
                out.append(_Unreadable(str(exc)))
        return out


def _read_warc(path: Path, limits: Limits) -> Iterator[Document | InputError]:
    from warcio.archiveiterator import ArchiveIterator

    source = str(path)
    n = -1
    offset = end = 0
    with path.open("rb") as stream:
        records = ArchiveIterator(stream)
        while True:
            try:
                record = next(records)
            except StopIteration:
                stream.seek(end)
                if stream.read(65536).strip(b"\r\n\t \x00"):
                    # warcio ends quietly at a record cut off inside its headers
                    yield InputError(source, "truncated WARC: the bytes after the last whole "
                                             "record are not a whole record",
                                     record=f"record {n + 1} at byte {end:,}")
                return
            except Exception as exc:  # noqa: BLE001 - warcio raises ArchiveLoadFailed and more
                # warcio cannot tell a record cut off in its headers from a malformed one
                yield InputError(source, f"truncated or malformed WARC record ({_why(exc)}); "
                                         "the rest of the file is not read",
                                 record=f"record {n + 1} at byte {end:,}")
                return
            n += 1
            try:
                item = _warc_document(record, n, source, limits)
            except Exception as exc:  # noqa: BLE001 - one record must not end the file
                item = InputError(source, f"unreadable record: {type(exc).__name__}: {_why(exc)}",
                                  record=f"record {n}")
            # after the record is read: warcio reads it to its end to find its offset
            with contextlib.suppress(Exception):
                offset = records.get_record_offset()
                end = offset + records.get_record_length()
            if item is not None:
                yield item


# What a WARC response must be to be read as a document: a page or plain text, not a style
# sheet, a script, a feed or an image.
_DOCUMENT_TYPES = ("text/html", "application/xhtml+xml", "text/plain")


def _warc_document(record, n: int, source: str,
                   limits: Limits) -> Document | InputError | None:
    if record.rec_type is None:
        return InputError(source, "malformed WARC: a record without WARC-Type",
                          record=f"record {n}")
    if record.rec_type != "response":
        return None
    url = record.rec_headers.get_header("WARC-Target-URI")
    ref = f"record {n}" + (f" {url}" if url else "")
    http = record.http_headers
    if http is not None:
        status = (http.get_statuscode() or "")
        if status and not status.startswith("2"):
            return None  # redirects and error pages are not articles
    content_type = (http.get_header("Content-Type") or "").split(";")[0].strip().lower() \
        if http is not None else ""
    if content_type and content_type not in _DOCUMENT_TYPES:
        return None
    if url and url.split("?")[0].lower().endswith("/robots.txt"):
        return None
    body = record.content_stream()
    data = b""
    while len(data) <= limits.max_document_bytes:
        chunk = body.read(limits.max_document_bytes + 1 - len(data))
        if not chunk:
            break
        data += chunk
    if len(data) > limits.max_document_bytes:
        return InputError(source, f"too large for one document (over "
                                  f"{limits.max_document_bytes:,} bytes)", record=ref)
    missing = _missing_bytes(record.raw_stream, limits)
    if missing:
        return InputError(source, f"truncated record: {missing:,} bytes of its stated length "
                                  "are missing", record=ref)
    if not content_type and _HTML_SNIFF.match(data[:512]) is None:
        return None  # no type and not a page
    try:
        text = decode_text(data, limits)
    except DecodeError as exc:
        return InputError(source, str(exc), record=ref)
    rec_id = record.rec_headers.get_header("WARC-Record-ID") or f"{n}"
    is_html = "html" in content_type or _HTML_SNIFF.match(data[:512]) is not None
    return Document(
        id=safe_text(url or rec_id.strip("<>")), raw=text, source=safe_text(f"{source}#{ref}"),
        format="html" if is_html else "text",
        url=safe_text(url) if url else None,
        date=_iso_date(record.rec_headers.get_header("WARC-Date")),
    )


def _missing_bytes(raw_stream, limits: Limits) -> int:
    """How many bytes of a record's stated Content-Length the file does not hold (a WARC cut
    short inside this record); 0 when it is whole."""
    left = getattr(raw_stream, "limit", 0)
    if not isinstance(left, int) or left <= 0:
        return 0
    while left > 0:
        chunk = raw_stream.read(min(left, limits.chunk_bytes))
        if not chunk:
            return left
        left -= len(chunk)
    return 0


def _why(exc: BaseException) -> str:
    """An exception's message on one line, at most 300 characters, safe for every output."""
    return safe_text(" ".join(str(exc).split()))[:300] or type(exc).__name__


def _listed(names: Iterable[str], most: int = 12) -> str:
    names = list(names)
    shown = ", ".join(names[:most])
    return shown + (f", ... ({len(names)} in all)" if len(names) > most else "") if names else "none"


def document_from_row(
    row: dict[str, Any], fields: FieldMap, source: str, record: str, default_id: str,
    limits: Limits = LIMITS, safe: bool = False,
) -> Document | InputError:
    """One row of a JSONL/Parquet file (or a dict given to `analyze`) as a Document, or the
    reason it is not one. `safe`: the caller knows that `safe_text` would change none of the
    row's strings, `source`, `record` or `default_id` (a plainly safe JSONL line)."""
    keep = _unchanged if safe else safe_text
    is_html = fields.html is not None and row.get(fields.html) not in (None, "")
    wanted = fields.html if is_html else fields.text
    body = row.get(wanted)
    if body is None:
        if wanted in row:
            return InputError(source, f"field '{wanted}' is null", record=record)
        named = fields.text if fields.html is None else f"{fields.text}' or '{fields.html}"
        return InputError(source, f"no '{named}' field (the row has: {_listed(row)})",
                          record=record)
    if isinstance(body, _Unreadable):
        return InputError(source, f"field '{wanted}' unreadable: {body.reason}", record=record)
    if isinstance(body, bytes):
        try:
            body = decode_text(body, limits)
        except DecodeError as exc:
            return InputError(source, f"field '{wanted}': {_why(exc)}", record=record)
    if not isinstance(body, str):
        return InputError(source, f"field '{wanted}' is not a string (it is "
                                  f"{type(body).__name__})", record=record)
    if not body or body.isspace():  # not body.strip(), without copying the text
        return InputError(source, "empty text", record=record)
    if len(body) > limits.max_document_bytes // 4 and \
            len(body.encode("utf-8", "surrogatepass")) > limits.max_document_bytes:
        return InputError(source, f"text too large for one document (over "
                                  f"{limits.max_document_bytes:,} bytes)", record=record)
    raw_id = row.get(fields.id)
    if isinstance(raw_id, bool) or not isinstance(raw_id, str | int | float | type(None)):
        return InputError(source, f"field '{fields.id}' is not a string or a number (it is "
                                  f"{type(raw_id).__name__})", record=record)
    doc_id = str(raw_id) if raw_id not in (None, "") else default_id

    def optional(name: str | None) -> str | None:
        value = row.get(name) if name else None
        if value in (None, "") or not isinstance(value, str | int | float):
            return None
        return keep(str(value))

    return Document(
        id=keep(doc_id),
        raw=keep(body),
        source=keep(f"{source}#{record}"),
        format="html" if is_html else "text",
        url=optional(fields.url),
        title=optional(fields.title),
        date=_iso_date(row.get(fields.date) if fields.date else None),
    )


def _unchanged(text: str) -> str:
    return text


def _iso_date(value: Any) -> str | None:
    """An ISO date (YYYY-MM-DD) from a date, datetime or string; None if there is none."""
    if value in (None, "") or isinstance(value, _Unreadable):
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if not isinstance(value, str | int | float):
        return None
    text = str(value).strip()[:100]
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})", text)
    if match:
        return match.group(0)
    from email.utils import parsedate_to_datetime  # here: 20 ms to import, rarely needed

    try:
        return parsedate_to_datetime(text).date().isoformat()  # RFC 2822, as in feeds and HTTP
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
