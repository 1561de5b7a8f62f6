"""storytrace: untangle piles of scraped news.

    >>> import storytrace
    >>> result = storytrace.analyze(["examples/corpus"])          # paths, Documents, dicts or texts
    >>> [f.origin for f in result.families]

`analyze` returns a `Result` whose `to_dict()` is the result.json contract.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from storytrace.errors import (
    ConfigError,
    InputPathError,
    MissingExtraError,
    OutputError,
    StorytraceError,
)
from storytrace.ingest import (
    FieldMap,
    document_from_row,
    note_skipped,
    read_inputs,
    safe_document,
    unique_ids,
)
from storytrace.ingest.decode import safe_text
from storytrace.model import (
    Attribution,
    CleanText,
    Conflict,
    Document,
    DocumentResult,
    Fact,
    Family,
    FamilyMember,
    InputError,
    Relation,
    Result,
    Signals,
    Story,
)

if TYPE_CHECKING:  # the pipeline (trafilatura, sklearn, scipy) loads on first analyze() only,
    from storytrace.config import Config
    from storytrace.engines import Engine
    from storytrace.pipeline import Progress  # so `storytrace.dedup` and the CLI start light

__version__ = "0.1.0"


def analyze(
    inputs: Iterable[Document | dict[str, Any] | str | Path],
    *,
    fields: FieldMap = FieldMap(),  # noqa: B008 - a frozen dataclass, safe to share
    progress: Progress | None = None,
    embeddings: str | Path | None = None,
    stories: str = "batch",
    config: Config | None = None,
    engine: str = "local",
    workers: int | None = None,
    ray_address: str | None = None,
) -> Result:
    """Clean, match, cluster, trace and extract facts from a pile of news documents.

    Each item of `inputs` may be a `Document`, a dict row (keys as in `fields`: id, text,
    url, date, title), a `pathlib.Path` or path string to a file or directory (read as the CLI
    reads it), or — for a `str` that is not an existing path — the text of a document itself
    (its id is its position, "doc-N"). Unreadable inputs end up in `Result.errors`; a `Path`,
    or a one-word string with a slash or a file suffix, that names nothing raises
    `InputPathError` before any work (a typo is not a document).

    `embeddings`: a static embedding model directory (extra `storytrace[embeddings]`; make one
    with `storytrace distill-embeddings DIR`) whose vectors help group reports into stories.
    `stories`: "batch" clusters all families at once (best on a finished pile); "streaming"
    feeds them in date order, each joining a story or opening one, as a live feed would decide
    (`StoryClusterer.partial_fit` does the same one family at a time).
    `config`: every option of the run (`storytrace.config.Config`), recorded in stats.
    `engine`, `workers`, `ray_address`: where the per-document stages run, as the CLI's
    `--engine`, `--workers` and `--ray-address`. "local" runs them in this process, or with
    `workers=N` (N > 1) in a pool of N worker processes; "ray" runs them as Ray tasks (extra
    `storytrace[ray]`) on a Ray started here with `workers` CPUs, or on the cluster at
    `ray_address`. `workers=None`, the default, is one (this process) for "local" and every
    core for "ray": unlike the CLI, whose default is every core, a library call starts no
    processes unless asked (`workers=os.cpu_count()` asks for all). Every engine and number of
    workers gives the same Result (tests/test_engines.py). A bad value raises `ConfigError` (a
    `ValueError`) and a missing extra `MissingExtraError`, before any input is read.
    """
    from storytrace.engines import get_engine

    if workers is None and engine == "local":
        workers = 1
    runner = get_engine(engine, workers, ray_address)  # starts nothing until the first batch
    try:
        return _analyze(inputs, fields, progress, embeddings, stories, config, runner)
    finally:
        runner.close()


def _analyze(inputs: Iterable[Document | dict[str, Any] | str | Path], fields: FieldMap,
             progress: Progress | None, embeddings: str | Path | None, stories: str,
             config: Config | None, runner: Engine) -> Result:
    documents: list[Document] = []
    errors: list[InputError] = []
    skipped: list[str] = []
    items = list(inputs)
    for item in items:  # a path that names nothing is a mistake in the call: before any work
        if isinstance(item, Path | str) and not _exists(item) and _looks_like_path(item):
            raise InputPathError(str(item))
    for n, item in enumerate(items):
        if isinstance(item, Document):  # a copy: the run empties its raw text once cleaned
            documents.append(replace(safe_document(item)))
        elif isinstance(item, dict):
            doc = document_from_row(item, fields, "<python>", f"item {n}", default_id=f"doc-{n}")
            (documents if isinstance(doc, Document) else errors).append(doc)
        elif isinstance(item, Path) or (isinstance(item, str) and _exists(item)):
            read = read_inputs([item], fields)
            documents.extend(read.documents)
            errors.extend(read.errors)
            skipped.extend(read.skipped)
        elif isinstance(item, str):
            if item.strip():
                documents.append(Document(id=f"doc-{n}", raw=safe_text(item), source="<python>"))
            else:
                errors.append(InputError("<python>", "empty text", record=f"item {n}"))
        else:
            raise ConfigError(f"cannot analyze an item of type {type(item).__name__}")
    unique_ids(documents)
    from storytrace.cluster.embeddings import load_static_model
    from storytrace.guard import analyze_isolated

    kwargs: dict[str, Any] = {"story_mode": stories, "config": config, "engine": runner}
    if progress is not None:
        kwargs["progress"] = progress
    if embeddings is not None:
        kwargs["embedder"] = load_static_model(embeddings)
    return note_skipped(analyze_isolated(documents, errors, hand_over=True, **kwargs), skipped)


def _exists(item: str | Path) -> bool:
    if isinstance(item, str) and ("\n" in item or len(item) > 4096):
        return False
    try:
        return Path(item).exists()
    except (OSError, ValueError):
        return False


_PATH_SUFFIXES = (".txt", ".text", ".html", ".htm", ".xhtml", ".jsonl", ".ndjson", ".parquet",
                  ".warc", ".gz", ".bz2", ".xz", ".zst")


def _looks_like_path(item: str | Path) -> bool:
    """A Path, or a string that can only be meant as one: a single word with a slash
    ("examples/corpsu") or a file suffix ("pile.jsonl"). Other strings are texts."""
    if isinstance(item, Path):
        return True
    word = item.strip()
    if not word or len(word) > 4096 or any(c.isspace() for c in word):
        return False
    return "/" in word or "\\" in word or word.lower().endswith(_PATH_SUFFIXES)


__all__ = [
    "Attribution",
    "CleanText",
    "ConfigError",
    "Conflict",
    "Document",
    "DocumentResult",
    "Fact",
    "Family",
    "FamilyMember",
    "FieldMap",
    "InputError",
    "InputPathError",
    "MissingExtraError",
    "OutputError",
    "Relation",
    "Result",
    "Signals",
    "Story",
    "StorytraceError",
    "__version__",
    "analyze",
]
