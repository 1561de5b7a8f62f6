"""The HTTP service's latency: query and add through HTTP beside the same calls in-process.

An index of `--documents` articles is built once (or reused with `--index`); then each
operation runs `--requests` times in-process (`Index.query`, `Index.add` of one document) and
through HTTP (`POST /api/query`, `POST /api/documents`) from `--clients` concurrent clients on
loopback (the server is uvicorn in this process, bound to 127.0.0.1 only). The peer is the
in-process call: the ratio is what HTTP, JSON and queueing behind the index's one lock add.

Corpus: the dedup benchmark's (bench/dedup.py `build_corpus`: Multi-News dev articles and the
rewrite generator's copies of them, replicated through word ciphers). Queries are stored
articles' texts (they find their family); adds are held-out articles of the same corpus.

Run: PYTHONPATH=src python bench/service.py [--documents 100000] [--clients 8] [--requests 200]
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def build(path: Path, n_docs: int, extra: int):
    """The index at `path` with `n_docs` articles (built unless it has them) and `extra`
    articles of the same corpus not in it yet, for adds (a re-run adds the next ones)."""
    from dedup import build_corpus

    from storytrace.index import Index

    index = Index.open(path, keys_in_memory=True)  # as `storytrace serve` opens it
    held = index.stats()["documents"]
    docs, _, _ = build_corpus(max(n_docs, held) + extra)
    stored = docs[:n_docs]
    if held < n_docs:
        started = time.perf_counter()
        index.add([{"id": i, "text": t} for i, t in stored], batch_size=1000,
                  progress=lambda stage, done, total: print(
                      f"\r  building: {done:,}/{total:,}", end="", file=sys.stderr))
        print(f"\n  built {n_docs:,} documents in {time.perf_counter() - started:.0f} s",
              file=sys.stderr)
        held = n_docs
    return index, stored, docs[held:]


def serve(index):
    import uvicorn

    from storytrace.service import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(index), host="127.0.0.1", port=port,
                                           log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def timed(call, items) -> list[float]:
    out = []
    for item in items:
        started = time.perf_counter()
        call(item)
        out.append(time.perf_counter() - started)
    return out


def http_timed(url: str, path: str, bodies: list[dict], clients: int) -> tuple[list[float], float]:
    """Each request's latency, and the wall time of them all, `clients` at a time."""
    import httpx

    local = threading.local()

    def one(body: dict) -> float:
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=url, timeout=600)
        started = time.perf_counter()
        answer = local.client.post(path, json=body)
        elapsed = time.perf_counter() - started
        if answer.status_code >= 400:
            raise RuntimeError(f"{path}: {answer.status_code} {answer.text[:200]}")
        return elapsed

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        latencies = list(pool.map(one, bodies))
    return latencies, time.perf_counter() - started


def page_after_adds(url: str, bodies: list[dict]) -> tuple[float, list[float]]:
    """The served overview page: the first GET (every view built from the whole index), then
    one GET after each add of `bodies` (the views of the stories that add changed remade)."""
    import httpx

    with httpx.Client(base_url=url, timeout=3600) as client:
        started = time.perf_counter()
        client.get("/").raise_for_status()
        first = time.perf_counter() - started
        after = []
        for body in bodies:
            client.post("/api/documents", json=body).raise_for_status()
            started = time.perf_counter()
            client.get("/").raise_for_status()
            after.append(time.perf_counter() - started)
    return first, after


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--index", type=Path, help="index file to build or reuse")
    parser.add_argument("--clients", default="1,8",
                        help="concurrent HTTP clients, one run per number (comma-separated)")
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="storytrace-bench-service-"))
    path = args.index or workdir / "bench.duckdb"
    counts = [int(c) for c in str(args.clients).split(",")]
    index, stored, held_out = build(path, args.documents, (2 + len(counts)) * args.requests + 1)
    started = time.perf_counter()  # the first calls open what later ones reuse
    index.query(held_out[-1][1])
    first_query = time.perf_counter() - started
    started = time.perf_counter()
    index.add([{"id": held_out[-1][0], "text": held_out[-1][1]}])
    first_add = time.perf_counter() - started
    held_out = held_out[:-1]
    rng = random.Random(0)
    queries = [{"text": t} for _, t in rng.sample(stored, min(args.requests, len(stored)))]
    adds_local = [{"id": i, "text": t} for i, t in held_out[: args.requests]]

    def note(what: str) -> None:
        print(f"  {what}", file=sys.stderr)

    local: dict[str, list[float]] = {}
    http: dict[tuple[str, int], tuple[list[float], float]] = {}
    note("in-process queries")
    local["query"] = timed(lambda b: index.query(b["text"]), queries)
    note("in-process adds")
    local["add"] = timed(lambda b: index.add([b]), adds_local)
    server, url = serve(index)
    for position, clients in enumerate(counts):
        note(f"HTTP queries, {clients} clients")
        http[("query", clients)] = http_timed(url, "/api/query", queries, clients)
        note(f"HTTP adds, {clients} clients")
        batch = [{"id": i, "text": t}
                 for i, t in held_out[args.requests * (1 + position) :
                                      args.requests * (2 + position)]]
        http[("add", clients)] = http_timed(url, "/api/documents", batch, clients)
    note("the overview page: first GET, then one GET after each add")
    pages = page_after_adds(url, [{"id": i, "text": t} for i, t in held_out[
        args.requests * (1 + len(counts)) : args.requests * (2 + len(counts))]])
    server.should_exit = True

    print(f"\nservice latency, index of {args.documents:,} documents, {args.requests} requests "
          f"each, HTTP clients on loopback (ms)")
    header = (f"{'operation':<10}{'clients':>8}{'in-process p50':>16}{'p99':>9}{'HTTP p50':>11}"
              f"{'p99':>9}{'p50 ratio':>11}{'HTTP req/s':>12}")
    print(header)
    print("-" * len(header))
    rows = []
    for op in ("query", "add"):
        lp50, lp99 = percentile(local[op], 0.5) * 1e3, percentile(local[op], 0.99) * 1e3
        for clients in counts:
            latencies, wall = http[(op, clients)]
            hp50, hp99 = percentile(latencies, 0.5) * 1e3, percentile(latencies, 0.99) * 1e3
            print(f"{op:<10}{clients:>8}{lp50:>16.1f}{lp99:>9.1f}{hp50:>11.1f}{hp99:>9.1f}"
                  f"{hp50 / lp50:>10.2f}x{len(latencies) / wall:>12.2f}")
            rows.append({"operation": op, "clients": clients, "local_p50_ms": round(lp50, 1),
                         "local_p99_ms": round(lp99, 1), "http_p50_ms": round(hp50, 1),
                         "http_p99_ms": round(hp99, 1),
                         "http_per_second": round(len(latencies) / wall, 2),
                         "local_mean_ms": round(statistics.mean(local[op]) * 1e3, 1)})
    first, after = pages
    print(f"first calls, not in the table: query {first_query * 1e3:.0f} ms, add "
          f"{first_add * 1e3:.0f} ms (the story clusterer read from its checkpoint and fed "
          "the units added after it)")
    print(f"overview page GET /: first {first * 1e3:.0f} ms (every view built from the whole "
          f"index); after an add p50 {percentile(after, 0.5) * 1e3:.0f} ms, "
          f"p99 {percentile(after, 0.99) * 1e3:.0f} ms (the views of the stories it changed)")
    print(json.dumps({"documents": args.documents, "requests": args.requests, "rows": rows,
                      "first_query_ms": round(first_query * 1e3, 1),
                      "first_add_ms": round(first_add * 1e3, 1),
                      "page_first_ms": round(first * 1e3, 1),
                      "page_after_add_p50_ms": round(percentile(after, 0.5) * 1e3, 1),
                      "page_after_add_p99_ms": round(percentile(after, 0.99) * 1e3, 1)}))
    index.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
