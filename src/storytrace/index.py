"""A persistent index that grows article by article: the pipeline's stages over a store.

    >>> from storytrace.index import Index
    >>> with Index.open("news.duckdb") as index:
    ...     index.add(["inbox/"])                  # one transaction per batch
    ...     index.query("text of a new article")   # what it would join, without storing it
    ...     result = index.export()                # the same Result as analyze

An add cleans and fingerprints only the new documents, finds their candidates among the
stored ones by their keys (one join for LSH bands, immutables and sentences, one for the
containment of word 2-grams), verifies them with the match stage together with those
candidates, re-traces only the families it touched and feeds the new reports to the streaming
story clusterer (its state lives in the store), re-merging the facts of the stories it
touched. Family and story ids are handed out by the store and kept across adds: a family that
absorbs another keeps the older id. A removal feeds the clusterer again without the removed
texts, so the stories are those of an index that never held them.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import pickle
import re
import time
import zlib
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any, Self

import numpy as np
import xxhash

from storytrace.config import Config, StoryOptions
from storytrace.engines import Texts
from storytrace.errors import ConfigError
from storytrace.ingest import FieldMap, unique_ids
from storytrace.match.relations import PreparedTexts
from storytrace.model import (
    WHOLE_COPY_KINDS,
    Document,
    DocumentResult,
    Family,
    InputError,
    Relation,
    Result,
    Story,
)
from storytrace.stages import (
    clean_documents,
    document_results,
    fact_extractions,
    story_records,
)
from storytrace.store.base import FORMAT_VERSION, Store, StoreError, chunks
from storytrace.store.duckdb import WAIT_SECONDS, DuckDBStore

Progress = Callable[[str, int, int], None]

_WORD = re.compile(r"[^\W\d_]+")  # as trace.wording.Vocabulary counts words
_CLUSTERER = "story_clusterer"
_FACTS_NOTES = "facts_notes"  # meta: document id -> the facts stage's notes on it
# The clusterer's pickled state is written when this many units were fed since the last
# checkpoint, and on close; after a crash the units since are fed again on open (the units
# table is the truth), which costs about what feeding them cost (130-200 families a second).
CHECKPOINT_UNITS = 1000
REPLAY_UNITS = 1000  # units whose documents are read at once when the clusterer is fed again


# The clusterer's checkpoint is a pickle, and unpickling runs code: an index file from
# someone else must not be able to run code here. So a checkpoint is signed (HMAC-SHA256) with
# a key kept outside the index, in this user's config folder (or $STORYTRACE_KEY_FILE), and
# one without a valid signature is ignored: the units table, the clusterer's truth, is fed
# again instead (slower: 130-200 families a second), and the next close writes a signed one.
_SIGNATURE_BYTES = 32


def checkpoint_key() -> bytes | None:
    """This user's key for signing checkpoints, made on first use; None when it can be
    neither read nor made (a read-only home)."""
    path = Path(os.environ.get("STORYTRACE_KEY_FILE")
                or Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
                / "storytrace" / "checkpoint.key")
    try:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process made it first: read theirs
            else:
                with os.fdopen(fd, "wb") as out:
                    out.write(os.urandom(32))
        key = path.read_bytes()
    except OSError:
        return None
    return key if len(key) >= 32 else None


def _signature(key: bytes, state: bytes) -> bytes:
    return hmac.new(key, state, hashlib.sha256).digest()


def _verified(blob: bytes | None) -> memoryview | None:
    """The pickled state inside a checkpoint blob, if this user's key signed it (a view of the
    blob: the state is as large as the clusterer, and a slice would copy it)."""
    key = checkpoint_key()
    if blob is None or key is None or len(blob) <= _SIGNATURE_BYTES:
        return None
    signature, state = blob[:_SIGNATURE_BYTES], memoryview(blob)[_SIGNATURE_BYTES:]
    return state if hmac.compare_digest(signature, _signature(key, state)) else None


# A checkpoint written since 2026-12-07 is its pickle compressed (zlib, level 1), after this
# mark; one written before is the pickle itself. Either is signed whole (mark included).
_DEFLATED = b"stz1"


class _Deflating:
    """What pickle writes to: each piece compressed as it comes (no whole pickle in memory),
    the compressed bytes appended to `out` and fed to `mac`."""

    def __init__(self, out: io.BytesIO, mac) -> None:
        self._zip, self._out, self._mac = zlib.compressobj(1), out, mac

    def write(self, piece) -> None:  # bytes, or a PickleBuffer of an array's memory
        self._put(self._zip.compress(piece))

    def close(self) -> None:
        self._put(self._zip.flush())

    def _put(self, data: bytes) -> None:
        if data:
            self._mac.update(data)
            self._out.write(data)


def _signed_pickle(obj: Any, key: bytes) -> bytes:
    """The checkpoint blob of `obj`: a signature, then the mark and the compressed pickle. The
    pickle is compressed as it is written, into one buffer that starts with room for the
    signature: at 30,000 documents it is 71 MB, compressed 25 MB (1 s), and DuckDB holds
    several copies of a blob while it stores it (+435-510 MB RSS for 86 MB) or reads it."""
    out = io.BytesIO()
    out.write(bytes(_SIGNATURE_BYTES) + _DEFLATED)
    mac = hmac.new(key, _DEFLATED, hashlib.sha256)
    writer = _Deflating(out, mac)
    pickle.dump(obj, writer, protocol=pickle.HIGHEST_PROTOCOL)
    writer.close()
    with out.getbuffer() as view:
        view[:_SIGNATURE_BYTES] = mac.digest()
    return out.getvalue()  # the buffer itself, not a copy, once no view of it is left


def _unpickled(state: memoryview) -> Any:
    """The object of a verified checkpoint's state (compressed or not)."""
    if state[:len(_DEFLATED)] == _DEFLATED:
        return pickle.loads(zlib.decompress(state[len(_DEFLATED):]))
    return pickle.loads(state)


@dataclass(slots=True)
class AddSummary:
    """What one `Index.add` did."""

    added: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already in the index, same content
    errors: list[InputError] = field(default_factory=list)
    relations: int = 0
    families_touched: int = 0
    stories_touched: int = 0
    stories: list[str] = field(default_factory=list)  # ids rebuilt or removed, in id order


@dataclass(slots=True)
class QueryResult:
    """What a text would join if it were added: its relations, family, origin and story."""

    document: DocumentResult
    relations: list[Relation]
    family: Family | None
    story: Story | None
    candidates: int

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return {
            "document": {k: v for k, v in asdict(self.document).items() if k != "removed"},
            "relations": [asdict(r) for r in self.relations],
            "family": None if self.family is None else asdict(self.family),
            "origin": None if self.family is None else self.family.origin,
            "story": None if self.story is None else {"id": self.story.id,
                                                      "title": self.story.title},
            "candidates": self.candidates,
        }


class _StoredCounts(Counter):
    """A Counter that asks the store for counts it does not hold yet (Vocabulary reads a few
    words and page lines per family; loading every count would cost a pass over the store)."""

    def __init__(self, fetch: Callable[[list[str]], dict[str, int]]) -> None:
        super().__init__()
        self._fetch = fetch

    def __missing__(self, key: str) -> int:
        value = self._fetch([key]).get(key, 0)
        self[key] = value
        return value


def _content_hash(doc: Document) -> int:
    return xxhash.xxh3_64_intdigest(f"{doc.format}\0{doc.raw}".encode("utf-8", "replace"))


def _find_relations(docs: list[DocumentResult], new_ids: set[str], config: Config,
                    engine=None, keys: dict[str, dict[str, np.ndarray]] | None = None,
                    prepared: PreparedTexts | None = None):
    """The relations of the new documents among themselves and with the stored `docs`
    (stored pairs are not aligned again), on the engine's workers when it has several;
    `keys`: their candidate keys when made already; `prepared`: texts' sentences and
    derivation views kept across calls."""
    from storytrace.match import find_relations

    focus = new_ids if any(d.id not in new_ids for d in docs) else None
    relations = find_relations({d.id: d.clean_text for d in docs}, config.match,
                               dates={d.id: d.date for d in docs}, focus=focus, engine=engine,
                               keys=keys, prepared=prepared)
    return [r for r in relations if r.a in new_ids or r.b in new_ids]


def _candidates_only(partners: list[DocumentResult], new: list[DocumentResult],
                     config: Config, engine=None,
                     keys: dict[str, dict[str, np.ndarray]] | None = None
                     ) -> list[DocumentResult]:
    """The stored documents the match stage itself proposes for a new one (the store's
    candidates are a superset), then the new ones: fewer texts to align together. `keys`:
    every text's candidate keys when made already."""
    from storytrace.match import candidate_pairs
    from storytrace.match.relations import pairs_from_keys

    if not partners:
        return new
    together = [*partners, *new]
    pairs = candidate_pairs([d.clean_text for d in together], config.match, engine) \
        if keys is None else pairs_from_keys([keys[d.id] for d in together], config.match)
    first_new = len(partners)
    wanted = {x for x, y in pairs if y >= first_new and x < first_new}
    return [d for k, d in enumerate(partners) if k in wanted] + new


def _keys(texts: list[str], config: Config, engine=None) -> list[dict[str, np.ndarray]]:
    """Each text's candidate keys per channel, the match stage's own (with containment)."""
    from storytrace.match.relations import candidate_keys

    return candidate_keys(texts, config.match, engine) if texts else []


def _keys_by_id(new: list[DocumentResult], new_keys: list[dict[str, np.ndarray]],
                partners: list[DocumentResult], config: Config, engine=None,
                recent: _RecentKeys | None = None) -> dict[str, dict[str, np.ndarray]]:
    """Every text's candidate keys by id: the new texts' (made for the store's join) and their
    stored partners', made once for the match stage's two uses after it (`recent`: partners'
    keys kept from earlier queries, taken from there when held)."""
    keys = dict(zip([d.id for d in new], new_keys, strict=True))
    texts = [d.clean_text for d in partners]
    made = _keys(texts, config, engine) if recent is None else \
        recent.keys(texts, lambda missing: _keys(missing, config, engine))
    keys.update(zip([d.id for d in partners], made, strict=True))
    return keys


# Stored texts whose candidate keys a query-serving Index keeps: 11 kB each on average with
# the text they are kept by (77 kB the largest of 375 measured), so about 12 MB. A query's
# stored partners are a handful of texts, and those of a story in the news come back query
# after query: at 100,000 documents, 199 held-out queries had 98 partners, 26 distinct, and
# making a partner's keys again was 4-17 ms of the slowest (bench/results/index.txt, 12-06).
RECENT_PARTNER_KEYS = 1024


class _RecentKeys:
    """The candidate keys of the `size` most recently used stored texts, by clean text.

    A text's keys depend on its text alone (and the match options, fixed for an Index), so a
    text that was removed, or changed under the same id, can never be answered with keys made
    for another; the arrays kept are read-only, shared between queries."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.kept: OrderedDict[str, dict[str, np.ndarray]] = OrderedDict()

    def keys(self, texts: list[str], make: Callable[[list[str]], list[dict[str, np.ndarray]]]
             ) -> list[dict[str, np.ndarray]]:
        """The keys of `texts`, those not kept made by `make` (in one call) and kept."""
        missing = list(dict.fromkeys(t for t in texts if t not in self.kept))
        made = dict(zip(missing, make(missing), strict=True))
        for by_channel in made.values():
            for values in by_channel.values():
                values.flags.writeable = False
        found = [self.kept[t] if t in self.kept else made[t] for t in texts]
        for text, by_channel in zip(texts, found, strict=True):
            self.kept[text] = by_channel
            self.kept.move_to_end(text)
        while len(self.kept) > self.size:
            self.kept.popitem(last=False)
        return found


def _family_date(docs: list[DocumentResult]) -> date | None:
    from storytrace.cluster.stories import family_date

    return family_date(docs)


class Index:
    """The pipeline over a store. Build it with `Index.open(path)` (a DuckDB file) or
    `Index(MemoryStore())`; every add, rm runs in one transaction of the store."""

    def __init__(self, store: Store, config: Config | None = None, embedder=None, *,
                 one_shot: bool = False, engine=None) -> None:
        """`one_shot`: the whole corpus comes in one add (analyze), so batch stories are
        possible; otherwise stories are always streaming, whatever `config.stories.mode`.
        `engine` (storytrace.engines): where the per-document stages run; None is this
        process. The caller closes it."""
        self.store = store
        self.engine = engine
        config = config or Config()
        if not one_shot and config.stories.mode != "streaming":
            config = config.replace(stories=StoryOptions("streaming", config.stories.params))
        self.config = config
        self.embedder = embedder
        self.one_shot = one_shot
        self._counters: dict[str, int] = {}
        self._cluster_state: tuple[Any, int] | None = None  # (clusterer, units it has seen)
        # Streaming: document id -> (unit it was fed in, its place there), for the first
        # `_units_mapped` units; batch (one-shot): document id -> similarity to its story.
        self._unit_of: dict[str, tuple[int, int]] = {}
        self._units_mapped = 0
        self._batch_closeness: dict[str, float | None] | None = None
        self._dirty_stories: set[str] = set()
        self.timings: dict[str, float] = {}
        self._progress: Progress | None = None
        # A store that keeps its keys in memory serves many queries (`storytrace serve`): its
        # queries keep their stored partners' candidate keys, sentences and derivation views
        # for the next ones.
        serving = getattr(store, "keys_in_memory", False)
        self._recent_keys = _RecentKeys(RECENT_PARTNER_KEYS) if serving else None
        self._prepared = PreparedTexts(RECENT_PARTNER_KEYS) if serving else None

    @classmethod
    def open(cls, path: str | Path, config: Config | None = None, read_only: bool = False,
             embedder=None, engine=None, wait: float = WAIT_SECONDS,
             keys_in_memory: bool = False) -> Index:
        """The index in a DuckDB file (created by the first add). Another process may have the
        file open: a reader and a writer, or two writers, take turns between an add's
        batches; `wait` is how long to wait for a turn (seconds) before a StoreError.
        `keys_in_memory`: keep the candidate key tables in memory after the first lookup
        (about 9 MB per 1,000 documents), so that each later query or add looks its keys up
        instead of scanning the tables; for a process that answers many (`storytrace
        serve`)."""
        return cls(DuckDBStore(path, read_only=read_only, wait=wait,
                               keys_in_memory=keys_in_memory), config, embedder, engine=engine)

    def warm(self) -> None:
        """Read into memory now what queries otherwise read on first use: the candidate key
        tables, when the index was opened with `keys_in_memory` (12-16 s at 100,000
        documents), and what the stages load once (the language identifier's model, the
        boilerplate markers, the derivation model: 0.9 s of the first query after the keys),
        by answering one query over a stored text. `storytrace serve` does it before it
        listens."""
        self.store.load_keys()
        first = self.store.documents(self.store.document_ids()[:1])
        self.query(first[0].clean_text if first else
                   "Officials said on Monday that the bridge would reopen next week.")

    def close(self) -> None:
        """Write the story clusterer's checkpoint (when it moved on) and close the store."""
        try:
            if self._unsaved_units() > 0:
                self._checkpoint_now()
        finally:
            self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- add ----------------------------------------------------------------------------------
    def add(self, inputs: Iterable[Document | dict[str, Any] | str | Path], *,
            fields: FieldMap = FieldMap(),  # noqa: B008 - frozen
            batch_size: int = 1000, progress: Progress | None = None,
            errors: Iterable[InputError] = (), hand_over: bool = False) -> AddSummary:
        """Add documents (as `storytrace.analyze` takes them), `batch_size` per transaction.

        A document already in the index with the same content is skipped, so re-running an
        add of the same inputs adds nothing twice; a different document under a taken id gets
        the id "ID~N" (as analyze names a second "ID").

        Each document's raw text is emptied once it is cleaned (nothing after cleaning reads
        it), so the raw texts of documents cleaned are not held while the later stages run.
        `hand_over`: the `Document` objects given become the index's, which empties their raw
        texts and renames them in place on an id clash; without it they are copied first and
        never changed. Documents read from paths, rows or texts are always the index's.
        """
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        docs, read_errors = _read_items(inputs, fields, copy=not hand_over)
        summary = AddSummary(errors=[*errors, *read_errors])
        self._progress = progress if self.one_shot else None
        with self.store.transaction():
            self.store.add_errors(summary.errors)
        done = 0
        for batch in chunks(unique_ids(docs), batch_size):
            try:
                with self.store.transaction():
                    self._add_batch(batch, summary)
            except BaseException:
                self._forget()  # its ids are free again; the clusterer saw rolled-back units
                self.store.forget_postings()
                raise
            if self._unsaved_units() >= CHECKPOINT_UNITS:
                self._checkpoint_now()  # after the batch commits, in a transaction of its own
            done += len(batch)
            if progress is not None and not self.one_shot:
                progress("add", done, len(docs))
        return summary

    @contextmanager
    def _stage(self, name: str) -> Iterator[None]:
        """Time a stage (summed over batches in `timings`) and report it to the progress bar."""
        if self._progress is not None:
            self._progress(name, 0, 1)
        self.store.drop_cache()  # what the stages before read is not kept for this one
        started = time.perf_counter()
        yield
        self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - started, 3)
        if self._progress is not None:
            self._progress(name, 1, 1)

    def _forget(self) -> None:
        """Drop what this Index keeps in memory between transactions (id counters, the story
        clusterer, where each document was fed to it): after a rollback, or when another
        process wrote the file since this one's last commit (`store.changed_elsewhere`)."""
        self._counters = {}
        self._cluster_state = None
        self._unit_of, self._units_mapped = {}, 0

    def _add_batch(self, batch: list[Document], summary: AddSummary) -> None:
        store, config = self.store, self.config
        if store.changed_elsewhere:
            self._forget()
        if store.get_meta("config") is None:
            store.set_meta("config", self.config.get_params())
        if store.get_meta("containment_pending") and not self.one_shot:
            self._backfill_containment()
        stored = store.content_hashes(d.id for d in batch)
        hashes, new = [], []
        for doc in batch:
            digest = _content_hash(doc)
            if stored.get(doc.id) == digest:
                summary.skipped.append(doc.id)
                continue
            if doc.id in stored:
                doc.id = self._free_id(doc.id)
            hashes.append(digest)
            new.append(doc)
        if not new:
            return
        with self._stage("clean"):
            cleaned = clean_documents(new, config.clean, self.engine)
        for doc in new:  # the index's own (see `add`): no stage after cleaning reads it
            doc.raw = ""
        with self._stage("signals"):
            results = document_results(new, cleaned, engine=self.engine)
        # From workers, the results hold copies of the clean texts and removed lines: these
        # would be held twice through the later stages (about 10 kB a bench document).
        del cleaned
        with self._stage("match"):
            partners = self._partners(results)
            keys = None if self._keys is None else \
                _keys_by_id(results, self._keys, partners, config, self.engine)
            together = _candidates_only(partners, results, config, self.engine, keys)
            new_ids = {d.id for d in results}
            relations = _find_relations(together, new_ids, config, self.engine, keys)
        with self._stage("store"):
            store.add_documents(results, hashes)
            if self._keys is not None:
                self._store_keys({d.id: k for d, k in zip(results, self._keys, strict=True)})
            store.add_relations(relations, "match")
            store.add_counts(*_counts(results, +1, self.engine))
        by_id = {d.id: d for d in together}
        touched = self._families(results, relations, by_id)
        stories = self._stories(touched, new_ids, by_id)
        self._save_counters()
        summary.added += [d.id for d in results]
        summary.relations += len(relations)
        summary.families_touched += len(touched)
        summary.stories = sorted({*summary.stories, *stories})
        summary.stories_touched = len(summary.stories)

    def _partners(self, results: list[DocumentResult]) -> list[DocumentResult]:
        """The stored documents that share candidate keys with the new ones (`self._keys`
        keeps the new documents' keys for the store)."""
        if self.one_shot:  # nothing will ever be added to it: no keys to keep
            self._keys = None
            return []
        self._keys = _keys([d.clean_text for d in results], self.config, self.engine)
        found = self._stored_candidates(self._keys)
        return self.store.documents(dict.fromkeys(i for ids in found for i in ids))

    def _stored_candidates(self, keys: list[dict[str, np.ndarray]]) -> list[list[str]]:
        """For each new text's keys, the stored documents the match stage's channels would
        pair it with: shared LSH buckets, immutables or sentences, and containment of the
        smaller text's word n-grams in the other's (a brief cut from a long wire story)."""
        options, store = self.config.match, self.store
        found = store.candidates(
            keys, {"minhash": 1, "immutables": options.min_shared_immutables,
                   "sentences": options.min_shared_sentences},
            options.max_immutable_df, options.max_candidates_per_doc)
        contained = store.contained(
            [k["containment"] for k in keys], options.min_containment,
            options.min_shared_immutables, options.max_immutable_df,
            options.max_candidates_per_doc)
        return [list(dict.fromkeys([*a, *b])) for a, b in zip(found, contained, strict=True)]

    def _store_keys(self, keys: dict[str, dict[str, np.ndarray]]) -> None:
        """Keep new documents' candidate keys (stored documents must be in the store)."""
        self.store.add_keys(keys)
        self.store.add_containment({i: k["containment"] for i, k in keys.items()},
                                   self.config.match.max_immutable_df + 1)

    def _backfill_containment(self) -> None:
        """An index of format 2 or older kept no containment keys: compute them from the
        stored clean texts, a part at a time (once, in the first add after the upgrade)."""
        store = self.store
        for part in chunks(store.document_ids(), REPLAY_UNITS):
            docs = store.documents(part)
            keys = _keys([d.clean_text for d in docs], self.config)
            store.add_containment({d.id: k["containment"] for d, k in zip(docs, keys,
                                                                             strict=True)},
                                  self.config.match.max_immutable_df + 1)
        store.set_meta("containment_pending", False)

    def _free_id(self, doc_id: str) -> str:
        n = 2
        while self.store.content_hashes([f"{doc_id}~{n}"]):
            n += 1
        return f"{doc_id}~{n}"

    def _vocabulary(self, members: list[DocumentResult] = (), relations: list[Relation] = ()):
        """The corpus counts trace reads, from the store (the store stage counted them): the
        words of the relations' substitutions and the members' removed lines, fetched at once,
        are what trace reads; any other count is fetched when read. A one-shot index (analyze)
        holds the counts of all its documents too, so no pass over them counts them again
        (~1 CPU s at 5,000 bench documents, in the main process)."""
        from storytrace.trace.wording import Vocabulary, page_line_key

        words = _StoredCounts(self.store.word_counts)
        lines = _StoredCounts(self.store.line_counts)
        wanted = {w for r in relations for pair in r.metrics.get("substitution_pairs", [])
                  for w in pair.split("->")}
        dict.update(words, dict.fromkeys(wanted, 0) | self.store.word_counts(wanted))
        keys = {page_line_key(line.text) for d in members for line in d.removed}
        dict.update(lines, dict.fromkeys(keys, 0) | self.store.line_counts(keys))
        return Vocabulary(words, self.store.count("documents"), lines)

    def _next_id(self, prefix: str) -> str:
        """A new family ("F") or story ("S") id; the counters are kept in the store."""
        key = f"next_{prefix}"
        if key not in self._counters:
            self._counters[key] = self.store.get_meta(key, 1)
        n = self._counters[key]
        self._counters[key] = n + 1
        return f"{prefix}{n:04d}"

    def _save_counters(self) -> None:
        for key, value in self._counters.items():
            self.store.set_meta(key, value)
        self._counters = {}

    def _families(self, results: list[DocumentResult], relations: list[Relation],
                  by_id: dict[str, DocumentResult]) -> list[Family]:
        """Re-group the families the new documents touch and re-trace them; ids kept."""
        new_ids = {d.id for d in results}
        linked = {x for r in relations if r.kind in WHOLE_COPY_KINDS for x in (r.a, r.b)}
        old_family = {by_id[i].id: by_id[i].family for i in linked - new_ids}
        return self._regroup([d.id for d in results], set(old_family.values()), by_id)

    def _regroup(self, loose: list[str], family_ids: set[str],
                 by_id: dict[str, DocumentResult]) -> list[Family]:
        """Families over `loose` documents and the members of `family_ids`, traced; the oldest
        old family of each new group keeps its id, the others are retired."""
        from storytrace.cluster import copy_families

        store = self.store
        old = store.families(family_ids)  # in order of their first member
        members = list(dict.fromkeys([*loose, *(m.id for f in old for m in f.members)]))
        missing = [i for i in members if i not in by_id]
        by_id.update({d.id: d for d in store.documents(missing)})
        # the stories these families were in lose or change families: they are rebuilt
        self._dirty_stories = {by_id[i].story for i in members if by_id[i].story}
        position = store.positions(members)
        members.sort(key=position.__getitem__)
        inside = [r for r in store.relations(members, stage="match")
                  if r.a in position and r.b in position]
        with self._stage("families"):
            groups = copy_families(members, inside)
        with self._stage("trace"):
            return self._trace_groups(groups, old, inside, position, by_id)

    def _trace_groups(self, groups: list[list[str]], old: list[Family], inside: list[Relation],
                      position: dict[str, int], by_id: dict[str, DocumentResult]
                      ) -> list[Family]:
        from storytrace.trace import trace_family

        store = self.store
        members = [i for group in groups for i in group]
        rank = {f.id: n for n, f in enumerate(old)}
        taken: set[str] = set()
        vocabulary = self._vocabulary([by_id[i] for i in members], inside)
        group_of = {i: n for n, group in enumerate(groups) for i in group}
        within: dict[int, list[Relation]] = {}  # each group's relations, in `inside`'s order
        for r in inside:
            n = group_of.get(r.a)
            if n is not None and n == group_of.get(r.b):
                within.setdefault(n, []).append(r)
        families, first = [], {}
        for n, group in enumerate(groups):
            previous = sorted({by_id[i].family for i in group if by_id[i].family in rank},
                              key=rank.__getitem__)
            keep = next((f for f in previous if f not in taken), None)
            family_id = keep or self._next_id("F")
            taken.add(family_id)
            for retired in previous:
                if retired != family_id:
                    store.rename_unit_family(retired, family_id)
            family = trace_family(family_id, [by_id[i] for i in group], within.get(n, []),
                                  vocabulary)
            families.append(family)
            first[family_id] = position[group[0]]
            for i in group:
                by_id[i].family = family_id
        store.remove_families(rank.keys() - taken)
        store.put_families(families, first)
        store.set_assignments(family_of={i: by_id[i].family for i in members})
        return families

    def _stories(self, touched: list[Family], new_ids: set[str],
                 by_id: dict[str, DocumentResult]) -> set[str]:
        """Feed the new reports of each touched family to the streaming clusterer (in date
        order), then give every family the story of most of its reports and rebuild the
        stories whose families changed. Returns the ids of the stories rebuilt or removed.

        A one-shot index (analyze) in batch mode clusters its single add's families at once."""
        store = self.store
        with self._stage("stories"):
            before = store.family_stories()
            if self.config.stories.mode == "batch":
                label_of = self._batch_labels(touched, before, by_id)
            else:
                label_of = self._streaming_labels(touched, new_ids, by_id)
            after = self._assign_stories(label_of, before)
        changed = {s for f, s in after.items() if before.get(f) != s}
        changed |= {before[f] for f in after if before.get(f) and before[f] != after[f]}
        changed |= {after[f.id] for f in touched} | self._dirty_stories
        changed.discard(None)
        changed.discard("")
        self._rebuild_stories(changed, after, by_id)
        return changed

    def _batch_labels(self, touched: list[Family], before: dict[str, str | None],
                      by_id: dict[str, DocumentResult]) -> dict[str, int]:
        from storytrace.cluster import assign_stories

        if any(story for story in before.values()):
            raise ConfigError("batch stories cluster one add of a whole corpus; an index that "
                              "grows uses streaming stories")
        rank = {f: n for n, f in enumerate(before)}
        order = sorted(touched, key=lambda f: rank[f.id])
        stories = assign_stories([[by_id[m.id] for m in f.members] for f in order],
                                 self.embedder, False, self.engine)
        self._batch_closeness = {
            m.id: value for f, values in zip(order, stories.story_similarity, strict=True)
            for m, value in zip(f.members, values, strict=True)}
        return {order[i].id: label for label, group in enumerate(stories.groups) for i in group}

    def _streaming_labels(self, touched: list[Family], new_ids: set[str],
                          by_id: dict[str, DocumentResult]) -> dict[str, int]:
        store = self.store
        clusterer = self._clusterer()
        units = []
        for family in touched:
            docs = [by_id[m.id] for m in family.members if m.id in new_ids]
            if docs:
                units.append((family.id, docs))
        units.sort(key=lambda u: (_family_date(u[1]) is None, _family_date(u[1]) or date.min))
        clusterer.partial_fit([docs for _, docs in units], self.engine)
        store.add_units([f for f, _ in units], [[d.id for d in docs] for _, docs in units])
        self._cluster_state = (clusterer, self._cluster_state[1] + len(units))
        return self._family_labels(clusterer)

    def _family_labels(self, clusterer) -> dict[str, int]:
        """family id -> the clusterer's story label of most of its documents (a family was fed
        as one unit per add that brought it new documents)."""
        unit_family, sizes = self.store.units()
        votes: dict[str, Counter[int]] = {}
        labels = np.asarray(clusterer.labels_).tolist()
        for family, label, size in zip(unit_family, labels, sizes.tolist(), strict=True):
            votes.setdefault(family, Counter())[label] += size
        return {f: max(v.items(), key=lambda kv: kv[1])[0] for f, v in votes.items()}

    def _clusterer(self):
        """The streaming story clusterer as of every unit in the store: kept in memory between
        adds; else its checkpoint, fed the units recorded after it."""
        n_units = self.store.count("units")
        if self._cluster_state is not None and self._cluster_state[1] == n_units:
            return self._cluster_state[0]
        clusterer, fed = None, 0
        blob = self.store.get_blob(_CLUSTERER)
        state = _verified(blob)
        if state is not None:
            try:
                clusterer = _unpickled(state)  # signed by _checkpoint with this user's key
                fed = self.store.get_meta("clusterer_units", 0)
            except Exception:  # noqa: BLE001 - a checkpoint this version cannot read
                clusterer, fed = None, 0
            del state
        del blob
        if clusterer is None:  # none yet, not one this user's storytrace wrote, or unreadable
            clusterer = self.config.stories.clusterer(self.embedder)  # then feed them all
        pending = self.store.unit_documents(fed)
        for part in chunks(pending, REPLAY_UNITS):  # a part's texts in memory at a time
            found = {d.id: d for d in self.store.documents({i for u in part for i in u})}
            clusterer.partial_fit([[found[i] for i in unit if i in found] for unit in part],
                                  self.engine)
        self._cluster_state = (clusterer, n_units)
        return clusterer

    def _unsaved_units(self) -> int:
        """Units the clusterer in memory was fed since the file's checkpoint (0 for analyze,
        a reader, or a clusterer not loaded)."""
        if self.one_shot or getattr(self.store, "read_only", False) or self._cluster_state is None:
            return 0
        return self._cluster_state[1] - self.store.get_meta("clusterer_units", 0)

    def _checkpoint_now(self) -> None:
        """The checkpoint in a transaction of its own (after a batch commits, every
        CHECKPOINT_UNITS units, and on close), unless another process wrote the file since this
        one's last commit (then this clusterer is not the file's). The file's cached blocks are
        dropped first: the checkpoint holds its pickle and DuckDB's copies of it at once (+230
        MB at 30,000 documents when the cache was left in place)."""
        self.store.drop_cache()
        with self.store.transaction():
            if not self.store.changed_elsewhere:
                self._checkpoint()

    def _checkpoint(self) -> None:
        clusterer, fed = self._cluster_state
        key = checkpoint_key()
        if key is None:  # nowhere to keep a key: no checkpoint, the units are fed on open
            return
        self.store.set_blob(_CLUSTERER, _signed_pickle(clusterer, key))
        self.store.set_meta("clusterer_units", fed)

    def _assign_stories(self, label_of: dict[str, int], before: dict[str, str | None]
                        ) -> dict[str, str]:
        """family -> story id from family -> label: a label's story id is the one most of its
        families had; new labels get new ids, in input order of their first family."""
        by_label: dict[int, list[str]] = {}
        for family in before:  # in input order of the families' first members
            if family in label_of:
                by_label.setdefault(label_of[family], []).append(family)
        after: dict[str, str] = {}
        used: set[str] = set()
        for families in by_label.values():
            held = Counter(before[f] for f in families if before.get(f))
            keep = next((s for s, _ in sorted(held.items(), key=lambda kv: (-kv[1], kv[0]))
                         if s not in used), None)
            story_id = keep or self._next_id("S")
            used.add(story_id)
            for family in families:
                after[family] = story_id
        return after

    def _rebuild_stories(self, changed: set[str], story_of_family: dict[str, str],
                         by_id: dict[str, DocumentResult]) -> None:
        from storytrace.cluster import story_confidence

        store = self.store
        if not changed:
            return
        members: dict[str, list[str]] = {}
        for family, story in story_of_family.items():
            if story in changed:
                members.setdefault(story, []).append(family)
        store.remove_stories(changed - members.keys())
        store.remove_reuse(changed)
        families = {f.id: f for f in store.families([f for fs in members.values() for f in fs])}
        doc_ids = [m.id for f in families.values() for m in f.members]
        missing = [i for i in doc_ids if i not in by_id]
        by_id.update({d.id: d for d in store.documents(missing)})
        position = store.positions(doc_ids)
        stories, first, story_of = [], {}, {}
        story_families: dict[str, list[Family]] = {}
        for story_id, family_ids in members.items():
            ordered = sorted((families[f] for f in family_ids),
                             key=lambda f: position[f.members[0].id])
            story_families[story_id] = ordered
            for i in (m.id for f in ordered for m in f.members):
                by_id[i].story = story_of[i] = story_id
            first[story_id] = position[ordered[0].members[0].id]
        with self._stage("facts"):
            extracted = None
            if not self.one_shot:  # the documents' facts, kept for the next merge of a story
                extracted = store.extractions(doc_ids)
                made = fact_extractions(story_families, by_id, extracted, self.engine)
                store.put_extractions(made)
                extracted.update(made)
            stories = story_records(story_families, by_id, self.engine, extracted)
        with self._stage("reuse"):
            self._reuse(story_families, story_of, doc_ids, by_id)
        self._keep_facts_notes(doc_ids, by_id)
        closeness = self._story_closeness({s.id: s.documents for s in stories})
        for story in stories:
            story.confidence = story_confidence([closeness[i] for i in story.documents])
        for doc_id, value in closeness.items():
            by_id[doc_id].story_similarity = value
        store.put_stories(stories, first)
        store.set_assignments(story_of=story_of, story_similarity=closeness)

    def _story_closeness(self, documents_of: dict[str, list[str]]) -> dict[str, float | None]:
        """Each document's mean similarity to the other reports of its story (`documents_of`:
        story id -> its document ids), as the story clusterer measures it; None alone."""
        if self._batch_closeness is not None:
            return {i: self._batch_closeness.get(i) for ids in documents_of.values() for i in ids}
        closeness: dict[str, float | None] = {
            i: None for ids in documents_of.values() for i in ids}
        if not self.store.count("units"):
            return closeness
        clusterer = self._clusterer()
        for n, docs in enumerate(self.store.unit_documents(self._units_mapped),
                                 start=self._units_mapped):
            self._unit_of.update((doc_id, (n, k)) for k, doc_id in enumerate(docs))
            self._units_mapped = n + 1
        for ids in documents_of.values():
            report_of = {i: clusterer.reports_of(self._unit_of[i][0])[self._unit_of[i][1]]
                         for i in ids if i in self._unit_of}
            within = clusterer.similarity_within(list(report_of.values()))
            closeness.update((i, within[r]) for i, r in report_of.items())
        return closeness

    def _keep_facts_notes(self, doc_ids: list[str], by_id: dict[str, DocumentResult]) -> None:
        """Keep the facts stage's notes (a document whose facts were cut short) in the store:
        a document is stored before its story's facts are found; export adds them back."""
        noted = {i: list(dict.fromkeys(n for n in by_id[i].notes if n.startswith("facts:")))
                 for i in doc_ids}
        noted = {i: notes for i, notes in noted.items() if notes}
        if noted:
            self.store.set_meta(_FACTS_NOTES, self.store.get_meta(_FACTS_NOTES, {}) | noted)

    def _with_facts_notes(self, documents: list[DocumentResult]) -> list[DocumentResult]:
        """`documents` (read from the store) with the facts notes `_keep_facts_notes` kept."""
        kept = self.store.get_meta(_FACTS_NOTES, {})
        for doc in documents:
            doc.notes += [n for n in kept.get(doc.id, ()) if n not in doc.notes]
        return documents

    def _reuse(self, story_families: dict[str, list[Family]], story_of: dict[str, str],
               doc_ids: list[str], by_id: dict[str, DocumentResult]) -> None:
        """Partial reuse of a cited outlet's report, inside each rebuilt story."""
        from storytrace.trace import cited_reuse

        store = self.store
        inside: dict[str, list[Relation]] = {}
        for r in store.relations(doc_ids, stage="match"):
            if r.a in story_of and story_of[r.a] == story_of.get(r.b):
                inside.setdefault(story_of[r.a], []).append(r)
        for story_id, ordered in story_families.items():
            docs = [by_id[m.id] for f in ordered for m in f.members]
            reuse = cited_reuse(docs, ordered, inside.get(story_id, []))
            store.add_relations(reuse, "reuse", story=story_id)

    # -- query --------------------------------------------------------------------------------
    def query(self, text: str | Document) -> QueryResult:
        """What `text` would join if added: relations (kinds, evidence), family and its origin,
        story. Nothing is stored."""
        from storytrace.clean import clean_corpus

        doc = text if isinstance(text, Document) else Document("query", text, "<query>")
        if self.store.content_hashes([doc.id]):
            doc = Document(self._free_id(doc.id), doc.raw, doc.source, doc.format, doc.url,
                           doc.title, doc.date)
        result = document_results([doc], clean_corpus([doc], self.config.clean))[0]
        mine = _keys([result.clean_text], self.config)
        partners = self.store.documents(self._stored_candidates(mine)[0])
        keys = _keys_by_id([result], mine, partners, self.config, recent=self._recent_keys)
        together = _candidates_only(partners, [result], self.config, keys=keys)
        partners = together[:-1]
        relations = _find_relations(together, {result.id}, self.config, keys=keys,
                                    prepared=self._prepared)
        by_id = {d.id: d for d in partners}
        whole = [r.a if r.b == result.id else r.b for r in relations
                 if r.kind in WHOLE_COPY_KINDS]
        family = story = None
        if whole:
            family = self.store.families([by_id[whole[0]].family])[0]
            story_id = by_id[whole[0]].story
            story = next(iter(self.store.stories([story_id])), None)
            result.family, result.story = family.id, story_id
        return QueryResult(result, relations, family, story, len(partners))

    # -- rm -----------------------------------------------------------------------------------
    def rm(self, ids: Iterable[str]) -> list[str]:
        """Remove documents by id (one transaction); their families are re-grouped and
        re-traced, the streaming story clusterer is fed again without them (`_unfeed`) and the
        stories that changed are rebuilt. Returns the ids that were in the index."""
        store = self.store
        try:
            with store.transaction():
                removed = self._rm(list(ids))
        except BaseException:
            self._forget()
            raise
        return removed

    def _rm(self, ids: list[str]) -> list[str]:
        store = self.store
        if store.changed_elsewhere:
            self._forget()
        docs = store.documents(ids)
        if not docs:
            return []
        gone = {d.id for d in docs}
        cited = self._cited(gone)
        whole = {x for r in cited if r.kind in WHOLE_COPY_KINDS for x in (r.a, r.b)}
        families = store.families({d.family for d in docs}
                                  | set(store.families_of(whole).values()))
        store.remove_documents(list(gone))
        store.remove_relations((r.a, r.b) for r in cited)
        store.add_counts(*_counts(docs, -1))
        store.remove_families([f.id for f in families])
        left = {f.id: [m.id for m in f.members if m.id not in gone] for f in families}
        by_id = {d.id: d for d in store.documents([i for ids in left.values() for i in ids])}
        story_of = {d.family: d.story for d in docs}  # a family's documents share its story
        story_of.update({f.id: by_id[left[f.id][0]].story for f in families
                         if f.id not in story_of})
        for family in families:
            if left[family.id]:
                self._regroup_kept(family.id, left[family.id], story_of[family.id], by_id)
        dirty = {story for story in story_of.values() if story}
        if store.count("units"):
            self._unfeed(gone, dirty, by_id)
        else:
            self._rebuild_stories(dirty, store.family_stories(), by_id)
        self._save_counters()
        return [d.id for d in docs]

    def _cited(self, gone: set[str]) -> list[Relation]:
        """The relations between kept texts that a removed one helped decide: a derivation is
        measured against the union of a text's sources (`match.derivation_rows`), and what a
        removed source explained is no longer evidence, so those relations go with it (their
        families are grouped again)."""
        return [r for r in self.store.relations(stage="match")
                if r.a not in gone and r.b not in gone
                and not gone.isdisjoint(r.metrics.get("sources", ()))]

    def _unfeed(self, gone: set[str], dirty: set[str], by_id: dict[str, DocumentResult]
                ) -> None:
        """Take removed documents out of the streaming story clusterer: the units it was fed
        are rewritten without them (a unit whose family came apart becomes one unit per part,
        in its place) and the clusterer is fed again from its last checkpoint before the first
        rewritten unit, or from scratch. Its state is then what feeding the rest alone gives,
        so a removed text attracts nothing; the cost is feeding every unit from there on
        again. Every family's story is read again and the stories that changed are rebuilt."""
        store = self.store
        units = store.unit_documents(0)
        first = next((n for n, unit in enumerate(units) if not gone.isdisjoint(unit)), None)
        if first is None:  # never fed (an index that grew without stories)
            self._rebuild_stories(dirty, store.family_stories(), by_id)
            return
        kept = [[i for i in unit if i not in gone] for unit in units[first:]]
        family_of = store.families_of({i for unit in kept for i in unit})
        new_families, new_units = [], []
        for unit in kept:
            parts: dict[str, list[str]] = {}
            for doc_id in unit:
                parts.setdefault(family_of[doc_id], []).append(doc_id)
            new_families += list(parts)
            new_units += list(parts.values())
        store.replace_units(first, new_families, new_units)
        if store.get_meta("clusterer_units", 0) > first:  # the checkpoint saw a removed text
            store.remove_blob(_CLUSTERER)
            store.set_meta("clusterer_units", 0)
        self._cluster_state = None
        self._unit_of, self._units_mapped = {}, 0
        with self._stage("stories"):
            clusterer = self._clusterer()
            self._checkpoint()
            before = store.family_stories()
            after = self._assign_stories(self._family_labels(clusterer), before)
        changed = {s for f, s in after.items() if before.get(f) != s}
        changed |= {before[f] for f in after if before.get(f) and before[f] != after[f]}
        changed |= dirty
        changed.discard("")
        self._rebuild_stories(changed, after, by_id)

    def _regroup_kept(self, family_id: str, left: list[str], story: str,
                      by_id: dict[str, DocumentResult]) -> list[Family]:
        """What is left of a family after a removal: the group with its first member keeps the
        id, any part that came apart gets a new one; all inherit the family's story."""
        from storytrace.cluster import copy_families
        from storytrace.trace import trace_family

        store = self.store
        position = store.positions(left)
        inside = [r for r in store.relations(left, stage="match")
                  if r.a in position and r.b in position]
        left.sort(key=position.__getitem__)
        families, first = [], {}
        vocabulary = self._vocabulary([by_id[i] for i in left], inside)
        for n, group in enumerate(copy_families(left, inside)):
            new_id = family_id if n == 0 else self._next_id("F")
            in_group = set(group)
            family = trace_family(new_id, [by_id[i] for i in group],
                                  [r for r in inside if r.a in in_group and r.b in in_group],
                                  vocabulary)
            families.append(family)
            first[new_id] = position[group[0]]
            for i in group:
                by_id[i].family = new_id
                by_id[i].story = story
        store.put_families(families, first)
        store.set_assignments(family_of={i: by_id[i].family for i in left},
                              story_of={i: story for i in left})
        return families

    # -- export, stats, check ----------------------------------------------------------------
    def export(self, retrace: bool = True) -> Result:
        """Everything in the index as a Result: the result.json, Parquet and report of analyze.

        Families of copies are re-traced here against the whole index's vocabulary (an add
        traces the families it touches against the vocabulary of that moment, and the rarity
        of a word moves as documents arrive), so the origins are those analyze would choose.
        """
        from storytrace.stages import story_title
        from storytrace.trace import trace_family
        from storytrace.trace.wording import Vocabulary

        store = self.store
        # Each table is read whole once: DuckDB need not keep its blocks for the next read
        # (`index export` of 100,000 documents: peak RSS 4.80 -> 3.97 GB, the same result.json).
        documents = self._with_facts_notes(store.documents())
        store.drop_cache()
        by_id = {d.id: d for d in documents}
        relations = store.relations()
        inside: dict[str, list[Relation]] = {}  # what re-tracing reads (analyze traced already)
        for r in store.relations(stage="match") if retrace else ():
            if by_id[r.a].family == by_id[r.b].family:
                inside.setdefault(by_id[r.a].family, []).append(r)
        store.drop_cache()
        vocabulary = Vocabulary.from_documents(documents) if retrace else None
        families = [
            trace_family(f.id, [by_id[m.id] for m in f.members], inside.get(f.id, []),
                         vocabulary) if len(f.members) > 1 and retrace else f
            for f in store.families()
        ]
        family_by_id = {f.id: f for f in families}
        stories = store.stories()
        store.drop_cache()
        for story in stories if retrace else ():
            story.title = story_title([family_by_id[f] for f in story.families], by_id)
        if retrace and not self.one_shot and store.count("units"):
            self._refresh_closeness(stories, by_id)
        errors = store.errors()
        stats = {
            "documents": len(documents),
            "families": len(families),
            "stories": len(stories),
            "relations": len(relations),
            "errors": len(errors),
            "story_mode": self.config.stories.mode,
            "seconds": dict(self.timings),
            "config": store.get_meta("config") or self.config.get_params(),
        }
        if not self.one_shot:
            stats["index"] = {"path": store.path,
                              "format_version": store.get_meta("format_version")}
        return Result(documents, relations, families, stories, errors, stats)

    def export_stories(self, ids: Iterable[str]) -> Result:
        """The part of `export(retrace=False)` about some stories: those of `ids` still in the
        index, their families and documents, and every relation of those documents (what a
        view of the index needs to bring those stories up to date after an add)."""
        store = self.store
        stories = store.stories(ids)
        families = store.families([f for s in stories for f in s.families])
        documents = self._with_facts_notes(
            store.documents([m.id for f in families for m in f.members]))
        relations = store.relations([d.id for d in documents]) if documents else []
        return Result(documents, relations, families, stories, [], {})

    def _refresh_closeness(self, stories: list[Story], by_id: dict[str, DocumentResult]) -> None:
        """Each document's story_similarity and each story's confidence as the clusterer
        measures them now. An add stores them for the stories it rebuilds only, measured with
        the word statistics of that moment (a removed text's included), so the stored values
        depend on the order of adds; the ones analyze gives are read once, at the end."""
        from storytrace.cluster import story_confidence

        closeness = self._story_closeness({s.id: s.documents for s in stories})
        for story in stories:
            story.confidence = story_confidence([closeness[i] for i in story.documents])
        for doc_id, value in closeness.items():
            by_id[doc_id].story_similarity = value

    def stats(self) -> dict[str, Any]:
        """Counts of what the index holds, its format version and size on disk."""
        store = self.store
        found: dict[str, Any] = {t: store.count(t) for t in
                                 ("documents", "relations", "families", "stories", "errors")}
        found["format_version"] = store.get_meta("format_version")
        found["path"] = store.path
        if store.path != ":memory:" and Path(store.path).exists():
            found["bytes"] = sum(p.stat().st_size for p in Path(store.path).parent.glob(
                Path(store.path).name + "*"))
        return found

    def check(self) -> list[str]:
        """Integrity problems (an empty list when the index is sound): every document in one
        existing family and story that list it, relations between stored documents, one
        clusterer unit per fed family fragment."""
        store = self.store
        problems = []
        version = store.get_meta("format_version")
        if version != FORMAT_VERSION:
            problems.append(f"format version {version}, expected {FORMAT_VERSION}")
        documents = {d.id: d for d in store.documents()}
        families = store.families()
        listed: dict[str, str] = {}
        for family in families:
            for member in family.members:
                if member.id not in documents:
                    problems.append(f"family {family.id} lists missing document {member.id}")
                elif documents[member.id].family != family.id:
                    problems.append(f"{member.id} is listed by {family.id} but says "
                                    f"{documents[member.id].family!r}")
                if member.id in listed:
                    problems.append(f"{member.id} is in two families")
                listed[member.id] = family.id
        in_story: dict[str, str] = {}
        for story in store.stories():
            for doc_id in story.documents:
                in_story[doc_id] = story.id
        for doc in documents.values():
            if doc.id not in listed:
                problems.append(f"{doc.id} is in no family")
            if in_story.get(doc.id) != doc.story or not doc.story:
                problems.append(f"{doc.id} says story {doc.story!r}, stories say "
                                f"{in_story.get(doc.id)!r}")
        for relation in store.relations():
            if relation.a not in documents or relation.b not in documents:
                problems.append(f"relation {relation.a}-{relation.b} names a missing document")
        problems += store.containment_problems()
        next_seq = store.get_meta("next_seq", 0)
        positions = store.positions(documents)
        if positions and max(positions.values()) >= next_seq:
            problems.append("document positions run past the counter")
        units, _ = store.units()
        checkpoint = store.get_meta("clusterer_units", 0)
        if checkpoint > len(units):
            problems.append(f"story clusterer checkpoint at unit {checkpoint}, the store has "
                            f"{len(units)}")
        fed = {i for unit in store.unit_documents(0) for i in unit}
        unfed = [i for i in documents if i not in fed]
        if unfed and self.config.stories.mode == "streaming":
            problems.append(f"{len(unfed)} documents never reached the story clusterer")
        return problems


def _counts(docs: list[DocumentResult], sign: int, engine=None
            ) -> tuple[dict[str, int], dict[str, int]]:
    """Document counts of words and removed page lines, as `Vocabulary.from_documents`
    (counted per part on the engine's workers when it has several, and the parts summed)."""
    from storytrace.stages import _parts

    texts = [(doc.clean_text, [line.text for line in doc.removed]) for doc in docs]
    parts = _parts(texts, engine)
    if parts is None:
        words, lines = _count_texts(texts)
    else:
        words, lines = Counter(), Counter()
        for part_words, part_lines in engine.map_batches(_count_shipped,
                                                         map(_removed_apart, parts)):
            words.update(part_words)
            lines.update(part_lines)
    return ({k: sign * v for k, v in words.items()}, {k: sign * v for k, v in lines.items()})


def _removed_apart(texts: list[tuple[str, list[str]]]) -> tuple[Texts, Texts, list[int]]:
    """`_count_texts`'s items to ship (`Texts`: as UTF-8): the clean texts, every removed
    line, and how many removed lines each text has."""
    return (Texts(text for text, _ in texts), Texts(line for _, lines in texts for line in lines),
            [len(lines) for _, lines in texts])


def _count_shipped(part: tuple[list[str], list[str], list[int]]
                   ) -> tuple[Counter[str], Counter[str]]:
    texts, removed, sizes = part
    lines = iter(removed)
    return _count_texts([(text, list(islice(lines, size)))
                         for text, size in zip(texts, sizes, strict=True)])


def _count_texts(texts: list[tuple[str, list[str]]]) -> tuple[Counter[str], Counter[str]]:
    """`_counts` of some documents given as (clean text, removed lines' texts)."""
    from storytrace.trace.wording import page_line_key

    words: Counter[str] = Counter()
    lines: Counter[str] = Counter()
    for text, removed in texts:
        words.update(set(_WORD.findall(text.lower())))
        lines.update({page_line_key(line) for line in removed})
    return words, lines


def _read_items(inputs: Iterable[Document | dict[str, Any] | str | Path], fields: FieldMap,
                copy: bool = True) -> tuple[list[Document], list[InputError]]:
    """Documents and input errors from what `storytrace.analyze` accepts (`copy`: a given
    `Document` as a copy)."""
    from storytrace.ingest import document_from_row, read_inputs

    documents: list[Document] = []
    errors: list[InputError] = []
    for n, item in enumerate(inputs):
        if isinstance(item, Document):
            documents.append(replace(item) if copy else item)
        elif isinstance(item, dict):
            doc = document_from_row(item, fields, "<python>", f"item {n}", default_id=f"doc-{n}")
            (documents if isinstance(doc, Document) else errors).append(doc)
        elif isinstance(item, Path) or (isinstance(item, str) and "\n" not in item
                                        and len(item) < 4096 and Path(item).exists()):
            read = read_inputs([item], fields)
            documents.extend(read.documents)
            errors.extend(read.errors)
        elif isinstance(item, str) and item.strip():
            documents.append(Document(id=f"doc-{n}", raw=item, source="<python>"))
        else:
            errors.append(InputError("<python>", "empty or unreadable item", record=f"item {n}"))
    return documents, errors


__all__ = ["AddSummary", "Index", "QueryResult", "StoreError"]
