"""Hostile-input checker: every case of issue 13, and more like them, through the real CLI.

    .venv/bin/python bench/hostile.py [--only NAME[,NAME...]] [--commands analyze,dedup,index]
                                      [--out bench/results/hostile.txt]

Each case writes two good documents (good-a.txt, good-b.txt) beside one hostile input into a
fresh directory, then runs `storytrace analyze`, `storytrace dedup` and `storytrace index add`
on it, each in a subprocess under a 3 GB address-space cap and a 120 s kill. A row passes when:
the exit code is 0 or 1 (2 where the case is a usage error, and then within 10 s); no
traceback; under 60 s; peak RSS under 3 GB; exactly the good documents were kept (none lost,
none made up from the bad input; analyze: each in one family and one story; index: `check`
finds nothing); and the bad input is in the errors with a reason naming the file and, for a
record file, the record. Special cases: two runs into one --out at once, kill -9 mid-run,
--out inside an input directory, --out naming a file. Prints the table and writes it to
--out. Peak RSS is the child's own (wait4), which is where every stage runs.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import json
import os
import platform
import resource
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CAP = 3 * 1024**3
KILL_AFTER = 120.0
MAX_SECONDS = 60.0

GOOD = {
    "good-a": ("The city council voted on Tuesday to approve a $3.3 million budget for the new "
               "bridge, Mayor Ana Ruiz said.\n\"We have waited thirteen years for this,\" Ruiz "
               "told reporters at the town hall on Main Street."),
    "good-b": ("Heavy rain flooded about 340 homes in the river valley on Monday, officials "
               "said. The levee is expected to be repaired by April 15, spokeswoman Priya "
               "Castellane said in a statement."),
}
OTHER = ("The observatory on the ridge reopened on Friday after a two-year restoration of its "
         "telescope dome, director Ines Marrow said. Visitors lined up before dawn.")


@dataclass
class Case:
    """One hostile input beside the good documents, and what a user would check."""

    name: str
    inputs: list[Path]
    good: set[str]  # exactly the ids the run must keep
    bad: str | None = None  # a file name the errors must name (in `source`)
    record: str | None = None  # what the error's `record` must hold ("" = any record)
    reason: str | None = None  # a word the reason must hold
    contains: dict[str, str] = field(default_factory=dict)  # id -> word its clean text holds
    noted: dict[str, str] = field(default_factory=dict)  # id -> words one of its notes holds
    commands: tuple[str, ...] = ("analyze", "dedup", "index")
    denied: Path | None = None  # a directory the child may not list (as chmod 000 does)
    good_dedup: set[str] | None = None  # dedup's ids where they differ (it names as it streams)


def _good(root: Path) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in GOOD.items():
        (root / f"{name}.txt").write_text(text, encoding="utf-8")


def _zeros_gzip(size: int) -> bytes:
    """A valid gzip of `size` zero bytes (~1,000x), made in a blink: one 1 MiB deflate block
    repeated, then the right trailer."""
    chunk = b"\0" * (1024 * 1024)
    deflate = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    head = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    block = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    final = deflate.flush()[:-8]
    count = size // len(chunk)
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)
    return head + block * (count - 1) + final + struct.pack("<II", crc, size & 0xFFFFFFFF)


def _page(text: str) -> bytes:
    return f"<html><body><article><p>{text}</p></article></body></html>".encode()


def _warc(path: Path, responses: list[tuple[str, str, bytes, dict]], gzip_records=True) -> list[int]:
    """Write a WARC of (url, content type, body, extra HTTP headers); returns record offsets."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    offsets = []
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=gzip_records)
        for url, content_type, body, extra in responses:
            offsets.append(stream.tell())
            extra = dict(extra)
            status = extra.pop("status", "200 OK")
            headers = StatusAndHeaders(status, [("Content-Type", content_type), *extra.items()],
                                       protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                url, "response", payload=io.BytesIO(body), http_headers=headers))
        offsets.append(stream.tell())
    return offsets


def _rows(n: int, prefix: str = "row") -> list[bytes]:
    return [json.dumps({"id": f"{prefix}-{k}", "text": f"{OTHER} Row {k} of the pile."}).encode()
            for k in range(n)]


# --- the cases ------------------------------------------------------------------------------

def c_gzip_bomb(d):
    _good(d / "in")
    (d / "in" / "bomb.html.gz").write_bytes(_zeros_gzip(1024**3))
    return Case("gzip bomb .html.gz (1 GiB)", [d / "in"], set(GOOD), "bomb.html.gz",
                reason="decompress")


def c_warc_gzip_record(d):
    _good(d / "in")
    _warc(d / "in" / "crawl.warc.gz", [
        ("https://good.example/w", "text/html", _page(OTHER), {}),
        ("https://news.example/bomb", "text/html", _zeros_gzip(1024**3),
         {"Content-Encoding": "gzip"})])
    return Case("WARC record gzip-encoded (1 GiB)", [d / "in"],
                {*GOOD, "https://good.example/w"}, "crawl.warc.gz", "news.example/bomb")


def c_jsonl_deep(d):
    _good(d / "in")
    rows = _rows(5)
    rows[2] = b'{"id": "deep", "text": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    (d / "in" / "pile.jsonl").write_bytes(b"\n".join(rows) + b"\n")
    return Case("JSONL 100,000-deep nesting", [d / "in"],
                {*GOOD, "row-0", "row-1", "row-3", "row-4"}, "pile.jsonl", "line 3")


def c_surrogate(d):
    _good(d / "in")
    rows = _rows(3)
    rows[1] = b'{"id": "row-1\\udc80", "text": "' + OTHER.encode() + b' \\ud800 end", "title": "t\\ud800"}'
    (d / "in" / "pile.jsonl").write_bytes(b"\n".join(rows) + b"\n")
    return Case('JSONL lone surrogate "\\ud800"', [d / "in"],
                {*GOOD, "row-0", "row-1\ufffd", "row-2"}, contains={"row-1\ufffd": "observatory"})


def c_quotes(d):
    _good(d / "in")
    text = " ".join(f'"Word{n} is here," said Person{n % 50} Jones. Then "open' for n in range(20_000))
    (d / "in" / "quotes.txt").write_text(text)
    return Case("facts: 20,000 unbalanced quotes", [d / "in"], {*GOOD, "quotes"},
                noted={"quotes": "facts:"})


def c_amounts(d):
    _good(d / "in")
    text = "The budgets were " + ", ".join(f"${n}.5 million" for n in range(20_000)) + "."
    (d / "in" / "amounts.txt").write_text(text)
    return Case("facts: 20,000 amounts in one sentence", [d / "in"], {*GOOD, "amounts"},
                noted={"amounts": "facts:"})


def c_long_sentence(d):
    _good(d / "in")
    text = " ".join(f"Word{n % 500} Name{n % 77}" for n in range(50_000))
    (d / "in" / "sentence.txt").write_text(text)
    return Case("facts: a 100,000-word sentence", [d / "in"], {*GOOD, "sentence"})


def _three_page_warc(path: Path, gz: bool) -> list[int]:
    return _warc(path, [("https://good.example/1", "text/html", _page(OTHER), {}),
                        ("https://good.example/2", "text/html", _page(OTHER + " Second."), {}),
                        ("https://news.example/3", "text/html", _page(OTHER + " Third."), {})],
                 gzip_records=gz)


def c_dates(d):
    _good(d / "in")
    text = ", ".join(f"on March {n % 28 + 1}, {1900 + n % 120}" for n in range(15_000))
    (d / "in" / "dates.txt").write_text("The repair is expected " + text + ".")
    return Case("facts: 15,000 dates in one sentence", [d / "in"], {*GOOD, "dates"})


def c_big_html(d):
    _good(d / "in")
    with (d / "in" / "big.html").open("w") as fh:
        fh.write("<html><body><article>")
        for n in range(50_000):
            fh.write(f"<p>{OTHER} Paragraph {n}.</p>\n")
        fh.write("</article></body></html>")
    return Case("a 9 MB HTML page (under the limit)", [d / "in"], {*GOOD, "big"})


def c_warc_cut_between(d):
    _good(d / "in")
    path = d / "in" / "cut.warc"
    offsets = _three_page_warc(path, gz=False)
    path.write_bytes(path.read_bytes()[: offsets[2] + 40])  # inside record 3's WARC headers
    return Case("WARC truncated between records", [d / "in"],
                {*GOOD, "https://good.example/1", "https://good.example/2"}, "cut.warc", "",
                reason="truncated")


def c_warc_cut_mid(d):
    _good(d / "in")
    path = d / "in" / "cut.warc"
    offsets = _three_page_warc(path, gz=False)
    path.write_bytes(path.read_bytes()[: offsets[3] - 60])  # inside record 3's body
    return Case("WARC truncated mid-record", [d / "in"],
                {*GOOD, "https://good.example/1", "https://good.example/2"}, "cut.warc",
                "news.example/3", reason="truncated")


def c_warc_gz_cut_mid(d):
    _good(d / "in")
    path = d / "in" / "cut.warc.gz"
    offsets = _three_page_warc(path, gz=True)
    path.write_bytes(path.read_bytes()[: (offsets[2] + offsets[3]) // 2])
    return Case("WARC.gz truncated mid-record", [d / "in"],
                {*GOOD, "https://good.example/1", "https://good.example/2"}, "cut.warc.gz", "")


def c_latin1(d):
    _good(d / "in")
    rows = _rows(600)
    rows[500] = json.dumps({"id": "row-500", "text": "Caf\u00e9 " + OTHER}, ensure_ascii=False
                           ).encode("latin-1")
    (d / "in" / "pile.jsonl").write_bytes(b"\n".join(rows) + b"\n")
    return Case("JSONL latin-1 byte on line 501", [d / "in"],
                {*GOOD, *(f"row-{k}" for k in range(600))}, contains={"row-500": "Café"})


def c_parquet_group(d):
    import pyarrow as pa
    import pyarrow.parquet as pq

    _good(d / "in")
    path = d / "in" / "groups.parquet"
    pq.write_table(pa.table({"id": [f"pq-{n}" for n in range(6)],
                             "text": [f"{OTHER} Parquet row {n}." for n in range(6)]}),
                   path, row_group_size=2, compression="none")
    at = pq.ParquetFile(path).metadata.row_group(1).column(1).data_page_offset
    data = bytearray(path.read_bytes())
    data[at: at + 12] = b"\xff" * 12
    path.write_bytes(bytes(data))
    return Case("Parquet corrupt row group", [d / "in"],
                {*GOOD, "pq-0", "pq-1", "pq-4", "pq-5"}, "groups.parquet", "row group 1")


def c_parquet_date(d):
    import pyarrow as pa
    import pyarrow.parquet as pq

    _good(d / "in")
    dates = pa.array([0, 2_534_023_008_000_000], type=pa.timestamp("ms"))  # year 82,000
    pq.write_table(pa.table({"id": ["pq-0", "pq-1"], "text": [OTHER, OTHER + " Again."],
                             "date": dates}), d / "in" / "dates.parquet")
    return Case("Parquet one bad date", [d / "in"], {*GOOD, "pq-0", "pq-1"})


def c_unreadable_dir(d):
    _good(d / "in")
    (d / "in" / "locked").mkdir()
    (d / "in" / "locked" / "c.txt").write_text(OTHER)
    (d / "in" / "locked").chmod(0)  # root reads it anyway: the child is also told to refuse
    return Case("unreadable subdirectory", [d / "in"], set(GOOD), "locked", None,
                reason="cannot read directory", denied=d / "in" / "locked")


def c_dup_ids(d):
    _good(d / "in")
    rows = [{"id": "dup", "text": OTHER}, {"id": "dup", "text": OTHER + " A second text."},
            {"id": "dup~2", "text": "An unrelated report about a harbour strike on Sunday."}]
    (d / "in" / "ids.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    return Case("ids dup, dup, dup~2", [d / "in"], {*GOOD, "dup", "dup~2", "dup~3"},
                good_dedup={*GOOD, "dup", "dup~2", "dup~2~2"})


def c_html_deep(d):
    _good(d / "in")
    (d / "in" / "deep.html").write_text(
        "<html><body>" + "<div>" * 5000 + f"<p>{OTHER}</p>" + "</div>" * 5000 + "</body></html>")
    return Case("HTML deeper than lxml's limit", [d / "in"], {*GOOD, "deep"},
                contains={"deep": "observatory"})


def c_vtab(d):
    _good(d / "in")
    (d / "in" / "vtab.html").write_text(
        f"<html><head><title>Ridge</title></head><body><article><p>{OTHER}\x0b</p>"
        f"<p>Second paragraph\x0c of the page.</p></article></body></html>")
    return Case("HTML with a vertical tab", [d / "in"], {*GOOD, "vtab"},
                contains={"vtab": "observatory"})


def c_utf16_bom(d):
    _good(d / "in")
    (d / "in" / "wide.txt").write_bytes(OTHER.encode("utf-16"))
    return Case("UTF-16 with BOM", [d / "in"], {*GOOD, "wide"}, contains={"wide": "observatory"})


def c_utf16_nobom(d):
    _good(d / "in")
    (d / "in" / "wide.txt").write_bytes(OTHER.encode("utf-16-le"))
    (d / "in" / "wide-be.txt").write_bytes(("Büro " + OTHER).encode("utf-16-be"))
    return Case("UTF-16 without BOM (LE, BE)", [d / "in"], {*GOOD, "wide", "wide-be"},
                contains={"wide": "observatory", "wide-be": "Büro"})


def c_warc_types(d):
    _good(d / "in")
    _warc(d / "in" / "crawl.warc.gz", [
        ("https://good.example/w", "text/html; charset=utf-8", _page(OTHER), {}),
        ("https://news.example/site.css", "text/css", b"body { color: red }", {}),
        ("https://news.example/app.js", "text/javascript", b"var a = 1;", {}),
        ("https://news.example/robots.txt", "text/plain", b"User-agent: *\nDisallow: /", {}),
        ("https://news.example/moved", "text/html", b"<html>moved</html>",
         {"status": "301 Moved Permanently"})])
    return Case("WARC text/css, text/javascript, robots.txt", [d / "in"],
                {*GOOD, "https://good.example/w"})


def c_fifo(d):
    _good(d / "in")
    os.mkfifo(d / "in" / "pipe.txt")
    os.mkfifo(d / "named.jsonl")
    return Case("a FIFO (in a directory and named)", [d / "in", d / "named.jsonl"], set(GOOD),
                "pipe.txt", None, reason="named pipe")


def c_dev_zero(d):
    _good(d / "in")
    return Case("/dev/zero", [d / "in", Path("/dev/zero")], set(GOOD), "/dev/zero", None,
                reason="character device")


# ... and more of the same kind

def c_nul_bytes(d):
    _good(d / "in")
    (d / "in" / "nul.txt").write_bytes(OTHER.encode().replace(b" ", b" \x00", 3))
    return Case("NUL bytes inside a text", [d / "in"], {*GOOD, "nul"},
                contains={"nul": "observatory"})


def c_huge_line(d):
    _good(d / "in")
    with (d / "in" / "huge.txt").open("wb") as fh:
        for _ in range(50):
            fh.write(b"word " * 209_716)
    return Case("a 50 MB single-line text file", [d / "in"], set(GOOD), "huge.txt",
                reason="too large")


def c_json_types(d):
    _good(d / "in")
    rows = [json.dumps({"id": "row-0", "text": OTHER}), json.dumps({"id": "n", "text": 42}),
            json.dumps({"id": "l", "text": ["a", "list"]}), json.dumps({"id": "z", "text": None}),
            json.dumps({"id": "o", "text": {"x": 1}}), json.dumps({"id": "t", "text": True}),
            json.dumps({"id": ["x"], "text": OTHER}), json.dumps({"id": "row-7", "text": OTHER + " 7."})]
    (d / "in" / "types.jsonl").write_text("\n".join(rows))
    return Case("JSONL text a number/list/null/object", [d / "in"], {*GOOD, "row-0", "row-7"},
                "types.jsonl", "line 2")


def c_jsonl_bom_crlf(d):
    _good(d / "in")
    rows = _rows(4)
    (d / "in" / "bom.jsonl").write_bytes(b"\xef\xbb\xbf" + rows[0] + b"\r\n" + rows[1] + b"\n"
                                         + rows[2] + b"\r\n\r\n" + rows[3] + b"\r\n")
    return Case("JSONL with BOM and mixed CRLF", [d / "in"], {*GOOD, *(f"row-{k}" for k in range(4))})


def c_zero_byte(d):
    _good(d / "in")
    (d / "in" / "empty.html").write_bytes(b"")
    (d / "in" / "blank.txt").write_bytes(b" \n\t\n")
    return Case("zero-byte and blank files", [d / "in"], set(GOOD), "empty.html", reason="empty")


def c_symlink_loop(d):
    _good(d / "in")
    os.symlink("b.txt", d / "in" / "a.txt")
    os.symlink("a.txt", d / "in" / "b.txt")
    os.symlink(".", d / "in" / "loop")
    os.symlink("/nonexistent/x.txt", d / "in" / "dangling.txt")
    return Case("symlink loops and a dangling link", [d / "in"], set(GOOD), "a.txt")


def c_dir_named_jsonl(d):
    _good(d / "in")
    (d / "in" / "x.jsonl").mkdir()
    (d / "in" / "x.jsonl" / "inner.txt").write_text(OTHER)
    return Case("a directory named x.jsonl", [d / "in", d / "in" / "x.jsonl"], {*GOOD, "inner"})


def c_fake_gz(d):
    _good(d / "in")
    (d / "in" / "fake.txt.gz").write_text(OTHER)
    (d / "in" / "fake.jsonl.gz").write_text(json.dumps({"id": "fake", "text": OTHER}))
    return Case("a .gz that is not gzip", [d / "in"], set(GOOD), "fake.txt.gz", reason="gzip")


def c_parquet_no_text(d):
    import pyarrow as pa
    import pyarrow.parquet as pq

    _good(d / "in")
    pq.write_table(pa.table({"id": ["p"], "body": [OTHER]}), d / "in" / "cols.parquet")
    return Case("Parquet without the text column", [d / "in"], set(GOOD), "cols.parquet",
                reason="column")


def c_long_jsonl_line(d):
    _good(d / "in")
    rows = _rows(3)
    rows[1] = json.dumps({"id": "long", "text": "word " * (3 * 1024 * 1024)}).encode()
    (d / "in" / "long.jsonl").write_bytes(b"\n".join(rows))
    return Case("JSONL line of 15 MB", [d / "in"], {*GOOD, "row-0", "row-2"}, "long.jsonl", "line 2")


def c_binary_html(d):
    _good(d / "in")
    (d / "in" / "photo.html").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(20_000))
    (d / "in" / "noise.txt").write_bytes(bytes(range(256)) * 40)
    return Case("binary files named .html/.txt", [d / "in"], set(GOOD), "photo.html",
                reason="binary")


def c_weird_name(d):
    _good(d / "in")
    name = os.fsencode(d / "in") + b"/caf\xe9 \x1b[31m\xff.txt"
    with open(name, "wb") as fh:
        fh.write(OTHER.encode())
    return Case("file name not UTF-8, with escapes", [d / "in"], {*GOOD, "caf\ufffd [31m\ufffd"},
                contains={"caf\ufffd [31m\ufffd": "observatory"})


def c_no_main_text(d):
    _good(d / "in")
    (d / "in" / "nav.html").write_text(
        "<html><head><script>var x = 1;</script></head><body><nav><a href='/'>Home</a>"
        "</nav></body></html>")
    return Case("HTML with no main text", [d / "in"], {*GOOD, "nav"},
                noted={"nav": "no article text"})


def c_jsonl_gz_cut(d):
    _good(d / "in")
    data = gzip.compress(b"\n".join(_rows(400)) + b"\n")
    (d / "in" / "cut.jsonl.gz").write_bytes(data[: len(data) * 2 // 3])
    return Case("JSONL.gz truncated", [d / "in"], None, "cut.jsonl.gz", reason="truncated")


def c_big_doc(d):
    _good(d / "in")
    words = [f"w{n}" for n in range(20_000)]
    import random

    rng = random.Random(13)
    with (d / "in" / "big.txt").open("w") as fh:
        size = 0
        while size < 9 * 1024 * 1024:
            line = " ".join(rng.choices(words, k=20)).capitalize() + ". "
            if rng.random() < 0.2:
                line += "\n"
            fh.write(line)
            size += len(line)
    return Case("a 9 MB text (under the limit)", [d / "in"], {*GOOD, "big"},
                noted={"big": "text cut at"})


def c_copies_of_bad(d):
    _good(d / "in")
    text = " ".join(f'"Word{n} is here," said Person{n % 50} Jones. Then "open' for n in range(5_000))
    for k in range(4):
        (d / "in" / f"copy-{k}.txt").write_text(text + f" Copy {k}.")
    return Case("4 copies of a pathological text", [d / "in"],
                {*GOOD, *(f"copy-{k}" for k in range(4))})


def c_big_lookalikes(d):
    _good(d / "in")
    import random

    rng = random.Random(17)
    words = ["court", "told", "jury", "London", "Smith", "said", "police", "today", "the", "of"]
    for k in range(6):  # every pair a candidate, no pair a copy: alignment at its bound
        with (d / "in" / f"big-{k}.txt").open("w") as fh:
            size = 0
            while size < 1024 * 1024:
                line = " ".join(rng.choices(words, k=80)).capitalize() + ".\n"
                fh.write(line)
                size += len(line)
    return Case("six 1 MB look-alike texts (long sentences)", [d / "in"],
                {*GOOD, *(f"big-{k}" for k in range(6))})


def c_linked_dir(d):
    _good(d / "in")
    (d / "elsewhere").mkdir()
    (d / "elsewhere" / "inner.txt").write_text(OTHER)
    os.symlink(d / "elsewhere", d / "in" / "linked")
    os.symlink(d / "in", d / "elsewhere" / "up")
    return Case("a linked directory that links back up", [d / "in"], {*GOOD, "inner"})


CASES: list[Callable[[Path], Case]] = [
    c_gzip_bomb, c_warc_gzip_record, c_jsonl_deep, c_surrogate, c_quotes, c_amounts,
    c_long_sentence, c_dates, c_warc_cut_between, c_warc_cut_mid, c_warc_gz_cut_mid, c_latin1,
    c_parquet_group, c_parquet_date, c_unreadable_dir, c_dup_ids, c_html_deep, c_vtab,
    c_utf16_bom, c_utf16_nobom, c_warc_types, c_fifo, c_dev_zero, c_nul_bytes, c_huge_line,
    c_json_types, c_jsonl_bom_crlf, c_zero_byte, c_symlink_loop, c_dir_named_jsonl, c_fake_gz,
    c_parquet_no_text, c_long_jsonl_line, c_binary_html, c_weird_name, c_no_main_text,
    c_jsonl_gz_cut, c_big_doc, c_big_html, c_copies_of_bad, c_big_lookalikes, c_linked_dir,
]


# --- running ----------------------------------------------------------------------------------

CAPPED = (  # the cap is set by the child itself, before storytrace loads
    "import resource, runpy, sys\n"
    f"resource.setrlimit(resource.RLIMIT_AS, ({CAP}, {CAP}))\n"
    "sys.argv = ['storytrace', *sys.argv[1:]]\n"
    "runpy.run_module('storytrace', run_name='__main__')\n"
)


@dataclass
class Run:
    code: int
    seconds: float
    peak: int  # bytes
    stdout: str
    stderr: str


def run_cli(args: list, denied: Path | None = None, kill_after: float = KILL_AFTER,
            kill_at: float | None = None) -> Run:
    """The real CLI in a subprocess under the 3 GB cap; killed (SIGKILL) at `kill_at` s or
    past `kill_after`. `denied`: a directory the child cannot list, as chmod 000 does to
    anyone but root (the bench may run as root)."""
    code = CAPPED
    if denied is not None:
        code = (f"import os\n_scandir = os.scandir\nDENIED = {str(denied)!r}\n"
                "def _refuse(path='.'):\n"
                "    if os.path.abspath(os.fsdecode(path)) == DENIED:\n"
                "        raise PermissionError(13, 'Permission denied', os.fsdecode(path))\n"
                "    return _scandir(path)\n"
                "os.scandir = _refuse\n") + code
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "COLUMNS": "200"}
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-c", code, *map(str, args)], stdout=out,
                                stderr=err, env=env, cwd="/tmp")
        timer = threading.Timer(kill_at if kill_at is not None else kill_after, proc.kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(proc.returncode, time.monotonic() - started, usage.ru_maxrss * 1024,
                   out.read(), err.read())


def _kept_and_errors(command: str, out: Path, index: Path):
    """(ids kept, errors as dicts, problems) of a finished run."""
    problems: list[str] = []
    if command == "analyze":
        result = json.loads((out / "result.json").read_text(encoding="utf-8"))
        ids = [d["id"] for d in result["documents"]]
        members = sorted(m["id"] for f in result["families"] for m in f["members"])
        in_stories = sorted(i for s in result["stories"] for i in s["documents"])
        if members != sorted(ids) or in_stories != sorted(ids):
            problems.append("not every document in one family and one story")
        import pyarrow.parquet as pq

        if sorted(pq.read_table(out / "parquet" / "documents.parquet")["id"].to_pylist()) != \
                sorted(ids):
            problems.append("Parquet documents differ from result.json")
        html = (out / "report.html").read_text(encoding="utf-8")
        if not html.rstrip().endswith("</html>"):
            problems.append("report.html incomplete")
        texts = {d["id"]: d["clean_text"] for d in result["documents"]}
        notes = {d["id"]: d.get("notes", []) for d in result["documents"]}
        return ids, result["errors"], problems, texts, notes
    if command == "dedup":
        mapping = [json.loads(x) for x in (out / "mapping.jsonl").read_text().splitlines()]
        errors = [json.loads(x) for x in (out / "errors.jsonl").read_text().splitlines()]
        kept = [json.loads(x) for x in (out / "documents.jsonl").read_text().splitlines()]
        texts = {d["id"]: d.get("text", "") for d in kept}
        return [m["id"] for m in mapping], errors, problems, texts, {}
    # read in a child, as the CLI run was: the same code reads the index it wrote
    reader = ("import json, sys\nfrom storytrace.index import Index\n"
              "with Index.open(sys.argv[1], read_only=True) as idx:\n"
              "    docs = idx.export().documents\n"
              "    print(json.dumps({'docs': [[d.id, d.clean_text, d.notes] for d in docs],\n"
              "        'errors': [{'source': e.source, 'record': e.record, 'reason': e.reason}\n"
              "                   for e in idx.store.errors()], 'problems': idx.check()}))\n")
    done = subprocess.run([sys.executable, "-c", reader, str(index)], capture_output=True,
                          text=True, check=True, env={**os.environ, "PYTHONPATH": str(REPO / "src")})
    found = json.loads(done.stdout)
    problems += found["problems"]
    return ([d[0] for d in found["docs"]], found["errors"], problems,
            {d[0]: d[1] for d in found["docs"]}, {d[0]: d[2] for d in found["docs"]})


def check_case(case: Case, command: str, work: Path) -> dict:
    out, index = work / f"out-{command}", work / f"index-{command}.duckdb"
    args = ([command, *case.inputs, "--out", out, "--json"] if command != "index"
            else ["index", "add", index, *case.inputs])
    run = run_cli(args, case.denied)
    row = {"case": case.name, "command": command, "code": run.code,
           "seconds": run.seconds, "peak_mb": run.peak / 2**20, "good": "-", "named": "-",
           "notes": []}
    fails = row["notes"]
    if run.code not in (0, 1):
        fails.append(f"exit {run.code}: {_last_line(run.stderr)}")
    if "Traceback" in run.stderr:
        fails.append("traceback: " + _last_line(run.stderr))
    if run.seconds > MAX_SECONDS:
        fails.append(f"{run.seconds:.0f} s")
    if run.peak > CAP:
        fails.append("peak RSS over 3 GB")
    if run.code in (0, 1):
        try:
            ids, errors, problems, texts, notes = _kept_and_errors(command, out, index)
        except Exception as exc:  # noqa: BLE001 - a missing or broken output is a finding
            if run.code == 1 and case.good == set():
                ids, errors, problems, texts, notes = [], [], [], {}, {}
            else:
                fails.append(f"outputs unreadable: {type(exc).__name__}: {exc}"[:160])
                return _finish(row)
        fails += problems
        if command == "dedup" and case.good_dedup is not None:
            case.good = case.good_dedup
        if case.good is not None:
            lost, extra = case.good - set(ids), set(ids) - case.good
            dup = len(ids) != len(set(ids))
            row["good"] = "yes" if not lost and not extra and not dup else "NO"
            if lost:
                fails.append(f"lost {sorted(lost)[:4]}")
            if extra:
                fails.append(f"extra {sorted(extra)[:4]}")
            if dup:
                fails.append("an id twice")
        else:
            row["good"] = "yes" if set(GOOD) <= set(ids) else "NO"
        for doc_id, words in case.noted.items():
            if command != "dedup" and not any(words in n for n in notes.get(doc_id, [])):
                fails.append(f"{doc_id} has no note {words!r}")
        for doc_id, word in case.contains.items():
            if command != "dedup" and doc_id in texts and word not in texts[doc_id]:
                fails.append(f"{doc_id} lacks {word!r}")
        if case.bad is not None:
            named = [e for e in errors if case.bad in e["source"]]
            if case.reason is not None:
                named = [e for e in named if case.reason in e["reason"]]
            if case.record is not None:
                with_record = [e for e in named if e.get("record") and case.record in e["record"]]
                row["named"] = "file+record" if with_record else ("file only" if named else "NO")
                named = with_record
            else:
                row["named"] = "file" if named else "NO"
            if not named:
                fails.append("error not named as expected: "
                             + "; ".join(f"{e['source']} {e.get('record')} {e['reason']}"
                                         for e in errors)[:200])
        if (case.bad is None) != (run.code == 0) and case.good is not None:
            fails.append(f"exit {run.code} but {len(errors)} errors")
    return _finish(row)


def _finish(row: dict) -> dict:
    row["ok"] = not row["notes"]
    return row


def _last_line(text: str) -> str:
    lines = [x for x in text.strip().splitlines() if x.strip()]
    return lines[-1][:160] if lines else ""


# --- the cases that are about --out, concurrency and kills -------------------------------------

def _complete(command: str, out: Path) -> tuple[str, ...] | None:
    """The ids of the one run `out` holds, or None when it does not hold one whole run."""
    try:
        if command == "analyze":
            ids, _, problems, _, _ = _kept_and_errors(command, out, Path())
            return None if problems else tuple(sorted(ids))
        kept = [json.loads(x)["id"] for x in (out / "documents.jsonl").read_text().splitlines()]
        mapping = [json.loads(x)["id"] for x in (out / "mapping.jsonl").read_text().splitlines()]
        return tuple(sorted(mapping)) if set(kept) <= set(mapping) else None
    except Exception:  # noqa: BLE001
        return None


def _left_running(marker: Path) -> list[int]:
    """Processes still running whose command line names `marker` (a killed run's workers)."""
    time.sleep(2.0)
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            with contextlib.suppress(OSError):
                if os.fsencode(marker) in (proc / "cmdline").read_bytes():
                    found.append(int(proc.name))
    return found


def special_rows(base: Path, commands: list[str]) -> list[dict]:
    rows = []
    seeds = REPO.parent / "shared" / "data" / "seeds"
    corpus = REPO / "examples" / "corpus"
    for command in [c for c in commands if c != "index"]:
        # two runs into one --out at once
        work = base / f"concurrent-{command}"
        _good(work / "in")
        out = work / "out"
        started = time.monotonic()
        results: list[Run] = []
        args = [command, work / "in", "--out", out, "--json"]
        threads = [threading.Thread(target=lambda a=args, r=results: r.append(run_cli(a)))
                   for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        notes = []
        codes = sorted(r.code for r in results)
        if any(c not in (0, 2) for c in codes) or 0 not in codes:
            notes.append(f"exit codes {codes}")
        if any(r.code == 2 and "another storytrace run" not in r.stderr for r in results):
            notes.append("refusal does not say why")
        if _complete(command, out) != tuple(sorted(GOOD)):
            notes.append("--out does not hold one whole run")
        rows.append(_finish({"case": "3 concurrent runs into one --out", "command": command,
                             "code": "/".join(map(str, codes)),
                             "seconds": time.monotonic() - started,
                             "peak_mb": max(r.peak for r in results) / 2**20,
                             "good": "yes" if not notes else "NO", "named": "-", "notes": notes}))
        # kill -9 mid-run, twice, then a run to the end
        work = base / f"kill-{command}"
        out = work / "out"
        first = run_cli([command, corpus, "--out", out])
        before = _complete(command, out)
        notes = [] if first.code == 0 and before else [f"first run exit {first.code}"]
        seen = {before}
        peak = first.peak
        for at in (2.0, 4.5):
            killed = run_cli([command, seeds, "--out", out], kill_at=at)
            peak = max(peak, killed.peak)
            seen.add(_complete(command, out))
            orphans = _left_running(out)
            if orphans:
                notes.append(f"{len(orphans)} worker processes left running after kill -9")
                for pid in orphans:
                    with contextlib.suppress(OSError):
                        os.kill(pid, signal.SIGKILL)
        if None in seen or len(seen) > 2:
            notes.append(f"--out held {len(seen)} states, a broken one: {None in seen}")
        last = run_cli([command, seeds, "--out", out, "--no-html", "--no-parquet"]
                       if command == "analyze" else [command, seeds, "--out", out])
        left = sorted(p.name for p in work.iterdir())
        if last.code != 0 or left != [".out.lock", "out"]:
            notes.append(f"after the kills: exit {last.code}, beside --out: {left}")
        rows.append(_finish({"case": "kill -9 mid-run (x2), then a run", "command": command,
                             "code": last.code, "seconds": last.seconds,
                             "peak_mb": peak / 2**20, "good": "yes" if not notes else "NO",
                             "named": "-", "notes": notes}))
        # --out inside an input directory, run twice
        work = base / f"inside-{command}"
        _good(work / "in")
        runs = [run_cli([command, work / "in", "--out", work / "in" / "out", "--json"])
                for _ in range(2)]
        got = _complete(command, work / "in" / "out")
        notes = [] if all(r.code == 0 for r in runs) and got == tuple(sorted(GOOD)) else \
            [f"exit {[r.code for r in runs]}, holds {got}"]
        rows.append(_finish({"case": "--out inside the input dir (x2)", "command": command,
                             "code": runs[-1].code, "seconds": runs[-1].seconds,
                             "peak_mb": runs[-1].peak / 2**20,
                             "good": "yes" if got == tuple(sorted(GOOD)) else "NO", "named": "-",
                             "notes": notes}))
        # --out naming a file: a usage error before any work
        work = base / f"outfile-{command}"
        _good(work / "in")
        (work / "taken").write_text("mine")
        run = run_cli([command, work / "in", "--out", work / "taken"])
        notes = []
        if run.code != 2 or "is a file" not in run.stderr or run.seconds > 10:
            notes.append(f"exit {run.code} after {run.seconds:.1f} s: {_last_line(run.stderr)}")
        if (work / "taken").read_text() != "mine":
            notes.append("the file was overwritten")
        rows.append(_finish({"case": "--out naming a file", "command": command, "code": run.code,
                             "seconds": run.seconds, "peak_mb": run.peak / 2**20, "good": "-",
                             "named": "--out" if not notes else "NO", "notes": notes}))
    if "index" in commands:
        work = base / "concurrent-index"
        _good(work / "in")
        index = work / "i.duckdb"
        results = []
        args = ["index", "add", index, work / "in"]
        threads = [threading.Thread(target=lambda a=args, r=results: r.append(run_cli(a)))
                   for _ in range(2)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        codes = sorted(r.code for r in results)
        notes = [f"traceback: {_last_line(r.stderr)}" for r in results if "Traceback" in r.stderr]
        if any(c not in (0, 1, 2) for c in codes) or 0 not in codes:
            notes.append(f"exit codes {codes}")
        check = run_cli(["index", "check", index])
        if check.code != 0:
            notes.append(f"index check: {_last_line(check.stdout + check.stderr)}")
        rows.append(_finish({"case": "2 concurrent adds into one index", "command": "index",
                             "code": "/".join(map(str, codes)),
                             "seconds": time.monotonic() - started,
                             "peak_mb": max(r.peak for r in results) / 2**20, "good": "-",
                             "named": "-", "notes": notes}))
        work = base / "kill-index"
        work.mkdir()
        index = work / "i.duckdb"
        first = run_cli(["index", "add", index, corpus])
        killed = run_cli(["index", "add", index, seeds, "--batch-size", "2"], kill_at=4.0)
        orphans = _left_running(index)
        for pid in orphans:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        check = run_cli(["index", "check", index])
        last = run_cli(["index", "add", index, seeds])
        notes = [f"{len(orphans)} worker processes left running after kill -9"] if orphans else []
        if first.code != 0 or check.code != 0 or last.code != 0:
            notes.append(f"first {first.code}, check {check.code}: "
                         f"{_last_line(check.stdout + check.stderr)}, add again {last.code}: "
                         f"{_last_line(last.stderr)}")
        rows.append(_finish({"case": "kill -9 mid-add, check, add again", "command": "index",
                             "code": last.code, "seconds": last.seconds,
                             "peak_mb": max(first.peak, killed.peak, last.peak) / 2**20,
                             "good": "-", "named": "-", "notes": notes}))
    return rows


def table(rows: list[dict]) -> str:
    head = f"{'case':<38} {'command':<8} {'exit':>5} {'s':>6} {'RSS MB':>7} {'good':>5} " \
           f"{'error named':>12}  verdict"
    lines = [head, "-" * len(head)]
    for r in rows:
        verdict = "ok" if r["ok"] else "FAIL: " + "; ".join(r["notes"])
        lines.append(f"{r['case'][:38]:<38} {r['command']:<8} {r['code']!s:>5} "
                     f"{r['seconds']:>6.1f} {r['peak_mb']:>7.0f} {r['good']:>5} "
                     f"{r['named']:>12}  {verdict}")
    failed = sum(1 for r in rows if not r["ok"])
    lines.append(f"\n{len(rows) - failed} of {len(rows)} rows pass; {failed} fail. "
                 f"Slowest {max(r['seconds'] for r in rows):.1f} s, largest peak RSS "
                 f"{max(r['peak_mb'] for r in rows):.0f} MB (cap: 3 GB address space).")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="comma-separated case function names "
                                                     "(c_gzip_bomb,...) or 'special'")
    parser.add_argument("--commands", default="analyze,dedup,index")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    commands = args.commands.split(",")
    only = {x for x in args.only.split(",") if x}
    base = Path(tempfile.mkdtemp(prefix="storytrace-hostile-"))
    header = (f"# bench/hostile.py, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.platform()}, "
              f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; commit "
              + subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                               capture_output=True, text=True, check=False).stdout.strip())
    print(header, flush=True)
    rows = []
    try:
        for build in CASES:
            if only and build.__name__ not in only:
                continue
            for command in commands:
                work = base / f"{build.__name__}-{command}"
                work.mkdir()
                case = build(work)
                if command not in case.commands:
                    continue
                row = check_case(case, command, work)
                rows.append(row)
                print(table([row]).splitlines()[2], flush=True)
                shutil.rmtree(work, ignore_errors=True)
        if not only or "special" in only:
            for row in special_rows(base, commands):
                rows.append(row)
                print(table([row]).splitlines()[2], flush=True)
    finally:
        with contextlib.suppress(OSError):
            for p in base.rglob("*"):
                if p.is_dir() and not p.is_symlink():
                    p.chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)
    text = header + "\n\n" + table(rows) + "\n"
    print("\n" + table(rows))
    if args.out is not None:
        args.out.write_text(text)


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    main()
