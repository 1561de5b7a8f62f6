"""The persistent index at scale: add throughput, query latency, size on disk, peak memory,
beside datasketch's MinHashLSH (in memory) on the same texts.

storytrace: `Index.open(file)` in a fresh process; the first N - K documents are added in
batches of --batch (one transaction each), then the last K one at a time; then --queries
held-out texts (documents of the same generator beyond N: copies of stored articles and new
ones) are queried (`Index.query`: clean, candidate lookup, alignment, family, story) on each
of the paths a user runs:
- query p50/p99: `Index.open(file, read_only=True)`, as `storytrace index query` opens it:
  each query scans the key tables in DuckDB (the open itself and the process start not
  counted; `cli q s` is the whole command's wall time, the median of 5 runs);
- mem p50/p99: a long-lived process as `storytrace serve` runs it:
  `Index.open(file, read_only=True, keys_in_memory=True)`, `warm()` (the key tables read into
  memory and one query answered: `1st q s` is that), then `gc.freeze()`; `mem RSS` is that
  process's peak RSS (its own, a fresh process that reads no corpus).
datasketch: `MinHashLSH(threshold=0.8, num_perm=128)` over word 5-grams with shared
permutations (as bench/dedup.py runs it), insert for every document, query for the held-out
ones. The peer does much less (lexical near-duplicates only, nothing persisted, no cleaning,
alignment, families, stories or facts), so the ratio says what the whole index costs beside
the plain LSH that datasketch's users ask to persist (its issues 207, 121, 138, 219).

Peak RSS: /proc/self/status VmHWM of each fresh worker process (corpus reading included).
Corpus: bench/dedup.py `build_corpus` (Multi-News dev articles, the rewrite generator's copies,
replicated through word ciphers).

Run: PYTHONPATH=src python bench/index.py [--sizes 2000,5000] [--single 200] [--queries 200]
Results are appended to bench/results/index.txt.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results" / "index.txt"
sys.path.insert(0, str(HERE))  # dedup (the corpus), here and in the spawned query process


def _corpus(path: Path, n: int, queries: int) -> None:
    from dedup import build_corpus

    docs, _, _ = build_corpus(n + queries)
    with path.open("w", encoding="utf-8") as out:
        for doc_id, text in docs:
            out.write(json.dumps({"id": doc_id, "text": text}) + "\n")


def _rows(path: Path, start: int = 0, stop: int | None = None) -> list[dict]:
    """Rows [start, stop) of the JSONL corpus (read line by line: only they are kept)."""
    return [row for batch in _batches(path, start, stop, 10_000) for row in batch]


def _batches(path: Path, start: int, stop: int | None, size: int):
    """Rows [start, stop) of the JSONL corpus (to its end when stop is None), `size` at a
    time (one batch in memory)."""
    batch = []
    with path.open(encoding="utf-8") as lines:
        for n, line in enumerate(lines):
            if stop is not None and n >= stop:
                break
            if n >= start:
                batch.append(json.loads(line))
                if len(batch) == size:
                    yield batch
                    batch = []
    if batch:
        yield batch


def _build(index_path: Path, corpus: Path, count: int, batch: int, workers: int = 1) -> dict:
    """Add the first `count` rows of `corpus` to the index at `index_path`, `batch` rows a
    transaction, reading the file a batch at a time (a build interrupted between batches
    resumes after the rows the index holds). Its record (`<index>.build.json`: rows, seconds,
    peak RSS, commit) is kept beside the file, so a later run that reuses the index (`--keep`)
    prints the rate of the run that built it. `workers` > 1: the local engine's process pool
    (as `storytrace index add --workers N`)."""
    from dedup import _rss_mb

    from storytrace.engines import get_engine
    from storytrace.index import Index

    record = build_record(index_path)
    done = json.loads(record.read_text()) if record.exists() else {"documents": 0, "seconds": 0.0}
    engine = get_engine("local", workers) if workers > 1 else None
    with Index.open(index_path, engine=engine) as index:
        held = first = index.stats()["documents"]
        if held < count:
            started = time.perf_counter()
            for rows in _batches(corpus, held, count, batch):
                index.add(rows, batch_size=batch)
                held += len(rows)
                print(f"  built {held:,}/{count:,} "
                      f"{time.perf_counter() - started:.0f} s, RSS peak {_rss_mb('VmHWM'):.0f} MB",
                      file=sys.stderr, flush=True)
            done = recorded(done, count - first, time.perf_counter() - started,
                            _rss_mb("VmHWM"), workers)
            index.store.checkpoint()
            record.write_text(json.dumps(done))
    if engine is not None:
        engine.close()
    return done


def build_record(index_path: Path) -> Path:
    """Where the record of how an index file was built is kept: beside it."""
    return index_path.with_name(index_path.name + ".build.json")


def recorded(done: dict, added: int, seconds: float, rss_mb: float, workers: int) -> dict:
    """The build record `done` with one more batched phase: `added` documents in `seconds`
    (wall clock), peak RSS `rss_mb`, on `workers` processes, by the commit checked out now."""
    return {"documents": done["documents"] + added, "seconds": done["seconds"] + seconds,
            "rss_mb": max(done.get("rss_mb", 0.0), rss_mb), "commit": _commit(),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "workers": sorted({*done.get("workers", []), workers})}


def _storytrace(path: Path, n: int, single: int, batch: int, queries: int, work: Path,
                keep: Path | None, workers: int) -> dict:
    from dedup import _rss_mb

    from storytrace.index import Index

    built = _build(keep or work / "kept.duckdb", path, n - single, batch, workers)
    rows = _rows(path, n - single, n + queries)  # the singles and the queries only
    singles, held_out = rows[:single], rows[single:]
    index_path = work / "bench.duckdb"  # the singles go to a copy: a kept index stays reusable
    shutil.copy(keep or work / "kept.duckdb", index_path)
    single_seconds: list[float] = []
    with Index.open(index_path) as index:
        for row in singles:
            t0 = time.perf_counter()
            index.add([row])
            single_seconds.append(time.perf_counter() - t0)
        counts = index.stats()
        index.store.checkpoint()
    texts = [row["text"] for row in held_out]
    latencies = _query_seconds(index_path, texts, keys_in_memory=False)["seconds"]
    with multiprocessing.get_context("spawn").Pool(1) as pool:  # its own peak RSS
        held = pool.apply(_query_seconds, (index_path, texts, True))
    cli = _cli_seconds(index_path, texts[:5])
    size = index_path.stat().st_size
    return {
        "batched_rate": built["documents"] / built["seconds"],
        "built": built,
        "single_rate": single / sum(single_seconds) if single else 0.0,
        "single_p50_ms": 1000 * float(np.percentile(single_seconds, 50)) if single else 0.0,
        "query_p50_ms": 1000 * float(np.percentile(latencies, 50)),
        "query_p99_ms": 1000 * float(np.percentile(latencies, 99)),
        "memory_p50_ms": 1000 * float(np.percentile(held["seconds"][1:], 50)),
        "memory_p99_ms": 1000 * float(np.percentile(held["seconds"][1:], 99)),
        "first_query_s": held["seconds"][0],
        "memory_rss_mb": held["rss_mb"],
        "cli_query_s": float(np.median(cli)),
        "disk_mb": size / 1e6,
        "rss_mb": max(_rss_mb("VmHWM"), built.get("rss_mb", 0.0)),
        "families": counts["families"],
        "stories": counts["stories"],
    }


def _query_seconds(index_path: Path, texts: list[str], keys_in_memory: bool) -> dict:
    """Each query's seconds in one process that opens the index read-only (a keys-in-memory
    process's first entry is its `warm()`), and the process's peak RSS."""
    from dedup import _rss_mb

    from storytrace.index import Index

    seconds = []
    with Index.open(index_path, read_only=True, keys_in_memory=keys_in_memory) as index:
        if keys_in_memory:  # as `storytrace serve` starts: warmed, its heap frozen
            t0 = time.perf_counter()
            index.warm()
            seconds.append(time.perf_counter() - t0)
            gc.freeze()
        for text in texts:
            t0 = time.perf_counter()
            index.query(text)
            seconds.append(time.perf_counter() - t0)
    return {"seconds": seconds, "rss_mb": _rss_mb("VmHWM")}


def _cli_seconds(index_path: Path, texts: list[str]) -> list[float]:
    """Wall seconds of `storytrace index query INDEX -` for each text: a process each."""
    seconds = []
    for text in texts:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "storytrace", "index", "query", str(index_path),
                        "-"], input=text, text=True, capture_output=True, check=True)
        seconds.append(time.perf_counter() - t0)
    return seconds


def _datasketch(path: Path, n: int, queries: int) -> dict:
    from datasketch import MinHash, MinHashLSH
    from dedup import _rss_mb

    rows = _rows(path)
    model = MinHash(num_perm=128)
    options = {"permutations": model.permutations, "scheme": model.scheme}

    def minhash(text: str) -> MinHash:
        toks = text.lower().split()
        grams = [" ".join(toks[i:i + 5]).encode() for i in range(max(1, len(toks) - 4))]
        m = MinHash(num_perm=128, **options)
        m.update_batch(grams)
        return m

    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    started = time.perf_counter()
    for row in rows[:n]:
        lsh.insert(row["id"], minhash(row["text"]))
    insert = time.perf_counter() - started
    latencies = []
    for row in rows[n:n + queries]:
        t0 = time.perf_counter()
        lsh.query(minhash(row["text"]))
        latencies.append(time.perf_counter() - t0)
    return {
        "batched_rate": n / insert,
        "single_rate": n / insert,
        "single_p50_ms": 1000 * insert / n,
        "query_p50_ms": 1000 * float(np.percentile(latencies, 50)),
        "query_p99_ms": 1000 * float(np.percentile(latencies, 99)),
        "memory_p50_ms": "", "memory_p99_ms": "", "first_query_s": "", "memory_rss_mb": "",
        "cli_query_s": "",
        "disk_mb": 0.0,
        "rss_mb": _rss_mb("VmHWM"),
        "families": "",
        "stories": "",
    }


def _cell(value: float | str, spec: str) -> str:
    """A 7-wide column, blank for an engine that has no such path."""
    return f"{value:>7{spec}}" if value != "" else " " * 7


def _commit() -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                          check=False, text=True, cwd=HERE).stdout.strip()


def worker(engine: str, path: str, n: int, single: int, batch: int, queries: int,
           keep: Path | None, workers: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        if engine == "storytrace":
            found = _storytrace(Path(path), n, single, batch, queries, Path(tmp), keep,
                                workers)
        else:
            found = _datasketch(Path(path), n, queries)
    print(json.dumps(found))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="2000")
    parser.add_argument("--single", type=int, default=200, help="last documents added singly")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--keep", type=Path,
                        help="keep the batched index in this file and reuse it on a re-run "
                             "(one size only): a 100,000-document build takes hours")
    parser.add_argument("--engines", default="datasketch,storytrace")
    parser.add_argument("--workers", type=int, default=1,
                        help="the batched adds on the local engine's N processes (index add "
                             "--workers N); single adds and queries stay in one process")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        engine, path = args.worker
        worker(engine, path, int(args.sizes), args.single, args.batch, args.queries, args.keep,
               args.workers)
        return 0
    if args.keep and "," in args.sizes:
        parser.error("--keep holds one index: give one size")
    header = (f"{'engine':<11} {'docs':>6} {'add/s batch':>11} {'add/s one':>9} "
              f"{'one p50 ms':>10} {'query p50':>9} {'query p99':>9} {'cli q s':>7} "
              f"{'mem p50':>7} {'mem p99':>7} {'1st q s':>7} {'mem RSS':>7} {'disk MB':>7} "
              f"{'RSS MB':>7} {'families':>8} {'stories':>7}")
    lines = [header]
    print(header)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")  # the code measured: HEAD at start
    commit = _commit()
    notes = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.sizes.split(",")):
            path = Path(tmp) / f"corpus-{n}.jsonl"
            _corpus(path, n, args.queries)
            for engine in args.engines.split(","):
                done = subprocess.run(
                    [sys.executable, __file__, "--worker", engine, str(path), "--sizes", str(n),
                     "--single", str(args.single), "--batch", str(args.batch),
                     "--queries", str(args.queries),
                     "--workers", str(args.workers),
                     *(["--keep", str(args.keep.resolve())] if args.keep else [])],
                    stdout=subprocess.PIPE, text=True, check=True)
                r = json.loads(done.stdout.strip().splitlines()[-1])
                if "built" in r:
                    b = r["built"]
                    notes.append(f"# batched phase: {b['documents']:,} documents added in "
                                 f"{b['seconds']:.0f} s on {b.get('workers', [1])} worker(s) "
                                 f"by commit {b.get('commit', '?')} "
                                 f"({b.get('date', '?')}); the rest by commit {commit}")
                line = (f"{engine:<11} {n:>6} {r['batched_rate']:>11.1f} {r['single_rate']:>9.1f} "
                        f"{r['single_p50_ms']:>10.1f} {r['query_p50_ms']:>9.1f} "
                        f"{r['query_p99_ms']:>9.1f} {_cell(r['cli_query_s'], '.2f')} "
                        f"{_cell(r['memory_p50_ms'], '.1f')} {_cell(r['memory_p99_ms'], '.1f')} "
                        f"{_cell(r['first_query_s'], '.1f')} {_cell(r['memory_rss_mb'], '.0f')} "
                        f"{r['disk_mb']:>7.1f} {r['rss_mb']:>7.0f} "
                        f"{r['families']!s:>8} {r['stories']!s:>7}")
                print(line)
                lines.append(line)
                sys.stdout.flush()
    RESULTS.parent.mkdir(exist_ok=True)
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write(f"\n# {stamp}, commit {commit}; command: PYTHONPATH=src python bench/index.py "
                  f"--sizes {args.sizes} --single {args.single} --batch {args.batch} "
                  f"--queries {args.queries}"
                  + (f" --keep {args.keep}" if args.keep else "")
                  + (f" --workers {args.workers}" if args.workers > 1 else "") + "\n")
        out.write("\n".join(lines + notes) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
