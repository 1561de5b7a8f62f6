"""Machine-readable output: result.json (the contract) and Parquet tables for analysis tools."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from storytrace.model import Result


def write_json(result: Result, path: Path) -> None:
    """Write the result.json contract (`Result.to_dict()`), UTF-8, human-diffable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(result.to_dict(), handle, ensure_ascii=False, indent=1)
    tmp.replace(path)  # a reader never sees a half-written file


def write_parquet(result: Result, directory: Path) -> list[Path]:
    """One flat table per entity (documents, relations, families, stories, facts, conflicts, errors).

    Nested lists stay nested (Arrow list/struct columns), so DuckDB or pandas can query them.
    """
    directory.mkdir(parents=True, exist_ok=True)
    data = result.to_dict()
    tables = {
        "documents": data["documents"],
        "relations": data["relations"],
        "families": data["families"],
        "stories": [{k: v for k, v in s.items() if k not in ("facts", "conflicts")}
                    for s in data["stories"]],
        "facts": [dict(fact, story=s["id"]) for s in data["stories"] for fact in s["facts"]],
        "conflicts": [dict(c, story=s["id"]) for s in data["stories"] for c in s["conflicts"]],
        "errors": data["errors"],
    }
    written = []
    for name, rows in tables.items():
        # Empty dict columns cannot be typed by Arrow; store metrics as JSON text.
        rows = [{k: (json.dumps(v) if k == "metrics" else v) for k, v in row.items()} for row in rows]
        table = pa.Table.from_pylist(rows) if rows else pa.table({})
        target = directory / f"{name}.parquet"
        pq.write_table(table, target)
        written.append(target)
    return written
