"""Hostile input: one bad file never costs a run, and nothing is lost or mixed up.

Every hostile input is generated here (no large file in the repository), each beside good
documents. A case passes when the good documents are all read, the bad input is in the errors
with a reason naming the file and the record, and nothing hangs or blows up: the end-to-end runs
go through the real CLI under a 3 GB address-space cap and a time limit.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import random
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import DATA, REPO
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import storytrace
from storytrace.ingest import FieldMap, Limits, read_inputs
from storytrace.ingest.decode import DecodeError, decode_text, safe_text
from storytrace.model import Document

GOOD = [
    ("The city council voted on Tuesday to approve a $3.3 million budget for the new bridge, "
     "Mayor Ana Ruiz said.\n\"We have waited thirteen years for this,\" Ruiz told reporters."),
    ("Heavy rain flooded about 340 homes in the river valley on Monday, officials said. "
     "The levee is expected to be repaired by April 15, spokeswoman Priya Castellane said."),
]
DEEP = ("The observatory on the ridge reopened on Friday after a two-year restoration of its "
        "telescope dome, director Ines Marrow said.")
MEMORY_CAP = 3 * 1024**3


def _zeros_gzip(size: int) -> bytes:
    """A valid gzip member of `size` zero bytes (a bomb: ~1,000x), made in a blink: one
    self-contained deflate block of 1 MiB of zeros repeated, then the right trailer."""
    chunk = b"\0" * (1024 * 1024)
    deflate = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    head = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    block = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)
    final = deflate.flush()[:-8]  # an empty last block; the trailer is written below
    crc = 0
    for _ in range(size // len(chunk)):
        crc = zlib.crc32(chunk, crc)
    count = size // len(chunk)
    trailer = struct.pack("<II", crc, (count * len(chunk)) & 0xFFFFFFFF)
    return head + block * (count - 1) + final + trailer


def _warc(path: Path, responses: list[tuple[str, str, bytes, dict]], gzip_records=True) -> None:
    """Write a WARC of (url, content type, body, extra HTTP headers) responses."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=gzip_records)
        for url, content_type, body, extra in responses:
            status = extra.pop("status", "200 OK")
            headers = StatusAndHeaders(status, [("Content-Type", content_type), *extra.items()],
                                       protocol="HTTP/1.1")
            record = writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                               http_headers=headers)
            writer.write_record(record)


def _page(n: int) -> bytes:
    return f"<html><body><article><p>{GOOD[n % 2]}</p></article></body></html>".encode()


# --- the hostile corpus ---------------------------------------------------------------------

def hostile_corpus(root: Path) -> dict[str, str]:
    """Write one of each hostile input (and good documents) under root; return, per bad file
    name, a word its error reason must contain. Good documents' ids start with "good"."""
    root.mkdir(parents=True, exist_ok=True)
    bad: dict[str, str] = {}
    for n, text in enumerate(GOOD):
        (root / f"good-text-{n}.txt").write_text(text, encoding="utf-8")
    # text files
    (root / "good-utf16-bom.txt").write_bytes(GOOD[0].encode("utf-16"))
    (root / "good-utf16-nobom.txt").write_bytes(GOOD[1].encode("utf-16-le"))
    (root / "good-utf32.txt").write_bytes(GOOD[0].encode("utf-32"))
    (root / "empty.txt").write_bytes(b"")
    bad["empty.txt"] = "empty"
    (root / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00IHDR" * 50)
    bad["binary.txt"] = "binary"
    (root / "bomb.html.gz").write_bytes(_zeros_gzip(200 * 1024 * 1024))
    bad["bomb.html.gz"] = "decompress"
    (root / "cut.html.gz").write_bytes(gzip.compress(_page(0) * 50)[:200])
    bad["cut.html.gz"] = "truncated"
    # HTML that broke the cleaner: a vertical tab, nesting deeper than libxml2 reads
    (root / "good-vtab.html").write_text(
        f"<html><body><article><p>{GOOD[0]}\x0b</p><p>{GOOD[1]}</p></article></body></html>")
    (root / "good-deep.html").write_text(
        "<html><body>" + "<div>" * 5000 + f"<p>{DEEP}</p>" + "</div>" * 5000 + "</body></html>")
    # JSONL: one bad line among good ones, each costing only itself
    rows = [json.dumps({"id": f"good-row-{n}", "text": GOOD[n % 2]}) for n in range(600)]
    rows[10] = '{"id": "deep", "text": ' + "[" * 100_000 + "]" * 100_000 + "}"
    rows[20] = json.dumps({"id": "good-surrogate", "text": GOOD[0] + " \ud800"})
    rows[30] = json.dumps({"id": {"nested": 1}, "text": GOOD[1]})
    rows[40] = json.dumps({"id": "list-text", "text": ["not", "a", "string"]})
    rows[50] = "[1, 2, 3]"
    rows[60] = '{"id": "cut", "text": "half a row'
    lines = [r.encode() for r in rows]
    lines[500] = json.dumps({"id": "good-latin1", "text": "Caf\u00e9 " + GOOD[1]}).encode(
        "latin-1")  # one Latin-1 byte on line 501: that row kept, the rows before it too
    (root / "pile.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    bad["pile.jsonl"] = "line 11"
    (root / "bomb.jsonl.gz").write_bytes(_zeros_gzip(200 * 1024 * 1024))
    bad["bomb.jsonl.gz"] = "decompression bomb"
    # Parquet: a corrupt row group and an out-of-range date cost only their rows / field
    table = pa.table({"id": [f"good-pq-{n}" for n in range(6)],
                      "text": [GOOD[n % 2] for n in range(6)]})
    pq.write_table(table, root / "groups.parquet", row_group_size=2, compression="none")
    meta = pq.ParquetFile(root / "groups.parquet").metadata
    data = bytearray((root / "groups.parquet").read_bytes())
    at = meta.row_group(1).column(1).data_page_offset
    data[at : at + 12] = b"\xff" * 12
    (root / "groups.parquet").write_bytes(bytes(data))
    bad["groups.parquet"] = "row group 1"
    dates = pa.array([0, 2_534_023_008_000_000], type=pa.timestamp("ms"))  # year 82,000
    pq.write_table(pa.table({"id": ["good-pq-date-0", "good-pq-date-1"],
                             "text": GOOD, "date": dates}), root / "dates.parquet")
    (root / "broken.parquet").write_bytes(b"PAR1 this is not parquet")
    bad["broken.parquet"] = "Parquet"
    # WARC: pages kept; style sheets, scripts, robots.txt and redirects left out; a gzip-encoded
    # bomb and truncation reported
    responses = [
        ("https://good.example/a", "text/html; charset=utf-8", _page(0), {}),
        ("https://news.example/site.css", "text/css", b"body { color: red }", {}),
        ("https://news.example/app.js", "text/javascript", b"var a = 1;", {}),
        ("https://news.example/robots.txt", "text/plain", b"User-agent: *\nDisallow: /", {}),
        ("https://news.example/moved", "text/html", b"<html>moved</html>",
         {"status": "301 Moved Permanently"}),
        ("https://news.example/bomb", "text/html", _zeros_gzip(64 * 1024 * 1024),
         {"Content-Encoding": "gzip"}),
        ("https://good.example/b", "text/html", _page(1), {}),
    ]
    _warc(root / "crawl.warc.gz", responses)
    bad["crawl.warc.gz"] = "news.example/bomb"
    _warc(root / "cut.warc", [("https://good.example/c", "text/html", _page(0), {}),
                              ("https://news.example/cut", "text/html", _page(1), {})],
          gzip_records=False)
    whole = (root / "cut.warc").read_bytes()
    (root / "cut.warc").write_bytes(whole[:-60])
    bad["cut.warc"] = "truncated"
    offsets = _warc_offsets(root / "cut-head.warc")
    (root / "cut-head.warc").write_bytes((root / "cut-head.warc").read_bytes()[: offsets[1] + 40])
    bad["cut-head.warc"] = "truncated"  # cut inside the second record's WARC headers
    offsets = _warc_offsets(root / "cut.warc.gz", gzip_records=True)
    (root / "cut.warc.gz").write_bytes((root / "cut.warc.gz").read_bytes()[: offsets[2] - 30])
    bad["cut.warc.gz"] = "record 1"
    # more of the same kind: stray NULs, a .gz that is not one, a Parquet without the text
    # column, links that loop, a directory named like a file, a file name that is not UTF-8,
    # a JSONL with a byte order mark and CRLF, a truncated JSONL.gz
    (root / "good-nul.txt").write_bytes(GOOD[1].encode().replace(b" ", b" \x00", 3))
    (root / "fake.txt.gz").write_text(GOOD[0])
    bad["fake.txt.gz"] = "gzip"
    pq.write_table(pa.table({"id": ["p"], "body": [GOOD[0]]}), root / "cols.parquet")
    bad["cols.parquet"] = "no 'text' column"
    os.symlink("loop-b.txt", root / "loop-a.txt")
    os.symlink("loop-a.txt", root / "loop-b.txt")
    bad["loop-a.txt"] = "symbolic links"
    os.symlink(".", root / "loop")
    (root / "dir.jsonl").mkdir()
    (root / "dir.jsonl" / "good-inner.txt").write_text(DEEP)
    with open(os.fsencode(root) + b"/good-caf\xe9.txt", "wb") as fh:
        fh.write(GOOD[1].encode())
    crlf = [json.dumps({"id": f"good-crlf-{n}", "text": GOOD[n % 2]}).encode() for n in range(3)]
    (root / "crlf.jsonl").write_bytes(b"\xef\xbb\xbf" + crlf[0] + b"\r\n" + crlf[1] + b"\n\r\n"
                                      + crlf[2] + b"\r\n")
    packed = gzip.compress(b"\n".join(json.dumps({"id": f"good-gz-{n}", "text": GOOD[n % 2]})
                                      .encode() for n in range(400)))
    (root / "cut.jsonl.gz").write_bytes(packed[: len(packed) * 2 // 3])
    bad["cut.jsonl.gz"] = "truncated"
    return bad


def _warc_offsets(path: Path, gzip_records: bool = False) -> list[int]:
    """A WARC of three good pages; the offsets where each record starts and the last ends."""
    _warc(path, [(f"https://good.example/{path.name}/{n}", "text/html", _page(n), {})
                 for n in range(3)], gzip_records=gzip_records)
    from warcio.archiveiterator import ArchiveIterator

    with path.open("rb") as stream:
        records = ArchiveIterator(stream)
        offsets = []
        for _ in records:
            offsets.append(records.get_record_offset())
        offsets.append(path.stat().st_size)
    return offsets


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile") / "corpus"
    return root, hostile_corpus(root)


def test_every_good_document_is_read_and_every_bad_input_named(corpus):
    root, bad = corpus
    read = read_inputs([root])
    ids = {d.id for d in read.documents}
    expected_good = {
        "good-text-0", "good-text-1", "good-utf16-bom", "good-utf16-nobom", "good-utf32",
        "good-vtab", "good-deep", "good-surrogate", "good-latin1", "good-pq-date-0",
        "good-pq-date-1", "https://good.example/a", "https://good.example/b",
        "https://good.example/c",
    } | {f"good-row-{n}" for n in range(600) if n not in (10, 20, 30, 40, 50, 60, 500)} \
      | {"good-pq-0", "good-pq-1", "good-pq-4", "good-pq-5"} \
      | {"good-nul", "good-inner", "good-caf\ufffd", "good-crlf-0", "good-crlf-1",
         "good-crlf-2", "https://good.example/cut-head.warc/0",
         "https://good.example/cut.warc.gz/0"}
    assert expected_good <= ids, sorted(expected_good - ids)
    assert "https://good.example/cut-head.warc/1" not in ids  # its record is cut short
    assert "https://good.example/cut.warc.gz/1" not in ids
    assert len([i for i in ids if i.startswith("good-gz-")]) > 100  # the rows before the cut
    assert all(i.startswith(("good", "https://good.example")) for i in ids), sorted(ids)
    for name, word in bad.items():
        reasons = [f"{e.record} {e.reason}" for e in read.errors if Path(e.source).name == name]
        assert any(word in r for r in reasons), (name, reasons)
    # the JSONL rows each name their own line
    jsonl = {e.record: e.reason for e in read.errors if e.source.endswith("pile.jsonl")}
    assert set(jsonl) == {"line 11", "line 31", "line 41", "line 51", "line 61"}
    assert "nested too deeply" in jsonl["line 11"]
    texts = {d.id: d.raw for d in read.documents}
    assert GOOD[1] in texts["good-utf16-nobom"] and GOOD[0] in texts["good-utf32"]
    assert texts["good-surrogate"].endswith("\ufffd") and "Café" in texts["good-latin1"]
    dates = {d.id: d.date for d in read.documents}
    assert dates["good-pq-date-0"] == "1970-01-01" and dates["good-pq-date-1"] is None
    assert "\x00" not in texts["good-nul"] and "valley" in texts["good-nul"]
    for doc in read.documents:  # safe for every output
        doc.raw.encode("utf-8")
        doc.source.encode("utf-8")
        assert "\x0b" not in doc.raw


def test_limits_are_enforced_where_set(tmp_path):
    small = Limits(max_document_bytes=1000, max_line_bytes=2000)
    (tmp_path / "long.txt").write_text("word " * 400)
    rows = [json.dumps({"id": "ok", "text": "short text"}), json.dumps({"id": "big",
            "text": "x" * 1500}), json.dumps({"id": "huge", "text": "y" * 5000}),
            json.dumps({"id": "after", "text": "still read"})]
    (tmp_path / "rows.jsonl").write_text("\n".join(rows))
    read = read_inputs([tmp_path], limits=small)
    assert sorted(d.id for d in read.documents) == ["after", "ok"]
    reasons = {(Path(e.source).name, e.record): e.reason for e in read.errors}
    assert "too large" in reasons[("long.txt", None)]
    assert "too large" in reasons[("rows.jsonl", "line 2")]
    assert "longer than 2,000 bytes" in reasons[("rows.jsonl", "line 3")]
    with pytest.raises(ValueError, match="max_document_bytes"):
        Limits(max_document_bytes=0)


def test_special_files_are_refused_not_read(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    (tmp_path / "good.txt").write_text(GOOD[0])
    started = time.monotonic()
    read = read_inputs([tmp_path, fifo, "/dev/zero"])
    assert time.monotonic() - started < 10  # a FIFO read by name would hang forever
    reasons = {e.source: e.reason for e in read.errors}
    assert "named pipe" in reasons[str(fifo)] and "character device" in reasons["/dev/zero"]
    assert [d.id for d in read.documents] == ["good"]


def test_an_unreadable_directory_is_reported(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "a.txt").write_text(GOOD[0])
    (tmp_path / "b.txt").write_text(GOOD[1])
    scandir = os.scandir

    def refusing(path="."):  # what chmod 000 does to anyone but root
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(os, "scandir", refusing)
    read = read_inputs([tmp_path])
    assert [d.id for d in read.documents] == ["b"]
    (error,) = read.errors
    assert error.source == str(locked) and "cannot read directory" in error.reason


def test_colliding_ids_each_name_one_document_in_one_family():
    docs = [Document(id=i, raw=text, source="<test>") for i, text in
            [("dup", GOOD[0]), ("dup", GOOD[1]), ("dup~2", GOOD[0] + " More words follow.")]]
    result = storytrace.analyze(docs)
    ids = [d.id for d in result.documents]
    assert len(set(ids)) == 3 and "dup" in ids and "dup~2" in ids
    members = [m.id for f in result.families for m in f.members]
    assert sorted(members) == sorted(ids)


def test_pathological_documents_degrade_instead_of_stalling():
    # each took minutes before (quadratic): 20,000 amounts 18 s in the facts alone
    amounts = "The budgets were " + ", ".join(f"${n}.5 million" for n in range(10_000)) + "."
    quotes = " ".join(f'"Word{n} is here," said Person{n % 50} Jones. Then "open'
                      for n in range(3_000))
    one_sentence = " ".join(f"Word{n % 500} Name{n % 77}" for n in range(100_000))
    dates = "The repair is expected " + ", ".join(  # 89 s in the facts alone before
        f"on March {n % 28 + 1}, {1900 + n % 120}" for n in range(15_000)) + "."
    started = time.monotonic()
    result = storytrace.analyze([amounts, quotes, one_sentence, dates, GOOD[0], GOOD[1]])
    assert time.monotonic() - started < 60
    assert len(result.documents) == 6
    assert any("only the first 1,000 kept" in n for n in result.documents[0].notes)
    facts = [f for s in result.stories for f in s.facts]
    assert any(f.kind == "money" for f in facts) and any(f.kind == "quote" for f in facts)


# --- end to end through the CLI, memory-capped ---------------------------------------------

def _capped_run(args, timeout=120):
    """The real CLI in a subprocess under a 3 GB address-space cap; returns its exit code,
    stderr, peak RSS in bytes and seconds (killed past `timeout`)."""
    import tempfile
    import threading

    capped = (  # the cap is set by the child itself, before storytrace loads
        "import resource, runpy, sys\n"
        f"resource.setrlimit(resource.RLIMIT_AS, ({MEMORY_CAP}, {MEMORY_CAP}))\n"
        "sys.argv = ['storytrace', *sys.argv[1:]]\n"
        "runpy.run_module('storytrace', run_name='__main__')\n"
    )
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as stderr:
        proc = subprocess.Popen([sys.executable, "-c", capped, *map(str, args)],
                                stdout=subprocess.DEVNULL, stderr=stderr)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        stderr.seek(0)
        return proc.returncode, stderr.read(), usage.ru_maxrss * 1024, time.monotonic() - started


def test_analyze_the_hostile_corpus_under_a_memory_cap(corpus, tmp_path):
    root, bad = corpus
    out = tmp_path / "out"
    code, stderr, peak, seconds = _capped_run(["analyze", root, "--out", out])
    assert code == 1, stderr[-3000:]  # 1: some input was rejected
    assert "Traceback" not in stderr
    assert seconds < 60 and peak < MEMORY_CAP, (seconds, peak)
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    ids = {d["id"] for d in result["documents"]}
    assert "good-surrogate" in ids and "good-latin1" in ids and "good-deep" in ids
    assert len([i for i in ids if i.startswith("good-row-")]) == 600 - 7
    assert {Path(e["source"]).name for e in result["errors"]} >= set(bad)
    assert pq.read_table(out / "parquet" / "documents.parquet").num_rows == len(ids)
    assert (out / "report.html").stat().st_size > 0
    deep = next(d for d in result["documents"] if d["id"] == "good-deep")
    assert "observatory" in deep["clean_text"] and any("stripping tags" in n for n in deep["notes"])
    for name in bad:  # the user is told on stderr, once per file and reason
        assert name in stderr


def test_dedup_the_hostile_corpus_under_a_memory_cap(corpus, tmp_path):
    root, bad = corpus
    out = tmp_path / "out"
    code, stderr, peak, seconds = _capped_run(["dedup", root, "--out", out])
    assert code == 1, stderr[-3000:]
    assert "Traceback" not in stderr and seconds < 60 and peak < MEMORY_CAP, (seconds, peak)
    mapping = [json.loads(x) for x in (out / "mapping.jsonl").read_text().splitlines()]
    assert len([m for m in mapping if m["id"].startswith("good-row-")]) == 600 - 7
    errors = [json.loads(x) for x in (out / "errors.jsonl").read_text().splitlines()]
    assert {Path(e["source"]).name for e in errors} >= set(bad)


def _one_complete_run(out: Path) -> list[str]:
    """The document ids of the run `out` holds, after checking that result.json, the Parquet
    tables and the report are all of that one run."""
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    ids = sorted(d["id"] for d in result["documents"])
    assert sorted(pq.read_table(out / "parquet" / "documents.parquet")["id"].to_pylist()) == ids
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.rstrip().endswith("</html>") and all(i in html for i in ids)
    return ids


def test_a_killed_run_leaves_out_holding_one_complete_run(tmp_path):
    out = tmp_path / "out"
    first, second = REPO / "examples" / "corpus", DATA / "seeds"
    done = subprocess.run([sys.executable, "-m", "storytrace", "analyze", first, "--out", out],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    runs = {tuple(_one_complete_run(out))}
    rng = random.Random(13)
    killed = 0
    for _ in range(2):
        proc = subprocess.Popen([sys.executable, "-m", "storytrace", "analyze", second,
                                 "--out", out], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.0, 6.0))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            killed += 1
        proc.wait()
        runs.add(tuple(_one_complete_run(out)))  # the old run or the new one, never a mix
    assert len(runs) <= 2 and killed >= 1
    leftovers = [p.name for p in tmp_path.iterdir() if p.name not in ("out", ".out.lock")]
    done = subprocess.run([sys.executable, "-m", "storytrace", "analyze", second, "--out", out,
                           "--no-html", "--no-parquet"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    # the next run sweeps what killed runs left beside --out, and replaces stale outputs
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.lock", "out"], leftovers
    assert sorted(p.name for p in out.iterdir()) == ["result.json"]


def _wait_then_exit(ready, stop) -> None:
    ready.set()
    stop.wait(30)


def test_a_worker_forked_during_a_run_does_not_hold_its_lock(tmp_path):
    """The lock beside --out is the run's own: a worker it forked (the local engine's pool)
    does not keep it once the run is gone, so the next run starts at once after a kill -9
    instead of being refused while orphaned workers notice."""
    import fcntl
    import multiprocessing

    from storytrace.errors import OutputError
    from storytrace.outputs import _locked

    out = tmp_path / "out"
    ctx = multiprocessing.get_context("fork")
    ready, stop = ctx.Event(), ctx.Event()
    with _locked(out):
        worker = ctx.Process(target=_wait_then_exit, args=(ready, stop))
        worker.start()
        assert ready.wait(30)
        with pytest.raises(OutputError, match="another storytrace run"), _locked(out):
            pass
    try:
        with (tmp_path / ".out.lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError if still held
    finally:
        stop.set()
        worker.join(30)


def test_two_runs_into_one_out_never_mix(tmp_path):
    out = tmp_path / "out"
    procs = [subprocess.Popen([sys.executable, "-m", "storytrace", "dedup", DATA / "seeds",
                               "--out", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(3)]
    codes = []
    for proc in procs:
        _, stderr = proc.communicate(timeout=300)
        codes.append(proc.returncode)
        assert proc.returncode in (0, 2), stderr
        if proc.returncode == 2:
            assert "another storytrace run" in stderr
    assert 0 in codes
    kept = [json.loads(x)["id"] for x in (out / "documents.jsonl").read_text().splitlines()]
    assert len(kept) == len(set(kept)) and len(kept) <= 5


# --- properties over arbitrary input ----------------------------------------------------------

SAFE = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _is_safe(text: str) -> bool:
    text.encode("utf-8")  # no lone surrogate
    return not any(ord(c) < 32 and c not in "\t\n\r" for c in text)


@SAFE
@given(st.binary(max_size=3000))
def test_decoding_any_bytes_gives_safe_text_or_a_reason(data):
    try:
        text = decode_text(data)
    except DecodeError as exc:
        assert str(exc)
    else:
        assert _is_safe(text)


@SAFE
@given(st.text(max_size=2000))
def test_safe_text_is_safe_and_idempotent(text):
    once = safe_text(text)
    assert _is_safe(once) and safe_text(once) == once


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=20,
)


@SAFE
@given(st.lists(st.one_of(st.binary(max_size=200),
                          st.dictionaries(st.sampled_from(["id", "text", "url", "date", "x"]),
                                          JSON_VALUES).map(lambda r: json.dumps(r).encode())),
                max_size=20))
def test_a_jsonl_file_of_anything_gives_one_document_or_error_per_line(tmp_path_factory, lines):
    lines = [line.replace(b"\n", b" ").replace(b"\r", b" ") for line in lines]
    path = tmp_path_factory.mktemp("jsonl") / "any.jsonl"
    path.write_bytes(b"\n".join(lines))
    read = read_inputs([path], FieldMap())
    if lines:  # a byte order mark opening the file is not part of its first line
        lines[0] = lines[0].removeprefix(b"\xef\xbb\xbf")
    non_blank = sum(1 for line in lines if line.strip())
    assert len(read.documents) + len(read.errors) == non_blank
    for doc in read.documents:
        assert _is_safe(doc.raw) and _is_safe(doc.id)
    assert all(e.record and e.record.startswith("line ") for e in read.errors)


@SAFE
@given(st.text(max_size=1500))
def test_the_cleaner_takes_any_text_and_any_page(text):
    from storytrace.clean import clean_html, clean_text

    for cleaned in (clean_text(text), clean_html(f"<html><body><p>{text}</p></body></html>")):
        assert _is_safe(cleaned.text)


@SAFE
@given(st.text(alphabet=st.characters(), max_size=1500))
def test_sentences_cover_the_text_in_order(text):
    from storytrace.facts.entities import sentences

    previous_end = 0
    for span in sentences(text):
        assert previous_end <= span.start < span.end <= len(text)
        assert text[span.start : span.end] == span.text
        previous_end = span.end


@SAFE
@given(st.text(alphabet=st.characters(), max_size=1500)
       | st.lists(st.sampled_from(['"', "“", "”", "$5 million", "said", "Smith", "300 people",
                                   "2021", "on March 3", ".", " ", "\n", "about", "percent"]),
                  max_size=200).map("".join))
def test_fact_finders_take_any_text(text):
    from storytrace.facts import extract_facts

    for mention in extract_facts(text):
        assert 0 <= mention.position <= len(text)
        assert mention.kind in {"money", "quantity", "percent", "date", "year", "duration",
                                "quote"}


# A failing example is reported as found, not shrunk: each try is a whole pipeline run, and
# shrinking one took longer than the suite may.
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])
@given(st.lists((st.text(alphabet=st.characters(), min_size=1, max_size=400)
                 | st.lists(st.sampled_from(GOOD[0].split() + ['"', "\x0b", "\ud800", "\n"]),
                            min_size=1, max_size=80).map(" ".join))
                .map(lambda text: "Story: " + text),  # a text, never a one-word path ("a/b")
                min_size=1, max_size=4))
def test_the_whole_pipeline_takes_any_texts(texts):
    result = storytrace.analyze([*texts, GOOD[0]])
    json.dumps(result.to_dict(), ensure_ascii=False).encode("utf-8")  # writable as result.json
    assert GOOD[0].split()[1] in " ".join(d.clean_text for d in result.documents)
    assert len(result.documents) + len(result.errors) == len(texts) + 1


def test_a_document_that_breaks_a_stage_costs_only_itself(monkeypatch):
    import storytrace.stages

    signals = storytrace.stages.document_signals

    def fragile(text):  # a stage with a bug that one text triggers
        if "POISON" in text:
            raise ValueError("a bug in a stage")
        return signals(text)

    monkeypatch.setattr(storytrace.stages, "document_signals", fragile)
    result = storytrace.analyze([GOOD[0], "This POISON article breaks the signals stage.", GOOD[1]])
    assert [d.id for d in result.documents] == ["doc-0", "doc-2"]
    (error,) = result.errors
    assert error.record == "document doc-1" and "a bug in a stage" in error.reason


def test_a_document_cut_short_in_the_facts_stage_says_so_in_the_result(monkeypatch, tmp_path):
    from storytrace.facts import merge
    from storytrace.index import Index

    monkeypatch.setattr(merge, "FACTS_MAX_CHARS", 300)
    monkeypatch.setattr(merge, "FACTS_MAX_PER_DOCUMENT", 2)
    long = " ".join([GOOD[0]] * 4)
    result = storytrace.analyze([long, GOOD[1]])
    notes = {d.id: d.notes for d in result.documents}
    assert "facts: only the first 300 characters searched for facts" in notes["doc-0"]
    assert any(n.startswith("facts: ") and "only the first 2 kept" in n for n in notes["doc-0"])
    assert not any("characters searched" in n for n in notes["doc-1"])
    assert "facts: only the first 300 characters" in json.dumps(result.to_dict())
    with Index.open(tmp_path / "news.duckdb") as index:  # a persistent index keeps them too
        index.add([Document("long", long, "<test>")])
    with Index.open(tmp_path / "news.duckdb", read_only=True) as index:
        (doc,) = index.export().documents
    assert "facts: only the first 300 characters searched for facts" in doc.notes


def test_a_document_that_breaks_a_later_stage_costs_only_itself(monkeypatch):
    import storytrace.facts

    story_facts = storytrace.facts.story_facts

    def fragile(documents, *rest):  # a story-level stage with a bug that one text triggers
        if any("POISON" in d.clean_text for d in documents):
            raise RecursionError("a bug in a story stage")
        return story_facts(documents, *rest)

    monkeypatch.setattr(storytrace.facts, "story_facts", fragile)
    texts = [GOOD[0], GOOD[1], DEEP, "This POISON article breaks the story stage, once merged.",
             GOOD[0] + " Reprinted."]
    result = storytrace.analyze(texts)
    assert [d.id for d in result.documents] == ["doc-0", "doc-1", "doc-2", "doc-4"]
    (error,) = result.errors
    assert error.record == "document doc-3" and "a bug in a story stage" in error.reason


def test_index_add_moves_a_document_that_breaks_a_stage_to_the_errors(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    import storytrace.facts
    from storytrace.cli import app
    from storytrace.index import Index

    story_facts = storytrace.facts.story_facts

    def fragile(documents, *rest):
        if any("POISON" in d.clean_text for d in documents):
            raise ValueError("a bug in a story stage")
        return story_facts(documents, *rest)

    monkeypatch.setattr(storytrace.facts, "story_facts", fragile)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name, text in [("a", GOOD[0]), ("b", "This POISON article breaks the story stage."),
                       ("c", GOOD[1])]:
        (inbox / f"{name}.txt").write_text(text)
    done = CliRunner().invoke(app, ["index", "add", str(tmp_path / "i.duckdb"), str(inbox),
                                    "--workers", "1", "--batch-size", "1"])
    assert done.exit_code == 1, done.output
    assert "a bug in a story stage" in done.output
    with Index.open(tmp_path / "i.duckdb", read_only=True) as index:
        assert sorted(d.id for d in index.store.documents()) == ["a", "c"]
        assert [e.record for e in index.store.errors()] == ["document b"]
        assert index.check() == []


def test_a_text_too_long_for_the_later_stages_is_cut_with_a_note():
    from storytrace.clean.document import cut_long_text
    from storytrace.model import CleanText

    cut = cut_long_text(CleanText("One line of text.\n" * 100), 1000)
    assert len(cut.text) <= 1000 and cut.text.endswith("text.") and "text cut at" in cut.notes[0]
    # a 1.6 MB article (the longest of the 10,000-document bench corpus is 120 kB): cut at
    # Limits.max_text_chars, the run quick (a 9 MB text took 98 s uncut)
    long = "\n".join(f"{GOOD[n % 2]} Paragraph {n}." for n in range(8_000))
    started = time.monotonic()
    result = storytrace.analyze([long, DEEP])
    assert time.monotonic() - started < 60
    doc = result.documents[0]
    assert len(doc.clean_text) <= Limits().max_text_chars < len(long)
    assert any(n.startswith("text cut at") for n in doc.notes)


def test_index_add_exits_1_naming_what_it_rejected(tmp_path):
    from typer.testing import CliRunner

    from storytrace.cli import app

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "good.txt").write_text(GOOD[0])
    (inbox / "empty.txt").write_text("")
    (inbox / "nav.html").write_text("<html><body><nav><a href='/'>Home</a></nav></body></html>")
    runner = CliRunner()
    done = runner.invoke(app, ["index", "add", str(tmp_path / "i.duckdb"), str(inbox),
                               "--workers", "1"])
    assert done.exit_code == 1 and "empty.txt" in done.output and "empty file" in done.output
    missing = runner.invoke(app, ["index", "add", str(tmp_path / "i.duckdb"),
                                  str(tmp_path / "typo")])
    assert missing.exit_code == 2 and "no such file" in missing.output
    export = runner.invoke(app, ["index", "export", str(tmp_path / "i.duckdb"),
                                 "--out", str(tmp_path / "out")])
    assert export.exit_code == 0, export.output
    result = json.loads((tmp_path / "out" / "result.json").read_text(encoding="utf-8"))
    notes = {d["id"]: d["notes"] for d in result["documents"]}
    assert "no article text found" in notes["nav"]  # kept, and it says why it is empty


def test_index_query_refuses_what_cannot_be_read_instead_of_hanging(tmp_path):
    from typer.testing import CliRunner

    from storytrace.cli import app

    runner = CliRunner()
    index = str(tmp_path / "i.duckdb")
    (tmp_path / "a.txt").write_text(GOOD[0])
    assert runner.invoke(app, ["index", "add", index, str(tmp_path / "a.txt"),
                               "--workers", "1"]).exit_code == 0
    os.mkfifo(tmp_path / "pipe.txt")
    started = time.monotonic()
    for bad, why in [(tmp_path / "pipe.txt", "named pipe"), ("/dev/zero", "character device")]:
        done = runner.invoke(app, ["index", "query", index, str(bad)])
        assert done.exit_code == 2 and why in done.output, done.output
    assert time.monotonic() - started < 30
    (tmp_path / "b.html").write_text(f"<html><body><p>{GOOD[0]}</p></body></html>")
    done = runner.invoke(app, ["index", "query", index, str(tmp_path / "b.html")])
    assert done.exit_code == 0 and json.loads(done.stdout)["relations"], done.output
