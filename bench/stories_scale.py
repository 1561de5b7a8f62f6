"""Story clustering at scale: time and peak memory of batch `fit` (matrix vs graph) and streaming.

Below `DENSE_LIMIT` families, batch mode holds the n x n similarity matrix; above it, a sparse
graph of each family's nearest families (cluster/stories.py). This runs both paths on the same
families, each in a fresh process (peak RSS read from /proc/self/status VmHWM), and prints
seconds, peak RSS and the story pairwise F1 against the corpus's story labels. Streaming mode
(`partial_fit`, families one at a time in corpus order) runs on the same families up to
--streaming-max.

Corpus: the dedup benchmark's (bench/dedup.py `build_corpus`: Multi-News dev articles and the
rewrite generator's copies of them, replicated through word ciphers). Every document is its own
family here, as if no copies had been folded, which is harder than the pipeline's case.

Run: PYTHONPATH=src python bench/stories_scale.py [--sizes 5000,10000] [--dense-max 10000]
     [--streaming-max 20000]
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


def worker(path: str, mode: str) -> None:
    """Cluster the corpus at `path` by `mode` ("matrix" or "graph"); print one JSON line."""
    sys.path.insert(0, str(HERE))
    from dedup import _rss_mb
    from stories import as_family, pairwise_scores

    from storytrace.cluster.stories import StoryClusterer

    rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines()]
    families = [as_family(r["id"], r["text"]) for r in rows]
    started = time.perf_counter()
    if mode == "streaming":
        labels = StoryClusterer().partial_fit(families).labels_
    else:
        limit = len(families) if mode == "matrix" else 0
        labels = StoryClusterer(dense_limit=limit).fit(families).labels_
    seconds = time.perf_counter() - started
    _, _, f1 = pairwise_scores([r["story"] for r in rows], [int(x) for x in labels])
    print(json.dumps({"seconds": seconds, "rss": _rss_mb("VmHWM"), "f1": f1, "labels": labels.tolist()}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="5000,10000,20000")
    parser.add_argument("--dense-max", type=int, default=10000, help="largest n run as a matrix")
    parser.add_argument(
        "--streaming-max", type=int, default=20000, help="largest n run in streaming mode"
    )
    parser.add_argument("--worker", nargs=2, metavar=("PATH", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return 0
    sys.path.insert(0, str(HERE))
    from dedup import write_corpus

    print(f"{'families':>8} {'path':<9} {'seconds':>8} {'peak RSS MB':>12} {'story F1':>9} {'same labels':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.sizes.split(",")):
            path = Path(tmp) / f"corpus-{n}.jsonl"
            write_corpus(n, path, with_story=True)
            runs = {}
            for mode in ("matrix", "graph", "streaming"):
                if mode == "matrix" and n > args.dense_max:
                    continue
                if mode == "streaming" and n > args.streaming_max:
                    continue
                done = subprocess.run(
                    [sys.executable, __file__, "--worker", str(path), mode],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                runs[mode] = json.loads(done.stdout.strip().splitlines()[-1])
            for mode, run in runs.items():
                same = ""
                if "matrix" in runs and mode == "graph":
                    same = str(runs["matrix"]["labels"] == run["labels"])
                print(
                    f"{n:>8} {mode:<9} {run['seconds']:>8.1f} {run['rss']:>12.0f} "
                    f"{run['f1']:>9.3f} {same:>12}"
                )
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
