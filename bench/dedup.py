"""Dedup and copy-detection benchmark: storytrace against datasketch on one corpus.

    PYTHONPATH=src .venv/bin/python bench/dedup.py [--quick] [--docs 20000]

Corpus: Multi-News dev articles (distinct, >= 150 words) and tests/rewrites.py copies of them
(verbatim, wrapped, truncated, edited, spun, translated, partial), replicated with a
perturbation until it holds --docs documents. Each replica relabels every word through its
own random cipher (same length and capitalisation, digits to digits), so replicas are
lexically disjoint new corpora with the same copy structure, lengths and name/number patterns.

Prints:
 1. lexical dedup throughput: datasketch MinHash.update_batch + MinHashLSH (num_perm=128,
    word 5-grams, threshold 0.8, query-then-insert) vs storytrace.dedup lexical mode with the
    same parameters; each in its own subprocess (docs/s, MB/s, peak RSS), and the ratio;
 2. copy-family pairwise precision/recall/F1 and recall per kind: storytrace find_relations
    (full match with alignment) vs datasketch at 0.8;
 3. full analysis time (find_relations, with alignment) at 5k, 10k, 20k documents.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
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


def build_corpus(n_docs: int, seed: int = 0):
    """(docs, truth, story): docs [(id, text)], truth [(original, copy, kind)]."""
    articles = rewrites.load_articles()
    rng = random.Random(seed)
    docs, truth, story = [], [], {}
    replica = 0
    while len(docs) < n_docs:
        pool = articles[:]
        rng.shuffle(pool)
        hosts, originals = pool[:40], pool[40:]
        rdocs, rtruth = rewrites.rewrite_set(originals, seed=seed + replica, hosts=hosts)
        relabel = _cipher(replica)
        suffix = f"@{replica}"
        for doc_id, text in rdocs:
            docs.append((doc_id + suffix, relabel(text)))
            story[doc_id + suffix] = doc_id.split("~")[0].rsplit("-", 1)[0] + suffix
        truth += [(o + suffix, c + suffix, k) for o, c, k in rtruth]
        replica += 1
    docs = docs[:n_docs]
    kept = {d for d, _ in docs}
    truth = [t for t in truth if t[0] in kept and t[1] in kept]
    return docs, truth, story


# --- lexical throughput, each engine in its own process -------------------------------------

def _worker(engine: str, path: str, out: str, measure: str = "time") -> None:
    """One engine over the corpus file, streaming; `measure` "memory" runs under tracemalloc
    (slower, so timing and memory are separate runs). Imports happen before the clock starts."""
    import tracemalloc

    from datasketch import MinHash, MinHashLSH

    from storytrace.dedup import DedupOptions, dedup
    from storytrace.model import Document

    texts = (json.loads(line) for line in open(path, encoding="utf-8"))
    n_bytes = n_docs = 0
    mapping: dict[str, str] = {}
    if measure == "memory":
        tracemalloc.start()
    started = time.perf_counter()
    if engine == "datasketch":
        lsh = MinHashLSH(threshold=0.8, num_perm=128)
        for row in texts:
            toks = row["text"].lower().split()
            grams = [" ".join(toks[i : i + 5]).encode() for i in range(max(1, len(toks) - 4))]
            m = MinHash(num_perm=128)
            m.update_batch(grams)
            hits = lsh.query(m)
            if hits:
                mapping[row["id"]] = mapping[hits[0]]
            else:
                lsh.insert(row["id"], m)
                mapping[row["id"]] = row["id"]
            n_docs += 1
            n_bytes += len(row["text"].encode())
    else:
        def stream():
            nonlocal n_docs, n_bytes
            for row in texts:
                n_docs += 1
                n_bytes += len(row["text"].encode())
                yield Document(row["id"], row["text"], "bench")

        with tempfile.TemporaryDirectory() as tmp:
            dedup(stream(), Path(tmp), DedupOptions(mode="lexical", threshold=0.8, clean=False))
            for line in open(Path(tmp) / "mapping.jsonl"):
                row = json.loads(line)
                mapping[row["id"]] = row["representative"]
    seconds = time.perf_counter() - started
    traced = tracemalloc.get_traced_memory()[1] / 2**20 if measure == "memory" else None
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    json.dump({"seconds": seconds, "docs": n_docs, "bytes": n_bytes, "rss_mb": rss,
               "traced_mb": traced, "mapping": mapping}, open(out, "w"))


def run_lexical(docs, workdir: Path) -> dict[str, dict]:
    path = workdir / "corpus.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps({"id": doc_id, "text": text}) + "\n" for doc_id, text in docs)
    results = {}
    for engine in ("datasketch", "storytrace"):
        out = workdir / f"{engine}.json"
        for measure in ("time", "memory"):
            subprocess.run([sys.executable, __file__, "--worker", engine, str(path), str(out),
                            measure], check=True)
            got = json.load(open(out))
            if measure == "time":
                results[engine] = got
            else:
                results[engine]["traced_mb"] = got["traced_mb"]
    return results


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


def _components(ids, links) -> dict[str, str]:
    parent = {d: d for d in ids}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in links:
        parent[find(a)] = find(b)
    return {d: find(d) for d in ids}


def quality(docs, truth, story, relations, ds_mapping) -> None:
    from storytrace.model import WHOLE_COPY_KINDS

    ids = [d for d, _ in docs]
    gold_parent = {c: o for o, c, k in truth if k != "partial"}
    gold = {d: gold_parent.get(d, d) for d in ids}
    ours = _components(ids, [(r.a, r.b) for r in relations if r.kind in WHOLE_COPY_KINDS])
    theirs = _components(ids, ds_mapping.items())
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
    parser.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(*args.worker)
        return
    n_docs = 2000 if args.quick else args.docs
    sizes = [n_docs // 2, n_docs] if args.quick else [n_docs // 4, n_docs // 2, n_docs]
    t0 = time.perf_counter()
    docs, truth, story = build_corpus(n_docs)
    mb = sum(len(t.encode()) for _, t in docs) / 1e6
    print(f"corpus: {len(docs)} documents, {mb:.1f} MB, {len(truth)} known copies "
          f"(built in {time.perf_counter() - t0:.1f}s)")

    with tempfile.TemporaryDirectory() as tmp:
        lex = run_lexical(docs, Path(tmp))
    print("\n## Lexical dedup, num_perm=128, word 5-grams, threshold 0.8 (streaming)")
    print("(peak traced = tracemalloc peak during the run, in a separate run; peak RSS includes"
          " the interpreter and imported libraries)")
    print(f"{'engine':<14}{'docs/s':>10}{'MB/s':>8}{'peak traced MB':>16}{'peak RSS MB':>13}"
          f"{'families':>10}")
    for name, r in lex.items():
        fams = len(set(r["mapping"].values()))
        print(f"{name:<14}{r['docs'] / r['seconds']:10.0f}{r['bytes'] / 1e6 / r['seconds']:8.2f}"
              f"{r['traced_mb']:16.1f}{r['rss_mb']:13.0f}{fams:>10}")
    ratio = lex["datasketch"]["seconds"] / lex["storytrace"]["seconds"]
    print(f"throughput ratio storytrace/datasketch: {ratio:.1f}x")

    from storytrace.match import find_relations

    print("\n## Full analysis (find_relations: candidates + alignment + kinds)")
    print(f"{'docs':>8}{'seconds':>10}{'docs/s':>10}{'relations':>11}")
    relations = []
    for size in sizes:
        subset = dict(docs[:size])
        started = time.perf_counter()
        relations = find_relations(subset)
        took = time.perf_counter() - started
        print(f"{size:>8}{took:10.1f}{size / took:10.0f}{len(relations):>11}")
    subset_ids = set(dict(docs[: sizes[-1]]))
    quality([d for d in docs if d[0] in subset_ids],
            [t for t in truth if t[0] in subset_ids and t[1] in subset_ids],
            story, relations, lex["datasketch"]["mapping"])


if __name__ == "__main__":
    main()
