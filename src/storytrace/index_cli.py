"""`storytrace index add|query|rm|export|stats|check`: the persistent index from the shell.

Thin, like cli.py: parse arguments, call `storytrace.index.Index`, print.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

index_app = typer.Typer(
    help="A persistent index (one DuckDB file) that grows article by article.",
    no_args_is_help=True,
)
err = Console(stderr=True, soft_wrap=True)  # a path in a message is never cut in two
out = Console()

IndexPath = Annotated[Path, typer.Argument(help="The index file (created by the first add).")]
# DuckDB lets one process write a file and none read it meanwhile: a command that finds the
# index taken waits for the other process's next commit (store/duckdb.py), up to this long.
Wait = Annotated[float, typer.Option(
    min=0, metavar="SECONDS",
    help="How long to wait while another process has the index open (an add lets others in "
         "between its batches).")]


def _open(path: Path, read_only: bool = False, engine=None, wait: float = 60.0):
    from storytrace.index import Index
    from storytrace.store import StoreError

    if read_only and not path.exists():
        err.print(f"[red]error:[/] {escape(str(path))}: no such index")
        raise typer.Exit(2)
    try:
        return Index.open(path, read_only=read_only, engine=engine, wait=wait)
    except StoreError as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from exc


@index_app.command("add")
def add(
    index: IndexPath,
    inputs: Annotated[list[Path], typer.Argument(help="Files or directories to add.")],
    batch_size: Annotated[int, typer.Option(min=1, help="Documents per transaction.")] = 1000,
    id_field: Annotated[str, typer.Option(help="JSONL/Parquet id field.")] = "id",
    text_field: Annotated[str, typer.Option(help="JSONL/Parquet text field.")] = "text",
    url_field: Annotated[str | None, typer.Option(help="JSONL/Parquet URL field.")] = "url",
    date_field: Annotated[str | None, typer.Option(help="JSONL/Parquet date field.")] = "date",
    title_field: Annotated[str | None, typer.Option(help="JSONL/Parquet title field.")] = "title",
    html_field: Annotated[str | None, typer.Option(help="JSONL/Parquet raw HTML field.")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, metavar="N", show_default=False,
        help="Worker processes for cleaning and signals (default: every core); the index is "
             "the same at any number.")] = None,
    engine: Annotated[str, typer.Option(
        "--engine", help="local or ray (pip install 'storytrace\\[ray]').")] = "local",
    ray_address: Annotated[str | None, typer.Option(
        metavar="ADDRESS", help="With --engine ray: a Ray cluster to join.")] = None,
    wait: Wait = 60.0,
) -> None:
    """Add documents: each batch is one transaction; documents already there are skipped.

    Exit codes: 0 every input read; 1 some input rejected (listed, and kept in the index's
    errors) or nothing to add; 2 usage error (an input that does not exist, an index that
    cannot be opened).
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from storytrace.ingest import FieldMap

    missing = [str(p) for p in inputs if not p.exists() and not p.is_symlink()]
    if missing:
        err.print(f"[red]error:[/] no such file or directory: {escape(', '.join(missing))}")
        raise typer.Exit(2)

    fields = FieldMap(id=id_field, text=text_field, url=url_field, date=date_field,
                      title=title_field, html=html_field)
    started = time.perf_counter()
    from storytrace.engines import get_engine
    from storytrace.errors import StorytraceError
    from storytrace.store import StoreError

    try:
        runner = get_engine(engine, workers, ray_address)
    except StorytraceError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    with runner, _open(index, engine=runner, wait=wait) as idx, Progress(
        TextColumn("{task.description:<6}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(), console=err, disable=not sys.stderr.isatty(), transient=True,
    ) as bar:
        task = bar.add_task("add", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            summary = _add_isolated(idx, inputs, fields, batch_size, progress)
        except StoreError as exc:  # waited too long for another process between two batches
            err.print(f"[red]error:[/] {escape(str(exc))}; the batches committed before stay")
            raise typer.Exit(2) from exc
        counts = idx.stats()
    for error in summary.errors:
        where = error.source + (f" ({error.record})" if error.record else "")
        err.print(f"[yellow]warning:[/] skipped {escape(where)}: {escape(error.reason)}")
    seconds = time.perf_counter() - started
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_row("added", str(len(summary.added)))
    table.add_row("already there", str(len(summary.skipped)))
    table.add_row("relations", str(summary.relations))
    table.add_row("families touched", str(summary.families_touched))
    table.add_row("stories touched", str(summary.stories_touched))
    table.add_row("errors", str(len(summary.errors)))
    table.add_row("index", f"{counts['documents']} documents, {counts['families']} families, "
                           f"{counts['stories']} stories")
    table.add_row("time", f"{seconds:.1f} s")
    out.print(table)
    if summary.errors or (not summary.added and not summary.skipped):
        raise typer.Exit(1)


def _add_isolated(idx, inputs: list[Path], fields, batch_size: int, progress):
    """`Index.add`, where a document that makes a stage fail is added to the errors instead
    and the add made again without it (the batches already committed are skipped then), as
    `storytrace.guard` does for analyze."""
    from storytrace.errors import StorytraceError
    from storytrace.guard import RawTexts, breaking_documents, failing_documents
    from storytrace.ingest import read_inputs
    from storytrace.model import InputError
    from storytrace.pipeline import analyze_documents
    from storytrace.store import StoreError

    read = read_inputs(inputs, fields)
    docs, errors, rejected = read.documents, read.errors, []
    # Handed over: the index empties each raw text once cleaned; they wait on disk for a retry.
    with RawTexts(docs) as saved:
        while True:
            try:
                summary = idx.add(docs, fields=fields, batch_size=batch_size, progress=progress,
                                  errors=errors, hand_over=True)
            except (StorytraceError, StoreError):
                raise
            except Exception as exc:
                saved.restore()
                failing = failing_documents(docs) or breaking_documents(
                    docs, lambda part: analyze_documents(part, [], story_mode="streaming"), exc)
                if not failing:
                    raise
                bad = {id(doc) for doc, _ in failing}
                docs = [doc for doc in docs if id(doc) not in bad]
                errors = [InputError(doc.source, reason, record=f"document {doc.id}")
                          for doc, reason in failing]  # the first errors are stored already
                rejected += errors
                continue
            summary.errors = [*read.errors, *rejected] if rejected else summary.errors
            return summary


@index_app.command("query")
def query(
    index: IndexPath,
    file: Annotated[str, typer.Argument(help="A text file, or - for standard input.")],
    wait: Wait = 60.0,
) -> None:
    """What this text would join (relations, family, origin, story), as JSON; nothing stored.

    The file is read as analyze reads one (.txt, .html, optionally .gz, .bz2, .xz or .zst; any encoding), within
    the same limits; one that cannot be read (a FIFO, a binary file) is exit 2 with the reason.

    Each call is a process that opens the index and looks the text's keys up by scanning the
    key tables: about 3 s at 100,000 documents on 2 cores (2.7-3.5 s; under 1 s of imports, the rest a
    first query in a cold process). For many queries keep one process: `storytrace serve`, or in Python
    `Index.open(path, read_only=True, keys_in_memory=True)`, whose first query reads the
    keys into memory (12-16 s, a 1.9 GB peak, 1.5-1.7 GB after, at 100,000 documents) and
    the next take tens of milliseconds (bench/index.py).
    """
    from storytrace.ingest import LIMITS, read_inputs
    from storytrace.ingest.decode import DecodeError, decode_text
    from storytrace.model import Document

    if file == "-":
        data = sys.stdin.buffer.read(LIMITS.max_document_bytes + 1)
        try:
            text: str | Document = decode_text(data)
        except DecodeError as exc:
            err.print(f"[red]error:[/] standard input: {escape(str(exc))}")
            raise typer.Exit(2) from exc
    else:
        read = read_inputs([Path(file)])
        if read.errors or len(read.documents) != 1:
            why = read.errors[0].reason if read.errors else \
                f"{len(read.documents)} documents, not one"
            err.print(f"[red]error:[/] {escape(file)}: cannot read: {escape(why)}")
            raise typer.Exit(2)
        doc = read.documents[0]  # named "query", as a text from standard input is
        text = Document("query", doc.raw, doc.source, doc.format, doc.url, doc.title, doc.date)
    with _open(index, read_only=True, wait=wait) as idx:
        found = idx.query(text)
    print(json.dumps(found.to_dict(), ensure_ascii=False, indent=1))


@index_app.command("rm")
def rm(
    index: IndexPath,
    ids: Annotated[list[str], typer.Argument(help="Document ids to remove.")],
    wait: Wait = 60.0,
) -> None:
    """Remove documents; their families are re-traced and their stories rebuilt."""
    with _open(index, wait=wait) as idx:
        removed = idx.rm(ids)
    missing = sorted(set(ids) - set(removed))
    out.print(f"removed {len(removed)} document(s)")
    if missing:
        err.print(f"[yellow]warning:[/] not in the index: {', '.join(missing)}")
        raise typer.Exit(1)


@index_app.command("export")
def export(
    index: IndexPath,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Directory for the results.")],
    parquet: Annotated[bool, typer.Option(help="Also write Parquet tables.")] = True,
    html: Annotated[bool, typer.Option(help="Write report.html.")] = True,
    report_stories: Annotated[int, typer.Option(min=0, help="Stories drawn in full.")] = 500,
    wait: Wait = 60.0,
) -> None:
    """Write result.json, Parquet and report.html of everything in the index (as analyze).

    --out is replaced as a whole, as analyze replaces it (exit 2 when it cannot be used)."""
    from storytrace.errors import OutputError
    from storytrace.outputs import atomic_output, check_out
    from storytrace.report import write_html, write_json, write_parquet

    try:
        check_out(out_dir, [index])
        with _open(index, read_only=True, wait=wait) as idx:
            result = idx.export()
        with atomic_output(out_dir) as work:
            write_json(result, work / "result.json")
            if parquet:
                write_parquet(result, work / "parquet")
            if html:
                write_html(result, work / "report.html", max_stories=report_stories)
    except OutputError as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from exc
    out.print(f"results: {escape(str(out_dir / 'result.json'))}")


@index_app.command("stats")
def stats(index: IndexPath, wait: Wait = 60.0) -> None:
    """Counts of documents, relations, families and stories; format version; size on disk."""
    with _open(index, read_only=True, wait=wait) as idx:
        found = idx.stats()
    table = Table(show_header=False, box=None, pad_edge=False)
    for key, value in found.items():
        table.add_row(key, str(value))
    out.print(table)


@index_app.command("check")
def check(index: IndexPath, wait: Wait = 60.0) -> None:
    """Integrity check: exit 1 and list the problems when the index is not sound."""
    with _open(index, read_only=True, wait=wait) as idx:
        problems = idx.check()
    for problem in problems:
        err.print(problem)
    out.print("ok" if not problems else f"{len(problems)} problem(s)")
    if problems:
        raise typer.Exit(1)


__all__ = ["index_app"]
