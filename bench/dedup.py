"""Dedup and copy-detection benchmark: storytrace against datasketch on one corpus.

    PYTHONPATH=src .venv/bin/python bench/dedup.py [--quick] [--docs 20000]

Corpus: Multi-News dev articles (distinct, >= 150 words) and tests/rewrites.py copies of them
(verbatim, wrapped, truncated, edited, spun, translated, partial), replicated with a
perturbation until it holds --docs documents. Each replica relabels every word through its
own random cipher (same length and capitalisation, digits to digits), so replicas are
lexically disjoint new corpora with the same copy structure, lengths and name/number patterns.

Prints, after a header line (date, platform, cores, load average):
 1. lexical dedup throughput: datasketch MinHash.update_batch + MinHashLSH (num_perm=128,
    word 5-grams, threshold 0.8, query-then-insert) in its own subprocess, against the
    commands a user types on the same JSONL file: `storytrace dedup FILE --out DIR` (cleaning
    on, every core), at `--workers 1`, with `--no-clean` (every core too) and with
    `--no-clean --workers 1` (docs/s and MB/s by wall
    clock and by CPU time of all the command's processes, best of --repeats runs; peak RSS),
    the ratios, and datasketch with a fast token hash (xxh32) for reference. A command's time
    is the whole process: interpreter start, imports, reading and parsing the file, writing
    the outputs (the datasketch worker times its loop from its first line read);
 2. full analysis time (find_relations: candidates, alignment, kinds) at 1/4, 1/2 and all of
    --docs (5k, 10k, 20k by default), wall clock and CPU;
 3. copy-family pairwise precision/recall/F1 and recall per kind: storytrace find_relations
    (full match with alignment) at the largest size vs datasketch at 0.8.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

import rewrites
import xxhash

_TOKEN = re.compile(r"[A-Za-z]+|\d+")
_LOWER = "abcdefghijklmnopqrstuvwxyz"


def _cipher(replica: int):
    cache: dict[str, str] = {}

    def relabel(m: re.Match) -> str:
        word = m.group()
        out = cache.get(word)
        if out is None:
            key = word.lower()
            h = xxhash.xxh3_64_intdigest(f"{replica}:{key}".encode())
            if key.isdigit():
                new = "".join(str((h >> (4 * k)) % 10) for k in range(len(key)))
            else:
                new = "".join(_LOWER[(h >> (5 * k)) % 26] for k in range(len(key)))
            out = "".join(c.upper() if o.isupper() else c for o, c in zip(word, new))
            cache[word] = out
        return out

    return lambda text: _TOKEN.sub(relabel, text) if replica else text


def _replicas(seed: int = 0) -> Iterator[tuple[list, list, dict]]:
    """The corpus replica by replica, endlessly: (docs, truth, story) of each."""
    articles = rewrites.load_articles()
    rng = random.Random(seed)
    replica = 0
    while True:
        pool = articles[:]
        rng.shuffle(pool)
        hosts, originals = pool[:40], pool[40:]
        rdocs, rtruth = rewrites.rewrite_set(originals, seed=seed + replica, hosts=hosts)
        relabel = _cipher(replica)
        suffix = f"@{replica}"
        yield ([(doc_id + suffix, relabel(text)) for doc_id, text in rdocs],
               [(o + suffix, c + suffix, k) for o, c, k in rtruth],
               {doc_id + suffix: doc_id.split("~")[0].rsplit("-", 1)[0] + suffix
                for doc_id, _ in rdocs})
        replica += 1


def build_corpus(n_docs: int, seed: int = 0):
    """(docs, truth, story): docs [(id, text)], truth [(original, copy, kind)]."""
    docs, truth, story = [], [], {}
    replicas = _replicas(seed)
    while len(docs) < n_docs:
        rdocs, rtruth, rstory = next(replicas)
        docs += rdocs
        truth += rtruth
        story |= rstory
    docs = docs[:n_docs]
    kept = {d for d, _ in docs}
    truth = [t for t in truth if t[0] in kept and t[1] in kept]
    return docs, truth, story


def write_corpus(n_docs: int, path: Path, with_story: bool = False) -> None:
    """`build_corpus(n_docs)` as JSONL rows {"id", "text"} (and "story"), for the scale benches;
    streamed a replica at a time (a million documents are 4.7 GB of text)."""
    left = n_docs
    with path.open("w", encoding="utf-8") as out:
        for rdocs, _, story in _replicas():
            for doc_id, text in rdocs[:left]:
                row = {"id": doc_id, "text": text} | ({"story": story[doc_id]} if with_story
                                                      else {})
                out.write(json.dumps(row) + "\n")
            left -= min(left, len(rdocs))
            if not left:
                return


# --- lexical throughput, each engine in its own process -------------------------------------

def _rss_mb(field: str = "VmRSS") -> float:
    """Resident memory (MB) from /proc/self/status: now (VmRSS) or the peak (VmHWM).

    The peak is read here, not from getrusage: Linux carries ru_maxrss across exec, so a
    worker started by this (large) process would report the parent's peak as its own.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _worker(engine: str, path: str, out: str, measure: str = "time") -> None:
    """datasketch over the corpus file, streaming; `measure` "memory" runs under tracemalloc
    (slower, so timing and memory are separate runs). Imports before the clock starts;
    reading the corpus lines is inside the clock."""
    import tracemalloc

    corpus = open(path, encoding="utf-8")  # noqa: SIM115 (closed below, outside the clock)
    texts = (json.loads(line) for line in corpus)
    mapping: dict[str, str] = {}
    n_docs = 0
    import xxhash
    from datasketch import MinHash, MinHashLSH

    # Permutations made once and shared, as datasketch's documentation advises for many
    # MinHashes (same values as making them per document); "datasketch-xxh32" also
    # replaces the default SHA-1 token hash by xxh32 (faster, different values).
    model = MinHash(num_perm=128)
    options = {"permutations": model.permutations, "scheme": model.scheme}
    if engine == "datasketch-xxh32":
        options["hashfunc"] = xxhash.xxh32_intdigest
    rss_before = _rss_mb()
    if measure == "memory":
        tracemalloc.start()
    started, cpu_started = time.perf_counter(), time.process_time()
    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    for row in texts:
        toks = row["text"].lower().split()
        grams = [" ".join(toks[i : i + 5]).encode() for i in range(max(1, len(toks) - 4))]
        m = MinHash(num_perm=128, **options)
        m.update_batch(grams)
        hits = lsh.query(m)
        if hits:
            mapping[row["id"]] = mapping[hits[0]]
        else:
            lsh.insert(row["id"], m)
            mapping[row["id"]] = row["id"]
        n_docs += 1
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    traced = tracemalloc.get_traced_memory()[1] / 2**20 if measure == "memory" else None
    rss = _rss_mb("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    corpus.close()
    with open(out, "w") as f:
        json.dump({"seconds": seconds, "cpu_seconds": cpu, "docs": n_docs, "rss_mb": rss,
                   "rss_before_mb": rss_before, "traced_mb": traced, "mapping": mapping}, f)


# The commands a user types, by name in the table.
COMMANDS = {
    "storytrace dedup": [],
    "  --no-clean": ["--no-clean"],
    "  --workers 1": ["--workers", "1"],
    "  --no-clean --workers 1": ["--no-clean", "--workers", "1"],
}


def _command(args: list[str], path: str, out: str) -> None:
    """Run one storytrace command as a user would (the entry point in a new process) and
    record its wall clock, the CPU time and largest peak RSS of its processes, its mapping."""
    command = [str(Path(sys.executable).with_name("storytrace")), "dedup", path, "--out",
               out + ".d", "--json", *args]
    started = time.perf_counter()
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    summary = json.loads(done.stdout.splitlines()[-1])
    mapping = {}
    with open(Path(out + ".d") / "mapping.jsonl", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            mapping[row["id"]] = row["representative"]
    shutil.rmtree(out + ".d")
    with open(out, "w") as f:
        json.dump({"seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime,
                   "docs": summary["documents"], "rss_mb": usage.ru_maxrss / 1024,
                   "rss_before_mb": None, "traced_mb": None, "mapping": mapping,
                   "run_seconds": summary["seconds"], "workers": summary.get("workers")}, f)


def run_lexical(docs, workdir: Path, repeats: int = 3) -> dict[str, dict]:
    """Each engine and command `repeats` times for time (alternating, keeping each one's
    fastest run: this machine is shared, so slower runs measure the neighbours), then
    datasketch once more for memory."""
    path = workdir / "corpus.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps({"id": doc_id, "text": text}) + "\n" for doc_id, text in docs)
    results: dict[str, dict] = {}
    runs = [(e, "time") for _ in range(repeats) for e in (*ENGINES, *COMMANDS)]
    runs += [("datasketch", "memory")]
    for n, (engine, measure) in enumerate(runs):
        out = workdir / f"run{n}.json"
        if engine in COMMANDS:  # a wrapper process, so its children's rusage is this run's
            subprocess.run([sys.executable, __file__, "--command", json.dumps(COMMANDS[engine]),
                            str(path), str(out), "-"], check=True)
        else:
            subprocess.run([sys.executable, __file__, "--worker", engine, str(path), str(out),
                            measure], check=True)
        with open(out) as f:
            got = json.load(f)
        best = results.get(engine)
        if measure == "memory":
            best["traced_mb"] = got["traced_mb"]
            continue
        if best is None or got["seconds"] < best["seconds"]:
            got["runs"] = (best or {}).get("runs", [])
            results[engine] = best = got
        best["runs"].append(round(got["seconds"], 2))
    return results


ENGINES = ("datasketch", "datasketch-xxh32")


# --- quality ---------------------------------------------------------------------------------

def _pairwise(pred: dict[str, str], gold: dict[str, str]) -> tuple[float, float, float]:
    """Pairwise P/R/F1 of two partitions given as doc -> cluster label (by counting)."""
    c2 = lambda n: n * (n - 1) // 2
    both = Counter((pred[d], gold[d]) for d in gold)
    tp = sum(c2(n) for n in both.values())
    pp = sum(c2(n) for n in Counter(pred[d] for d in gold).values())
    gp = sum(c2(n) for n in Counter(gold.values()).values())
    p, r = tp / pp if pp else 1.0, tp / gp if gp else 1.0
    return p, r, 2 * p * r / (p + r) if p + r else 0.0


def quality(docs, truth, story, relations, ds_mapping) -> None:
    from storytrace.cluster.components import group_of
    from storytrace.model import WHOLE_COPY_KINDS

    ids = [d for d, _ in docs]
    gold_parent = {c: o for o, c, k in truth if k != "partial"}
    gold = {d: gold_parent.get(d, d) for d in ids}
    ours = group_of(ids, [(r.a, r.b) for r in relations if r.kind in WHOLE_COPY_KINDS])
    theirs = group_of(ids, ds_mapping.items())
    by_pair = {frozenset((r.a, r.b)): r.kind for r in relations}
    print("\n## Copy families (pairwise over documents)")
    print(f"{'engine':<34}{'P':>7}{'R':>7}{'F1':>7}")
    for name, part in (("storytrace find_relations (full)", ours),
                       ("datasketch MinHashLSH @0.8", theirs)):
        p, r, f = _pairwise(part, gold)
        print(f"{name:<34}{p:7.3f}{r:7.3f}{f:7.3f}")
    print(f"\n{'kind':<12}{'n':>6}{'storytrace':>12}{'kind named':>12}{'datasketch':>12}")
    per = defaultdict(lambda: [0, 0, 0, 0])
    for o, c, k in truth:
        kind = by_pair.get(frozenset((o, c)))
        row = per[k]
        row[0] += 1
        if k == "partial":
            row[1] += kind == "partial"
        else:
            row[1] += ours[o] == ours[c]
            row[3] += theirs[o] == theirs[c]
        row[2] += kind == k
    for k in [*rewrites.WHOLE_KINDS, "partial"]:
        n, hit, named, ds = per[k]
        ds_text = f"{ds / n:12.3f}" if k != "partial" else f"{'n/a':>12}"
        print(f"{k:<12}{n:>6}{hit / n:12.3f}{named / n:12.3f}{ds_text}")
    # Different originals of one Multi-News story must not become one family.
    originals = [d for d in ids if "~" not in d]
    same_story = Counter(story[d] for d in originals)
    pairs = sum(n * (n - 1) // 2 for n in same_story.values())
    false = sum(1 for r in relations if r.kind in WHOLE_COPY_KINDS and "~" not in r.a
                and "~" not in r.b and story[r.a] == story[r.b])
    print(f"\nsame-story different articles linked as whole copies: {false} of {pairs} pairs "
          f"({100 * false / max(1, pairs):.2f}%)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2k documents, sizes 1k/2k")
    parser.add_argument("--docs", type=int, default=20000)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each engine")
    parser.add_argument("--note", default="", help="said in the header line (e.g. the load)")
    parser.add_argument("--lexical-only", action="store_true",
                        help="only the lexical dedup table (section 1)")
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--command", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(*args.worker)
        return
    if args.command:
        _command(json.loads(args.command[0]), args.command[1], args.command[2])
        return
    load = os.getloadavg() if hasattr(os, "getloadavg") else ("?",) * 3
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {platform.platform()}; "
          f"{os.cpu_count()} CPU cores; Python {platform.python_version()}; load average at "
          f"start {load[0]:.2f}" + (f"; {args.note}" if args.note else ""))
    n_docs = 2000 if args.quick else args.docs
    sizes = [n_docs // 2, n_docs] if args.quick else [n_docs // 4, n_docs // 2, n_docs]
    t0 = time.perf_counter()
    docs, truth, story = build_corpus(n_docs)
    mb = sum(len(t.encode()) for _, t in docs) / 1e6
    print(f"corpus: {len(docs)} documents, {mb:.1f} MB, {len(truth)} known copies "
          f"(built in {time.perf_counter() - t0:.1f}s)")

    with tempfile.TemporaryDirectory() as tmp:
        lex = run_lexical(docs, Path(tmp), args.repeats)
    print("\n## Lexical dedup, num_perm=128, word 5-grams, threshold 0.8 (streaming)")
    print(f"(time: fastest of {args.repeats} runs, wall clock, and CPU time of all the run's "
          "processes; datasketch: its loop in its own process, from the first line read, "
          "imports before the clock;\n storytrace: the whole command a user types, "
          "`storytrace dedup corpus.jsonl --out DIR ...`, from exec to exit (own time: what the "
          "command reports, after its imports);\n peak traced = tracemalloc peak in a separate "
          "run; peak RSS: datasketch's process, or the largest process of the command;\n "
          "datasketch-xxh32 = datasketch with xxh32 instead of its default SHA-1 token hash)")
    print(f"{'engine':<26}{'docs/s':>8}{'MB/s':>7}{'CPU docs/s':>11}{'own docs/s':>11}"
          f"{'peak traced MB':>15}{'peak RSS MB':>12}{'families':>9}  runs (s)")
    for name, r in lex.items():
        fams = len(set(r["mapping"].values()))
        traced = f"{r['traced_mb']:15.1f}" if r.get("traced_mb") is not None else f"{'-':>15}"
        own = f"{r['docs'] / r['run_seconds']:11.0f}" if r.get("run_seconds") else f"{'-':>11}"
        print(f"{name:<26}{r['docs'] / r['seconds']:8.0f}{mb / r['seconds']:7.2f}"
              f"{r['docs'] / r['cpu_seconds']:11.0f}{own}{traced}{r['rss_mb']:12.0f}"
              f"{fams:>9}  {r['runs']}")
    for command in COMMANDS:
        for peer in ("datasketch", "datasketch-xxh32"):
            ratio = lex[peer]["seconds"] / lex[command]["seconds"]
            cpu_ratio = lex[peer]["cpu_seconds"] / lex[command]["cpu_seconds"]
            print(f"throughput ratio {command.strip()} / {peer}: {ratio:.1f}x wall clock, "
                  f"{cpu_ratio:.1f}x CPU time")
    for command in COMMANDS:
        same = sum(lex[command]["mapping"][d] == lex["datasketch"]["mapping"][d]
                   for d in lex["datasketch"]["mapping"])
        print(f"documents given the same representative by {command.strip()} and datasketch: "
              f"{same} of {len(docs)}")
    if args.lexical_only:
        return

    from storytrace.match import find_relations

    print("\n## Full analysis (find_relations: candidates + alignment + kinds; one process)")
    print(f"{'docs':>8}{'seconds':>10}{'CPU s':>9}{'docs/s':>9}{'CPU ms/doc':>12}{'relations':>11}")
    relations = []
    for size in sizes:
        subset = dict(docs[:size])
        started, cpu_started = time.perf_counter(), time.process_time()
        relations = find_relations(subset)
        took, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        print(f"{size:>8}{took:10.1f}{cpu:9.1f}{size / took:9.0f}{1000 * cpu / size:12.1f}"
              f"{len(relations):>11}", flush=True)
    subset_ids = set(dict(docs[: sizes[-1]]))
    quality([d for d in docs if d[0] in subset_ids],
            [t for t in truth if t[0] in subset_ids and t[1] in subset_ids],
            story, relations, lex["datasketch"]["mapping"])
    if hasattr(os, "getloadavg"):
        print(f"\nload average at the end: {os.getloadavg()[0]:.2f} "
              f"(on {os.cpu_count()} cores; above 1 means other processes shared the CPUs)")


if __name__ == "__main__":
    main()
