"""The `storytrace` command: thin — parse arguments, call the library, print.

Exit codes: 0 every input was read, 1 some input was rejected (or none was readable), 2 a
usage error (a bad option, an input path that does not exist, an --out that cannot be used).
The pipeline is imported inside the commands, so `--help` and `--version` start light.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from storytrace.index_cli import index_app
from storytrace.service.cli import serve

if TYPE_CHECKING:
    from storytrace.model import Document, InputError


def _plain_help() -> None:
    """typer prints a Python type beside every parameter ("<list[Path]>", "<bool>") and braces
    around required arguments ("{inputs}..."); our help names each value by its metavar
    ("INPUT...", "DIR") and shows flags bare. Skipped if typer's internals change."""
    from typer import core

    option, argument = getattr(core, "TyperOption", None), getattr(core, "TyperArgument", None)
    if not all(hasattr(c, "display_type_rich") for c in (option, argument)):
        return
    option_type, argument_type = option.display_type_rich, argument.display_type_rich

    def option_display(self, ctx):
        return None if self.is_flag and self.metavar is None else option_type(self, ctx)

    def argument_display(self, ctx):
        return None if self.metavar is not None else argument_type(self, ctx)

    option.display_type_rich = option_display
    argument.display_type_rich = argument_display
    if hasattr(argument, "_usage_display_name"):
        usage_name = argument._usage_display_name
        argument._usage_display_name = (
            lambda self: self.metavar if self.metavar is not None else usage_name(self))


_plain_help()

app = typer.Typer(
    help="Untangle piles of scraped news: clean text, copy families, origins, stories and facts.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(index_app, name="index")
err = Console(stderr=True, soft_wrap=True)  # a path in a message is never cut in two
out = Console()


@dataclass(slots=True)
class Verbosity:
    """-q / -v, set once by the global options."""

    quiet: bool = False
    verbose: bool = False


verbosity = Verbosity()


def _show_version(value: bool) -> None:
    if value:
        from storytrace import __version__

        out.print(f"storytrace {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option(
        "--version", callback=_show_version, is_eager=True,
        help="Print the version and exit.")] = False,
    quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="Print only errors (and --json output).")] = False,
    verbose: Annotated[bool, typer.Option(
        "--verbose", "-v", help="Print every rejected record, not a summary per file.")] = False,
) -> None:
    """Untangle piles of scraped news: clean text, copy families, origins, stories and facts."""
    verbosity.quiet, verbosity.verbose = quiet, verbose and not quiet


Inputs = Annotated[
    list[Path],
    typer.Argument(metavar="INPUT...", show_default=False,
                   help="Files and directories (walked recursively): .txt, .html, .jsonl, "
                        ".parquet, .warc, each optionally compressed (.gz; .bz2, .xz, .zst but WARC)."),
]
OutDir = Annotated[Path, typer.Option(
    "--out", "-o", metavar="DIR", show_default=False,
    help="Directory for the outputs; a run replaces its contents as a whole.")]


class StoryMode(str, Enum):
    """How `analyze` groups families into stories (storytrace.config.STORY_MODES)."""

    batch = "batch"
    streaming = "streaming"


class DedupMode(str, Enum):
    """How `dedup` decides that a document copies an earlier one."""

    lexical = "lexical"
    full = "full"


IdField = Annotated[str, typer.Option(metavar="NAME",
                                      help="JSONL/Parquet field holding the document id.")]
TextField = Annotated[str, typer.Option(metavar="NAME",
                                        help="JSONL/Parquet field holding the text.")]
UrlField = Annotated[str | None, typer.Option(metavar="NAME",
                                              help="JSONL/Parquet field holding the URL.")]
DateField = Annotated[str | None, typer.Option(metavar="NAME",
                                               help="JSONL/Parquet field holding the date.")]
TitleField = Annotated[str | None, typer.Option(metavar="NAME",
                                                help="JSONL/Parquet field holding the title.")]
HtmlField = Annotated[str | None, typer.Option(
    metavar="NAME", help="JSONL/Parquet field holding raw HTML (used instead of text).")]
Strict = Annotated[bool, typer.Option(
    "--strict", help="Stop at the first input that cannot be read (exit 1), writing nothing.")]
JsonSummary = Annotated[bool, typer.Option(
    "--json", help="Print the summary as one JSON object on stdout.")]


class EngineName(str, Enum):
    """Where the stages' batches run (storytrace.engines)."""

    local = "local"
    ray = "ray"


Workers = Annotated[int | None, typer.Option(
    min=1, metavar="N", show_default=False,
    help="Worker processes (default: every core). 1 runs in this process; the results are "
         "the same at any number.")]
EngineOpt = Annotated[EngineName, typer.Option(
    "--engine", help="local: this machine's processes; ray: a Ray cluster (pip install "
                     "'storytrace\\[ray]'), started on this machine unless --ray-address.")]
RayAddress = Annotated[str | None, typer.Option(
    metavar="ADDRESS", help="With --engine ray: the address of a Ray cluster to join.")]


def _engine(name: EngineName, workers: int | None, ray_address: str | None):
    """The engine the options name; a missing extra or a bad address is a usage error."""
    from storytrace.engines import get_engine
    from storytrace.errors import StorytraceError

    try:
        return get_engine(name.value, workers, ray_address)
    except StorytraceError as exc:
        raise _usage_error(str(exc)) from exc


def _fields(id_field, text_field, url_field, date_field, title_field, html_field):
    from storytrace.ingest import FieldMap

    return FieldMap(
        id=id_field, text=text_field, url=url_field, date=date_field, title=title_field,
        html=html_field,
    )


def _usage_error(message: str) -> typer.Exit:
    err.print(f"[red]error:[/] {escape(message)}")
    return typer.Exit(2)


def _check_paths(inputs: list[Path], out_dir: Path) -> None:
    """Before any work: every named input exists and --out can take the outputs."""
    from storytrace.errors import OutputError
    from storytrace.outputs import check_out

    missing = [str(p) for p in inputs if not p.exists() and not p.is_symlink()]
    if missing:
        raise _usage_error("no such file or directory: " + ", ".join(missing))
    try:
        check_out(out_dir, inputs)
    except OutputError as exc:
        raise _usage_error(str(exc)) from exc


MAX_WARNINGS = 20  # lines of rejected-input warnings before "... and N more"


def _report_input_problems(errors, skipped=()) -> None:
    """Rejected inputs on stderr: one line per file and reason with a count (every record
    with -v), so a wrong --text-field gives one line naming the fields that exist, not 150."""
    if verbosity.quiet:
        return
    if verbosity.verbose:
        for error in errors:
            where = error.source + (f" ({error.record})" if error.record else "")
            err.print(f"[yellow]warning:[/] skipped {escape(where)}: {escape(error.reason)}")
    else:
        groups: dict[tuple[str, str], list] = {}
        for error in errors:
            kind = error.reason.split(" (the row has")[0]
            groups.setdefault((error.source, kind), []).append(error)
        for shown, ((source, _), members) in enumerate(groups.items()):
            if shown == MAX_WARNINGS:
                err.print(f"[yellow]warning:[/] ... and {len(groups) - shown} more kinds of "
                          "problem (every one is in the outputs' errors; -v prints them)")
                break
            first = members[0]
            where = source + (f" ({first.record})" if first.record else "")
            more = (f" [dim](and {len(members) - 1} more records like it)[/]"
                    if len(members) > 1 else "")
            err.print(f"[yellow]warning:[/] skipped {escape(where)}: {escape(first.reason)}{more}")
    if skipped:
        err.print(f"[dim]ignored {len(skipped)} file(s) of unknown type, e.g. "
                  f"{escape(str(skipped[0]))}[/]")


def _read(inputs: list[Path], fields, out_dir: Path, strict: bool):
    """Every document and rejection of the inputs (the output directory never read);
    under --strict, exit 1 at the first rejection."""
    from storytrace.ingest import Inputs, unique_ids

    read = Inputs()
    read.documents.extend(_documents(inputs, fields, out_dir, strict, read.errors, read.skipped))
    unique_ids(read.documents)
    return read


def _documents(inputs: list[Path], fields, out_dir: Path, strict: bool,
               errors: list[InputError], skipped: list[str]) -> Iterator[Document]:
    """The documents of the inputs as they are read (the output directory never read), each
    rejection added to `errors` and each file of unknown type to `skipped`; under --strict,
    exit 1 at the first rejection."""
    from storytrace.ingest import iter_inputs
    from storytrace.model import Document, InputError

    for item in iter_inputs(inputs, fields, exclude=[out_dir]):
        if isinstance(item, Document):
            yield item
        elif isinstance(item, InputError):
            errors.append(item)
            if strict:
                _report_input_problems([item])
                err.print("[red]error:[/] --strict: stopped at the first input that cannot be "
                          "read; nothing written")
                raise typer.Exit(1)
        else:
            skipped.append(str(item))


ANALYZE_EXAMPLES = """Examples:

  storytrace analyze crawl/ --out out/crawl

  storytrace analyze pile.jsonl.gz --text-field body --id-field url --out out/pile --json

  storytrace analyze feed.warc.gz --out out/feed --stories streaming --no-parquet
"""


@app.command(epilog=ANALYZE_EXAMPLES)
def analyze(
    inputs: Inputs,
    out_dir: OutDir,
    id_field: IdField = "id",
    text_field: TextField = "text",
    url_field: UrlField = "url",
    date_field: DateField = "date",
    title_field: TitleField = "title",
    html_field: HtmlField = None,
    parquet: Annotated[bool, typer.Option(help="Also write Parquet tables.")] = True,
    html: Annotated[bool, typer.Option(help="Write report.html.")] = True,
    report_stories: Annotated[int, typer.Option(
        min=0, metavar="N",
        help="Draw this many of the largest stories in full in report.html and list "
             "the others a line each (result.json always holds everything).")] = 500,
    embeddings: Annotated[Path | None, typer.Option(
        metavar="DIR",
        help="Static embedding model directory (see distill-embeddings) mixed into story "
             "clustering; needs the 'embeddings' extra.")] = None,
    stories: Annotated[StoryMode, typer.Option(
        help="batch: cluster all families at once; streaming: take them in date order, each "
             "joining a story or opening one, as a live feed would.")] = StoryMode.batch,
    workers: Workers = None,
    engine: EngineOpt = EngineName.local,
    ray_address: RayAddress = None,
    strict: Strict = False,
    json_summary: JsonSummary = False,
) -> None:
    """Find copies, origins, stories and facts; write result.json, Parquet and report.html.

    Exit codes: 0 every input read; 1 some input rejected (listed in errors); 2 usage error.
    """
    started = time.perf_counter()
    _check_paths(inputs, out_dir)
    embedder = _load_embedder(embeddings) if embeddings is not None else None
    runner = _engine(engine, workers, ray_address)  # a missing extra: exit 2 before any work
    fields = _fields(id_field, text_field, url_field, date_field, title_field, html_field)
    from storytrace.errors import OutputError
    from storytrace.ingest import note_skipped
    from storytrace.outputs import atomic_output

    try:
        with atomic_output(out_dir) as work:
            read = _read(inputs, fields, out_dir, strict)
            _report_input_problems(read.errors, read.skipped)
            if not read.documents:
                _nothing_readable(read.errors, read.skipped, out_dir)
            try:
                result = _run_pipeline(read, embedder, stories.value, runner)
                note_skipped(result, read.skipped)
                _write(result, work, parquet, html, report_stories, runner)
            finally:
                runner.close()
    except OutputError as exc:
        raise _usage_error(str(exc)) from exc
    code = 1 if result.errors else 0
    seconds = time.perf_counter() - started
    if json_summary:
        print(json.dumps(_summary(result, out_dir, seconds, html, read.skipped, code)))
    elif not verbosity.quiet:
        _print_summary(result, out_dir, seconds, html)
    if code:
        raise typer.Exit(code)


def _nothing_readable(errors, skipped, out_dir: Path) -> None:
    err.print("[red]error:[/] no readable documents in the inputs; nothing written to "
              f"{escape(str(out_dir))}")
    if errors:
        err.print("every input failed to read; see the warnings above")
    elif skipped:
        err.print("no file of a known type (.txt .html .jsonl .parquet .warc, optionally .gz .bz2 .xz .zst)")
    raise typer.Exit(1)


def _run_pipeline(read, embedder, story_mode: str, engine=None):
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from storytrace.guard import analyze_isolated

    show_bar = sys.stderr.isatty() and not verbosity.quiet
    with Progress(
        TextColumn("{task.description:<10}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(), console=err, disable=not show_bar, transient=True,
    ) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        return analyze_isolated(  # the documents are not read again here: handed over
            read.documents, read.errors, progress=progress, embedder=embedder,
            story_mode=story_mode, engine=engine, hand_over=True,
        )  # fmt: skip


def _write(result, work: Path, parquet: bool, html: bool, report_stories: int,
           engine=None) -> None:
    from storytrace.report import write_outputs

    write_outputs(result, work, parquet=parquet, html=html, max_stories=report_stories,
                  engine=engine)


def _load_embedder(path: Path):
    from storytrace.cluster.embeddings import load_static_model
    from storytrace.errors import StorytraceError

    try:
        return load_static_model(path)
    except StorytraceError as exc:
        raise _usage_error(str(exc)) from exc


def _summary(result, out_dir: Path, seconds: float, html: bool, skipped, code: int) -> dict:
    return {
        "documents": len(result.documents),
        "families": len(result.families),
        "families_with_copies": sum(1 for f in result.families if len(f.members) > 1),
        "stories": len(result.stories),
        "relations": len(result.relations),
        "conflicts": sum(len(s.conflicts) for s in result.stories),
        "errors": len(result.errors),
        "skipped": len(skipped),
        "seconds": round(seconds, 3),
        # this process alone since it started (imports, reading, outputs; not its workers'):
        # with several workers, the part of the run they did not take (bench/scale.py)
        "main_cpu_seconds": round(time.process_time(), 3),
        "result": str(out_dir / "result.json"),
        "report": str(out_dir / "report.html") if html else None,
        "exit_code": code,
    }


def _print_summary(result, out_dir: Path, seconds: float, html: bool) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_row("documents", str(len(result.documents)))
    copies = sum(1 for f in result.families if len(f.members) > 1)
    table.add_row("families", f"{len(result.families)} ({copies} with copies)")
    table.add_row("stories", str(len(result.stories)))
    table.add_row("relations", str(len(result.relations)))
    conflicts = sum(len(s.conflicts) for s in result.stories)
    table.add_row("conflicts", str(conflicts))
    if result.errors:
        table.add_row("errors", f"[yellow]{len(result.errors)}[/] (inputs rejected; listed "
                                "in result.json)")
    table.add_row("time", f"{seconds:.1f} s")
    out.print(table)
    out.print(f"results: {escape(str(out_dir / 'result.json'))}")
    if html:
        out.print(f"report:  {escape(str(out_dir / 'report.html'))}")


DEDUP_EXAMPLES = """Examples:

  storytrace dedup crawl/ --out out/dedup

  storytrace dedup pile.jsonl.gz --mode full --out out/dedup-full --json
"""


@app.command(epilog=DEDUP_EXAMPLES)
def dedup(
    inputs: Inputs,
    out_dir: Annotated[Path, typer.Option(
        "--out", "-o", metavar="DIR", show_default=False,
        help="Directory for the deduplicated corpus; a run replaces its contents as a whole.")],
    mode: Annotated[DedupMode, typer.Option(
        help='"lexical": MinHash LSH at --threshold (what datasketch does, fast); "full": also '
             "verify candidates by sentence alignment, removing spun, translated, truncated "
             "and edited copies too.")] = DedupMode.lexical,
    threshold: Annotated[float, typer.Option(
        metavar="J",
        help="Jaccard of word 5-grams above which the lexical mode calls two texts copies.")] = 0.8,
    id_field: IdField = "id",
    text_field: TextField = "text",
    url_field: UrlField = "url",
    date_field: DateField = "date",
    title_field: TitleField = "title",
    html_field: HtmlField = None,
    clean: Annotated[bool, typer.Option(
        help="Clean raw text first (boilerplate lines out, HTML to its article); "
             "--no-clean for corpora of clean text.")] = True,
    workers: Workers = None,
    engine: EngineOpt = EngineName.local,
    ray_address: RayAddress = None,
    strict: Strict = False,
    json_summary: JsonSummary = False,
) -> None:
    """Keep one representative per copy family, plus a mapping file (streaming).

    Exit codes: 0 every input read; 1 some input rejected (in errors.jsonl); 2 usage error.
    """
    from storytrace.dedup import DedupOptions
    from storytrace.dedup import dedup as run_dedup
    from storytrace.errors import OutputError
    from storytrace.ingest import unique_stream
    from storytrace.outputs import atomic_output

    try:
        options = DedupOptions(mode=mode.value, threshold=threshold, clean=clean)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    _check_paths(inputs, out_dir)
    runner = _engine(engine, workers, ray_address)  # a missing extra: exit 2 before any work
    fields = _fields(id_field, text_field, url_field, date_field, title_field, html_field)
    errors: list[InputError] = []
    skipped: list[str] = []
    documents = unique_stream(_documents(inputs, fields, out_dir, strict, errors, skipped))

    started = time.perf_counter()
    try:
        with atomic_output(out_dir) as work:
            try:
                stats = run_dedup(documents, work, options, runner)
            finally:
                runner.close()
            if not stats.documents:
                _report_input_problems(errors, skipped)
                _nothing_readable(errors, skipped, out_dir)
            with (work / "errors.jsonl").open("w", encoding="utf-8") as fh:
                for e in errors:
                    fh.write(json.dumps({"source": e.source, "record": e.record,
                                         "reason": e.reason}) + "\n")
    except OutputError as exc:
        raise _usage_error(str(exc)) from exc
    _report_input_problems(errors, skipped)
    seconds = time.perf_counter() - started
    code = 1 if errors else 0
    if json_summary:
        print(json.dumps({
            "documents": stats.documents, "kept": stats.representatives,
            "removed": stats.duplicates, "kinds": stats.kinds, "errors": len(errors),
            "skipped": len(skipped), "seconds": round(seconds, 3),
            "corpus": str(out_dir / "documents.jsonl"), "mapping": str(out_dir / "mapping.jsonl"),
            "errors_file": str(out_dir / "errors.jsonl"), "exit_code": code,
            "raw_copies": stats.raw_copies, "engine": stats.engine, "workers": stats.workers,
        }))
    elif not verbosity.quiet:
        table = Table(show_header=False, box=None, pad_edge=False)
        table.add_row("documents", str(stats.documents))
        table.add_row("kept", f"{stats.representatives} (one per family)")
        copies = ", ".join(f"{n} {k}" for k, n in sorted(stats.kinds.items())
                           if k != "representative")
        table.add_row("removed", f"{stats.duplicates}" + (f" ({copies})" if copies else ""))
        table.add_row("errors", str(len(errors)))
        rate = stats.documents / seconds if seconds else 0.0
        table.add_row("time", f"{seconds:.1f} s ({rate:,.0f} docs/s, {options.mode} mode, "
                              f"{stats.workers} {stats.engine} worker"
                              f"{'s' if stats.workers > 1 else ''})")
        out.print(table)
        out.print(f"corpus:  {escape(str(out_dir / 'documents.jsonl'))}")
        out.print(f"mapping: {escape(str(out_dir / 'mapping.jsonl'))}")
        if errors:
            out.print(f"errors:  {escape(str(out_dir / 'errors.jsonl'))}")
    if code:
        raise typer.Exit(code)


@app.command("distill-embeddings")
def distill_embeddings(
    out_dir: Annotated[Path, typer.Argument(metavar="DIR", show_default=False,
                                            help="Directory to write the model to.")],
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
        raise _usage_error(str(exc)) from exc
    out.print(f"model: {path} ({time.perf_counter() - started:.0f} s)")


app.command("serve")(serve)  # storytrace/service/cli.py: the index over HTTP


if __name__ == "__main__":
    app()
