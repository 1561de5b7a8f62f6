"""Machine-readable output: result.json (the contract) and Parquet tables for analysis tools."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from storytrace.model import (
    Attribution,
    Conflict,
    ConflictValue,
    DocumentResult,
    Fact,
    Family,
    FamilyMember,
    InputError,
    Relation,
    RemovedLine,
    Result,
    Signals,
    Story,
)


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


def result_from_dict(data: dict[str, Any]) -> Result:
    """A `Result` back from its result.json form (`Result.to_dict()`); unknown fields, which
    later versions may add, are ignored."""

    def pick(cls: type, row: dict[str, Any], **nested: Any) -> Any:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in row.items() if k in names} | nested)

    documents = [
        pick(
            DocumentResult,
            d,
            removed=[pick(RemovedLine, x) for x in d.get("removed", [])],
            signals=pick(Signals, d.get("signals") or {}),
            attribution=[pick(Attribution, a) for a in d.get("attribution", [])],
        )
        for d in data.get("documents", [])
    ]
    families = [
        pick(Family, f, members=[pick(FamilyMember, m) for m in f.get("members", [])])
        for f in data.get("families", [])
    ]
    stories = [
        pick(
            Story,
            s,
            facts=[pick(Fact, x) for x in s.get("facts", [])],
            conflicts=[
                pick(Conflict, c, values=[pick(ConflictValue, v) for v in c.get("values", [])])
                for c in s.get("conflicts", [])
            ],
        )
        for s in data.get("stories", [])
    ]
    return Result(
        documents,
        [pick(Relation, r) for r in data.get("relations", [])],
        families,
        stories,
        [pick(InputError, e) for e in data.get("errors", [])],
        data.get("stats", {}),
    )


def read_json(path: Path) -> Result:
    """Read a result.json written by `write_json` back into a `Result`."""
    with Path(path).open(encoding="utf-8") as handle:
        return result_from_dict(json.load(handle))
