"""Machine-readable output: result.json (the contract) and Parquet tables for analysis tools."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from storytrace.model import (
    Result,
    result_from_dict,
)


def write_json(result: Result, path: Path) -> None:
    """Write the result.json contract (`Result.to_dict()`), UTF-8, human-diffable, a record
    at a time: the file is never whole in memory (at 100,000 bench documents it is ~1 GB,
    and held as one str it takes up to 4 bytes a character)."""
    _write_bytes(path, (piece.encode("utf-8") for piece in result_json_pieces(result)))


def result_json(result: Result) -> bytes:
    """result.json's bytes: `Result.to_dict()` as indented JSON, UTF-8."""
    return "".join(result_json_pieces(result)).encode("utf-8")


def result_json_pieces(result: Result) -> Iterator[str]:
    """result.json's text in pieces of one record each: together, `Result.to_dict()` as
    `json.dumps(..., ensure_ascii=False, indent=1)` writes it, character for character.

    Indented JSON has a line break only between tokens (a break inside a string is written
    `\\n`), so a record dumped alone is the same text as inside the whole once every line
    after its first is indented by its depth.
    """
    yield '{\n "version": 1'
    for name, items in result.records().items():
        yield f',\n "{name}": '
        if not items:
            yield "[]"
            continue
        for k, item in enumerate(items):
            yield ("[\n  " if k == 0 else ",\n  ") + _dumped(asdict(item), "\n  ")
        yield "\n ]"
    yield ',\n "stats": ' + _dumped(result.stats, "\n ") + "\n}"


def _dumped(value: Any, line_break: str) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1).replace("\n", line_break)


def write_parquet(result: Result, directory: Path) -> list[Path]:
    """One flat table per entity (documents, relations, families, stories, facts, conflicts, errors).

    Nested lists stay nested (Arrow list/struct columns), so DuckDB or pandas can query them.
    One table's rows at a time are in memory, written straight to their file.
    """
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, table in _tables(result):
        target = directory / f"{name}.parquet"
        pq.write_table(table, target)
        written.append(target)
    return written


def parquet_tables(result: Result) -> dict[str, bytes]:
    """The bytes of each Parquet table `write_parquet` writes, by table name."""
    found = {}
    for name, table in _tables(result):
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        found[name] = sink.getvalue().to_pybytes()
    return found


def _tables(result: Result) -> Iterator[tuple[str, pa.Table]]:
    """Each Parquet table, one at a time: its rows are let go once it is made."""
    for name, rows in _table_rows(result):
        table = _table(name, rows)
        del rows
        yield name, table


def _table_rows(result: Result) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Each Parquet table's rows (as `Result.to_dict()` holds them), one table at a time."""
    records = result.records()
    for name in ("documents", "relations", "families"):
        yield name, [asdict(r) for r in records[name]]
    stories = [asdict(s) for s in records["stories"]]
    yield "stories", [{k: v for k, v in s.items() if k not in ("facts", "conflicts")}
                      for s in stories]
    yield "facts", [dict(fact, story=s["id"]) for s in stories for fact in s["facts"]]
    yield "conflicts", [dict(c, story=s["id"]) for s in stories for c in s["conflicts"]]
    del stories
    yield "errors", [asdict(e) for e in records["errors"]]


def _write_bytes(path: Path, data: bytes | Iterable[bytes]) -> None:
    """Write `data` (or its pieces, one after the other) to `path`, whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("wb") as out:
        out.writelines([data] if isinstance(data, bytes) else data)
    tmp.replace(path)  # a reader never sees a half-written file


# The columns of a table with no rows, so that DuckDB, pandas and Arrow still read it (a table
# without columns is not valid for them): the flat fields of each entity as strings.
EMPTY_COLUMNS = {
    "documents": ["id", "source", "title", "clean_text", "family", "story", "url", "date",
                  "language"],
    "relations": ["a", "b", "kind"],
    "families": ["id", "origin", "outlet"],
    "stories": ["id", "title"],
    "facts": ["kind", "value", "text", "about", "speaker", "story"],
    "conflicts": ["about", "kind", "story"],
    "errors": ["source", "reason", "record"],
}  # fmt: skip


def _table(name: str, rows: list[dict[str, Any]]) -> pa.Table:
    if not rows:
        return pa.table({c: pa.array([], pa.string()) for c in EMPTY_COLUMNS[name]})
    if name != "relations":
        return pa.Table.from_pylist(rows)
    # A relation's metrics are an Arrow struct, as in result.json (an object, not JSON text);
    # no metrics is null (Arrow has no struct without fields).
    rows = [dict(row, metrics=row.get("metrics") or None) for row in rows]
    try:
        return pa.Table.from_pylist(rows)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # One metric with values of two types (a number here, text there): as text, all of it.
        return pa.Table.from_pylist(
            [dict(row, metrics=_as_text(row["metrics"])) for row in rows]
        )


def _as_text(metrics: dict[str, Any] | None) -> dict[str, str] | None:
    if metrics is None:
        return None
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in metrics.items()}


def read_json(path: Path) -> Result:
    """Read a result.json written by `write_json` back into a `Result`."""
    with Path(path).open(encoding="utf-8") as handle:
        return result_from_dict(json.load(handle))
