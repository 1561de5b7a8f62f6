"""The whole pipeline at scale: seconds per stage and peak memory of `storytrace.analyze`.

There is no peer that does the same job, so this is a scaling table, not a ratio: it tells
where the time goes as the corpus grows, and that memory stays bounded. Each size runs in a
fresh process (peak RSS from /proc/self/status VmHWM, corpus reading included), writing
result.json, the Parquet tables and the HTML report as `storytrace analyze` does.

Corpus: the dedup benchmark's (bench/dedup.py `build_corpus`: Multi-News dev articles and the
rewrite generator's copies of them, replicated through word ciphers).

Run: PYTHONPATH=src python bench/analyze_scale.py [--sizes 5000,10000,20000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
STAGES = ("clean", "signals", "match", "families", "trace", "stories", "facts", "reuse")


def worker(path: str, out: str) -> None:
    """Analyze the JSONL corpus at `path` into `out`; print one JSON line of measurements."""
    sys.path.insert(0, str(HERE))
    from dedup import _rss_mb

    from storytrace.cli import app

    started = time.perf_counter()
    try:
        app(["analyze", path, "--out", out], standalone_mode=False)
    finally:
        seconds = time.perf_counter() - started
    rss = _rss_mb("VmHWM")
    stats = json.loads((Path(out) / "result.json").read_text(encoding="utf-8"))["stats"]
    print(json.dumps({"seconds": seconds, "rss": rss, "stats": stats}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="5000,10000,20000")
    parser.add_argument("--worker", nargs=2, metavar=("PATH", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return 0
    sys.path.insert(0, str(HERE))
    from dedup import write_corpus

    header = f"{'docs':>7} {'MB':>6} " + " ".join(f"{s:>8}" for s in STAGES)
    header += f" {'total s':>8} {'wall s':>7} {'RSS MB':>7} {'families':>8} {'stories':>7}"
    print(header)
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.sizes.split(",")):
            path = Path(tmp) / f"corpus-{n}.jsonl"
            write_corpus(n, path)
            done = subprocess.run(
                [sys.executable, __file__, "--worker", str(path), str(Path(tmp) / f"out-{n}")],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            run = json.loads(done.stdout.strip().splitlines()[-1])
            stats, seconds = run["stats"], run["stats"]["seconds"]
            megabytes = path.stat().st_size / 1e6
            print(
                f"{n:>7} {megabytes:>6.0f} "
                + " ".join(f"{seconds.get(s, 0.0):>8.1f}" for s in STAGES)
                + f" {seconds['total']:>8.1f} {run['seconds']:>7.1f} {run['rss']:>7.0f}"
                f" {stats['families']:>8} {stats['stories']:>7}"
            )
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
