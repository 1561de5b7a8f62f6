"""Dedup mode: one representative per family, streamed to documents.jsonl + mapping.jsonl."""

import json

import pytest
import rewrites

from storytrace.dedup import DedupOptions, dedup
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
