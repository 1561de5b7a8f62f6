"""Bytes to text, with a reason when that is not possible; text made safe for every output."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from typing import BinaryIO

from storytrace.ingest.limits import LIMITS, Limits

# Kept for callers of the old module constant; the limit itself lives in `Limits`.
MAX_DOCUMENT_BYTES = LIMITS.max_document_bytes


class DecodeError(ValueError):
    """Why some bytes are not a text document."""


# The compressions a file name may end in, and what to call each in a message.
COMPRESSIONS = {".gz": "gzip", ".bz2": "bzip2", ".xz": "xz", ".zst": "Zstandard"}


def compression(name: str) -> str | None:
    """The compression suffix a file name ends in (".gz", ".bz2", ".xz", ".zst"), else None."""
    lowered = name.lower()
    return next((suffix for suffix in COMPRESSIONS if lowered.endswith(suffix)), None)


class _Counted:
    """A binary stream that counts the bytes read from it (the compressed size so far)."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream, self.read_in = stream, 0

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.read_in += len(data)
        return data


def decompress_stream(stream: BinaryIO, name: str, limits: Limits = LIMITS,
                      max_bytes: int | None = None) -> Iterator[bytes]:
    """The decompressed bytes of a stream whose file `name` ends in a COMPRESSIONS suffix
    (every member or frame of a concatenated file), chunk by chunk.

    Stops with DecodeError before the output passes `max_bytes` (default: one document) or
    the compression ratio passes `limits.max_compression_ratio`, so a bomb costs a chunk of
    memory, not its inflated size; a file that is not of its compression, or ends inside
    compressed data, is a DecodeError too.
    """
    import bz2
    import lzma

    suffix = compression(name)
    label = COMPRESSIONS[suffix]
    limit = limits.max_document_bytes if max_bytes is None else max_bytes
    counted = _Counted(stream)
    if suffix == ".gz":
        chunks = _gunzip(counted, limits.chunk_bytes)
    elif suffix == ".zst":
        chunks = _unzstd(counted)
    else:
        chunks = _read_file((bz2.BZ2File if suffix == ".bz2" else lzma.LZMAFile)(counted),
                            label, limits.chunk_bytes)
    written = 0
    for out in chunks:
        written += len(out)
        if written > limit:
            raise DecodeError(f"decompresses to more than {limit:,} bytes (limit)")
        if written > limits.ratio_floor_bytes and \
                written > counted.read_in * limits.max_compression_ratio:
            raise DecodeError(f"decompression bomb: over {limits.max_compression_ratio:g}x "
                              "its compressed size")
        yield out


def _gunzip(counted: _Counted, size: int) -> Iterator[bytes]:
    """The chunks (at most `size` bytes each) of a gzip stream, every member."""
    inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
    in_member = False  # the inflater has been fed part of a member it has not finished
    pending = b""
    while True:
        if not pending:
            pending = counted.read(size)
            if not pending:
                break
        try:
            out = inflater.decompress(pending, size)
        except zlib.error as exc:
            raise DecodeError(f"not a valid gzip file ({exc})") from exc
        in_member = True
        pending = inflater.unconsumed_tail
        if inflater.eof:  # one member ended; another may follow (concatenated gzip)
            pending = inflater.unused_data + pending
            inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
            in_member = False
            if not pending.strip(b"\x00"):  # padding after the last member
                pending = b""
        if out:
            yield out
    if in_member:
        raise DecodeError("truncated gzip file (it ends inside compressed data)")


def _read_file(reader, label: str, size: int) -> Iterator[bytes]:
    """The chunks of a bz2/lzma file object (every stream of a concatenated file)."""
    import lzma

    with reader:
        while True:
            try:
                out = reader.read(size)
            except EOFError as exc:
                raise DecodeError(f"truncated {label} file (it ends inside compressed data)"
                                  ) from exc
            except (OSError, lzma.LZMAError, ValueError) as exc:
                raise DecodeError(f"not a valid {label} file ({exc})") from exc
            if not out:
                return
            yield out


# Zstandard's decompressor returns all that its input decompresses to (an RLE block is 128 KiB
# from 4 bytes), so it is fed a little at a time: at most ~32 MiB out of one feed.
_ZSTD_FEED = 1024


def _unzstd(counted: _Counted) -> Iterator[bytes]:
    """The chunks of a Zstandard stream (every frame), refusing one that ends inside a frame."""
    import zstandard

    inflater = zstandard.ZstdDecompressor().decompressobj()
    in_frame = False
    pending = b""
    while True:
        if not pending:
            pending = counted.read(_ZSTD_FEED)
            if not pending:
                break
        piece, pending = pending[:_ZSTD_FEED], pending[_ZSTD_FEED:]
        try:
            out = inflater.decompress(piece)
        except zstandard.ZstdError as exc:
            raise DecodeError(f"not a valid Zstandard file ({exc})") from exc
        in_frame = True
        if inflater.eof:  # one frame ended; another may follow
            pending = inflater.unused_data + pending
            inflater = zstandard.ZstdDecompressor().decompressobj()
            in_frame = False
        if out:
            yield out
    if in_frame:
        raise DecodeError("truncated Zstandard file (it ends inside compressed data)")


def looks_binary(data: bytes) -> bool:
    """Many NUL bytes or control characters in the first 8 KiB: an image, a PDF, an archive.
    A few stray NULs in a scraped text do not make it binary (they are dropped with the other
    control characters); compressed or random bytes hold about 10% control characters."""
    head = data[:8192]
    if head.count(0) > max(4, len(head) * 0.01):
        return True
    control = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 11, 12, 13, 27))
    return control > len(head) * 0.05


_BOMS = (  # the "utf-16"/"utf-32" codecs read the mark and drop it
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xfe\xff", "utf-16"),
    (b"\xff\xfe", "utf-16"),
)


def _wide_encoding(data: bytes) -> str | None:
    """UTF-16/32 by its byte order mark, or without one by where the NUL bytes fall: text in
    Latin script has a NUL in every other (UTF-16) or three of four (UTF-32) bytes."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    head = data[:4096]
    if len(head) < 4 or b"\x00" not in head:
        return None
    if len(data) % 4 == 0:  # a code point is at most 0x10FFFF: its top byte is always 0
        quads = head[: len(head) // 4 * 4]
        if not any(quads[3::4]) and max(quads[2::4]) <= 0x10 and any(quads[0::4]):
            return "utf-32-le"
        if not any(quads[0::4]) and max(quads[1::4]) <= 0x10 and any(quads[3::4]):
            return "utf-32-be"
    pairs = len(head) // 2
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if odd >= 0.6 * pairs and even == 0:
        return "utf-16-le"
    if even >= 0.6 * pairs and odd == 0:
        return "utf-16-be"
    return None


def decode_text(data: bytes, limits: Limits = LIMITS) -> str:
    """Decode bytes as UTF-8 (with or without BOM), UTF-16/32 (with or without BOM), else the
    best guess of charset_normalizer; the result is `safe_text`.

    Raises DecodeError for empty, oversized, binary or undecodable input.
    """
    if not data.strip():
        raise DecodeError("empty file")
    if len(data) > limits.max_document_bytes:
        raise DecodeError(
            f"too large for one document ({len(data):,} bytes > {limits.max_document_bytes:,})"
        )
    wide = _wide_encoding(data)
    if wide is not None:
        try:
            text = data.decode(wide)
        except UnicodeDecodeError:
            pass
        else:
            if not text.strip():
                raise DecodeError("empty file")
            return safe_text(text)
    if looks_binary(data):
        raise DecodeError("binary content, not text")
    try:
        return safe_text(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        pass
    try:  # UTF-8 but for encoded lone surrogates (as some JSON encoders write them)
        return safe_text(data.decode("utf-8", "surrogatepass"))
    except UnicodeDecodeError:
        pass
    import charset_normalizer  # here: most piles are UTF-8, and it takes 20 ms to import

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
    return safe_text(str(best))


# What no output can carry: lone surrogates (not encodable as UTF-8: result.json and Parquet
# fail on them), C0 controls other than tab/newline/return and the noncharacters U+FFFE/U+FFFF
# (not allowed in XML, so lxml refuses a page holding one). Vertical tab and form feed end a
# line, as they do on paper.
_LINE_BREAKS = re.compile(r"[\x0b\x0c]")
_UNSAFE = re.compile(r"[\x00-\x08\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# The same test on UTF-8 bytes, where it is one C pass (3.5x faster than the two regular
# expressions on bench texts; `safe_text` runs on every field of every document): a control
# character is its own byte in UTF-8 (no other character's bytes are below 0x80), U+FFFE and
# U+FFFF are the only characters encoded EF BF BE and EF BF BF, and a lone surrogate cannot
# be encoded at all.
_CONTROL_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])


def _plainly_safe(text: str) -> bool:
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return (len(data.translate(None, _CONTROL_BYTES)) == len(data)
            and b"\xef\xbf\xbe" not in data and b"\xef\xbf\xbf" not in data)


def safe_text(text: str) -> str:
    """`text` with what JSON, Parquet and HTML outputs cannot hold replaced: vertical tabs and
    form feeds by newlines, lone surrogates by U+FFFD, other control characters removed."""
    if _plainly_safe(text):
        return text
    text = _LINE_BREAKS.sub("\n", text)
    return _UNSAFE.sub(lambda m: "\ufffd" if "\ud800" <= m.group() <= "\udfff" else "", text)


# JSON escapes that decode to a character `safe_text` changes: \b, \f, \u0000-\u001f, a
# surrogate (a pair too: rare, it takes the slow path), \ufffe, \uffff. An escaped backslash
# followed by such letters ("\\f") matches as well: a false alarm costs only the slow path.
_UNSAFE_ESCAPE = re.compile(rb"\\(?:[bf]|u(?:00[01]|[dD][89a-fA-F]|[fF]{3}[eEfF]))")


def json_plainly_safe(line: bytes) -> bool:
    """True when every string that `json.loads` makes of `line` is already safe text, so its
    fields need no `safe_text` of their own: one search of the line instead of one encoding
    of each field (the largest cost of reading a JSONL row after JSON itself).

    For a line that is valid UTF-8 and that `json.loads` accepts: strict JSON has no raw
    control character inside a string, and strict UTF-8 no lone surrogate, so what remains
    are the escapes above and U+FFFE/U+FFFF written as themselves.
    """
    return ((line.isascii() or b"\xef\xbf\xbe" not in line and b"\xef\xbf\xbf" not in line)
            and _UNSAFE_ESCAPE.search(line) is None)
