"""The `storytrace` command: thin — parse arguments, call the library, print."""

from __future__ import annotations

import sys
import time
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from storytrace.index_cli import index_app
from storytrace.ingest import FieldMap, read_inputs
from storytrace.pipeline import analyze_documents
from storytrace.report import write_html, write_json, write_parquet
from storytrace.service.cli import serve

app = typer.Typer(
    help="Untangle piles of scraped news: clean text, copy families, origins, stories and facts.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(index_app, name="index")
err = Console(stderr=True)
out = Console()

Inputs = Annotated[
    list[Path],
    typer.Argument(help="Files, directories (walked recursively) or JSONL/Parquet/WARC files."),
]


class StoryMode(str, Enum):
    """How `analyze` groups families into stories (storytrace.pipeline.STORY_MODES)."""

    batch = "batch"
    streaming = "streaming"


IdField = Annotated[str, typer.Option(help="JSONL/Parquet field holding the document id.")]
TextField = Annotated[str, typer.Option(help="JSONL/Parquet field holding the text.")]
UrlField = Annotated[str | None, typer.Option(help="JSONL/Parquet field holding the URL.")]
DateField = Annotated[str | None, typer.Option(help="JSONL/Parquet field holding the date.")]
TitleField = Annotated[str | None, typer.Option(help="JSONL/Parquet field holding the title.")]
HtmlField = Annotated[
    str | None, typer.Option(help="JSONL/Parquet field holding raw HTML (used instead of text).")
]


def _fields(id_field, text_field, url_field, date_field, title_field, html_field) -> FieldMap:
    return FieldMap(
        id=id_field, text=text_field, url=url_field, date=date_field, title=title_field,
        html=html_field,
    )


def _report_input_problems(errors, skipped) -> None:
    for error in errors:
        where = error.source + (f" ({error.record})" if error.record else "")
        err.print(f"[yellow]warning:[/] skipped {where}: {error.reason}")
    if skipped:
        err.print(f"[dim]ignored {len(skipped)} file(s) of unknown type, e.g. {skipped[0]}[/]")


@app.command()
def analyze(
    inputs: Inputs,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Directory for the results.")],
    id_field: IdField = "id",
    text_field: TextField = "text",
    url_field: UrlField = "url",
    date_field: DateField = "date",
    title_field: TitleField = "title",
    html_field: HtmlField = None,
    parquet: Annotated[bool, typer.Option(help="Also write Parquet tables.")] = True,
    html: Annotated[bool, typer.Option(help="Write report.html.")] = True,
    report_stories: Annotated[int, typer.Option(
        min=0, help="Draw this many of the largest stories in full in report.html and list "
                    "the others a line each (result.json always holds everything).")] = 500,
    embeddings: Annotated[Path | None, typer.Option(
        help="Static embedding model directory (see distill-embeddings) mixed into story "
             "clustering; needs the 'embeddings' extra.")] = None,
    stories: Annotated[StoryMode, typer.Option(
        help="batch: cluster all families at once; streaming: take them in date order, each "
             "joining a story or opening one, as a live feed would.")] = StoryMode.batch,
) -> None:
    """Find copies, origins, stories and facts; write result.json and report.html to --out."""
    started = time.perf_counter()
    embedder = _load_embedder(embeddings) if embeddings is not None else None
    fields = _fields(id_field, text_field, url_field, date_field, title_field, html_field)
    read = read_inputs(inputs, fields)
    _report_input_problems(read.errors, read.skipped)
    if not read.documents:
        err.print("[red]error:[/] no readable documents in the inputs")
        if read.errors:
            err.print("every input failed to read; see the warnings above")
    show_bar = sys.stderr.isatty()
    with Progress(
        TextColumn("{task.description:<10}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(), console=err, disable=not show_bar, transient=True,
    ) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        result = analyze_documents(
            read.documents, read.errors, progress=progress, embedder=embedder,
            story_mode=stories.value,
        )  # fmt: skip
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(result, out_dir / "result.json")
    if parquet:
        write_parquet(result, out_dir / "parquet")
    if html:
        write_html(result, out_dir / "report.html", max_stories=report_stories)
    _print_summary(result, out_dir, time.perf_counter() - started)
    if not read.documents:
        raise typer.Exit(1)


def _load_embedder(path: Path):
    from storytrace.cluster.embeddings import load_static_model
    from storytrace.errors import StorytraceError

    try:
        return load_static_model(path)
    except StorytraceError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc


def _print_summary(result, out_dir: Path, seconds: float) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_row("documents", str(len(result.documents)))
    copies = sum(1 for f in result.families if len(f.members) > 1)
    table.add_row("families", f"{len(result.families)} ({copies} with copies)")
    table.add_row("stories", str(len(result.stories)))
    table.add_row("relations", str(len(result.relations)))
    conflicts = sum(len(s.conflicts) for s in result.stories)
    table.add_row("conflicts", str(conflicts))
    if result.errors:
        table.add_row("errors", f"[yellow]{len(result.errors)}[/]")
    table.add_row("time", f"{seconds:.1f} s")
    out.print(table)
    out.print(f"results: {out_dir / 'result.json'}")
    if (out_dir / "report.html").exists():
        out.print(f"report:  {out_dir / 'report.html'}")


@app.command()
def dedup(
    inputs: Inputs,
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Directory for the deduplicated corpus.")],
    mode: Annotated[str, typer.Option(
        help='"lexical": MinHash LSH at --threshold (what datasketch does, fast); "full": also '
             "verify candidates by sentence alignment, removing spun, translated, truncated "
             "and edited copies too.")] = "lexical",
    threshold: Annotated[float, typer.Option(
        help="Jaccard of word 5-grams above which the lexical mode calls two texts copies.")] = 0.8,
    id_field: IdField = "id",
    text_field: TextField = "text",
    url_field: UrlField = "url",
    date_field: DateField = "date",
    title_field: TitleField = "title",
    html_field: HtmlField = None,
) -> None:
    """Write the corpus with one representative per copy family, plus a mapping file (streaming)."""
    import json

    from storytrace.dedup import DedupOptions
    from storytrace.dedup import dedup as run_dedup
    from storytrace.ingest import iter_inputs
    from storytrace.model import Document, InputError

    try:
        options = DedupOptions(mode=mode, threshold=threshold)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    fields = _fields(id_field, text_field, url_field, date_field, title_field, html_field)
    errors: list[InputError] = []

    def documents():
        for item in iter_inputs(inputs, fields):
            if isinstance(item, Document):
                yield item
            elif isinstance(item, InputError):
                errors.append(item)
                _report_input_problems([item], [])

    started = time.perf_counter()
    stats = run_dedup(documents(), out_dir, options)
    errors_path = out_dir / "errors.jsonl"
    with errors_path.open("w", encoding="utf-8") as fh:
        for e in errors:
            fh.write(json.dumps({"source": e.source, "record": e.record, "reason": e.reason}) + "\n")
    seconds = time.perf_counter() - started
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_row("documents", str(stats.documents))
    table.add_row("kept", f"{stats.representatives} (one per family)")
    copies = ", ".join(f"{n} {k}" for k, n in sorted(stats.kinds.items()) if k != "representative")
    table.add_row("removed", f"{stats.duplicates}" + (f" ({copies})" if copies else ""))
    table.add_row("errors", str(len(errors)))
    rate = stats.documents / seconds if seconds else 0.0
    table.add_row("time", f"{seconds:.1f} s ({rate:,.0f} docs/s, {options.mode} mode)")
    out.print(table)
    out.print(f"corpus:  {stats.documents_path}")
    out.print(f"mapping: {stats.mapping_path}")
    if errors:
        out.print(f"errors:  {errors_path}")
    if not stats.documents:
        err.print("[red]no readable document in the input[/]")
        raise typer.Exit(1)


@app.command("distill-embeddings")
def distill_embeddings(
    out_dir: Annotated[Path, typer.Argument(help="Directory to write the model to.")],
) -> None:
    """Make a static embedding model for --embeddings from the packaged all-MiniLM-L6-v2, offline.

    Needs the 'distill' extra (a CPU build of torch); takes about 20 s and writes about 15 MB.
    """
    from storytrace.cluster.embeddings import distill_static_model
    from storytrace.errors import StorytraceError

    started = time.perf_counter()
    try:
        path = distill_static_model(out_dir)
    except StorytraceError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    out.print(f"model: {path} ({time.perf_counter() - started:.0f} s)")


app.command("serve")(serve)  # storytrace/service/cli.py: the index over HTTP


if __name__ == "__main__":
    app()
