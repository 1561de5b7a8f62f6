"""Dedup mode for corpus builders: keep one representative per copy family, streaming.

Documents are read in batches; for each batch the texts are shingled and signed together
(numpy), then looked up in an LSH index of the representatives seen so far. Memory holds only
bucket keys (integers) and, in "full" mode, byte offsets of representatives in the output
file: never all texts. Representatives are the first document seen of each family.

    lexical: MinHash LSH at `threshold` over word n-grams (what datasketch does), plus exact
             text hashes; kind is "verbatim" (same clean text) or "near-duplicate".
    full:    candidates from LSH at a low threshold and from shared sentences, each verified
             by sentence alignment against the representative's text (re-read from disk);
             kind is the relation kind (wrapped, truncated, edited, spun, translated...).
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from json.encoder import encode_basestring_ascii
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import xxhash

from storytrace.fingerprint.immutables import immutable_shingles
from storytrace.fingerprint.minhash import LSHIndex, band_keys, signatures_flat
from storytrace.fingerprint.shingles import batch_shingles, sentence_hashes
from storytrace.model import WHOLE_COPY_KINDS, Document

if TYPE_CHECKING:
    from storytrace.engines import Engine
    from storytrace.match.options import MatchOptions


@dataclass(frozen=True, slots=True)
class DedupOptions:
    """How `dedup` decides that a document copies an earlier one."""

    mode: str = "lexical"  # "lexical" | "full"
    threshold: float = 0.8  # Jaccard of word n-grams for the lexical mode (datasketch's usual)
    num_perm: int = 128
    ngram: int = 5
    # Texts shingled and signed together. Measured on bench/dedup.py's corpus (4.7 kB a text):
    # the batch working set is ~20 bytes per text byte (64 texts: ~6 MB traced), and 64 is
    # within 7% of the throughput of 128 or 256 (per-batch overhead), at half the memory.
    batch_size: int = 64
    # Clean raw text first (boilerplate lines out, HTML to its article): `--no-clean` turns it
    # off for corpora of clean text. Dedup cleans without language detection: the language
    # only picks the stop words that judge a line to be prose, English's serve when unknown,
    # and detection was 30% of the cleaning time (bench/dedup.py).
    clean: bool = True
    # Full mode: LSH threshold for candidates and how many representatives to verify per doc.
    full_threshold: float = 0.3
    max_verify: int = 3
    # Full mode: how pairs are verified; None is the match stage's defaults (imported only by a
    # full run: the match package loads scipy and rapidfuzz, which the lexical mode never uses).
    match: MatchOptions | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("lexical", "full"):
            raise ValueError('mode must be "lexical" or "full"')
        if not 0.0 <= self.threshold <= 1.0 or not 0.0 <= self.full_threshold <= 1.0:
            raise ValueError("threshold must be in [0.0, 1.0]")
        if self.batch_size < 1:
            raise ValueError("batch_size must be at least 1")


@dataclass(slots=True)
class DedupStats:
    """What a dedup run did: counts per kind, throughput and where it wrote."""

    documents: int = 0
    representatives: int = 0
    duplicates: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    bytes: int = 0
    seconds: float = 0.0
    documents_path: str = ""
    mapping_path: str = ""
    # Documents whose raw text repeated an earlier one's: mapped without being cleaned.
    raw_copies: int = 0
    workers: int = 1
    engine: str = "local"


@dataclass(slots=True)
class _Prepared:
    """One batch after the per-document step (run by the engine, possibly elsewhere)."""

    texts: list[str] | None  # the clean texts; None when not cleaned (the raw texts are) or quoted
    quoted: list[bytes] | None  # the clean texts as JSON strings (ASCII), when asked for instead
    text_keys: list[int]  # xxh3 of each stripped clean text (exact copies)
    sizes: list[int]  # UTF-8 bytes of each clean text
    keys: np.ndarray  # LSH band keys, one row per text
    has_shingles: list[bool]


def _clean(raw: str, doc_format: str, url: str | None, options) -> str:
    """The clean main text of one document: boilerplate lines out, HTML reduced to its article.
    A document the cleaner cannot take keeps its raw text."""
    from storytrace.clean import clean_html, clean_text

    if doc_format not in ("text", "html"):
        return raw
    try:
        out = clean_text(raw, options) if doc_format == "text" else \
            clean_html(raw, options, url=url)
    except Exception:  # noqa: BLE001 - one document the cleaner cannot take keeps its raw text
        return raw
    return out.text


def _load_cleaner() -> None:
    """Import the cleaner and compile what it compiles on first use (markers, stop words), here.

    The local engine's workers are forked from this process when the first batch goes out: they
    start with the cleaner ready instead of each importing it again (0.4 CPU s a worker, 10% of
    a 5,000-document run at 2 workers).
    """
    from storytrace.clean import CleanOptions, clean_text

    clean_text("The cleaner is ready for the first batch.", CleanOptions(detect_language=False))


def _prepare(batch: list[tuple[str | bytes, str, str | None]] | list[bytes], clean: bool,
             ngram: int, num_perm: int, bands: int, rows: int, quote: bool = False) -> _Prepared:
    """The per-document step of dedup over one batch: clean, encode, shingle, sign, band keys.
    Pure: an engine may run it in any process. The batch holds (raw, format, url) to clean,
    the raw text as a str or as its UTF-8 (`_raw_key` encoded it), or, without cleaning, the
    texts already encoded. `quote`: return the clean texts as the JSON strings the output rows
    hold, as bytes, instead of as str (for a batch cleaned in another process, see `dedup`)."""
    if clean:
        from storytrace.clean import CleanOptions

        options = CleanOptions(detect_language=False)
        texts = [_clean(raw if isinstance(raw, str) else raw.decode("utf-8", _UTF8_ERRORS), fmt,
                        url, options) for raw, fmt, url in batch]
        encoded = [t.encode("utf-8", _UTF8_ERRORS) for t in texts]
    else:  # the texts are the raw texts the caller has: not sent back
        texts, encoded = None, batch
    values, owner = batch_shingles(encoded, ngram)
    has_shingles = (np.bincount(owner, minlength=len(batch)) > 0).tolist()
    keys = band_keys(signatures_flat(values, owner, len(batch), num_perm), bands, rows)
    quoted = None
    if quote and texts is not None:
        quoted, texts = [_quote(t).encode("ascii") for t in texts], None
    return _Prepared(texts, quoted, [xxhash.xxh3_64_intdigest(e.strip()) for e in encoded],
                     [len(e) for e in encoded], keys, has_shingles)


def _quote(value: str) -> str:
    """`value` as a JSON string, exactly as json.dumps writes it (its C encoder, called
    directly: the rows are written as formatted strings, without a dict per row)."""
    return encode_basestring_ascii(value)


def _batches(docs: Iterable[Document], size: int) -> Iterator[list[Document]]:
    it = iter(docs)
    while batch := list(islice(it, size)):
        yield batch


# surrogatepass: a lone surrogate (only a Document made in Python can hold one; the readers
# replace them) is hashed, not a crash; the JSON lines escape it
_UTF8_ERRORS = "surrogatepass"
_FORMAT_SEEDS = {"text": 0, "html": 1}


def _raw_key(doc: Document) -> tuple[int, bytes]:
    """A hash of the document's format and stripped raw text (equal for raw copies), and the
    raw text encoded: without cleaning, that is what `_prepare` signs (one encoding, not two)."""
    raw = doc.raw
    encoded = raw.encode("utf-8", _UTF8_ERRORS)
    stripped = encoded if not raw[:1].isspace() and not raw[-1:].isspace() else \
        raw.strip().encode("utf-8", _UTF8_ERRORS)
    seed = _FORMAT_SEEDS.get(doc.format)
    if seed is None:  # a format the readers do not make: its name goes into the hash
        stripped = f"{doc.format}\0".encode("utf-8", _UTF8_ERRORS) + stripped
        seed = len(_FORMAT_SEEDS)
    return xxhash.xxh3_64_intdigest(stripped, seed), encoded


def dedup(docs: Iterable[Document], out_dir: Path, options: DedupOptions | None = None,
          engine: Engine | None = None) -> DedupStats:
    """Write one representative per family to out_dir/documents.jsonl and every document's
    representative to out_dir/mapping.jsonl ({"id", "representative", "kind"}).

    A document whose raw text repeats an earlier one's is that one's copy, found by a hash
    before any cleaning. The others are cleaned and signed by `engine` (default: in this
    process), in batches, in parallel when it has workers; representatives are chosen here,
    in input order, so every engine and worker count writes the same files.
    """
    options = options or DedupOptions()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stats = DedupStats(documents_path=str(out_dir / "documents.jsonl"),
                       mapping_path=str(out_dir / "mapping.jsonl"))
    if engine is None:
        from storytrace.engines.local import LocalEngine

        engine = LocalEngine(1)
    stats.workers, stats.engine = engine.workers, engine.name
    started = time.perf_counter()
    full = options.mode == "full"
    lsh = LSHIndex(options.full_threshold if full else options.threshold, options.num_perm)
    exact: dict[int, int] = {}  # clean text hash -> representative number
    # raw text hash -> (representative, kind, clean bytes) of its first document; None while
    # that document is on its way through the engine
    raw_seen: dict[int, tuple[int, str, int] | None] = {}
    rep_ids: list[str] = []
    rep_offsets: list[int] = []  # full mode: where each representative's line starts
    sentence_index: dict[int, int] = {}  # full mode: sentence hash -> representative number
    # full mode: immutable n-gram (names, numbers, quoted words in order) -> representatives;
    # what spinners and translators leave alone, so it finds copies LSH cannot.
    immutable_index: dict[int, list[int]] = {}
    in_flight: deque[tuple[list[Document], list[int], list[bool]]] = deque()
    # Batches cleaned in other processes travel as UTF-8 (made for the raw key: pickling a
    # str would encode it again) and come back as the output rows' JSON strings (ASCII: the
    # pickle of a str would encode it, this process decode it, and then quote it for the row).
    # 20k bench corpus, 2 workers: this process 0.4-0.5 CPU s less (the workers quote instead).
    elsewhere = engine.name != "local" or engine.workers > 1

    def to_prepare() -> Iterator[list[tuple[str | bytes, str, str | None]] | list[bytes]]:
        for batch in _batches(docs, options.batch_size):
            keyed = [_raw_key(d) for d in batch]
            raw_keys = [key for key, _ in keyed]
            first = []
            for key in raw_keys:
                first.append(key not in raw_seen)
                raw_seen.setdefault(key, None)
            in_flight.append((batch, raw_keys, first))
            if options.clean:
                yield [(encoded if elsewhere else d.raw, d.format, d.url)
                       for d, (_, encoded), f in zip(batch, keyed, first, strict=True) if f]
            else:
                yield [encoded for (_, encoded), f in zip(keyed, first, strict=True) if f]

    if options.clean:
        _load_cleaner()
    prepared_batches = engine.map_batches(_prepare, to_prepare(), options.clean, options.ngram,
                                          options.num_perm, lsh.bands, lsh.rows,
                                          options.clean and elsewhere and not full)
    with open(stats.documents_path, "w+b") as documents, \
            open(stats.mapping_path, "w", encoding="utf-8") as mapping:
        for prepared in prepared_batches:
            batch, raw_keys, first = in_flight.popleft()
            key_lists = prepared.keys.tolist()  # one conversion per batch, not one per document
            lsh.flush()
            settled = lsh.settled(prepared.keys)  # the older buckets, for the whole batch
            lines = []
            kept = []  # lexical mode: the batch's representatives' rows, written together
            n = -1  # position among the prepared (first-seen) documents of the batch
            for doc, raw_key, is_first in zip(batch, raw_keys, first, strict=True):
                if not is_first:
                    rep, kind, size = raw_seen[raw_key]
                    stats.raw_copies += 1
                    stats.bytes += size
                    stats.duplicates += 1
                    stats.kinds[kind] = stats.kinds.get(kind, 0) + 1
                    lines.append(f'{{"id": {_quote(doc.id)}, "representative": '
                                 f'{_quote(rep_ids[rep])}, "kind": "{kind}"}}\n')
                    continue
                n += 1
                text = prepared.texts[n] if prepared.texts is not None else \
                    None if prepared.quoted is not None else doc.raw
                stats.bytes += prepared.sizes[n]
                rep, kind = exact.get(prepared.text_keys[n]), "verbatim"
                if rep is None and prepared.has_shingles[n]:
                    if full:
                        rep, kind = _verify(text, prepared.keys[n], lsh, sentence_index,
                                            immutable_index, rep_ids, rep_offsets, documents,
                                            options)
                    else:
                        rep = lsh.query_insert(key_lists[n], len(rep_ids), settled[n])
                        kind = "near-duplicate"
                if rep is None:
                    rep = len(rep_ids)
                    kind = "representative"
                    rep_ids.append(doc.id)
                    exact[prepared.text_keys[n]] = rep
                    if full:  # _verify reads representatives back: write at the end
                        documents.seek(0, 2)
                        rep_offsets.append(documents.tell())
                        lsh.query_insert(key_lists[n], rep, settled[n])
                        for h in sentence_hashes(text).tolist():
                            sentence_index.setdefault(h, rep)
                        _index_immutables(text, rep, immutable_index, options)
                        documents.write(f'{{"id": {_quote(doc.id)}, "text": {_quote(text)}, '
                                        f'"source": {_quote(doc.source)}}}\n'.encode())
                    else:
                        quoted = prepared.quoted[n] if prepared.quoted is not None else \
                            _quote(text).encode()
                        kept.append(b'{"id": %b, "text": %b, "source": %b}\n' % (
                            _quote(doc.id).encode(), quoted, _quote(doc.source).encode()))
                    stats.representatives += 1
                else:
                    stats.duplicates += 1
                # a later document with this raw text is what this one is to `rep`
                raw_seen[raw_key] = (rep, "verbatim" if kind == "representative" else kind,
                                     prepared.sizes[n])
                stats.kinds[kind] = stats.kinds.get(kind, 0) + 1
                lines.append(f'{{"id": {_quote(doc.id)}, "representative": '
                             f'{_quote(rep_ids[rep])}, "kind": "{kind}"}}\n')
            stats.documents += len(batch)
            if kept:
                documents.write(b"".join(kept))
            mapping.write("".join(lines))
    stats.seconds = round(time.perf_counter() - started, 3)
    return stats


def _match_options(options: DedupOptions):
    from storytrace.match.options import MatchOptions  # alignment libraries: full mode only

    return options.match or MatchOptions()


def _index_immutables(text: str, rep: int, index: dict[int, list[int]],
                      options: DedupOptions) -> None:
    """Add a representative's immutable n-grams; a very common n-gram stops collecting."""
    match = _match_options(options)
    for h in immutable_shingles(text, match.immutable_ngram).tolist():
        owners = index.setdefault(h, [])
        if len(owners) <= match.max_immutable_df:
            owners.append(rep)


def _verify(text, doc_keys, lsh: LSHIndex, sentence_index, immutable_index, rep_ids,
            rep_offsets, documents, options: DedupOptions) -> tuple[int | None, str]:
    """The first representative that `text` is a whole copy of, by alignment; else None."""
    from storytrace.match.relations import relate

    match = _match_options(options)

    candidates: list[int] = []
    for key in doc_keys.tolist():
        found = lsh.get(key)
        if found is not None and found not in candidates:
            candidates.append(found)
    shared: dict[int, int] = {}
    for h in sentence_hashes(text).tolist():
        found = sentence_index.get(h)
        if found is not None:
            shared[found] = shared.get(found, 0) + 1
    for rep, count in sorted(shared.items(), key=lambda kv: -kv[1]):
        if count >= match.min_shared_sentences and rep not in candidates:
            candidates.append(rep)
    common: dict[int, int] = {}
    for h in immutable_shingles(text, match.immutable_ngram).tolist():
        owners = immutable_index.get(h)
        if owners is not None and len(owners) <= match.max_immutable_df:
            for rep in owners:
                common[rep] = common.get(rep, 0) + 1
    for rep, count in sorted(common.items(), key=lambda kv: -kv[1]):
        if count >= match.min_shared_immutables and rep not in candidates:
            candidates.append(rep)
    for rep in candidates[: options.max_verify]:
        documents.seek(rep_offsets[rep])
        rep_text = json.loads(documents.readline())["text"]
        rel = relate(rep_ids[rep], rep_text, "new", text, match)
        if rel is not None and rel.kind in WHOLE_COPY_KINDS:
            return rep, rel.kind
    return None, ""


__all__ = ["DedupOptions", "DedupStats", "dedup"]
