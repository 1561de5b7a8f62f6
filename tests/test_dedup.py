"""Dedup mode: one representative per family, streamed to documents.jsonl + mapping.jsonl."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest
import rewrites
from conftest import DATA, REPO
from hypothesis import example, given, settings
from hypothesis import strategies as st

from storytrace.dedup import DedupOptions, dedup
from storytrace.fingerprint import (
    LSHIndex,
    band_keys,
    batch_shingles,
    optimal_bands,
    signatures_flat,
)
from storytrace.model import Document


def _corpus():
    articles = rewrites.load_articles()
    docs, truth = rewrites.rewrite_set(articles[30:90], seed=2, hosts=articles[:30])
    return docs, truth


def _run(tmp_path, mode):
    docs, truth = _corpus()
    stream = (Document(id=i, raw=t, source="test") for i, t in docs)  # a generator: streamed
    stats = dedup(stream, tmp_path, DedupOptions(mode=mode, batch_size=25))
    mapping = [json.loads(line) for line in (tmp_path / "mapping.jsonl").open()]
    kept = [json.loads(line) for line in (tmp_path / "documents.jsonl").open()]
    return docs, truth, stats, mapping, kept


@pytest.mark.parametrize("mode", ["lexical", "full"])
def test_every_document_is_mapped_and_representatives_are_first_seen(tmp_path, mode):
    docs, _, stats, mapping, kept = _run(tmp_path, mode)
    assert [m["id"] for m in mapping] == [i for i, _ in docs]
    assert stats.documents == len(docs) == stats.representatives + stats.duplicates
    kept_ids = [k["id"] for k in kept]
    assert len(kept_ids) == stats.representatives == len(set(kept_ids))
    order = {i: n for n, (i, _) in enumerate(docs)}
    for m in mapping:
        assert m["representative"] in kept_ids
        assert order[m["representative"]] <= order[m["id"]]
        assert (m["kind"] == "representative") == (m["representative"] == m["id"])


def test_lexical_mode_removes_verbatim_and_wrapped_copies(tmp_path):
    _, truth, _, mapping, _ = _run(tmp_path, "lexical")
    rep = {m["id"]: m["representative"] for m in mapping}
    for original, copy, kind in truth:
        if kind in ("verbatim", "wrapped"):
            assert rep[copy] == original, (copy, kind)
        if kind == "partial":  # another article that quotes a few passages stays
            assert rep[copy] == copy


def test_full_mode_also_removes_spun_translated_and_truncated_copies(tmp_path):
    _, truth, _, mapping, _ = _run(tmp_path, "full")
    rep = {m["id"]: m["representative"] for m in mapping}
    kinds = {m["id"]: m["kind"] for m in mapping}
    caught = {k: [] for k in rewrites.WHOLE_KINDS}
    for original, copy, kind in truth:
        if kind == "partial":
            assert rep[copy] == copy
        else:
            caught[kind].append(rep[copy] == original)
    for kind, hits in caught.items():
        assert sum(hits) / len(hits) >= 0.9, kind
    assert {"spun", "translated", "truncated"} <= set(kinds.values())


def test_options_are_validated():
    with pytest.raises(ValueError):
        DedupOptions(mode="fuzzy")
    with pytest.raises(ValueError):
        DedupOptions(threshold=1.2)


# --- the lexical path's fingerprints: vectorised code against plain reference loops --------

def _reference_signature(values: np.ndarray, num_perm: int) -> np.ndarray:
    """One-permutation MinHash of one set, written as the module docstring describes it: each
    value picks a bin (by its mixed high bits), a bin keeps its minimum, and an empty bin takes
    the next non-empty bin to its right (circularly) mixed with the distance."""
    empty = 2**64 - 1
    bins = [empty] * num_perm
    for v in values.tolist():
        b = ((v * 0xD6E8FEB86659FD93) % 2**64 >> 40) % num_perm
        bins[b] = min(bins[b], v)
    if all(b == empty for b in bins):  # no values, or only the value EMPTY itself
        return np.array(bins, dtype=np.uint64)
    out = []
    for b in range(num_perm):
        distance = 0
        while bins[(b + distance) % num_perm] == empty:
            distance += 1
        out.append(bins[(b + distance) % num_perm] ^ (distance * 0x9E3779B97F4A7C15) % 2**64)
    return np.array(out, dtype=np.uint64)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2**64 - 1), max_size=300), min_size=1, max_size=6),
       st.sampled_from([2, 7, 64, 128]))
@example([[2**64 - 1], [], [2**64 - 1, 5]], 7)  # the value that marks an empty bin
def test_batch_signatures_equal_one_document_at_a_time(sets, num_perm):
    arrays = [np.unique(np.array(s, dtype=np.uint64)) for s in sets]
    values = np.concatenate(arrays)
    doc = np.repeat(np.arange(len(arrays)), [len(a) for a in arrays])
    together = signatures_flat(values, doc, len(arrays), num_perm)
    for row, one in zip(together, arrays, strict=True):
        assert np.array_equal(row, _reference_signature(one, num_perm))


def test_band_keys_depend_on_every_row_of_their_band_only():
    rng = np.random.default_rng(5)
    sig = rng.integers(0, 2**63, (40, 128), dtype=np.uint64)
    bands, rows = optimal_bands(0.8, 128)
    keys = band_keys(sig, bands, rows)
    assert keys.shape == (40, bands) and len(np.unique(keys)) == keys.size
    changed = sig.copy()
    changed[:, rows + 3] ^= np.uint64(1)  # one value of band 1
    after = band_keys(changed, bands, rows)
    assert (after[:, 1] != keys[:, 1]).all()
    assert np.array_equal(np.delete(after, 1, axis=1), np.delete(keys, 1, axis=1))
    changed[:, bands * rows :] = 0  # values beyond the last band are not used
    assert np.array_equal(band_keys(changed, bands, rows)[:, [0, 2]], keys[:, [0, 2]])


_TOKENS = ["The", "said", "U.S.", "Mérida", "“quoted”", "—", "2021", "a", "\u00a0", "news\n",
           "ÉCOLE", "extraordinarily-long-hyphenated", "internationalisation", "x"]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_TOKENS), max_size=30), min_size=1, max_size=5))
def test_lexical_shingles_are_the_five_grams_of_words(token_lists):
    """Each text's batch shingles are the hashes of its word 5-grams, where words are runs of
    letters and digits, ASCII case ignored: checked against shingling each text alone by a
    plain split."""
    texts = [" ".join(tokens) for tokens in token_lists]
    values, owner = batch_shingles(texts, 5)
    for n, text in enumerate(texts):
        spelled = re.findall(r"[^\W_]+", text)  # runs of letters and digits
        mine = values[owner == n]
        assert len(mine) == max(0, len(spelled) - 4)
        for other, other_text in enumerate(texts):
            other_words = re.findall(r"[^\W_]+", other_text)
            if [w.lower() for w in other_words] == [w.lower() for w in spelled]:
                assert np.array_equal(values[owner == other], mine)


def test_representatives_are_written_as_json_lines_whatever_the_text(tmp_path):
    texts = ['He said "no" \\ then\tleft.\r\nNext line\u2028 and\u0085 more \x01 text here.',
             "Ünïcödé — “curly” quotes, and emoji 🙂 " * 3]
    stats = dedup((Document(f"d{n}", t, "test") for n, t in enumerate(texts)), tmp_path,
                  DedupOptions(clean=False))
    lines = (tmp_path / "documents.jsonl").read_text(encoding="utf-8").splitlines()
    assert stats.representatives == 2 and [json.loads(x)["text"] for x in lines] == texts


def test_lexical_mode_agrees_with_datasketch_on_real_articles(tmp_path):
    """The same families as datasketch MinHashLSH (num_perm 128, word 5-grams, threshold 0.8,
    query then insert) on rewrites of real articles, but for the odd pair near the threshold
    (the two estimate Jaccard from different hash functions and tokenise punctuation apart)."""
    from datasketch import MinHash, MinHashLSH

    docs, _, _, mapping, _ = _run(tmp_path, "lexical")
    ours = {m["id"]: m["representative"] for m in mapping}
    lsh, theirs = MinHashLSH(threshold=0.8, num_perm=128), {}
    for doc_id, text in docs:
        toks = re.findall(r"[^\W_]+", text.lower())
        m = MinHash(num_perm=128)
        m.update_batch([" ".join(toks[i : i + 5]).encode() for i in range(max(1, len(toks) - 4))])
        hits = lsh.query(m)
        theirs[doc_id] = theirs[hits[0]] if hits else doc_id
        if not hits:
            lsh.insert(doc_id, m)
    merged_ours = {d for d in ours if ours[d] != d}
    merged_theirs = {d for d in theirs if theirs[d] != d}
    assert len(merged_ours & merged_theirs) >= 0.9 * len(merged_ours | merged_theirs)
    assert len(merged_theirs) >= 10


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.integers(0, 40), min_size=3, max_size=3), max_size=60),
       st.integers(1, 8))
def test_lsh_index_answers_like_a_dict_of_first_owners_across_flushes(docs, flush_at):
    """Whatever the flushes, a document gets the owner of its first bucket (in band order)
    that an earlier document filled, and fills its buckets only when it matched none."""
    index = LSHIndex(params=(3, 2), num_perm=6, flush_at=flush_at)
    owners: dict[int, int] = {}
    for n, keys in enumerate(docs):
        index.flush()
        settled = index.settled(np.array([keys], dtype=np.uint64))[0] if n % 2 else None
        expected = next((owners[k] for k in keys if k in owners), None)
        assert index.query_insert(keys, n, settled) == expected
        if expected is None:
            for k in keys:
                owners[k] = n
        assert all(index.get(k) == owners.get(k) for k in range(41))


def test_full_mode_links_the_seeds_reuters_translation_and_nothing_else(tmp_path):
    from conftest import DATA

    docs = [Document(id=p.stem[:3], raw=p.read_text(encoding="utf-8"), source=str(p))
            for p in sorted((DATA / "seeds").glob("*.txt"))]
    dedup(iter(docs), tmp_path, DedupOptions(mode="full"))
    mapping = {m["id"]: m for m in map(json.loads, (tmp_path / "mapping.jsonl").open())}
    assert mapping["004"]["representative"] == "001" and mapping["004"]["kind"] == "translated"
    assert all(mapping[i]["representative"] == i for i in ("000", "001", "002", "003"))


def test_html_pages_are_deduplicated_on_their_article_text(tmp_path):
    article = " ".join(f"Sentence {n} of the harbour report says the pier reopened on day {n}."
                       for n in range(40))
    page = ("<html><head><title>Harbour</title></head><body><nav><a href='/'>Home</a></nav>"
            f"<article><h1>Harbour reopens</h1><p>{article}</p></article>"
            "<footer>Copyright 2026 Example Media</footer></body></html>")
    docs = [Document(id="page", raw=page, source="a.html", format="html"),
            Document(id="text", raw=article, source="b.txt")]
    dedup(iter(docs), tmp_path, DedupOptions(mode="lexical"))
    (kept,) = [json.loads(line) for line in (tmp_path / "documents.jsonl").open()]
    assert "<" not in kept["text"] and "Copyright" not in kept["text"]
    assert "pier reopened" in kept["text"]
    mapping = {m["id"]: m["representative"] for m in map(json.loads, (tmp_path / "mapping.jsonl").open())}
    assert mapping["text"] == "page"


def test_a_lone_surrogate_is_written_escaped_not_a_crash(tmp_path):
    docs = [Document(id="a", raw="A lone surrogate \ud800 in a story about the vote.",
                     source="test"),
            Document(id="b", raw="Another article about the council vote on Tuesday.",
                     source="test")]
    stats = dedup(iter(docs), tmp_path)
    assert stats.documents == 2
    kept = [json.loads(line) for line in (tmp_path / "documents.jsonl").read_text("utf-8")
            .splitlines()]
    assert [k["id"] for k in kept] == ["a", "b"] and "\ud800" in kept[0]["text"]


# --- dedup as users run it: raw copies before cleaning, --no-clean, every core ---------------

def _cli(*args):
    from typer.testing import CliRunner

    from storytrace.cli import app

    return CliRunner().invoke(app, list(map(str, args)))


def _write_jsonl(path, docs):
    with path.open("w", encoding="utf-8") as out:
        for doc_id, text in docs:
            out.write(json.dumps({"id": doc_id, "text": text}) + "\n")


def test_a_raw_copy_takes_its_first_documents_representative_without_being_cleaned(tmp_path):
    docs, _ = _corpus()
    # every third document comes again later under another id, byte for byte
    again = [(f"{i}-again", t) for i, t in docs[::3]]
    stats = dedup((Document(i, t, "test") for i, t in docs + again), tmp_path,
                  DedupOptions(batch_size=25))
    rows = {m["id"]: m for m in map(json.loads, (tmp_path / "mapping.jsonl").open())}
    assert stats.raw_copies >= len(again)
    for doc_id, _ in again:
        first = rows[doc_id.removesuffix("-again")]
        assert rows[doc_id]["representative"] == first["representative"]
        expected = "verbatim" if first["kind"] == "representative" else first["kind"]
        assert rows[doc_id]["kind"] == expected


@pytest.mark.parametrize("clean", [True, False])
def test_a_raw_copy_is_the_same_format_and_text_up_to_surrounding_whitespace(tmp_path, clean):
    """Leading and trailing whitespace (Unicode's too) does not make another raw text; the
    same characters as HTML instead of plain text do."""
    text = "\n".join(f"Paragraph {n}: the council voted on the harbour budget, which rises "
                     f"by {n} percent, the mayor said." for n in range(8))
    docs = [Document("a", text, "test"), Document("b", f"\u2003 {text}\n\u00a0", "test"),
            Document("c", f"  {text}", "test", format="html"), Document("d", text, "test")]
    stats = dedup(iter(docs), tmp_path, DedupOptions(clean=clean))
    rows = {m["id"]: m for m in map(json.loads, (tmp_path / "mapping.jsonl").open())}
    assert stats.raw_copies == 2  # b and d; c is a page
    assert all(rows[i]["representative"] == "a" for i in "bd")


def test_no_clean_keeps_the_text_as_given_and_the_default_drops_boilerplate(tmp_path):
    article = "\n".join(f"Paragraph {n}: the council voted on the harbour budget, which "
                        f"rises by {n} percent this year, the mayor said." for n in range(12))
    wrapped = f"Home | News | Sport\n{article}\nShare this article\nCopyright 2026 Spam Media"
    path = tmp_path / "in.jsonl"
    _write_jsonl(path, [("a", wrapped), ("b", article)])
    for flag, out in (("--clean", tmp_path / "clean"), ("--no-clean", tmp_path / "raw")):
        result = _cli("dedup", path, "--out", out, flag, "--workers", "1", "--json")
        assert result.exit_code == 0, result.output
    (kept,) = [json.loads(x) for x in (tmp_path / "clean" / "documents.jsonl").open()]
    assert "Copyright" not in kept["text"] and "Home | News" not in kept["text"]
    raw = [json.loads(x) for x in (tmp_path / "raw" / "documents.jsonl").open()]
    assert raw[0]["text"] == wrapped
    summary = json.loads(_cli("dedup", path, "--out", tmp_path / "again", "--no-clean",
                              "--json").output.splitlines()[-1])
    from storytrace.engines import default_workers

    assert summary["documents"] == 2 and summary["workers"] == default_workers()  # every core


@pytest.mark.parametrize("mode", ["lexical", "full"])
def test_two_workers_write_the_same_files_as_one(tmp_path, mode):
    """The same corpus and mapping, byte for byte, whatever the number of processes."""
    docs, _ = _corpus()
    path = tmp_path / "in.jsonl"
    _write_jsonl(path, docs)
    outputs = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        result = _cli("dedup", path, "--out", out, "--mode", mode, "--workers", workers,
                      "--json")
        assert result.exit_code == 0, result.output
        summary = json.loads(result.output.splitlines()[-1])
        assert summary["workers"] == workers
        outputs.append([(out / name).read_bytes() for name in ("documents.jsonl",
                                                               "mapping.jsonl")])
    assert outputs[0] == outputs[1]
    assert summary["removed"] > 0


def test_an_unknown_engine_is_a_usage_error(tmp_path):
    path = tmp_path / "in.jsonl"
    _write_jsonl(path, [("a", "Some text of an article about the vote.")])
    result = _cli("dedup", path, "--out", tmp_path / "o", "--engine", "spark")
    assert result.exit_code == 2


def test_kept_texts_are_the_cleaners_texts_of_the_demo_corpus_and_real_articles(tmp_path):
    """dedup cleans as analyze does (without language detection, which only picks English's
    stop words here): each kept text is clean_text's, byte for byte."""
    from storytrace.clean import CleanOptions, clean_html, clean_text
    from storytrace.ingest import iter_inputs

    docs = [d for d in iter_inputs([REPO / "examples" / "corpus"]) if isinstance(d, Document)]
    with (DATA / "multinews" / "dev.jsonl").open(encoding="utf-8") as rows:
        docs += [Document(row["id"], row["text"], "multinews") for row in map(json.loads, rows)]
    dedup(docs, tmp_path, DedupOptions(batch_size=16))
    kept = {row["id"]: row["text"] for row in map(json.loads, (tmp_path / "documents.jsonl").open())}
    options = CleanOptions(detect_language=False)
    assert len(kept) > 250 and any(d.format == "html" for d in docs if d.id in kept)
    for doc in docs:
        if doc.id in kept:
            clean = clean_html(doc.raw, options, url=doc.url) if doc.format == "html" else \
                clean_text(doc.raw, options)
            assert kept[doc.id] == clean.text, doc.id


def test_deduplicating_plain_text_never_loads_the_html_extractor(tmp_path):
    """trafilatura takes 0.2 s to import; a corpus of plain text does not pay for it."""
    probe = ("import sys; from pathlib import Path; from storytrace.dedup import dedup; "
             "from storytrace.model import Document; "
             f"dedup([Document('a', 'The harbour strike ended on Sunday after nine days.', 't')],"
             f" Path({str(tmp_path)!r})); print('trafilatura' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.5, 0.8, 0.85, 0.95, 1.0])
@pytest.mark.parametrize("num_perm", [16, 128])
def test_lsh_bands_are_the_ones_that_minimise_the_error_around_the_threshold(threshold,
                                                                            num_perm):
    """optimal_bands computes once what does not depend on (bands, rows): the same choice as
    computing every pair's error from scratch (so the same buckets, the same decisions)."""
    grid = np.linspace(0.0, 1.0, 1001)
    best, best_error = None, float("inf")
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            p = 1.0 - (1.0 - grid**rows) ** bands
            below = grid <= threshold
            false_pos = np.trapezoid(p[below], grid[below]) if below.sum() > 1 else 0.0
            false_neg = np.trapezoid(1.0 - p[~below], grid[~below]) if (~below).sum() > 1 else 0.0
            error = 0.5 * false_pos + 0.5 * false_neg
            if error < best_error:
                best, best_error = (bands, rows), error
    assert optimal_bands.__wrapped__(threshold, num_perm) == best
