"""DuckDBStore: the store in one embedded DuckDB file (or in memory with path ":memory:").

Records are kept as JSON text beside the columns that queries need (ids, positions, family and
story ids); candidate keys are one (channel, key, position) row each, so a new document's
candidates are one join; the containment channel's word 2-grams are one (key, position) row
each, with each document's containment size kept beside them. A file records its
FORMAT_VERSION and a newer one is refused. Documents are looked up by id through an index
(an ART index, made when a file is opened for writing): fetching 30 documents of 100,000
took 68 ms without it, 13 ms with it.

Other processes: DuckDB lets one process open a file to write it, or any number to read it,
never both at once. A process takes its turn at the file (`_Turn`: a shared or exclusive lock
on "INDEX.lock") before DuckDB opens it and gives it back after DuckDB has closed it. A process
that finds the file taken (a `query` while an `add` runs, or a second add) waits for it, up
to `wait` seconds, and says so by touching "INDEX.wait"; a writer looks for that file after
each transaction it commits and, when someone waits, closes the file until they have opened
it, then opens it again (waiting in turn while they read). So
readers get in between an add's batches and see the index as of the last committed batch,
and a second writer's batches interleave with the first's. `generation` in the meta table
counts committed transactions: a writer that finds it moved on since its own last commit
knows another process wrote the file (`changed_elsewhere`) and must not trust what it kept
in memory.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: DuckDB's lock there is the system's own, which nothing drops
    fcntl = None

import duckdb
import numpy as np
import pyarrow as pa

from storytrace.arrays import ranges
from storytrace.model import DocumentResult, Family, InputError, Relation, Story
from storytrace.stages import KEY_CHANNELS
from storytrace.store.base import (
    FORMAT_VERSION,
    Store,
    StoreError,
    document_from_dict,
    family_from_dict,
    relation_from_dict,
    story_from_dict,
    to_json_dict,
)
from storytrace.store.postings import Postings, sorted_rows

_CHANNEL = {name: n for n, name in enumerate(KEY_CHANNELS)}
_FEW_IDS = 64  # at most this many ids (or positions) are read by a filter, not a join

WAIT_SECONDS = 60.0  # how long opening a file another process holds waits, by default
_POLL_SECONDS = 0.05
_GRACE_SECONDS = 2.0  # how long a writer that let go of the file waits for the waiting to open it
# The limits `drop_cache` sets for a moment, lowest first (DuckDB evicts cached blocks to meet one).
_EVICTING_LIMITS = ("256MB", "1GB")
# In a writer's open transaction: MB left above what DuckDB holds besides the file's blocks.
_TRANSACTION_ROOM_MB = 256
_FRESH_SECONDS = 5.0  # a wait file older than this is stale (its process opened the file or died)
_WRITES = re.compile(r"\s*(INSERT|DELETE|UPDATE|ALTER)\b", re.IGNORECASE)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key VARCHAR, value VARCHAR);
CREATE TABLE IF NOT EXISTS blobs (key VARCHAR, value BLOB);
CREATE TABLE IF NOT EXISTS documents {documents};
CREATE TABLE IF NOT EXISTS keys (channel UTINYINT, key UBIGINT, seq BIGINT);
CREATE TABLE IF NOT EXISTS containment (key UBIGINT, seq BIGINT);
CREATE TABLE IF NOT EXISTS containment_sizes (seq BIGINT, n BIGINT);
CREATE TABLE IF NOT EXISTS relations (seq_a BIGINT, seq_b BIGINT, a VARCHAR, b VARCHAR,
                                      stage VARCHAR, story VARCHAR, n BIGINT, body VARCHAR);
CREATE TABLE IF NOT EXISTS families (id VARCHAR, first BIGINT, body VARCHAR);
CREATE TABLE IF NOT EXISTS stories {stories};
CREATE TABLE IF NOT EXISTS units (n BIGINT, family VARCHAR, size INTEGER, docs VARCHAR);
CREATE TABLE IF NOT EXISTS words (word VARCHAR, n BIGINT);
CREATE TABLE IF NOT EXISTS lines (line VARCHAR, n BIGINT);
CREATE TABLE IF NOT EXISTS errors (source VARCHAR, reason VARCHAR, record VARCHAR);
CREATE TABLE IF NOT EXISTS extractions (seq BIGINT, reference VARCHAR, body VARCHAR);
"""
# Document and story bodies stay uncompressed: DuckDB's ZSTD (its choice for long strings)
# decompresses 2,048 bodies to read one. At 100,000 documents that was 11-15 ms a document (a
# query reads each candidate's) and 70-130 ms a story (a query reads the story it joins),
# about 1 ms uncompressed; the cost is disk: 20,000 bench documents' bodies take 114 MB
# uncompressed, 23 MB in ZSTD.
_UNCOMPRESSED = {
    "documents": "(seq BIGINT, id VARCHAR, hash UBIGINT, family VARCHAR, story VARCHAR, "
                 "body VARCHAR USING COMPRESSION uncompressed, story_similarity DOUBLE)",
    "stories": "(id VARCHAR, first BIGINT, body VARCHAR USING COMPRESSION uncompressed)"}
_SCHEMA = _SCHEMA.format(**_UNCOMPRESSED)
# Made after an older file's upgrade: DuckDB cannot ALTER a table that has an index.
_INDEXES = "CREATE INDEX IF NOT EXISTS documents_id ON documents (id);"

TABLES = ("documents", "keys", "containment", "containment_sizes", "relations", "families",
          "stories", "units", "extractions", "errors")


class DuckDBStore(Store):
    """The persistent store. `read_only=True` opens an existing file for queries only."""

    def __init__(self, path: str | Path = ":memory:", read_only: bool = False,
                 wait: float = WAIT_SECONDS, keys_in_memory: bool = False) -> None:
        """`wait`: seconds to wait for a file that another process has open (see the module's
        docstring), then a StoreError. `keys_in_memory`: candidate lookups search the key
        tables' rows held in memory (`store.postings`) instead of scanning the tables."""
        self.path = str(path)
        self.keys_in_memory = keys_in_memory
        # table -> (channel -> Postings, rows read up to this position, removals seen then,
        # the file's state then: see _memory_state)
        self._postings: dict[str, tuple[dict[int, Postings], int, int, Any]] = {}
        self._id_at: dict[int, str] = {}  # position -> id of the documents the postings name
        # containment_sizes by position, with the file's state it was read at (_memory_state)
        self._sizes: tuple[Any, np.ndarray] | None = None
        self._key_writes = 0  # key rows this store added or removed (its own writes)
        self.read_only = read_only
        self.wait = wait
        self._source = self.path  # what `con` connects to
        self._con: duckdb.DuckDBPyConnection | None = None
        self._turn = _Turn(None if self.path == ":memory:" else Path(self.path + ".lock"),
                           exclusive=not read_only)
        self._wrote = False  # the open transaction changed something
        self._generation: int | None = None  # as of this store's last commit or its opening
        self.changed_elsewhere = False  # set by each transaction() as it begins
        if self.path != ":memory:" and read_only and not Path(self.path).exists():
            raise StoreError(self.path, "no such index")
        tables = {r[0] for r in self.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if tables and "meta" not in tables:
            self.close()
            raise StoreError(self.path, "a DuckDB file, but not a storytrace index")
        if read_only and not tables:
            # A file whose first add was killed before it committed holds no tables: it is
            # an empty index, read as one (a read-only file cannot be given its schema).
            self.close()
            self._source = ":memory:"
        if not read_only or not tables:
            self._create_schema()
            tables |= set(TABLES)
        self._tables = tables  # a file of an older format opened read-only lacks newer ones
        version = self.get_meta("format_version")
        if version is not None and int(version) > FORMAT_VERSION:
            self.close()
            raise StoreError(
                self.path, f"index format {version} is newer than this storytrace reads "
                f"({FORMAT_VERSION}); upgrade storytrace")
        elif version is not None and int(version) < FORMAT_VERSION and not read_only:
            self._upgrade()
        if not read_only:
            self._uncompress_bodies()
            self._do(_INDEXES)
        columns = {r[0] for r in self.con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'documents'").fetchall()}
        # A version 1 file opened read-only has no story_similarity column: read it as NULL.
        self._similarity = "story_similarity" if "story_similarity" in columns else "NULL"
        self._depth = 0
        self._generation = int(self.get_meta("generation", 0))

    # -- the file, shared with other processes -------------------------------------------------
    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        """The connection, opened again when this store let go of the file for another process."""
        if self._con is None:
            self._con = self._connect()
        return self._con

    @property
    def _wait_file(self) -> Path | None:
        return None if self._source == ":memory:" else Path(self._source + ".wait")

    def _connect(self) -> duckdb.DuckDBPyConnection:
        """Take this process's turn at the file and open it, waiting up to `self.wait` seconds
        while another process holds it (and touching the wait file, so that a writer lets go
        of it after its next commit)."""
        deadline = time.monotonic() + self.wait
        while True:
            busy = "another storytrace process holds it"
            if self._source == ":memory:" or self._turn.take():
                try:
                    con = duckdb.connect(self._source, read_only=self.read_only
                                         and self._source != ":memory:")
                except duckdb.Error as exc:
                    self._turn.give_back()
                    if not isinstance(exc, duckdb.IOException) or "lock" not in str(exc).lower():
                        raise StoreError(self.path, f"cannot open as an index: {exc}") from exc
                    busy = str(exc)  # held by a process that takes no turn (DuckDB's own CLI)
                else:
                    _remove(self._wait_file)
                    return con
            if time.monotonic() >= deadline:
                raise StoreError(
                    self.path, f"in use by another process; waited {self.wait:g} s for it "
                    f"({busy})")
            _touch(self._wait_file)
            time.sleep(_POLL_SECONDS)

    def _let_waiting_in(self) -> None:
        """After a commit: when another process waits for the file, close it until they have
        opened it (at most _GRACE_SECONDS); `con` opens it again when next used."""
        marker = self._wait_file
        if self.read_only or marker is None or not _fresh(marker):
            return
        self.close()
        deadline = time.monotonic() + _GRACE_SECONDS
        while _fresh(marker) and time.monotonic() < deadline:
            time.sleep(_POLL_SECONDS)

    def _create_schema(self) -> None:
        """The tables that are missing, and the format version of a new file, in one
        transaction: a kill -9 during the first open leaves no half-made schema."""
        self._do("BEGIN TRANSACTION")
        self.con.execute(_SCHEMA).fetchall()
        if self.get_meta("format_version") is None:
            self.set_meta("format_version", FORMAT_VERSION)
        self._do("COMMIT")

    def _upgrade(self) -> None:
        """Bring a file of an older format up to FORMAT_VERSION. 1 -> 2: documents gain
        story_similarity. 2 -> 3: the containment table (created empty by the schema); its
        keys are computed from the stored texts by the next add (`containment_pending`)."""
        version = int(self.get_meta("format_version"))
        self._do("DROP INDEX IF EXISTS documents_id")  # DuckDB alters no table with an index
        self._do("ALTER TABLE documents ADD COLUMN IF NOT EXISTS story_similarity DOUBLE")
        if version < 3 and self._one("SELECT count(*) FROM documents")[0]:
            self.set_meta("containment_pending", True)
        self.set_meta("format_version", FORMAT_VERSION)

    def _uncompress_bodies(self) -> None:
        """A file written before the bodies were kept uncompressed (_UNCOMPRESSED) gets those
        tables rewritten, once, in one transaction (DuckDB sets a column's compression only
        when the table is made): 15 s at 100,000 documents."""
        ddl = dict(self.con.execute("SELECT table_name, sql FROM duckdb_tables()").fetchall())
        old = [t for t in _UNCOMPRESSED if "USING COMPRESSION" not in ddl[t].upper()]
        if not old:
            return
        self._do("BEGIN TRANSACTION")
        self._do("DROP INDEX IF EXISTS documents_id")
        for table in old:
            columns = re.findall(r"[(,] ?(\w+)", _UNCOMPRESSED[table])
            self._do(f"CREATE OR REPLACE TABLE _{table} {_UNCOMPRESSED[table]}")
            self._do(f"INSERT INTO _{table} SELECT {', '.join(columns)} FROM {table}")
            self._do(f"DROP TABLE {table}")
            self._do(f"ALTER TABLE _{table} RENAME TO {table}")
        self._do("COMMIT")

    def _do(self, sql: str, params: list | None = None) -> None:
        """Run a statement that returns no rows (DuckDB wants every result consumed)."""
        if _WRITES.match(sql):
            self._wrote = True
        self.con.execute(sql, params or []).fetchall()

    def _one(self, sql: str, params: list | None = None) -> tuple | None:
        rows = self.con.execute(sql, params or []).fetchall()
        return rows[0] if rows else None

    # -- lifecycle ----------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self._do("BEGIN TRANSACTION")
        self._depth = 1
        try:
            generation = int(self.get_meta("generation", 0))
            self.changed_elsewhere = generation != self._generation
            self._wrote = False
            yield
            if self._wrote:  # a transaction that changed nothing leaves the file as it was
                generation += 1
                self.set_meta("generation", generation)
        except BaseException:
            self._do("ROLLBACK")
            raise
        else:
            self._do("COMMIT")
            self._generation = generation
        finally:
            self._depth = 0
        self._let_waiting_in()

    def close(self) -> None:
        """Close the file and give back this process's turn at it (`con` opens it again)."""
        if self._con is not None:
            self._con.close()
            self._con = None
        self._turn.give_back()

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the file (DuckDB does it on its own, too)."""
        self._do("CHECKPOINT")

    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self._one("SELECT value FROM meta WHERE key = ?", [key])
        return default if row is None else json.loads(row[0])

    def set_meta(self, key: str, value: Any) -> None:
        self._do("DELETE FROM meta WHERE key = ?", [key])
        self._do("INSERT INTO meta VALUES (?, ?)", [key, json.dumps(value)])

    def get_blob(self, key: str) -> bytes | None:
        row = self._one("SELECT value FROM blobs WHERE key = ?", [key])
        return None if row is None else bytes(row[0])

    def set_blob(self, key: str, value: bytes) -> None:
        self._do("DELETE FROM blobs WHERE key = ?", [key])
        self._do("INSERT INTO blobs VALUES (?, ?)", [key, value])

    def remove_blob(self, key: str) -> None:
        self._do("DELETE FROM blobs WHERE key = ?", [key])

    def _insert(self, table: str, columns: dict[str, list]) -> None:
        """Bulk insert through Arrow (executemany goes row by row)."""
        self.con.register("_rows", pa.table(columns))
        self._do(f"INSERT INTO {table} SELECT * FROM _rows")
        self.con.unregister("_rows")

    def _ids_table(self, name: str, ids: Iterable[str]) -> str:
        table = pa.table({"id": pa.array(list(ids), pa.string())})
        self.con.register(name, table)
        return name

    # -- documents ----------------------------------------------------------------------------
    def content_hashes(self, ids: Iterable[str]) -> dict[str, int]:
        ids = list(ids)
        if len(ids) == 1:  # a query's: a filter in the scan, 0.4 ms at 100,000 documents
            return dict(self.con.execute("SELECT id, hash FROM documents WHERE id = ?",
                                         ids).fetchall())
        self._ids_table("_want", ids)
        rows = self.con.execute(
            "SELECT d.id, d.hash FROM documents d JOIN _want USING (id)").fetchall()
        return dict(rows)

    def add_documents(self, docs: list[DocumentResult], hashes: list[int]) -> None:
        start = self.get_meta("next_seq", 0)
        if docs:
            self._insert("documents", {
                "seq": pa.array(range(start, start + len(docs)), pa.int64()),
                "id": pa.array([d.id for d in docs], pa.string()),
                "hash": pa.array(hashes, pa.uint64()),
                "family": pa.array([d.family for d in docs], pa.string()),
                "story": pa.array([d.story for d in docs], pa.string()),
                "body": pa.array(self._bodies(docs), pa.string()),
                "story_similarity": pa.array([d.story_similarity for d in docs],
                                             pa.float64())})
        self.set_meta("next_seq", start + len(docs))

    def _bodies(self, docs: list[DocumentResult]) -> list[str | None]:
        """What the documents table keeps of each document beside its id, family and story:
        the rest as JSON (`_document` reads it back)."""
        bodies = []
        for doc in docs:
            body = to_json_dict(doc)
            for column in ("family", "story", "story_similarity"):
                body.pop(column, None)
            bodies.append(json.dumps(body, ensure_ascii=False))
        return bodies

    def _document(self, doc_id: str, body: str | None, family: str | None, story: str | None,
                  similarity: float | None) -> DocumentResult:
        return document_from_dict({**json.loads(body), "family": family or "",
                                   "story": story or "", "story_similarity": similarity})

    def documents(self, ids: Iterable[str] | None = None) -> list[DocumentResult]:
        columns = f"id, body, family, story, {self._similarity}"
        if ids is None:
            rows = self.con.execute(
                f"SELECT {columns} FROM documents ORDER BY seq").fetchall()
        else:
            ids = list(ids)
            if not ids:  # the join would still read the whole table (14 ms at 100,000)
                return []
            if len(ids) <= _FEW_IDS and len(set(ids)) == len(ids):
                # a query's partners: a filter in the scan costs 1.4 ms of CPU at 100,000
                # documents, the join 3.4 ms (the join repeats a row for a repeated id)
                rows = self.con.execute(
                    f"SELECT {columns} FROM documents WHERE id IN "
                    f"({', '.join('?' * len(ids))}) ORDER BY seq", ids).fetchall()
            else:
                self._ids_table("_want", ids)
                rows = self.con.execute(
                    f"SELECT {columns} FROM documents JOIN _want USING (id) "
                    "ORDER BY seq").fetchall()
        return [self._document(*row) for row in rows]

    def positions(self, ids: Iterable[str]) -> dict[str, int]:
        self._ids_table("_want", ids)
        return dict(self.con.execute(
            "SELECT id, seq FROM documents JOIN _want USING (id)").fetchall())

    def set_assignments(self, family_of: dict[str, str] | None = None,
                        story_of: dict[str, str] | None = None,
                        story_similarity: dict[str, float | None] | None = None) -> None:
        for column, mapping, kind in (("family", family_of, pa.string()),
                                      ("story", story_of, pa.string()),
                                      ("story_similarity", story_similarity, pa.float64())):
            if mapping:
                table = pa.table({"id": pa.array(list(mapping), pa.string()),
                                  "value": pa.array(list(mapping.values()), kind)})
                self.con.register("_assign", table)
                self._do(f"UPDATE documents SET {column} = _assign.value FROM _assign "
                                 "WHERE documents.id = _assign.id")

    def families_of(self, ids: Iterable[str]) -> dict[str, str]:
        self._ids_table("_want", ids)
        return dict(self.con.execute(
            "SELECT id, family FROM documents JOIN _want USING (id)").fetchall())

    def family_stories(self) -> dict[str, str]:
        return dict(self.con.execute(
            "SELECT family, max(story) FROM documents GROUP BY family ORDER BY min(seq)").fetchall())

    def remove_documents(self, ids: list[str]) -> None:
        self._rewrote_keys()
        self._key_writes += 1
        self._ids_table("_gone", ids)
        self._do("DELETE FROM keys WHERE seq IN (SELECT seq FROM documents "
                 "JOIN _gone USING (id))")
        self._do("DELETE FROM extractions WHERE seq IN (SELECT seq FROM documents "
                 "JOIN _gone USING (id))")
        self._remove_containment()
        self._do("DELETE FROM relations WHERE a IN (SELECT id FROM _gone) "
                         "OR b IN (SELECT id FROM _gone)")
        self._do("DELETE FROM documents WHERE id IN (SELECT id FROM _gone)")

    def document_ids(self) -> list[str]:
        return [i for (i,) in self.con.execute("SELECT id FROM documents ORDER BY seq").fetchall()]

    def count(self, table: str) -> int:
        if table not in TABLES:
            raise ValueError(f"no table {table!r}")
        if table not in self._tables:
            return 0
        return self._one(f"SELECT count(*) FROM {table}")[0]

    # -- candidate keys -----------------------------------------------------------------------
    def add_keys(self, keys: dict[str, dict[str, np.ndarray]]) -> None:
        seqs = self.positions(keys)
        channel, key, seq = [], [], []
        for doc_id, by_channel in keys.items():
            for name, values in by_channel.items():
                if name in _CHANNEL and len(values):
                    channel.append(np.full(len(values), _CHANNEL[name], dtype=np.uint8))
                    key.append(np.asarray(values, dtype=np.uint64))
                    seq.append(np.full(len(values), seqs[doc_id], dtype=np.int64))
        if key:
            table = pa.table({"channel": np.concatenate(channel), "key": np.concatenate(key),
                              "seq": np.concatenate(seq)})
            self.con.register("_keys", table)
            self._do("INSERT INTO keys SELECT * FROM _keys")
            self._key_writes += 1

    def candidates(self, keys: list[dict[str, np.ndarray]], min_shared: dict[str, int],
                   max_df: int, limit: int) -> list[list[str]]:
        query, channel, key = [], [], []
        for q, by_channel in enumerate(keys):
            for name, values in by_channel.items():
                if name in _CHANNEL and len(values):
                    query.append(np.full(len(values), q, dtype=np.int64))
                    channel.append(np.full(len(values), _CHANNEL[name], dtype=np.uint8))
                    key.append(np.asarray(values, dtype=np.uint64))
        if not key:
            return [[] for _ in keys]
        query, channel, key = np.concatenate(query), np.concatenate(channel), np.concatenate(key)
        least = {_CHANNEL[c]: n for c, n in min_shared.items()}
        if self.keys_in_memory:
            return self._candidates_in_memory(len(keys), query, channel, key, least, max_df,
                                              limit)
        self.con.register("_q", pa.table({"q": query, "channel": channel, "key": key}))
        rows = self.con.execute(
            """
            WITH wanted AS (SELECT DISTINCT channel, key FROM _q),
                 hits AS (SELECT k.channel, k.key, k.seq FROM keys k
                          JOIN wanted USING (channel, key)),
                 df AS (SELECT channel, key, count(*) AS n FROM hits GROUP BY channel, key),
                 shared AS (
                    SELECT q.q, h.channel, h.seq, count(*) AS c
                    FROM _q q JOIN hits h USING (channel, key) JOIN df USING (channel, key)
                    WHERE df.n < ? OR h.channel = 0 GROUP BY q.q, h.channel, h.seq)
            SELECT q, channel, d.id, c FROM shared JOIN documents d USING (seq)
            ORDER BY q, channel, c DESC, seq
            """, [max_df]).fetchall()
        self.con.unregister("_q")
        found: list[dict[str, None]] = [{} for _ in keys]
        taken: dict[tuple[int, int], int] = {}
        for q, channel_no, doc_id, shared in rows:
            if shared >= least.get(channel_no, 1) and taken.get((q, channel_no), 0) < limit:
                taken[(q, channel_no)] = taken.get((q, channel_no), 0) + 1
                found[q][doc_id] = None
        return [list(f) for f in found]

    def _candidates_in_memory(self, n_queries: int, query: np.ndarray, channel: np.ndarray,
                              key: np.ndarray, least: dict[int, int], max_df: int, limit: int
                              ) -> list[list[str]]:
        """`candidates` over the postings held in memory, counted with numpy: the same
        documents in the same order as the SQL above (a DuckDB join over the hits cost 7 ms of
        a 40 ms query at 100,000 documents)."""
        postings = self._postings_of("keys")
        found: list[dict[str, None]] = [{} for _ in range(n_queries)]
        for channel_no in np.unique(channel).tolist():
            if channel_no not in postings:
                continue
            mine = channel == channel_no
            q_of_row, key_of_row = query[mine], key[mine]
            hit_keys, hit_seqs = postings[channel_no].lookup(key_of_row)
            wanted = np.unique(key_of_row)
            hit_key = np.searchsorted(wanted, hit_keys)
            df = np.bincount(hit_key, minlength=len(wanted))  # stored documents holding a key
            if channel_no != 0:  # a common immutable or sentence proposes nobody
                rare = df[hit_key] < max_df
                hit_key, hit_seqs = hit_key[rare], hit_seqs[rare]
            pair_q, pair_seq, shared = _shared_counts(
                q_of_row, np.searchsorted(wanted, key_of_row), hit_key, hit_seqs, len(wanted))
            enough = shared >= least.get(channel_no, 1)
            pair_q, pair_seq, shared = pair_q[enough], pair_seq[enough], shared[enough]
            if not len(pair_q):
                continue
            # each query's best `limit` documents: most shared first, then the older document
            ids = self._ids_at(pair_seq)
            stored = np.array([i is not None for i in ids], dtype=bool)
            order = np.lexsort((pair_seq[stored], -shared[stored], pair_q[stored]))
            pair_q = pair_q[stored][order]
            ids = [ids[k] for k in np.flatnonzero(stored)[order].tolist()]
            group_start = np.searchsorted(pair_q, pair_q)  # sorted: where each query's run begins
            rank = np.arange(len(pair_q)) - group_start
            for k in np.flatnonzero(rank < limit).tolist():
                found[int(pair_q[k])][ids[k]] = None
        return [list(f) for f in found]

    def _ids_at(self, seqs: np.ndarray) -> list[str | None]:
        """The ids of the documents at these positions (None where none is stored). With the
        keys in memory, from a map kept beside the postings (emptied when they are read again
        after a removal); positions it does not hold are read from the table."""
        known = self._id_at if self.keys_in_memory else {}
        missing = sorted({int(s) for s in seqs.tolist()} - known.keys())
        if 0 < len(missing) <= _FEW_IDS:  # a query's: a filter in the scan, no Arrow table
            known.update(self.con.execute(
                f"SELECT seq, id FROM documents WHERE seq IN ({', '.join('?' * len(missing))})",
                missing).fetchall())
        elif missing:
            self.con.register("_at", pa.table({"seq": pa.array(missing, pa.int64())}))
            known.update(self.con.execute(
                "SELECT seq, id FROM documents WHERE seq IN (SELECT seq FROM _at)").fetchall())
            self.con.unregister("_at")
        return [known.get(s) for s in seqs.tolist()]

    def _memory_state(self) -> Any:
        """What says the key tables may have changed since the postings were read: nothing
        for a read-only store (DuckDB lets no process write a file that one reads), else
        the file's generation (other processes' commits) and this store's own key writes
        (its open transaction's, before they are committed)."""
        if self.read_only:
            return None
        return (self.get_meta("generation", 0), self._key_writes)

    def _postings_of(self, table: str) -> dict[int, Postings]:
        """The rows of `table` ("keys" or "containment") in memory, by channel: read once,
        then, when the table may have changed (`_memory_state`), the rows at positions past
        those read (appended since, by this process or another), and read again from scratch
        after rows were removed or written for older positions (`key_rewrites` in the meta
        table counts those changes)."""
        state = self._memory_state()
        held = self._postings.get(table)
        if held is not None and held[3] == state:
            return held[0]
        removals = int(self.get_meta("key_rewrites", 0))
        if held is None or held[2] != removals:
            held = ({}, 0, removals, state)
            self._id_at = {}
        postings, upto, _, _ = held
        newest = upto
        channels = range(len(KEY_CHANNELS)) if table == "keys" else [0]
        for channel_no in channels:
            where = f"channel = {channel_no} AND " if table == "keys" else ""
            # One channel at a time, sorted here, not by DuckDB's ORDER BY (at 100,000
            # documents: 6.3 s CPU and a 2.3 GB peak for the containment rows, against 9.4 s
            # and 3.1 GB), a range of keys at a time (sorted_rows); seq as INTEGER: 4 bytes a
            # row less, and DuckDB fails loudly rather than wrap past 2**31.
            select = f"SELECT key, seq::INTEGER AS seq FROM {table} WHERE {where}seq >= ?"
            if channel_no in postings:
                rows = self.con.execute(select, [upto]).fetchnumpy()
                if not len(rows["key"]):
                    continue
                postings[channel_no].extend(rows["key"], rows["seq"])
            else:
                count = self._one(f"SELECT count(*) FROM {table} WHERE {where}seq >= ?",
                                  [upto])[0]
                if not count:
                    continue
                keys, seqs = sorted_rows(partial(self._key_range, select, upto), count)
                rows = {"key": keys, "seq": seqs}
                postings[channel_no] = Postings(keys, seqs, ordered=True)
            newest = max(newest, int(rows["seq"].max()) + 1)
        if self.read_only and not upto:
            self.drop_cache()
        self._postings[table] = (postings, newest, removals, state)
        return postings

    def _key_range(self, select: str, upto: int, low: int, high: int | None
                   ) -> dict[str, np.ndarray]:
        """The rows of `select` (its one parameter: `upto`) whose key is in [low, high)."""
        bound = " AND key >= ?" + ("" if high is None else " AND key < ?")
        return self.con.execute(select + bound, [upto, low, *([] if high is None else [high])]
                                ).fetchnumpy()

    def drop_cache(self) -> None:
        """Let DuckDB's buffer pool drop the blocks of the file it kept from earlier reads: a
        limit lowered for a moment evicts them, then the limit is what it was. DuckDB keeps
        every block it read up to 80% of the machine's memory: 1.26 GB of them at the end of
        an add of 1,000 documents to a 100,000-document index when only checkpoints dropped
        them (bench/results/index.txt). It evicts down to the lowest limit DuckDB accepts
        (256 MB, else 1 GB). In a writer's open transaction, where a limit DuckDB refused
        would abort it, the limit leaves room for all DuckDB holds but the file's cached
        blocks (the transaction's own rows among it) and 256 MB more: between statements
        nothing else is pinned, so it is always met. Not for a store in memory, whose tables
        are its buffer pool."""
        if self._source == ":memory:" or self._con is None:
            return
        limits = _EVICTING_LIMITS
        if self._depth and not self.read_only:
            held = self._one("SELECT sum(memory_usage_bytes) FROM duckdb_memory() "
                             "WHERE tag <> 'BASE_TABLE'")[0] or 0
            limits = (f"{(int(held) >> 20) + _TRANSACTION_ROOM_MB}MiB",)
        for limit in limits:
            try:
                self.con.execute(f"SET memory_limit = '{limit}'")
            except duckdb.Error:  # it could not shrink that far: nothing was changed
                continue
            break
        self.con.execute("RESET memory_limit")

    def _rewrote_keys(self) -> None:
        """Key rows were removed, or written for positions older than the newest: a copy held
        in memory (`_postings_of`) must be read again."""
        self.set_meta("key_rewrites", int(self.get_meta("key_rewrites", 0)) + 1)

    def forget_postings(self) -> None:
        """Drop the rows held in memory (after a rolled-back transaction)."""
        self._postings = {}
        self._id_at = {}
        self._sizes = None

    def load_keys(self) -> None:
        if self.keys_in_memory:
            for table in ("keys", "containment"):
                if table in self._tables:
                    self._postings_of(table)
            if "containment_sizes" in self._tables:
                self._containment_sizes(np.zeros(0, dtype=np.int64))
            # DuckDB imports pandas on the first Arrow table registered (0.36 s): now, not
            # in the first query that reads a family
            self.con.unregister(self._ids_table("_want", []))

    # -- containment keys ---------------------------------------------------------------------
    # A document's containment size is the number of its kept n-gram keys that at most
    # max_df documents hold. It is kept per document (containment_sizes) and moved when a key
    # crosses max_df on an add or a removal, so a query reads the hits of its own keys only
    # (reading every candidate's keys again took two thirds of a query's time).
    def add_containment(self, keys: dict[str, np.ndarray], cap: int) -> None:
        seqs = self.positions(keys)
        parts = [(np.asarray(values, dtype=np.uint64), seqs[doc_id])
                 for doc_id, values in keys.items() if len(values)]
        if not parts:
            return
        max_df = cap - 1
        self.set_meta("containment_max_df", max_df)
        if self._one("SELECT count(*) FROM containment WHERE seq >= ?",
                     [int(min(seq for _, seq in parts))])[0]:
            self._rewrote_keys()  # an older format's keys computed after newer ones (backfill)
        self.con.register("_new", pa.table({
            "key": np.concatenate([values for values, _ in parts]),
            "seq": np.concatenate([np.full(len(v), seq, dtype=np.int64) for v, seq in parts])}))
        # A key already held `cap` times is a stock phrase for good: more rows add nothing.
        self._do("""
            CREATE OR REPLACE TEMP TABLE _kept AS
            SELECT key, seq FROM (
                SELECT n.key, n.seq,
                       row_number() OVER (PARTITION BY n.key ORDER BY n.seq)
                       + coalesce(held.n, 0) AS rank
                FROM _new n LEFT JOIN (
                    SELECT key, count(*) AS n FROM containment
                    WHERE key IN (SELECT key FROM _new) GROUP BY key) held USING (key))
            WHERE rank <= ?
            """, [cap])
        self.con.unregister("_new")
        self._do("INSERT INTO containment SELECT key, seq FROM _kept")
        self._key_writes += 1
        self._do("""
            CREATE OR REPLACE TEMP TABLE _moved AS
            SELECT key, count(*) AS after, count(*) - any_value(k.added) AS before
            FROM containment JOIN (SELECT key, count(*) AS added FROM _kept GROUP BY key) k
                 USING (key)
            GROUP BY key
            """)
        # the new documents' sizes, then the older holders of keys that crossed max_df
        self._do("""
            INSERT INTO containment_sizes
            SELECT k.seq, count(*) FILTER (WHERE m.after <= ?) FROM _kept k JOIN _moved m
            USING (key) GROUP BY k.seq
            """, [max_df])
        first_new = int(min(seq for _, seq in parts))
        self._do("""
            UPDATE containment_sizes SET n = n - d.c FROM (
                SELECT seq, count(*) AS c FROM containment
                WHERE seq < ? AND key IN (SELECT key FROM _moved WHERE before <= ? AND after > ?)
                GROUP BY seq) d
            WHERE containment_sizes.seq = d.seq
            """, [first_new, max_df, max_df])
        self._do("DROP TABLE _kept")
        self._do("DROP TABLE _moved")

    def _remove_containment(self) -> None:
        """Drop the containment keys of the documents in `_gone` (ids), giving the other
        holders of a key that falls back to max_df or fewer documents their size back."""
        max_df = self.get_meta("containment_max_df")
        if max_df is None:
            return
        self._do("""
            CREATE OR REPLACE TEMP TABLE _going AS
            SELECT seq FROM documents JOIN _gone USING (id)
            """)
        self._do("""
            CREATE OR REPLACE TEMP TABLE _moved AS
            SELECT key, count(*) AS before, count(*) - count(*) FILTER (
                       WHERE seq IN (SELECT seq FROM _going)) AS after
            FROM containment WHERE key IN (
                SELECT key FROM containment WHERE seq IN (SELECT seq FROM _going))
            GROUP BY key
            """)
        self._do("DELETE FROM containment WHERE seq IN (SELECT seq FROM _going)")
        self._do("DELETE FROM containment_sizes WHERE seq IN (SELECT seq FROM _going)")
        self._do("""
            UPDATE containment_sizes SET n = n + d.c FROM (
                SELECT seq, count(*) AS c FROM containment
                WHERE key IN (SELECT key FROM _moved WHERE before > ? AND after <= ?)
                GROUP BY seq) d
            WHERE containment_sizes.seq = d.seq
            """, [max_df, max_df])
        self._do("DROP TABLE _going")
        self._do("DROP TABLE _moved")

    def containment_problems(self) -> list[str]:
        max_df = self.get_meta("containment_max_df")
        if max_df is None or "containment_sizes" not in self._tables:
            return []
        rows = self.con.execute("""
            SELECT d.id, coalesce(z.n, 0), coalesce(c.n, 0)
            FROM documents d
            LEFT JOIN containment_sizes z USING (seq)
            LEFT JOIN (SELECT c.seq, count(*) FILTER (WHERE f.n <= ?) AS n FROM containment c
                       JOIN (SELECT key, count(*) AS n FROM containment GROUP BY key) f
                       USING (key) GROUP BY c.seq) c USING (seq)
            WHERE coalesce(z.n, 0) != coalesce(c.n, 0)
            """, [max_df]).fetchall()
        return [f"{i}: containment size {kept} kept, {counted} counted" for i, kept, counted in rows]

    def contained(self, keys: list[np.ndarray], min_containment: float, min_shared: int,
                  max_df: int, limit: int) -> list[list[str]]:
        found: list[list[str]] = [[] for _ in keys]
        lengths = np.array([len(k) for k in keys], dtype=np.int64)
        if not lengths.sum() or "containment" not in self._tables:  # an older file read-only
            return found
        query = np.repeat(np.arange(len(keys), dtype=np.int64), lengths)
        flat = np.concatenate([np.asarray(k, dtype=np.uint64) for k in keys])
        wanted, column, qdf = np.unique(flat, return_inverse=True, return_counts=True)
        # One pass over the stored keys: the rows holding any wanted key (at most
        # cap = max_df + 1 a key), then the counting is done here.
        if self.keys_in_memory:
            postings = self._postings_of("containment")
            hit_keys, hit_seqs = postings[0].lookup(wanted) if 0 in postings else (
                np.array([], np.uint64), np.array([], np.int32))
            hits = {"key": hit_keys, "seq": hit_seqs}
        else:
            self.con.register("_cq", pa.table({"key": wanted}))
            hits = self.con.execute(
                "SELECT c.key, c.seq FROM containment c JOIN _cq USING (key)").fetchnumpy()
            self.con.unregister("_cq")
        hit_key = np.searchsorted(wanted, np.asarray(hits["key"], dtype=np.uint64))
        hit_seq = np.asarray(hits["seq"], dtype=np.int64)
        sdf = np.bincount(hit_key, minlength=len(wanted))
        df = qdf + sdf
        # df over stored and new documents, as fingerprint.containment.contained_pairs counts
        # over one corpus: sizes count a document's keys of df <= max_df, shared keys too; a
        # stored document's kept size loses the keys the new documents push past max_df.
        rare = df <= max_df
        qsize = np.bincount(query[rare[column]], minlength=len(keys))
        pushed_rows = (sdf[hit_key] <= max_df) & ~rare[hit_key]
        # every (new document, stored holder) pair of a rare key, counted
        pair_q, pair_seq, shared = _shared_counts(query[rare[column]], column[rare[column]],
                                                  hit_key, hit_seq, len(wanted))
        enough = shared >= min_shared
        pair_q, pair_seq, shared = pair_q[enough], pair_seq[enough], shared[enough]
        if not len(pair_q):
            return found
        # each stored document's kept size, less the keys the new documents push past max_df
        seqs = np.unique(pair_seq)
        size = self._containment_sizes(seqs)
        pushed, lost = np.unique(hit_seq[pushed_rows], return_counts=True)
        among = np.isin(pushed, seqs)
        size[np.searchsorted(seqs, pushed[among])] -= lost[among]
        size = size[np.searchsorted(seqs, pair_seq)]
        containment = shared / np.maximum(np.minimum(qsize[pair_q], size), 1)
        kept = containment >= min_containment
        pair_q, pair_seq, containment = pair_q[kept], pair_seq[kept], containment[kept]
        # each new document's most contained first, then the older stored document
        order = np.lexsort((pair_seq, -containment, pair_q))
        for q, doc_id in zip(pair_q[order].tolist(), self._ids_at(pair_seq[order]), strict=True):
            if doc_id is not None and len(found[q]) < limit:
                found[q].append(doc_id)
        return found

    def _containment_sizes(self, seqs: np.ndarray) -> np.ndarray:
        """The kept containment size of the documents at `seqs` (sorted, distinct positions;
        0 where none is kept). With the keys in memory, from the whole table read once and
        again when the key tables may have changed (`_memory_state`): a lookup in DuckDB cost
        about 1.5 ms of a 14 ms query at 100,000 documents."""
        if not self.keys_in_memory:
            self.con.register("_cs", pa.table({"seq": seqs}))
            held = self.con.execute("SELECT seq, n FROM containment_sizes "
                                    "WHERE seq IN (SELECT seq FROM _cs)").fetchnumpy()
            self.con.unregister("_cs")
            size = np.zeros(len(seqs), dtype=np.int64)
            size[np.searchsorted(seqs, held["seq"])] = held["n"]
            return size
        state = self._memory_state()
        if self._sizes is None or self._sizes[0] != state:
            held = self.con.execute("SELECT seq, n FROM containment_sizes").fetchnumpy()
            by_seq = np.zeros(int(held["seq"].max()) + 1 if len(held["seq"]) else 0,
                              dtype=np.int64)
            by_seq[held["seq"]] = held["n"]
            self._sizes = (state, by_seq)
        by_seq = self._sizes[1]
        inside = seqs < len(by_seq)
        return np.where(inside, by_seq[np.where(inside, seqs, 0)] if len(by_seq) else 0, 0)

    # -- relations, families, stories --------------------------------------------------------
    def add_relations(self, relations: list[Relation], stage: str, story: str = "") -> None:
        if not relations:
            return
        seqs = self.positions({x for r in relations for x in (r.a, r.b)})
        start = self.get_meta("next_relation", 0)
        self._insert("relations", {
            "seq_a": pa.array([seqs[r.a] for r in relations], pa.int64()),
            "seq_b": pa.array([seqs[r.b] for r in relations], pa.int64()),
            "a": pa.array([r.a for r in relations], pa.string()),
            "b": pa.array([r.b for r in relations], pa.string()),
            "stage": pa.array([stage] * len(relations), pa.string()),
            "story": pa.array([story] * len(relations), pa.string()),
            "n": pa.array(range(start, start + len(relations)), pa.int64()),
            "body": pa.array([json.dumps(to_json_dict(r), ensure_ascii=False)
                              for r in relations], pa.string())})
        self.set_meta("next_relation", start + len(relations))

    def relations(self, ids: Iterable[str] | None = None,
                  stage: str | None = None) -> list[Relation]:
        order = "ORDER BY stage = 'reuse', seq_a, CASE WHEN stage = 'reuse' THEN n ELSE seq_b END"
        where = [] if stage is None else [f"stage = '{'reuse' if stage == 'reuse' else 'match'}'"]
        if ids is not None:
            self._ids_table("_want", ids)
            where.append("(a IN (SELECT id FROM _want) OR b IN (SELECT id FROM _want))")
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        rows = self.con.execute(f"SELECT body FROM relations {clause} {order}").fetchall()
        return [relation_from_dict(json.loads(body)) for (body,) in rows]

    def remove_relations(self, pairs: Iterable[tuple[str, str]]) -> None:
        pairs = list(pairs)
        if not pairs:
            return
        self.con.register("_cut", pa.table({"a": pa.array([a for a, _ in pairs], pa.string()),
                                            "b": pa.array([b for _, b in pairs], pa.string())}))
        self._do("DELETE FROM relations WHERE stage = 'match' "
                 "AND (a, b) IN (SELECT (a, b) FROM _cut)")
        self.con.unregister("_cut")

    def remove_reuse(self, stories: Iterable[str]) -> None:
        self._ids_table("_gone", stories)
        self._do("DELETE FROM relations WHERE stage = 'reuse' "
                         "AND story IN (SELECT id FROM _gone)")

    def _put(self, table: str, records: list, first: dict[str, int]) -> None:
        if not records:
            return
        self._remove(table, [r.id for r in records])
        self._insert(table, {
            "id": pa.array([r.id for r in records], pa.string()),
            "first": pa.array([first[r.id] for r in records], pa.int64()),
            "body": pa.array([json.dumps(to_json_dict(r), ensure_ascii=False) for r in records],
                             pa.string())})

    def _get(self, table: str, ids: Iterable[str] | None) -> list[str]:
        if ids is None:
            rows = self.con.execute(f"SELECT body FROM {table} ORDER BY first, id").fetchall()
        else:
            self._ids_table("_want", ids)
            rows = self.con.execute(f"SELECT body FROM {table} JOIN _want USING (id) "
                                    "ORDER BY first, id").fetchall()
        return [json.loads(body) for (body,) in rows]

    def _remove(self, table: str, ids: Iterable[str]) -> None:
        self._ids_table("_gone", ids)
        self._do(f"DELETE FROM {table} WHERE id IN (SELECT id FROM _gone)")

    def put_families(self, families: list[Family], first: dict[str, int]) -> None:
        self._put("families", families, first)

    def families(self, ids: Iterable[str] | None = None) -> list[Family]:
        return [family_from_dict(d) for d in self._get("families", ids)]

    def remove_families(self, ids: Iterable[str]) -> None:
        self._remove("families", ids)

    def put_stories(self, stories: list[Story], first: dict[str, int]) -> None:
        self._put("stories", stories, first)

    def stories(self, ids: Iterable[str] | None = None) -> list[Story]:
        return [story_from_dict(d) for d in self._get("stories", ids)]

    def remove_stories(self, ids: Iterable[str]) -> None:
        self._remove("stories", ids)

    # -- streaming units ----------------------------------------------------------------------
    def add_units(self, families: list[str], documents: list[list[str]]) -> None:
        start = self._one("SELECT count(*) FROM units")[0]
        if families:
            self._insert("units", {"n": pa.array(range(start, start + len(families)), pa.int64()),
                                   "family": pa.array(families, pa.string()),
                                   "size": pa.array([len(d) for d in documents], pa.int32()),
                                   "docs": pa.array([json.dumps(d) for d in documents],
                                                    pa.string())})

    def replace_units(self, start: int, families: list[str], documents: list[list[str]]) -> None:
        self._do("DELETE FROM units WHERE n >= ?", [start])
        self.add_units(families, documents)

    def units(self) -> tuple[list[str], np.ndarray]:
        rows = self.con.execute("SELECT family, size FROM units ORDER BY n").fetchall()
        return [f for f, _ in rows], np.array([s for _, s in rows], dtype=np.int64)

    def unit_documents(self, start: int) -> list[list[str]]:
        rows = self.con.execute("SELECT docs FROM units WHERE n >= ? ORDER BY n",
                                [start]).fetchall()
        return [json.loads(docs) for (docs,) in rows]

    def rename_unit_family(self, old: str, new: str) -> None:
        self._do("UPDATE units SET family = ? WHERE family = ?", [new, old])

    # -- corpus counts ------------------------------------------------------------------------
    def add_counts(self, words: dict[str, int], lines: dict[str, int]) -> None:
        for table, column, counts in (("words", "word", words), ("lines", "line", lines)):
            if not counts:
                continue
            self.con.register("_counts", pa.table({"k": list(counts), "n": list(counts.values())}))
            self._do(f"UPDATE {table} SET n = {table}.n + _counts.n FROM _counts "
                             f"WHERE {table}.{column} = _counts.k")
            self._do(f"INSERT INTO {table} SELECT k, n FROM _counts "
                             f"WHERE k NOT IN (SELECT {column} FROM {table})")

    def _counts(self, table: str, column: str, keys: Iterable[str]) -> dict[str, int]:
        self._ids_table("_want", keys)
        return dict(self.con.execute(
            f"SELECT {column}, n FROM {table} WHERE {column} IN (SELECT id FROM _want)"
        ).fetchall())

    def word_counts(self, words: Iterable[str]) -> dict[str, int]:
        return self._counts("words", "word", words)

    def line_counts(self, lines: Iterable[str]) -> dict[str, int]:
        return self._counts("lines", "line", lines)

    # -- fact extractions ---------------------------------------------------------------------
    def extractions(self, ids: Iterable[str]) -> dict[str, tuple]:
        from storytrace.facts.extract import FactMention

        if "extractions" not in self._tables:  # an older file opened read-only
            return {}
        self._ids_table("_want", ids)
        rows = self.con.execute(
            "SELECT d.id, e.reference, e.body FROM extractions e "
            "JOIN documents d USING (seq) JOIN _want USING (id)").fetchall()
        out = {}
        for doc_id, reference, body in rows:
            kept = json.loads(body)
            out[doc_id] = (reference, [FactMention(**m) for m in kept["mentions"]],
                           kept["names"])
        return out

    def put_extractions(self, extracted: dict[str, tuple]) -> None:
        if not extracted:
            return
        seqs = self.positions(extracted)
        kept = {doc_id: e for doc_id, e in extracted.items() if doc_id in seqs}
        self._ids_table("_gone", kept)
        self._do("DELETE FROM extractions WHERE seq IN (SELECT seq FROM documents "
                 "JOIN _gone USING (id))")
        self._insert("extractions", {
            "seq": pa.array([seqs[doc_id] for doc_id in kept], pa.int64()),
            "reference": pa.array([reference for reference, _, _ in kept.values()], pa.string()),
            "body": pa.array([json.dumps({"mentions": [to_json_dict(m) for m in mentions],
                                          "names": names}, ensure_ascii=False)
                              for _, mentions, names in kept.values()], pa.string())})

    # -- input errors -------------------------------------------------------------------------
    def add_errors(self, errors: list[InputError]) -> None:
        if errors:
            self._wrote = True
            self.con.executemany("INSERT INTO errors VALUES (?, ?, ?)",
                                 [(e.source, e.reason, e.record) for e in errors]).fetchall()

    def errors(self) -> list[InputError]:
        return [InputError(s, r, rec) for s, r, rec in
                self.con.execute("SELECT source, reason, record FROM errors").fetchall()]


_TURNS: dict[Path, list[int]] = {}  # lock file -> [its descriptor, stores holding the turn]
_TURNS_GUARD = threading.Lock()


class _Turn:
    """A process's turn at an index file: a `flock` on the lock file beside it, shared for a
    reader and exclusive for a writer, taken before DuckDB opens the file and given back after
    DuckDB has closed it.

    DuckDB's own lock already keeps a reader and a writer apart, but it is a POSIX record
    lock, and a process loses those on a file whenever it closes any descriptor of that file,
    not only DuckDB's. A `flock` belongs to its own open file, so nothing else the process
    does can drop it (on Windows, without `fcntl`, DuckDB's lock is the system's mandatory one
    and no turn is taken). Stores of one file in one process share the turn (as they share
    DuckDB's database), held until the last gives it back. Without a lock file to use (a folder a
    reader may not write to), a turn is always granted and DuckDB's lock alone decides."""

    def __init__(self, path: Path | None, exclusive: bool) -> None:
        self.path = None if path is None or fcntl is None else path.absolute()
        self.exclusive = exclusive
        self._holding = False

    def take(self) -> bool:
        """True when this store now holds its process's turn (or when there is no lock file to
        take it on); False when another process holds a turn this one must wait for."""
        if self._holding or self.path is None:
            return True
        with _TURNS_GUARD:
            return self._take()

    def _take(self) -> bool:
        held = _TURNS.get(self.path)
        if held is None:
            fd = _lock_file(self.path)
            if fd is None:
                return True
            try:
                fcntl.flock(fd, (fcntl.LOCK_EX if self.exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                return False
            held = _TURNS[self.path] = [fd, 0]
        held[1] += 1
        self._holding = True
        return True

    def give_back(self) -> None:
        if not self._holding:
            return
        with _TURNS_GUARD:
            self._holding = False
            held = _TURNS[self.path]
            held[1] -= 1
            if held[1] == 0:
                del _TURNS[self.path]
                fcntl.flock(held[0], fcntl.LOCK_UN)  # for every copy a forked worker holds
                os.close(held[0])


def _lock_file(path: Path) -> int | None:
    """A descriptor of the lock file, made when missing; None when it can be neither made
    nor opened."""
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        try:
            return os.open(path, os.O_RDONLY)
        except OSError:
            return None


def _touch(path: Path | None) -> None:
    try:
        if path is not None:
            path.touch()
    except OSError:  # a read-only folder: the writer will not know; the wait times out
        pass


def _remove(path: Path | None) -> None:
    try:
        if path is not None:
            path.unlink(missing_ok=True)
    except OSError:
        pass


def _fresh(path: Path) -> bool:
    try:
        return time.time() - os.stat(path).st_mtime < _FRESH_SECONDS
    except OSError:
        return False


def _shared_counts(q_of_row: np.ndarray, key_of_row: np.ndarray, hit_key: np.ndarray,
                   hit_seq: np.ndarray, n_keys: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How many keys each (query, stored document) pair shares, as a SQL join of the query's
    rows with the stored rows would count them: query rows (q_of_row, key_of_row: the index
    of their key among `n_keys` wanted keys) and the stored rows holding those keys (hit_key:
    the same index, hit_seq: the holder's position). Arrays (query, position, count), sorted
    by query, then position."""
    order = np.argsort(hit_key, kind="stable")
    starts = np.searchsorted(hit_key[order], np.arange(n_keys + 1))
    per_row = starts[key_of_row + 1] - starts[key_of_row]
    pair_seq = np.asarray(hit_seq, dtype=np.int64)[order[ranges(starts[key_of_row], per_row)]]
    if not len(pair_seq):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    width = int(pair_seq.max()) + 1
    pair, shared = np.unique(np.repeat(q_of_row, per_row) * width + pair_seq,
                             return_counts=True)
    return pair // width, pair % width, shared


__all__ = ["DuckDBStore"]

