"""Cleaning benchmark on the article-extraction benchmark pages (../shared/data/aeb).

Prints three tables, with the benchmark's own metric (storytrace.clean.evaluate: `\\w+` tokens,
4-token shingle multisets, per-page precision/recall macro-averaged, F1 from the averages):
  1. HTML: storytrace.clean_html beside trafilatura with its default settings, same run;
  2. plain text (aeb/flat/*.txt): storytrace.clean_text beside the flat text as is and the C4
     line rules (keep lines of >= 3 words ending in terminal punctuation);
  3. plain-text cleaning throughput, MB/s per core (CPU time), over 1,000 pages of flat text
     (the 181 pages repeated). Printed, never asserted.

Run: PYTHONPATH=src .venv/bin/python bench/cleaning.py [--skip-html]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import trafilatura

from storytrace.clean import CleanOptions, clean_html, clean_text
from storytrace.clean.evaluate import Score, score_pages

AEB = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "aeb"
TERMINAL = (".", "!", "?", '"', "”")


def c4_lines(text: str) -> str:
    """The C4 line rule: keep lines of >= 3 words that end in terminal punctuation."""
    return "\n".join(
        line
        for line in text.splitlines()
        if len(line.split()) >= 3 and line.rstrip().endswith(TERMINAL)
    )


def _row(name: str, score: Score, seconds: float | None = None) -> str:
    timing = f"{seconds:8.1f}" if seconds is not None else " " * 8
    return f"  {name:<38} {score.f1:6.3f} {score.precision:6.3f} {score.recall:6.3f} {timing}"


def _table(title: str, rows: list[str]) -> None:
    print(f"\n{title}")
    print(f"  {'system':<38} {'F1':>6} {'P':>6} {'R':>6} {'cpu s':>8}")
    for row in rows:
        print(row)


def _run(extract: Callable[[str], str], pages: dict[str, str], truth: dict[str, str]):
    started = time.process_time()
    pairs = [(extract(pages[i]) or "", truth[i]) for i in sorted(truth)]
    return score_pages(pairs), time.process_time() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-html", action="store_true", help="plain-text tables only")
    args = parser.parse_args()
    truth_items = json.loads((AEB / "ground-truth.json").read_text(encoding="utf-8"))
    truth = {i: item["articleBody"] for i, item in truth_items.items()}
    flat = {i: (AEB / "flat" / f"{i}.txt").read_text(encoding="utf-8") for i in truth}
    options = CleanOptions()
    print(f"AEB: {len(truth)} pages; storytrace options: {options.get_params()}")

    if not args.skip_html:
        html = {}
        for i in truth:
            with gzip.open(AEB / "html" / f"{i}.html.gz", "rt", encoding="utf-8") as handle:
                html[i] = handle.read()
        rows = []
        score, secs = _run(lambda h: clean_html(h, options).text, html, truth)
        rows.append(_row("storytrace clean_html", score, secs))
        score, secs = _run(lambda h: trafilatura.extract(h) or "", html, truth)
        rows.append(_row("trafilatura 2.3.1 (defaults)", score, secs))
        _table("1. HTML main text (aeb/html)", rows)

    rows = []
    score, secs = _run(lambda t: clean_text(t, options).text, flat, truth)
    rows.append(_row("storytrace clean_text", score, secs))
    rows.append(_row("flat text as is (html-text)", _run(lambda t: t, flat, truth)[0]))
    rows.append(_row("C4 line rules", _run(c4_lines, flat, truth)[0]))
    _table("2. Plain text: boilerplate lines out of the flattened pages (aeb/flat)", rows)

    pages = [flat[i] for i in sorted(flat)]
    corpus = [pages[n % len(pages)] for n in range(1000)]
    megabytes = sum(len(t.encode("utf-8")) for t in corpus) / 1e6
    clean_text("Warm-up: load the language model once before timing.", options)
    started = time.process_time()
    for text in corpus:
        clean_text(text, options)
    cpu = time.process_time() - started
    print("\n3. Plain-text cleaning throughput (clean_text per page, one process)")
    print(
        f"  {len(corpus)} pages, {megabytes:.1f} MB in {cpu:.2f} CPU s: "
        f"{megabytes / cpu:.1f} MB/s per core"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
