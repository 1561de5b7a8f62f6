"""The whole path from documents to a Result: clean -> match -> cluster -> trace -> facts.

There is one pipeline: `storytrace.index.Index` runs the stages (storytrace/stages.py) over a
store, and analyze is an index in memory that takes the whole pile in one add and is then
exported. Any stage can still be replaced alone: each is one package called over plain data.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from storytrace.cluster.embeddings import Embedder
from storytrace.config import STORY_MODES, Config, StoryOptions
from storytrace.errors import ConfigError
from storytrace.model import Document, InputError, Result

Progress = Callable[[str, int, int], None]
"""progress(stage, done, total): called as work advances (the CLI draws a bar from it)."""


def _no_progress(stage: str, done: int, total: int) -> None:
    return None


def analyze_documents(
    docs: Iterable[Document],
    errors: Iterable[InputError] = (),
    progress: Progress = _no_progress,
    embedder: Embedder | None = None,
    story_mode: str | None = None,
    config: Config | None = None,
    engine=None,
    hand_over: bool = False,
) -> Result:
    """Run every stage over `docs` and return the Result (see `storytrace.analyze`).

    `embedder` (optional): texts -> vectors, mixed into story clustering
    (`storytrace.cluster.embeddings.load_static_model` makes one from a model directory).
    `story_mode`: "batch" (every family at once) or "streaming" (families in date order, each
    joining a story or opening one, as a live feed would); it overrides `config.stories.mode`.
    `config`: every option of the run (`storytrace.config.Config`); its `get_params()` is
    recorded in `stats["config"]`.
    `engine`: where the per-document stages run (`storytrace.engines.get_engine("local", 4)`);
    None is this process. The answer is the same on any engine; the caller closes it.
    `hand_over`: `docs` are the run's to change: each raw text is emptied once cleaned (see
    `Index.add`), so a pile's raw texts are not held through the later stages.
    """
    from storytrace.index import Index
    from storytrace.store import MemoryStore

    config = config or Config()
    if story_mode is not None and story_mode != config.stories.mode:
        if story_mode not in STORY_MODES:
            raise ConfigError(
                f"story mode must be one of {', '.join(STORY_MODES)}, not {story_mode!r}")
        config = config.replace(stories=StoryOptions(story_mode, config.stories.params))
    started, cpu_started = time.perf_counter(), time.process_time()
    docs = list(docs)
    index = Index(MemoryStore(), config, embedder, one_shot=True, engine=engine)
    try:
        index.add(docs, batch_size=max(1, len(docs)), progress=progress, errors=errors,
                  hand_over=hand_over)
        result = index.export(retrace=False)
    finally:
        index.close()
    result.stats["seconds"]["total"] = round(time.perf_counter() - started, 3)
    # The CPU time of this process alone, not its workers': at several workers, the part of
    # the run they did not take (bench/scale.py prints it beside the CPU time of all).
    result.stats["seconds"]["main_cpu"] = round(time.process_time() - cpu_started, 3)
    if engine is not None:
        result.stats["engine"] = {"name": engine.name, "workers": engine.workers}
    return result


__all__ = ["STORY_MODES", "Progress", "analyze_documents"]
