"""A run's outputs in one call: result.json, the Parquet tables and report.html, drawn in
independent parts on an engine's workers when it has several.

At 5,000 bench documents (bench/scale.py) the outputs cost one process ~10 CPU s, after every
stage is done: report.html ~8 (its story sections ~7: each copy's word diff and the story's
macro), result.json ~2. The parts need nothing from each other: result.json, the Parquet
tables, the page around the stories, and the stories' sections in parts of about equal size.
Each worker gets the finished Result once (`Engine.map_shared`) and sends back bytes or text;
this process joins the page and writes the files. result.json and the Parquet tables are the
exception on the local engine, whose workers share this machine's files: their workers write
them (result.json a record at a time, `write_json`; the tables one at a time) instead of
sending them back whole (result.json is ~1 GB at 100,000 bench documents, which this process
would hold, and the worker twice over while making it); a Ray worker may be on another machine
and sends the bytes. The files are those the serial writers write, byte for byte
(tests/test_report.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storytrace.model import Result
from storytrace.report.export import (
    _write_bytes,
    parquet_tables,
    result_json,
    write_json,
    write_parquet,
)
from storytrace.report.html import (
    MAX_RELATIONS,
    MAX_STORIES,
    Report,
    drawn_stories,
    html_report,
    page_html,
    page_pieces,
    story_sections,
)

if TYPE_CHECKING:
    from storytrace.engines import Engine

# Story sections per worker: stories differ in size by 100x, so parts of about equal document
# counts, several a worker, keep one part of big stories from leaving the others idle.
PARTS_PER_WORKER = 4


@dataclass(slots=True)
class _Outputs:
    """What every part reads (sent to each worker once)."""

    result: Result
    report: Report | None
    max_relations: int
    directory: Path | None  # where workers write result.json and the tables (local engine)


def write_outputs(result: Result, directory: Path, *, parquet: bool = True, html: bool = True,
                  max_stories: int = MAX_STORIES, max_relations: int = MAX_RELATIONS,
                  engine: Engine | None = None) -> None:
    """Write result.json, the Parquet tables (`parquet`: in directory/parquet) and report.html
    (`html`; `max_stories` drawn in full) into `directory`, on the engine's workers when it
    has several. The same files at any number of workers."""
    from storytrace.report import write_html

    directory = Path(directory)
    if engine is None or engine.workers == 1:
        write_json(result, directory / "result.json")
        if parquet:
            write_parquet(result, directory / "parquet")
        if html:
            write_html(result, directory / "report.html", max_stories=max_stories,
                       max_relations=max_relations)
        return
    report = html_report(result, max_stories) if html else None
    stories = drawn_stories(report) if report is not None else []
    parts: list[tuple[str, Any]] = [("json", None)]
    if parquet:
        parts.append(("parquet", None))
    if report is not None:
        parts.append(("page", len(stories)))
        parts += [("stories", ids) for ids in _story_parts(stories, engine.workers)]
    shared = _Outputs(result, report, max_relations,
                      directory if engine.name == "local" else None)
    sections: list[bytes] = []
    page = None
    for (kind, _), made in zip(parts, engine.map_shared(_draw, shared, parts), strict=True):
        if made is None:  # the worker wrote it
            continue
        if kind == "json":
            _write_bytes(directory / "result.json", made)
        elif kind == "parquet":
            (directory / "parquet").mkdir(parents=True, exist_ok=True)
            for name, data in made.items():
                (directory / "parquet" / f"{name}.parquet").write_bytes(data)
        elif kind == "page":
            page = made
        else:
            sections += made
    if page is not None:
        _write_bytes(directory / "report.html", page_pieces(page, sections))


def _story_parts(stories: list, workers: int) -> list[list[str]]:
    """The drawn stories' ids in consecutive parts of about equal document counts."""
    from storytrace.engines import weighted_parts

    sizes = [len(s.documents) for s in stories]
    share = max(1, sum(sizes) // (PARTS_PER_WORKER * workers))
    return weighted_parts([s.id for s in stories], sizes, share)


def _draw(outputs: _Outputs, part: tuple[str, Any]) -> Any:
    """One part of the outputs, as bytes: result.json, the Parquet tables, the page around
    the stories, or some stories' sections (UTF-8)."""
    kind, what = part
    written = outputs.directory
    if kind == "json":
        if written is not None:
            write_json(outputs.result, written / "result.json")
            return None
        return result_json(outputs.result)
    if kind == "parquet":
        if written is not None:
            write_parquet(outputs.result, written / "parquet")
            return None
        return parquet_tables(outputs.result)
    report = outputs.report
    if kind == "page":
        return page_html(report, outputs.max_relations, what).encode("utf-8")
    return [s.encode("utf-8") for s in story_sections(report, [report.stories[i] for i in what])]


__all__ = ["write_outputs"]
