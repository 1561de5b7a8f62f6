"""Where an index's add spends its time and memory, batch by batch, as the index grows.

    PYTHONPATH=src .venv/bin/python bench/index_stages.py [--docs 30000] [--batch 1000]
        [--workers 2] [--every 5] [--tmp /tmp/storytrace-bench]

Runs what `storytrace index add INDEX FILE --batch-size B --workers N` runs, in this process:
`Index.open(path, engine=get_engine("local", N))`, then `add(batch)` for each batch of the
corpus (bench/dedup.py's `write_corpus`, kept in --tmp), into a new index file. For each batch
it records each stage's seconds (`Index.timings`) and the peak of this process's RSS within it
(bench/memory_stages.StageMemory samples it every 20 ms; the stage is the one `Index._stage`
last entered, "between" being everything outside the stages: reading the batch, commits,
checkpoints) and DuckDB's buffer pool after the batch (`duckdb_memory()`). Printed: every
--every-th batch, and the last. Only the adding process is measured (its workers clean, match
and count in their own processes).

The index is left in --tmp with its build record (`<index>.build.json`, as bench/index.py's
own builds write it), so bench/index.py can time single adds and queries on it:
`bench/index.py --sizes N+K --single K --keep PATH` (PATH is printed at the end).

Wrapping `Index._stage` is the one private thing this touches: the stages report themselves to
a progress callback only in a one-shot index (analyze), not in an add.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

STAGES = ("clean", "signals", "match", "store", "trace", "stories", "facts")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=30000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--every", type=int, default=5, help="print every N-th batch")
    parser.add_argument("--tmp", type=Path, default=Path("/tmp/storytrace-bench"))
    args = parser.parse_args()

    from dedup import _rss_mb
    from index import _batches, build_record, recorded  # bench/index.py's
    from memory_stages import StageMemory, corpus_file

    from storytrace import index as index_module
    from storytrace.engines import get_engine

    corpus = corpus_file(args.docs, args.tmp)
    path = args.tmp / f"index-stages-{args.docs}.duckdb"
    for old in args.tmp.glob(path.name + "*"):
        old.unlink()

    memory = StageMemory()
    stage = index_module.Index._stage

    @contextmanager
    def measured(self, name):
        memory.enter(name)
        memory.peaks[name] = 0.0
        with stage(self, name):
            yield
        memory.enter("between")

    index_module.Index._stage = measured
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {args.docs} documents in batches of "
          f"{args.batch}, {args.workers} workers; load average at start {os.getloadavg()[0]:.2f}")
    print(f"{'docs':>7} {'s':>6} | seconds: " + " ".join(f"{s[:7]:>7}" for s in STAGES)
          + " | peak RSS MB: " + " ".join(f"{s[:7]:>7}" for s in ("between", *STAGES))
          + " | RSS  DuckDB")
    started, done = time.perf_counter(), 0
    engine = get_engine("local", args.workers)
    try:
        with index_module.Index.open(path, engine=engine) as index:
            for k, batch in enumerate(_batches(corpus, 0, None, args.batch)):
                memory.peaks.clear()
                memory.enter("between")
                before, t0 = dict(index.timings), time.perf_counter()
                index.add(batch, batch_size=args.batch)
                seconds = time.perf_counter() - t0
                done += len(batch)
                time.sleep(0.05)
                if (k + 1) % args.every and done < args.docs:  # the last batch is printed
                    continue
                duck = index.store.con.execute(
                    "SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchall()[0][0]
                spent = {s: index.timings.get(s, 0.0) - before.get(s, 0.0) for s in STAGES}
                print(f"{done:>7} {seconds:>6.1f} | seconds: "
                      + " ".join(f"{spent[s]:>7.1f}" for s in STAGES) + " | peak RSS MB: "
                      + " ".join(f"{memory.peaks.get(s, 0):>7.0f}" for s in ("between", *STAGES))
                      + f" | {_rss_mb():>4.0f} {duck / 2**20:>7.0f}", flush=True)
    finally:
        engine.close()
        index_module.Index._stage = stage
    elapsed = time.perf_counter() - started
    build_record(path).write_text(json.dumps(recorded(
        {"documents": 0, "seconds": 0.0}, done, elapsed, _rss_mb("VmHWM"), args.workers)))
    print(f"({done} documents in {elapsed:.0f} s: {done / elapsed:.1f} documents/s; load "
          f"average at the end {os.getloadavg()[0]:.2f}; index kept: {path})")


if __name__ == "__main__":
    main()
