"""Where analyze's memory goes: the main process's RSS at the start and peak of each stage.

    PYTHONPATH=src .venv/bin/python bench/memory_stages.py [--docs 30000] [--workers 2]

Runs what `storytrace analyze FILE --out DIR --workers N` runs, in this process: the file read
by `ingest.read_inputs`, the documents handed to `pipeline.analyze_documents` (the CLI hands
them over too), the outputs written by `report.write_outputs` (result.json, Parquet, report).
A thread reads this process's RSS every 20 ms; the stage is what the run's progress callback
last named (`X/after`: from the end of stage X to the start of the next, e.g. the index's
export after "reuse"). Printed: each stage's RSS at its start and its peak, in MB.

Only the main process is measured: at 2 workers it holds the corpus, the store and every
stage's serial part, and it is the process that grows with the pile (bench/scale.py prints the
peak of all processes). The corpus is bench/dedup.py's `write_corpus` (kept in --tmp between
runs). The times printed are wall clock of the whole run, not a throughput measurement.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE / 2**20


class StageMemory:
    """RSS at the start and peak of each named stage, sampled by a daemon thread."""

    def __init__(self, every: float = 0.02) -> None:
        self.stage = "start"
        self.order: list[str] = []
        self.starts: dict[str, float] = {}
        self.peaks: dict[str, float] = {}
        self._every = every
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while True:
            stage, rss = self.stage, _rss_mb()
            self.peaks[stage] = max(self.peaks.get(stage, 0.0), rss)
            time.sleep(self._every)

    def enter(self, stage: str) -> None:
        if stage not in self.starts:
            self.starts[stage] = _rss_mb()
            self.order.append(stage)
        self.stage = stage

    def progress(self, stage: str, done: int, total: int) -> None:
        """The pipeline's progress callback: a stage reports 0 at its start, then its end."""
        self.enter(stage if done == 0 else f"{stage}/after")

    def table(self) -> str:
        rows = [f"{'stage':<18}{'start MB':>10}{'peak MB':>10}"]
        for stage in self.order:
            start = self.starts[stage]
            rows.append(f"{stage:<18}{start:>10.0f}{max(start, self.peaks.get(stage, 0)):>10.0f}")
        return "\n".join(rows)


def corpus_file(docs: int, tmp: Path) -> Path:
    """bench/dedup.py's `write_corpus(docs)` as a JSONL file in `tmp`, written when missing."""
    from dedup import write_corpus

    tmp.mkdir(parents=True, exist_ok=True)
    corpus = tmp / f"analyze-{docs}.jsonl"
    if not corpus.exists():
        write_corpus(docs, corpus)
    return corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=30000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--tmp", type=Path, default=Path("/tmp/storytrace-bench"))
    args = parser.parse_args()

    from storytrace.engines import get_engine
    from storytrace.ingest import read_inputs
    from storytrace.pipeline import analyze_documents
    from storytrace.report import write_outputs

    corpus = corpus_file(args.docs, args.tmp)
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {args.docs} documents, {args.workers} "
          f"workers; load average at start {os.getloadavg()[0]:.2f}")
    memory = StageMemory()
    started = time.perf_counter()
    memory.enter("read")
    read = read_inputs([corpus])
    engine = get_engine("local", args.workers)
    try:
        result = analyze_documents(read.documents, read.errors, progress=memory.progress,
                                   engine=engine, hand_over=True)
        del read
        memory.enter("result held")
        memory.enter("write")
        write_outputs(result, args.tmp / f"out-{args.docs}", engine=engine)
        memory.enter("end")
        time.sleep(0.1)
    finally:
        engine.close()
    print(memory.table())
    print(f"(wall clock {time.perf_counter() - started:.0f} s; load average at the end "
          f"{os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
