"""Provenance benchmark: does storytrace name the original of a copy family, and each copy's parent?

    PYTHONPATH=src .venv/bin/python bench/provenance.py [--articles 150] [--seed 0]

Corpus: distinct Multi-News dev articles (>= 150 words, tests/rewrites.py `load_articles`),
each the original of one family (tests/rewrites.py `copy_chains`): one copy made by the rewrite
generator, the kinds taken in turn (verbatim, wrapped, truncated, edited, spun, translated),
and in every other round of kinds a spun or translated copy *of that copy* (a chain: original
-> copy -> copy of the copy, whose parent is the first copy, not the original). The documents
go to `storytrace.analyze` in a shuffled order and without dates: only the text can tell which
came first (a date would decide it, and scraped dates are often crawl dates).

Printed: how many true families come out whole (all members in one family, nothing else);
over those, the share whose origin is the true original, per kind of the first copy, against
two baselines: the longest text (completeness alone) and the first document in input order
(chance); and the share of copies whose parent is their true parent. Verbatim copies are
counted apart: two identical texts carry no evidence of which came first.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

import rewrites

import storytrace


def build(n_articles: int, seed: int):
    """(docs, truth): docs [(id, text)] shuffled; truth {original: {member: (kind, parent)}}."""
    return rewrites.copy_chains(rewrites.load_articles()[:n_articles], seed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    docs, truth = build(args.articles, args.seed)
    print(f"# {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {platform.machine()}; "
          f"{len(truth)} families, {len(docs)} documents, seed {args.seed}")  # fmt: skip
    started = time.perf_counter()
    result = storytrace.analyze([{"id": i, "text": t} for i, t in docs])
    seconds = time.perf_counter() - started
    position = {doc_id: n for n, (doc_id, _) in enumerate(docs)}
    length = {d.id: len(d.clean_text.split()) for d in result.documents}
    family_of = {m.id: f for f in result.families for m in f.members}

    whole = {}
    for original, members in truth.items():
        family = family_of.get(original)
        if family is not None and {m.id for m in family.members} == set(members):
            whole[original] = family
    print(f"families found whole: {len(whole)} of {len(truth)}   (analyze: {seconds:.1f} s)\n")

    by_kind: dict[str, Counter] = defaultdict(Counter)
    parents = Counter()
    for original, family in whole.items():
        members = truth[original]
        first_kind = next(k for k, p in members.values() if p == original)
        chain = "+chain" if len(members) == 3 else ""
        row = by_kind[first_kind + chain]
        row["families"] += 1
        row["storytrace"] += family.origin == original
        row["longest text"] += max(members, key=lambda m: (length[m], -position[m])) == original
        row["input order"] += min(members, key=position.get) == original
        for member in family.members:
            kind, parent = members[member.id]
            if parent is None:
                continue
            level = "copies of the original" if parent == original else "copies of a copy"
            key = f"{level}, {'verbatim' if first_kind == 'verbatim' else 'other'} families"
            parents[key, "copies"] += 1
            parents[key, "right"] += member.parent == parent

    methods = ("storytrace", "longest text", "input order")
    print("origin is the true original (share of families found whole)")
    print(f"{'first copy kind':<22}{'families':>9}" + "".join(f"{m:>14}" for m in methods))
    total: Counter = Counter()
    for kind in sorted(by_kind, key=lambda k: (k.startswith("verbatim"), k)):
        row = by_kind[kind]
        if not kind.startswith("verbatim"):
            total.update(row)
        print(f"{kind:<22}{row['families']:>9}"
              + "".join(f"{row[m] / row['families']:>14.3f}" for m in methods))  # fmt: skip
    print(f"{'all but verbatim':<22}{total['families']:>9}"
          + "".join(f"{total[m] / max(1, total['families']):>14.3f}" for m in methods))  # fmt: skip
    print("\nparent of each copy is its true parent (verbatim families: the copy of a copy has two")
    print("identical candidate parents, so only a site's boilerplate can tell them apart)")
    for key in sorted({k for k, _ in parents}, key=lambda k: ("verbatim" in k, k)):
        n, right = parents[key, "copies"], parents[key, "right"]
        print(f"  {key:<44} {right:>4} of {n:<4} {right / max(1, n):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
