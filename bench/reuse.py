"""Real newsroom reuse: does storytrace find the newspaper stories editors wrote from wire copy?

    PYTHONPATH=src .venv/bin/python bench/reuse.py [--train] [--folds 5] [--scale 10000]

Corpus: the shared half of METER (../shared/data/meter: Press Association copy and the UK
newspaper stories printed from it, each labelled by journalists wholly / partially / non-derived
from its catchline's PA texts). Texts go through the clean stage as `storytrace analyze` would;
dates are METER's (PA's wire time; newspapers the next day).

A newspaper story's predicted class (METER's README): `wholly` if it shares a copy family with a
PA text of its catchline or a whole-copy relation links them, `partially` if a `partial` relation
links them, else `non`. Printed:
 1. storytrace, cross-validated: the derivation model is fitted on the other catchlines' labels
    (GroupKFold by catchline) and the whole match stage (candidates, alignment, derivation,
    families) is run with it; only the held-out catchlines' stories are scored. Beside it the
    shipped model (trained on all of this half: in-sample, not a score), the match stage with
    derivation off (alignment kinds only), and peers on the same texts: datasketch MinHash LSH
    (word 5-grams, num_perm 128) at 0.8 / 0.5 / 0.3, exact Jaccard of word 5-grams at several
    cuts, and the METER paper's best ternary classifier (macro F1 0.664, Clough et al. ACL 2002,
    cited, not re-run). Columns: recall of each class's link, the non-derived link rate, macro
    F1 of the three classes, Youden J (derived recall - non-derived link rate). The model is
    fitted on stories measured against their catchline's PA texts (`training_rows`).
 2. Recall of wholly-derived stories by length, storytrace (cross-validated) and Jaccard >= 0.03.
 3. The ROC of derived vs independent at the decision level (each story against its PA texts):
    area, the best Youden J any threshold reaches and the recall at <= 10% independent reports
    linked, held-out and in-sample (a ceiling); the operating point each fold chose inside its
    training catchlines; held-out decisions at each operating point; and what linked the
    independent reports that the cross-validated match stage linked.
 4. Match-stage seconds.
 5. With `--scale N`: match-stage CPU seconds on N bench documents, this checkout against the
    code before this issue's work (d1fe2f3, from `git archive`), side by side.
`--train` fits the model on all of this half and writes src/storytrace/match/data/derivation.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from storytrace.clean import clean_corpus
from storytrace.cluster import copy_families
from storytrace.fingerprint.shingles import words
from storytrace.ingest import FieldMap, read_inputs
from storytrace.match import MatchOptions, find_relations
from storytrace.match.derivation import CLASSES, FEATURES, fit, operating_curve
from storytrace.match.relations import MIN_RARE_WORDS, candidate_pairs, derivation_rows
from storytrace.model import WHOLE_COPY_KINDS

METER = ROOT.parent / "shared" / "data" / "meter"
MODEL = ROOT / "src" / "storytrace" / "match" / "data" / "derivation.json"
PAPER_MACRO_F1 = 0.664  # Clough, Gaizauskas, Piao, Wilks, ACL 2002: best ternary classifier


def load_meter() -> tuple[list[str], list[str], list[str | None], dict]:
    """(ids, clean texts, dates, gold) as `storytrace analyze docs.jsonl` would see them."""
    inputs = read_inputs([METER / "docs.jsonl"], FieldMap())
    cleaned = clean_corpus(inputs.documents)
    gold = json.loads((METER / "gold.json").read_text())
    return ([d.id for d in inputs.documents], [c.text for c in cleaned],
            [d.date for d in inputs.documents], gold)


def predicted_classes(ids, relations, gold) -> dict[str, str]:
    """METER's scoring: family or whole-copy relation -> wholly, partial relation -> partially."""
    family_of = {}
    for n, members in enumerate(copy_families(ids, relations)):
        for doc_id in members:
            family_of[doc_id] = n
    links = defaultdict(set)
    for r in relations:
        links[r.a].add((r.b, r.kind))
        links[r.b].add((r.a, r.kind))
    out = {}
    for story, label in gold["derived"].items():
        sources = set(label["sources"])
        kinds = {kind for other, kind in links[story] if other in sources}
        if kinds & WHOLE_COPY_KINDS or any(family_of[s] == family_of[story] for s in sources):
            out[story] = "wholly"
        elif "partial" in kinds:
            out[story] = "partially"
        else:
            out[story] = "non"
    return out


def scores(pred: dict[str, str], gold: dict, keys=None) -> dict[str, float]:
    keys = list(gold["derived"]) if keys is None else keys
    truth = {k: gold["derived"][k]["class"] for k in keys}
    linked = {c: np.mean([pred[k] != "non" for k in keys if truth[k] == c]) for c in CLASSES}
    f1 = []
    for c in CLASSES:
        tp = sum(truth[k] == c and pred[k] == c for k in keys)
        fp = sum(truth[k] != c and pred[k] == c for k in keys)
        fn = sum(truth[k] == c and pred[k] != c for k in keys)
        f1.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    derived = [k for k in keys if truth[k] != "non"]
    recall = np.mean([pred[k] != "non" for k in derived])
    return {"wholly": linked["wholly"], "partially": linked["partially"], "non": linked["non"],
            "macro_f1": float(np.mean(f1)), "youden_j": float(recall - linked["non"]),
            **{f"f1_{c}": v for c, v in zip(CLASSES, f1)}}


def training_rows(ids, texts, dates, gold, options):
    """Each labelled newspaper story's derivation features, as the match stage measures them,
    against its catchline's PA texts. A story whose candidates hold no PA text is measured
    against other newspapers (26 of 475): METER's label says nothing about those, so it is no
    training row (and is scored `non` at the decision level)."""
    pairs = list(candidate_pairs(texts, options))
    rows = derivation_rows(texts, pairs, list(range(len(ids))), dates, min_rare_words=0.0)
    out = {}
    for row in rows:
        story = ids[row.target]
        if story in gold["derived"] and \
                {ids[k] for k in row.sources} & set(gold["derived"][story]["sources"]):
            out[story] = row.values
    return out


def cross_validated(ids, texts, dates, gold, options, folds: int):
    """The whole match stage with a model fitted on the other catchlines (its operating point
    chosen by a cross-validation inside those), scored on the held-out catchlines. Also each
    held-out story's decision logits (without the offset), for the ROC."""
    from sklearn.model_selection import GroupKFold

    rows = training_rows(ids, texts, dates, gold, options)
    stories = list(gold["derived"])
    groups = [gold["derived"][s]["catchline"] for s in stories]
    pred: dict[str, str] = {}
    logits: dict[str, np.ndarray] = {}
    offsets, seconds, links = [], [], {}
    for train, test in GroupKFold(folds).split(stories, groups=groups):
        train_ids = [stories[k] for k in train if stories[k] in rows]
        model = fit([rows[s] for s in train_ids],
                    [gold["derived"][s]["class"] for s in train_ids],
                    groups=[gold["derived"][s]["catchline"] for s in train_ids])
        offsets.append(model.non_offset)
        for k in test:
            if stories[k] in rows:
                x = (np.array([rows[stories[k]][f] for f in FEATURES]) - model.mean) / model.scale
                logits[stories[k]] = model.coef @ x + model.intercept
        t0 = time.perf_counter()
        relations = find_relations(dict(zip(ids, texts)), options,
                                   dates=dict(zip(ids, dates)), model=model)
        seconds.append(time.perf_counter() - t0)
        fold_pred = predicted_classes(ids, relations, gold)
        pred.update({stories[k]: fold_pred[stories[k]] for k in test})
        held_out = {stories[k] for k in test}
        for r in relations:
            for story, other in ((r.a, r.b), (r.b, r.a)):
                if story in held_out and other in gold["derived"][story]["sources"]:
                    links.setdefault(story, set()).add(
                        (r.kind, r.metrics.get("candidate_channel") == "derivation"))
    return pred, rows, float(np.mean(seconds)), logits, offsets, links


def roc_table(stories, gold, logits) -> list[str]:
    """Derived vs independent at the decision level: how well the features separate them at
    all. Held-out logits (cross-validated) and, as a ceiling, the model's own training rows."""
    from sklearn.metrics import roc_auc_score, roc_curve

    derived = np.array([gold["derived"][s]["class"] != "non" for s in stories])
    lines = [f"{'scores':44s} {'AUC':>6s} {'best J':>7s} {'at non':>7s} {'recall@non<=0.10':>17s}"]
    for name, table in logits.items():
        # P(derived) = 1 - P(non); a story never measured (no candidate PA text) scores 0.
        score = np.array([1 - _softmax(table[s])[CLASSES.index("non")] if s in table else 0.0
                          for s in stories])
        fpr, tpr, _ = roc_curve(derived, score)
        best = int(np.argmax(tpr - fpr))
        lines.append(f"{name:44s} {roc_auc_score(derived, score):6.3f} {tpr[best] - fpr[best]:7.3f} "
                     f"{fpr[best]:7.3f} {tpr[fpr <= 0.10].max():17.3f}")
    return lines


def _softmax(z: np.ndarray) -> np.ndarray:
    p = np.exp(z - z.max())
    return p / p.sum()


def shingle_sets(texts: list[str], n: int = 5) -> list[set]:
    out = []
    for text in texts:
        toks = words(text)
        out.append({" ".join(toks[i:i + n]) for i in range(len(toks) - n + 1)})
    return out


def jaccard_pred(ids, texts, gold, cut: float) -> dict[str, str]:
    sets = dict(zip(ids, shingle_sets(texts)))
    out = {}
    for story, label in gold["derived"].items():
        a = sets[story]
        best = max((len(a & sets[s]) / len(a | sets[s]) if a | sets[s] else 0.0)
                   for s in label["sources"])
        out[story] = "wholly" if best >= cut else "non"
    return out


def lsh_pred(ids, texts, gold, threshold: float) -> dict[str, str]:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=128)
    hashes = {}
    for doc_id, shingles in zip(ids, shingle_sets(texts)):
        m = MinHash(num_perm=128)
        m.update_batch([s.encode() for s in shingles])
        hashes[doc_id] = m
        lsh.insert(doc_id, m)
    out = {}
    for story, label in gold["derived"].items():
        near = set(lsh.query(hashes[story]))
        out[story] = "wholly" if near & set(label["sources"]) else "non"
    return out


# One side of the match-stage timing (`--scale`): build the bench corpus with this checkout's
# bench/dedup.py, then import storytrace from the given src tree and time find_relations alone.
_TIME_MATCH = """
import json, resource, sys, time
sys.path.insert(0, {bench!r})
import dedup
docs, _, _ = dedup.build_corpus({n})
for name in [m for m in sys.modules if m.startswith("storytrace")]:
    del sys.modules[name]
sys.path.insert(0, {src!r})
import storytrace.match as match
assert match.__file__.startswith({src!r}), match.__file__
cpu, wall = time.process_time(), time.perf_counter()
relations = match.find_relations(dict(docs))
print(json.dumps({{"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall,
                  "relations": len(relations),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""
BASELINE = "d1fe2f3"  # the match stage before issue 11's work


def match_stage_ratio(n_docs: int) -> list[str]:
    """CPU seconds of find_relations on `n_docs` bench documents, at BASELINE (its src from
    `git archive`) and in this checkout, the two processes side by side (same load)."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "archive", BASELINE, "src"], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        runs = {name: subprocess.Popen(
            [sys.executable, "-c", _TIME_MATCH.format(bench=str(ROOT / "bench"), n=n_docs,
                                                      src=src)],
            stdout=subprocess.PIPE, text=True, cwd=ROOT)
            for name, src in ((f"before this issue's work ({BASELINE})", f"{tmp}/src"),
                              ("this checkout", str(ROOT / "src")))}
        measured = {name: json.loads(run.communicate()[0].strip().splitlines()[-1])
                    for name, run in runs.items()}
    lines = [f"{name:44s} {m['cpu']:7.1f} CPU s  {m['relations']:,} relations  peak RSS "
             f"{m['peak_mb']:,.0f} MB (with building the corpus)" for name, m in measured.items()]
    before, now = (m["cpu"] for m in measured.values())
    lines.append(f"{'ratio':44s} {now / before:7.2f}x  (the issue asks for at most 1.5x)")
    return lines


def row(name: str, s: dict[str, float]) -> str:
    return (f"{name:44s} {s['wholly']:6.3f} {s['partially']:6.3f} {s['non']:6.3f} "
            f"{s['macro_f1']:7.3f} {s['youden_j']:6.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train", action="store_true", help="fit and write the shipped model")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--scale", type=int, default=0, metavar="N",
                        help=f"also time the match stage on N bench documents against {BASELINE}")
    args = parser.parse_args()
    options = MatchOptions()
    ids, texts, dates, gold = load_meter()
    print(f"# bench/reuse.py  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  METER shared half: "
          f"{len(ids)} documents, {len(gold['derived'])} labelled newspaper stories")
    cv_pred, rows, cv_seconds, cv_logits, offsets, cv_links = cross_validated(
        ids, texts, dates, gold, options, args.folds)
    trained = [s for s in gold["derived"] if s in rows]
    if args.train:
        stories = trained
        cv = scores(cv_pred, gold)
        model = fit([rows[s] for s in stories], [gold["derived"][s]["class"] for s in stories],
                    meta={"trained_on": "METER shared half (../shared/data/meter)",
                          "stories": len(stories), "bench": "bench/reuse.py --train",
                          "cross_validated": {k: round(v, 4) for k, v in cv.items()}},
                    groups=[gold["derived"][s]["catchline"] for s in stories])
        model.save(MODEL)
        print(f"wrote {MODEL.relative_to(ROOT)} ({len(stories)} stories)")
        low = [s for s in stories if rows[s]["rare_words"] < MIN_RARE_WORDS]
        print(f"stories whose sources hold < {MIN_RARE_WORDS} of their rare words (skipped at "
              f"run time): {len(low)}, of which the model calls non "
              f"{sum(model.decide(rows[s]).cls == 'non' for s in low)}")
    t0 = time.perf_counter()
    shipped = find_relations(dict(zip(ids, texts)), options, dates=dict(zip(ids, dates)))
    shipped_seconds = time.perf_counter() - t0
    t0 = time.perf_counter()
    aligned_only = find_relations(dict(zip(ids, texts)), MatchOptions(derivation=False),
                                  dates=dict(zip(ids, dates)))
    aligned_seconds = time.perf_counter() - t0

    print("\n## 1. Linked to the wire copy, by journalists' label")
    print(f"{'method':44s} {'wholly':>6s} {'partly':>6s} {'non':>6s} {'macroF1':>7s} "
          f"{'J':>6s}")
    print(row(f"storytrace, cross-validated ({args.folds} folds by catchline)",
              scores(cv_pred, gold)))
    print(row("storytrace, shipped model (in-sample)",
              scores(predicted_classes(ids, shipped, gold), gold)))
    print(row("storytrace, alignment kinds only",
              scores(predicted_classes(ids, aligned_only, gold), gold)))
    for threshold in (0.8, 0.5, 0.3):
        print(row(f"datasketch MinHash LSH at {threshold}",
                  scores(lsh_pred(ids, texts, gold, threshold), gold)))
    jaccard = {}
    for cut in (0.01, 0.02, 0.03, 0.05, 0.1):
        jaccard[cut] = jaccard_pred(ids, texts, gold, cut)
        print(row(f"exact Jaccard of word 5-grams >= {cut}", scores(jaccard[cut], gold)))
    print(f"{'METER paper, best ternary classifier':44s} {'':6s} {'':6s} {'':6s} "
          f"{PAPER_MACRO_F1:7.3f}  (cited)")

    print("\n## 2. Wholly-derived stories linked, by length (words after cleaning)")
    length = {doc_id: len(words(text)) for doc_id, text in zip(ids, texts)}
    print(f"{'words':10s} {'n':>4s} {'storytrace CV':>14s} {'as wholly':>10s} "
          f"{'Jaccard>=0.03':>14s}")
    wholly = [s for s, g in gold["derived"].items() if g["class"] == "wholly"]
    for low, high in ((0, 100), (100, 200), (200, 400), (400, 10**9)):
        band = [s for s in wholly if low <= length[s] < high]
        if band:
            print(f"{f'{low}-{high}' if high < 10**9 else f'{low}+':10s} {len(band):4d} "
                  f"{np.mean([cv_pred[s] != 'non' for s in band]):14.3f} "
                  f"{np.mean([cv_pred[s] == 'wholly' for s in band]):10.3f} "
                  f"{np.mean([jaccard[0.03][s] != 'non' for s in band]):14.3f}")

    print("\n## 3. Derived vs independent: what the features can separate at all (decision level)")
    stories = list(gold["derived"])
    in_sample = fit([rows[s] for s in trained], [gold["derived"][s]["class"] for s in trained])
    own = {s: in_sample.coef @ ((np.array([rows[s][f] for f in FEATURES]) - in_sample.mean)
                                / in_sample.scale) + in_sample.intercept for s in trained}
    for line in roc_table(stories, gold, {"cross-validated (held-out catchlines)": cv_logits,
                                          "in-sample (fitted on all: a ceiling)": own}):
        print(line)
    print(f"operating point (log-odds added to non), chosen inside each fold's training "
          f"catchlines: {', '.join(f'{o:+.2f}' for o in offsets)}")
    truth = np.array([gold["derived"][s]["class"] for s in stories])
    held = np.array([cv_logits.get(s, np.array([0.0, 0.0, 50.0])) for s in stories])
    print(f"{'offset':>7s} {'derived linked':>15s} {'non linked':>11s} {'J':>6s}   "
          f"(held-out decisions at each offset; the match stage adds alignment links)")
    for point in operating_curve(held, truth):
        print(f"{point['offset']:+7.2f} {point['derived_linked']:15.3f} "
              f"{point['non_linked']:11.3f} {point['youden_j']:6.3f}")
    causes: dict[str, int] = defaultdict(int)
    for s in stories:
        if gold["derived"][s]["class"] == "non" and cv_pred[s] != "non":
            kinds = cv_links.get(s, set())
            by = "derivation model" if any(d for _, d in kinds) else \
                "alignment: " + "/".join(sorted(k for k, _ in kinds)) if kinds else "family"
            causes[by] += 1
    print("independent reports linked in the cross-validated run, by what linked them: "
          + ", ".join(f"{k} {v}" for k, v in sorted(causes.items(), key=lambda kv: -kv[1])))

    print("\n## 4. Match stage seconds (find_relations on all documents)")
    print(f"with derivation {shipped_seconds:.1f}  (cross-validation folds: mean "
          f"{cv_seconds:.1f})  alignment kinds only {aligned_seconds:.1f}")
    if args.scale:
        print(f"\n## 5. Match stage at {args.scale:,} bench documents (bench/dedup.py build_corpus, "
              f"find_relations only), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, CPU seconds, "
              f"the two processes side by side")
        for line in match_stage_ratio(args.scale):
            print(line)


if __name__ == "__main__":
    main()
