"""Scale: `storytrace analyze` at 1 and 2 workers (and Ray), `storytrace dedup` on big piles.

    PYTHONPATH=src .venv/bin/python bench/scale.py [--analyze 30000] [--workers 1,2] [--ray]
                                                   [--repeats 1] [--dedup 0] [--note TEXT]

Corpus: bench/dedup.py's `build_corpus` (Multi-News dev articles and the rewrite generator's
verbatim, wrapped, truncated, edited, spun, translated and partial copies, replicated through
word ciphers), written as JSONL. Every run is the command a user types, in a new process:
`storytrace analyze corpus.jsonl --out DIR --workers N --no-parquet --json` (and
`storytrace dedup corpus.jsonl --out DIR --workers N`), so its time includes reading the file
and writing the outputs. Printed per run: seconds per stage (result.json stats.seconds, wall
clock of the stage in the main process, which waits for its workers), documents per second,
the CPU seconds of all its processes and of the main process alone (the --json summary's
main_cpu_seconds: imports, reading, every stage's part there and the outputs; at several
workers, the work they did not take), the bound that leaves on the wall clock of a quiet
machine (main CPU + the workers' CPU / workers: no wait, no imbalance), the peak RSS of its
largest process, the peak of its processes' memory together ("all": their PSS summed, read
every second; a forked worker's RSS counts the pages it still shares with the main process, so
the largest RSS may be a worker's and says little of what the machine needs), and the
same-run ratio against the 1-worker run. The answers of the runs are
compared: families, stories and the rest of result.json but its statistics must be the same at
any number of workers.

The machine is shared: the header and footer print the load average; a load above the core
count means the runs had less than the cores they were given.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The share of the time the memory sampler may spend reading the command's PSS (it competes
# with the command for the cores; the command's CPU time never counts it).
SAMPLE_COST_SHARE = 0.03
STAGES = ("clean", "signals", "match", "families", "trace", "stories", "facts", "reuse")


def _storytrace() -> str:
    return str(Path(sys.executable).with_name("storytrace"))


def _tree(root: int) -> list[int]:
    """`root` and every process below it (from /proc/*/stat's parent ids)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # gone meanwhile
            continue
        pid, ppid = int(text[:text.index(" ")]), int(text[text.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def _pss_mb(pids: list[int]) -> float:
    """The proportional set size of `pids` together (MB): each page shared by n of them
    counted 1/n in each, so forked workers' pages inherited from their parent count once."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("Pss:"))
        except (OSError, StopIteration):  # gone meanwhile
            continue
    return total / 1024


def _measure(command: list[str], out: str) -> None:
    """Run `command` (this wrapper's only child) and write its wall clock, the CPU time and
    peak RSS of its processes (RUSAGE_CHILDREN: the command and the workers it waited for),
    and the peak of their memory together (their summed PSS, read every second, less often
    when a read is slow: SAMPLE_COST_SHARE; the RSS of a forked worker counts the pages it
    shares with its parent, so no one process's RSS says how much memory the command needs)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        if not Path("/proc/self/smaps_rollup").exists():
            return
        wait = 1.0
        while not done.wait(wait):
            read_at = time.perf_counter()
            peak[0] = max(peak[0], _pss_mb(_tree(process.pid)))
            # Reading PSS walks the processes' page tables, holding each one's memory-map lock
            # meanwhile: 0.67 s of CPU for a 13 GB analyze (3 processes, 300,000 documents),
            # which read every second took a quarter of a core from the command measured.
            # So the next read waits until this one is SAMPLE_COST_SHARE of the time between.
            wait = max(1.0, (time.perf_counter() - read_at) / SAMPLE_COST_SHARE)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    done.set()
    sampler.join()
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out, "w") as f:
        json.dump({"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime,
                   "rss_mb": usage.ru_maxrss / 1024, "tree_mb": peak[0] or None,
                   "code": process.returncode,
                   "stdout": stdout[-20000:], "stderr": stderr[-4000:]}, f)


def _run(command: list[str], workdir: Path) -> dict:
    out = workdir / "measure.json"
    subprocess.run([sys.executable, __file__, "--measure", json.dumps(command), str(out)],
                   check=True)
    found = json.loads(out.read_text())
    if found["code"] not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed ({found['code']}): {found['stderr']}")
    return found


def _mb(found: dict) -> str:
    return "-" if found.get("tree_mb") is None else f"{found['tree_mb']:.0f}"


def _answer(result_path: Path) -> tuple:
    """What must not change with the engine: families (members, kinds, parents, origin),
    stories (families, documents) and everything else result.json holds but the run's
    statistics (documents, relations, facts, conflicts: compared by a digest of them)."""
    result = json.loads(result_path.read_text(encoding="utf-8"))
    families = [(f["id"], f["origin"], [(m["id"], m["kind"], m["parent"]) for m in f["members"]])
                for f in result["families"]]
    stories = [(s["id"], s["families"], s["documents"]) for s in result["stories"]]
    stats = result.pop("stats")
    digest = hashlib.sha256(json.dumps(result, ensure_ascii=False).encode()).hexdigest()
    return families, stories, stats, digest


def bench_analyze(n_docs: int, workers: list[int], ray: bool, tmp: Path,
                  repeats: int = 1) -> None:
    from dedup import write_corpus

    path = tmp / f"corpus-{n_docs}.jsonl"
    started = time.perf_counter()
    write_corpus(n_docs, path)
    megabytes = path.stat().st_size / 1e6
    print(f"\n## analyze, {n_docs} documents ({megabytes:.0f} MB JSONL, written in "
          f"{time.perf_counter() - started:.0f} s)")
    header = (f"{'engine':<10}{'workers':>8} " + " ".join(f"{s:>8}" for s in STAGES)
              + f"{'total s':>9}{'wall s':>8}{'docs/s':>8}{'CPU s':>8}{'main CPU':>9}"
                f"{'bound s':>8}{'RSS MB':>8}{'all MB':>8}"
                f"{'ratio':>7}  same answer")
    print(header, flush=True)
    runs = ([("local", w) for w in workers] + ([("ray", max(workers))] if ray else [])) * repeats
    first = None
    walls: dict[tuple[str, int], list[float]] = {}
    for n, (engine, n_workers) in enumerate(runs):
        out = tmp / f"analyze-{engine}-{n_workers}"
        found = _run([_storytrace(), "analyze", str(path), "--out", str(out), "--workers",
                      str(n_workers), "--engine", engine, "--no-parquet", "--json"], tmp)
        families, stories, stats, digest = _answer(out / "result.json")
        seconds = stats["seconds"]
        summary = json.loads(found["stdout"].splitlines()[-1])
        main_cpu = summary.get("main_cpu_seconds", seconds.get("main_cpu", 0.0))
        bound = main_cpu + (found["cpu"] - main_cpu) / n_workers
        walls.setdefault((engine, n_workers), []).append(found["seconds"])
        if first is None:
            first = (found["seconds"], families, stories, digest)
        same = "-" if n == 0 else str(families == first[1] and stories == first[2]
                                      and digest == first[3])
        print(f"{engine:<10}{n_workers:>8} "
              + " ".join(f"{seconds.get(s, 0.0):>8.1f}" for s in STAGES)
              + f"{seconds['total']:>9.1f}{found['seconds']:>8.1f}"
                f"{n_docs / found['seconds']:>8.1f}{found['cpu']:>8.0f}"
                f"{main_cpu:>9.1f}{bound:>8.1f}{found['rss_mb']:>8.0f}{_mb(found):>8}"
                f"{first[0] / found['seconds']:>7.2f}  {same}", flush=True)
        shutil.rmtree(out)
    print(f"({len(first[1])} families, {len(first[2])} stories; ratio: wall clock of the first "
          "run / this run's; main CPU: the analyze process alone, without its workers; bound: "
          "main CPU + the workers' CPU / workers; RSS: the largest process's peak; all: the peak of "
          "the command's processes together, their PSS summed, read every second, less often "
          "when a read is slow)")
    if repeats > 1:  # this machine's wall clock varies 10-15% between identical runs
        base = min(walls[runs[0]])
        print(f"fastest of {repeats} runs, in turn: " + "; ".join(
            f"{engine} {w} worker{'s' if w > 1 else ''} {min(t):.1f} s (ratio "
            f"{base / min(t):.2f}; runs {', '.join(f'{x:.1f}' for x in t)})"
            for (engine, w), t in walls.items()))
    path.unlink()


def bench_dedup(n_docs: int, workers: list[int], tmp: Path) -> None:
    from dedup import write_corpus

    path = tmp / f"corpus-{n_docs}.jsonl"
    started = time.perf_counter()
    write_corpus(n_docs, path)
    megabytes = path.stat().st_size / 1e6
    print(f"\n## dedup, {n_docs} documents ({megabytes:.0f} MB JSONL, written in "
          f"{time.perf_counter() - started:.0f} s)")
    print(f"{'command':<44}{'wall s':>8}{'docs/s':>8}{'CPU s':>8}{'RSS MB':>8}{'all MB':>8}"
          f"{'kept':>9}",
          flush=True)
    for extra in ([], ["--no-clean"]):
        for n_workers in workers:
            out = tmp / "dedup"
            args = [*extra, "--workers", str(n_workers)]
            found = _run([_storytrace(), "dedup", str(path), "--out", str(out), "--json",
                          *args], tmp)
            summary = json.loads(found["stdout"].splitlines()[-1])
            print(f"{'storytrace dedup ' + ' '.join(args):<44}{found['seconds']:>8.1f}"
                  f"{n_docs / found['seconds']:>8.0f}{found['cpu']:>8.0f}"
                  f"{found['rss_mb']:>8.0f}{_mb(found):>8}{summary['kept']:>9}", flush=True)
            shutil.rmtree(out)
    path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--analyze", type=int, default=30000, help="documents (0: skip)")
    parser.add_argument("--dedup", type=int, default=0, help="documents (0: skip)")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--ray", action="store_true", help="also analyze with --engine ray")
    parser.add_argument("--repeats", type=int, default=1,
                        help="run the analyze commands this many times in turn; prints the "
                             "fastest of each beside every run")
    parser.add_argument("--note", default="")
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        _measure(json.loads(args.measure[0]), args.measure[1])
        return
    sys.path.insert(0, str(HERE))
    workers = [int(w) for w in args.workers.split(",")]
    load = os.getloadavg()
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {platform.platform()}; "
          f"{os.cpu_count()} CPU cores; Python {platform.python_version()}; load average at "
          f"start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}" + (f"; {args.note}" if args.note else ""))
    with tempfile.TemporaryDirectory() as tmp:
        if args.analyze:
            bench_analyze(args.analyze, workers, args.ray, Path(tmp), args.repeats)
        if args.dedup:
            bench_dedup(args.dedup, workers, Path(tmp))
    load = os.getloadavg()
    print(f"\nload average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (on "
          f"{os.cpu_count()} cores; above that, other processes shared the CPUs)")


if __name__ == "__main__":
    main()
