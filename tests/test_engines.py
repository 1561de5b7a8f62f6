"""Engines: where the stages run never changes what they find.

The promise a user checks: `--workers 2` (a process pool) and `--engine ray` give the same
result.json as one process, families, stories and everything else but the timings."""

import json
import sys

import pytest
from conftest import DATA, REPO

from storytrace.engines import batched, get_engine, split
from storytrace.errors import ConfigError
from storytrace.model import Document
from storytrace.pipeline import analyze_documents

sys.path.insert(0, str(REPO / "bench"))


def _comparable(result) -> dict:
    """result.json without the run's timings and the engine that ran it."""
    found = result.to_dict()
    found.pop("stats", None)
    return found


def _documents(path):
    from storytrace.ingest import read_inputs

    return read_inputs([path]).documents


def _bench_corpus(n: int) -> list[Document]:
    """The first `n` documents of the bench corpus (real Multi-News articles and their
    verbatim, wrapped, truncated, edited, spun, translated and partial copies)."""
    from dedup import build_corpus

    docs, _, _ = build_corpus(n)
    return [Document(doc_id, text, "bench") for doc_id, text in docs]


def _run(docs, engine=None, **kwargs):
    return analyze_documents([Document(d.id, d.raw, d.source, d.format, d.url, d.title, d.date)
                              for d in docs], engine=engine, **kwargs)


CORPORA = {
    "seeds": lambda: _documents(DATA / "seeds"),
    "demo": lambda: _documents(REPO / "examples" / "corpus"),
    "bench": lambda: _bench_corpus(240),
}


@pytest.mark.parametrize("corpus", list(CORPORA))
def test_two_worker_processes_give_the_same_result_as_one(corpus):
    docs = CORPORA[corpus]()
    one = _run(docs)
    with get_engine("local", workers=2) as engine:
        two = _run(docs, engine)
    assert two.stats["engine"] == {"name": "local", "workers": 2}
    assert [f.id for f in one.families] and [s.id for s in one.stories]
    assert _comparable(two) == _comparable(one)


def test_the_bench_corpus_has_copy_families_and_stories_to_compare():
    """So the comparison above is not one of empty answers."""
    result = _run(_bench_corpus(240))
    assert sum(len(f.members) > 1 for f in result.families) >= 20
    assert sum(len(s.families) > 1 for s in result.stories) >= 5


def test_streaming_stories_are_the_same_at_two_workers():
    docs = _documents(DATA / "seeds") + _documents(REPO / "examples" / "corpus")
    one = _run(docs, story_mode="streaming")
    with get_engine("local", workers=2) as engine:
        two = _run(docs, engine, story_mode="streaming")
    assert _comparable(two) == _comparable(one)


def test_ray_gives_the_same_result_as_one_process():
    pytest.importorskip("ray")
    corpora = {name: CORPORA[name]() for name in ("seeds", "demo")}
    alone = {name: _comparable(_run(docs)) for name, docs in corpora.items()}
    with get_engine("ray", workers=2) as engine:
        for name, docs in corpora.items():
            assert _comparable(_run(docs, engine)) == alone[name], name


def test_the_cli_runs_analyze_on_two_workers(tmp_path):
    from typer.testing import CliRunner

    from storytrace.cli import app

    runner = CliRunner()
    outs = []
    for workers in ("1", "2"):
        out = tmp_path / workers
        got = runner.invoke(app, ["analyze", str(DATA / "seeds"), "--out", str(out),
                                  "--workers", workers, "--no-parquet", "--json"])
        assert got.exit_code == 0, got.output
        result = json.loads((out / "result.json").read_text(encoding="utf-8"))
        assert result["stats"]["engine"]["workers"] == int(workers)
        result.pop("stats")
        outs.append(result)
    assert outs[0] == outs[1]


def test_a_missing_ray_or_a_bad_engine_is_a_clear_error(monkeypatch):
    with pytest.raises(ConfigError, match="engine must be one of"):
        get_engine("spark")
    with pytest.raises(ConfigError, match="at least 1"):
        get_engine("local", workers=0)
    monkeypatch.setitem(sys.modules, "ray", None)  # as if the extra were not installed
    with pytest.raises(ConfigError, match=r"storytrace\[ray\]"):
        get_engine("ray")


def test_batches_keep_every_item_in_order():
    items = list(range(103))
    assert [x for b in batched(items, 10) for x in b] == items
    parts = split(items, 8, min_size=16)
    assert [x for p in parts for x in p] == items and len(parts) == 6
    assert all(len(p) >= 16 for p in parts)
    with get_engine("local", workers=2) as engine:
        assert list(engine.map_batches(sum, parts)) == [sum(p) for p in parts]


def test_index_add_on_two_workers_builds_the_same_index(tmp_path):
    from typer.testing import CliRunner

    from storytrace.cli import app
    from storytrace.index import Index

    runner = CliRunner()
    exported = []
    for workers in ("1", "2"):
        path = tmp_path / f"w{workers}.duckdb"
        for inputs in ([DATA / "seeds"], [REPO / "examples" / "corpus"]):
            got = runner.invoke(app, ["index", "add", str(path), *map(str, inputs),
                                      "--workers", workers])
            assert got.exit_code == 0, got.output
        with Index.open(path, read_only=True) as index:
            result = index.export().to_dict()
        result.pop("stats")
        exported.append(result)
    assert exported[0]["families"] and exported[0] == exported[1]
