"""Reading inputs: every format, and bad input turned into errors that name the file."""

import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from conftest import DATA
from hypothesis import given, settings
from hypothesis import strategies as st

from storytrace.ingest import FieldMap, read_inputs


def test_a_directory_is_walked_and_ids_are_file_names(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.txt").write_text("First article. It has words.", encoding="utf-8")
    (tmp_path / "sub" / "b.html").write_text("<html><body><p>Hello world.</p></body></html>")
    with gzip.open(tmp_path / "sub" / "c.htm.gz", "wt") as handle:
        handle.write("<html><body><p>Zipped page.</p></body></html>")
    (tmp_path / "notes.md").write_text("not a document")
    read = read_inputs([tmp_path])
    assert sorted(d.id for d in read.documents) == ["a", "b", "c"]
    formats = {d.id: d.format for d in read.documents}
    assert formats == {"a": "text", "b": "html", "c": "html"}
    assert read.skipped == [str(tmp_path / "notes.md")]
    assert read.errors == []


def test_seeds_directory_reads_the_five_texts_but_not_the_readme():
    read = read_inputs([DATA / "seeds"])
    assert [d.id[:3] for d in read.documents] == ["000", "001", "002", "003", "004"]
    assert "[ad_1]" in read.documents[0].raw


def test_bad_files_become_errors_naming_file_and_reason(tmp_path):
    (tmp_path / "good.txt").write_text("A fine article about a council vote.")
    (tmp_path / "empty.txt").write_text("  \n")
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR" * 20)
    (tmp_path / "broken.html.gz").write_bytes(b"not gzip at all")
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 cr\xe8me br\xfbl\xe9e, said the chef.".encode("latin-1"))
    read = read_inputs([tmp_path, tmp_path / "missing.txt"])
    reasons = {Path(e.source).name: e.reason for e in read.errors}
    assert set(reasons) == {"empty.txt", "binary.txt", "broken.html.gz", "missing.txt"}
    assert "empty" in reasons["empty.txt"]
    assert "binary" in reasons["binary.txt"]
    assert "gzip" in reasons["broken.html.gz"]
    assert "no such file" in reasons["missing.txt"]
    docs = {d.id: d for d in read.documents}
    assert set(docs) == {"good", "latin1"}
    assert "Café crème" in docs["latin1"].raw  # wrong encoding is recovered, not lost


def test_jsonl_rows_with_malformed_records_reported_by_line(tmp_path):
    path = tmp_path / "pile.jsonl"
    rows = [
        json.dumps({"doc": "x1", "body": "Text one.", "link": "https://a.example/1", "published": "2021-10-08T10:00:00Z"}),
        "{not json",
        json.dumps({"doc": "x2", "body": ""}),
        json.dumps({"doc": "x3"}),
        json.dumps(["a", "list"]),
        "",
        json.dumps({"doc": "x4", "body": "Text four.", "headline": "Four"}),
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    fields = FieldMap(id="doc", text="body", url="link", date="published", title="headline")
    read = read_inputs([path], fields)
    assert [d.id for d in read.documents] == ["x1", "x4"]
    first = read.documents[0]
    assert (first.url, first.date) == ("https://a.example/1", "2021-10-08")
    assert read.documents[1].title == "Four"
    assert first.source.endswith("pile.jsonl#line 1")
    errors = {e.record: e.reason for e in read.errors}
    assert set(errors) == {"line 2", "line 3", "line 4", "line 5"}
    assert "malformed JSON" in errors["line 2"]
    assert "empty" in errors["line 3"]
    assert "no 'body' field" in errors["line 4"]
    assert all(e.source == str(path) for e in read.errors)


def test_parquet_rows_are_documents(tmp_path):
    path = tmp_path / "pile.parquet"
    pq.write_table(pa.table({"id": ["p1", "p2"], "text": ["One story.", None]}), path)
    read = read_inputs([path])
    assert [d.id for d in read.documents] == ["p1"]
    assert read.errors[0].record == "row 1"


def test_broken_parquet_is_an_error_not_a_crash(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 this is not parquet")
    read = read_inputs([path])
    assert read.documents == []
    assert read.errors[0].source == str(path)
    assert "Parquet" in read.errors[0].reason


def test_warc_responses_are_html_documents(tmp_path):
    from io import BytesIO

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    path = tmp_path / "crawl.warc.gz"
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.0")
        body = b"<html><body><p>The council voted on Tuesday.</p></body></html>"
        record = writer.create_warc_record("https://news.example/a", "response", payload=BytesIO(body), http_headers=headers)
        writer.write_record(record)
    read = read_inputs([path])
    assert [d.url for d in read.documents] == ["https://news.example/a"]
    assert read.documents[0].format == "html"
    assert read.documents[0].date is not None


def test_malformed_warc_is_an_error(tmp_path):
    path = tmp_path / "junk.warc"
    path.write_bytes(b"WARC/1.0\r\nthis is junk\r\n\r\n")
    read = read_inputs([path])
    assert read.documents == []
    assert read.errors and read.errors[0].source == str(path)


def test_a_file_reached_twice_is_read_once(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text("The harbour strike ended on Sunday after nine days.")
    (tmp_path / "link.txt").symlink_to(tmp_path / "sub" / "a.txt")
    read = read_inputs([tmp_path, tmp_path / "sub", tmp_path / "sub" / "a.txt"])
    assert len(read.documents) == 1 and not read.errors


def test_a_linked_directory_is_read_once_and_a_link_back_up_ends_there(tmp_path):
    shared = tmp_path / "elsewhere"
    shared.mkdir()
    (shared / "b.txt").write_text("Dock workers voted on Tuesday to accept the new pay offer.")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.txt").write_text("The harbour strike ended on Sunday after nine days.")
    (inbox / "linked").symlink_to(shared, target_is_directory=True)
    (inbox / "again").symlink_to(shared, target_is_directory=True)
    (shared / "up").symlink_to(inbox, target_is_directory=True)
    read = read_inputs([inbox])
    assert sorted(Path(d.source).name for d in read.documents) == ["a.txt", "b.txt"]
    assert not read.errors


# --- compressions beyond gzip: corpora come as .bz2 (Wikipedia), .xz and .zst (web crawls) ---
def _compressors():
    import bz2
    import lzma

    import zstandard

    return {".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress,
            ".zst": zstandard.ZstdCompressor().compress}


def test_text_html_and_jsonl_are_read_through_every_compression(tmp_path):
    page = "<html><body><p>The council voted on the bridge on Monday.</p></body></html>"
    rows = "".join(json.dumps({"id": f"r{n}", "text": f"Row {n} of the pile, about a vote."})
                   + "\n" for n in range(300))
    for suffix, compress in _compressors().items():
        kind = suffix.strip(".")
        (tmp_path / f"note-{kind}.txt{suffix}").write_bytes(compress(b"A plain note on the vote."))
        (tmp_path / f"page-{kind}.html{suffix}").write_bytes(compress(page.encode()))
        # two streams one after the other, as `cat a.zst b.zst` or pbzip2 write them
        half = rows.encode().split(b"\n", 150)
        (tmp_path / f"pile-{kind}.jsonl{suffix}").write_bytes(
            compress(b"\n".join(half[:150]) + b"\n") + compress(half[150]))
    read = read_inputs([tmp_path])
    assert read.errors == [] and read.skipped == []
    docs = {d.id: d for d in read.documents}
    for kind in ("gz", "bz2", "xz", "zst"):
        assert docs[f"note-{kind}"].raw == "A plain note on the vote."
        assert docs[f"page-{kind}"].format == "html"
    assert sum(d.id.startswith("r") for d in read.documents) == 4 * 300


def test_broken_truncated_and_bomb_compressed_files_are_errors_naming_file_and_reason(tmp_path):
    text = (DATA / "seeds").glob("*.txt").__next__().read_bytes()
    for suffix, compress in _compressors().items():
        kind = suffix.strip(".")
        packed = compress(text)
        (tmp_path / f"garbage-{kind}.txt{suffix}").write_bytes(b"not compressed at all" * 10)
        (tmp_path / f"cut-{kind}.txt{suffix}").write_bytes(packed[: len(packed) // 2])
        (tmp_path / f"bomb-{kind}.jsonl{suffix}").write_bytes(compress(b" " * 20_000_000))
    (tmp_path / "ok.txt.zst").write_bytes(_compressors()[".zst"](text))
    read = read_inputs([tmp_path])
    reasons = {Path(e.source).name: e.reason for e in read.errors}
    assert [d.id for d in read.documents] == ["ok"]
    for kind, label in (("gz", "gzip"), ("bz2", "bzip2"), ("xz", "xz"), ("zst", "Zstandard")):
        assert f"not a valid {label} file" in reasons[f"garbage-{kind}.txt.{kind}"]
        assert "truncated" in reasons[f"cut-{kind}.txt.{kind}"]
        assert "decompression bomb" in reasons[f"bomb-{kind}.jsonl.{kind}"]


def test_warc_and_parquet_in_a_compression_they_cannot_be_read_through_are_named(tmp_path):
    import zstandard

    (tmp_path / "crawl.warc.zst").write_bytes(zstandard.ZstdCompressor().compress(b"WARC/1.0"))
    (tmp_path / "rows.parquet.gz").write_bytes(gzip.compress(b"PAR1"))
    read = read_inputs([tmp_path])
    reasons = {Path(e.source).name: e.reason for e in read.errors}
    assert "compressed with Zstandard" in reasons["crawl.warc.zst"]
    assert "compressed with gzip" in reasons["rows.parquet.gz"]


@given(st.text(alphabet=st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF,
                                      exclude_categories=()), max_size=40))
@settings(max_examples=400, deadline=None)
def test_text_passed_through_unchanged_holds_nothing_an_output_refuses(text):
    """safe_text's byte-level shortcut may keep a text as it is only when the character test
    finds nothing in it (controls, U+FFFE/U+FFFF, lone surrogates)."""
    from storytrace.ingest.decode import _LINE_BREAKS, _UNSAFE, _plainly_safe

    for sample in (text, text + "\x0b", "\ud83d" + text, text + "\ufffe", "\x1f" + text):
        expected = _UNSAFE.search(sample) is None and _LINE_BREAKS.search(sample) is None
        assert _plainly_safe(sample) == expected


_ANY_CHARACTER = st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF,
                               exclude_categories=())


@given(st.lists(st.text(alphabet=_ANY_CHARACTER, max_size=30), min_size=1, max_size=4),
       st.booleans())
@settings(max_examples=400, deadline=None)
def test_a_json_line_called_plainly_safe_holds_only_safe_strings(values, ascii_only):
    """The JSONL reader skips safe_text on every field of a line `json_plainly_safe` passes:
    that is right only if safe_text would change none of the line's strings, however they
    were escaped (json.dumps with and without ensure_ascii, so raw and escaped characters)."""
    from storytrace.ingest.decode import json_plainly_safe, safe_text

    line = json.dumps({"id": values[0], "text": "".join(values), "title": values[-1]},
                      ensure_ascii=ascii_only)
    try:
        data = line.encode("utf-8")  # the reader's condition: the line is strict UTF-8
    except UnicodeEncodeError:
        return
    if json_plainly_safe(data):
        assert all(safe_text(v) == v for v in json.loads(data).values())


def test_jsonl_fields_come_out_safe_whether_a_line_takes_the_shortcut_or_not(tmp_path):
    """Rows holding what no output can carry (escaped controls, a lone surrogate, U+FFFF)
    and plain rows beside them: every field read is what safe_text makes of it."""
    from storytrace.ingest.decode import safe_text

    rows = [{"id": "plain", "text": "A plain “quoted” text.\nSecond line.", "title": "T"},
            {"id": "form\x0cfeed", "text": "Page one\x0cpage two\x00.", "title": "t\x1f"},
            {"id": "surrogate", "text": "Lone \ud83d half.", "url": "http://x/\ufffe"},
            {"id": "escaped backslash", "text": "C:\\files\\\\u0000 and \\f", "title": None}]
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    read = read_inputs([path], FieldMap())
    assert not read.errors
    for doc, row in zip(read.documents, rows, strict=True):
        assert (doc.id, doc.raw) == (safe_text(row["id"]), safe_text(row["text"]))
        assert doc.title == (safe_text(row["title"]) if row.get("title") else None)
        assert doc.url == (safe_text(row["url"]) if row.get("url") else None)
    assert read.documents[0].raw == rows[0]["text"]
    assert read.documents[1].raw == "Page one\npage two."


@given(st.binary(max_size=120).map(lambda b: b.replace(b"\x00", b"\n")),
       st.integers(min_value=0, max_value=30), st.integers(min_value=1, max_value=17))
@settings(max_examples=400, deadline=None)
def test_an_uncompressed_file_is_split_into_the_same_lines_as_a_stream(data, max_line, piece):
    """A plain JSONL file is read by readline, a compressed one in chunks: both give the same
    lines, and None in place of each line over the limit."""
    import io

    from storytrace.ingest.files import _file_lines, _lines

    chunks = iter([data[i : i + piece] for i in range(0, len(data), piece)])
    reader = io.BufferedReader(io.BytesIO(data), buffer_size=piece + 1)
    assert list(_file_lines(reader, max_line)) == list(_lines(chunks, max_line))
