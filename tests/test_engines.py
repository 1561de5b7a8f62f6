"""Engines: where the stages run never changes what they find.

The promise a user checks: `--workers 2` (a process pool) and `--engine ray` give the same
result.json as one process, families, stories and everything else but the timings."""

import json
import sys

import pytest
from conftest import DATA, REPO

from storytrace.engines import batched, get_engine, split
from storytrace.errors import ConfigError, MissingExtraError
from storytrace.model import Document
from storytrace.pipeline import analyze_documents

sys.path.insert(0, str(REPO / "bench"))


def _comparable(result) -> dict:
    """result.json without the run's timings and the engine that ran it."""
    found = result.to_dict()
    found.pop("stats", None)
    return found


def _assert_same(got, want) -> None:
    """The same families (members, kinds, parents, origins) and stories, then the same
    result.json in every other field: the first difference a user would see is the one named."""
    def families(result):
        return [(f.id, f.origin, [(m.id, m.kind, m.parent) for m in f.members])
                for f in result.families]

    assert families(got) == families(want)
    assert [(s.id, s.families) for s in got.stories] == [(s.id, s.families) for s in want.stories]
    assert _comparable(got) == _comparable(want)


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


def _dev_half(name: str) -> list[Document]:
    """A story dev half (496 ECB+ reports of 45 events; 291 Multi-News pages, some without
    article text) as the story tests read it: id and text of each row."""
    rows = [json.loads(line) for line in (DATA / name / "dev.jsonl").open(encoding="utf-8")]
    return [Document(row["id"], row["text"], f"{name}/dev.jsonl") for row in rows]


CORPORA = {
    "seeds": lambda: _documents(DATA / "seeds"),
    "demo": lambda: _documents(REPO / "examples" / "corpus"),
    "bench": lambda: _bench_corpus(240),
}
DEV_HALVES = ("ecbplus", "multinews")


@pytest.fixture(scope="module")
def dev_alone() -> dict:
    """Each dev half and its one-process result (about 7 s and 5 s), shared by the engines."""
    found = {}
    for name in DEV_HALVES:
        docs = _dev_half(name)
        found[name] = (docs, _run(docs))
    return found


@pytest.mark.parametrize("corpus", list(CORPORA))
def test_two_worker_processes_give_the_same_result_as_one(corpus):
    docs = CORPORA[corpus]()
    one = _run(docs)
    with get_engine("local", workers=2) as engine:
        two = _run(docs, engine)
    assert two.stats["engine"] == {"name": "local", "workers": 2}
    assert [f.id for f in one.families] and [s.id for s in one.stories]
    assert _comparable(two) == _comparable(one)


@pytest.mark.parametrize("corpus", DEV_HALVES)
def test_two_worker_processes_give_the_same_families_and_stories_on_the_dev_halves(
        dev_alone, corpus):
    docs, one = dev_alone[corpus]
    with get_engine("local", workers=2) as engine:
        two = _run(docs, engine)
    assert two.stats["engine"] == {"name": "local", "workers": 2}
    _assert_same(two, one)


def test_the_dev_halves_have_copy_families_and_stories_to_compare(dev_alone):
    """So the comparisons on them are not of empty answers: ECB+ holds reprints of one report,
    both hold stories of several families."""
    for name, (docs, one) in dev_alone.items():
        assert len(one.documents) == len(docs), name
        assert sum(len(s.families) > 1 for s in one.stories) >= 10, name
    ecbplus = dev_alone["ecbplus"][1]
    assert sum(len(f.members) > 1 for f in ecbplus.families) >= 50


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


def test_ray_gives_the_same_result_as_one_process(dev_alone):
    pytest.importorskip("ray")
    alone = {name: (docs, _run(docs)) for name, docs in
             ((name, CORPORA[name]()) for name in ("seeds", "demo"))}
    alone.update(dev_alone)
    with get_engine("ray", workers=2) as engine:  # one Ray start for every corpus
        for name, (docs, one) in alone.items():
            got = _run(docs, engine)
            assert got.stats["engine"] == {"name": "ray", "workers": 2}, name
            _assert_same(got, one)
        import storytrace  # the API joins the Ray already running (and leaves it running)

        got = storytrace.analyze([DATA / "seeds"], engine="ray", workers=2)
        assert got.stats["engine"] == {"name": "ray", "workers": 2}
        _assert_same(got, alone["seeds"][1])


def test_the_python_api_takes_an_engine_and_workers_as_the_cli_does(seeds_result):
    import storytrace

    two = storytrace.analyze([DATA / "seeds"], workers=2)
    assert two.stats["engine"] == {"name": "local", "workers": 2}
    assert [f.id for f in seeds_result.families] and [s.id for s in seeds_result.stories]
    _assert_same(two, seeds_result)
    alone = storytrace.analyze([DATA / "seeds"], engine="local", workers=1)
    assert alone.stats["engine"] == {"name": "local", "workers": 1}
    _assert_same(alone, seeds_result)


def test_the_python_api_refuses_a_bad_engine_or_worker_count_before_reading_anything():
    import storytrace

    missing = REPO / "no-such-input"  # would raise InputPathError if it were read first
    with pytest.raises(ValueError, match="engine must be one of local, ray, not 'spark'"):
        storytrace.analyze([missing], engine="spark")
    with pytest.raises(ValueError, match="workers must be at least 1"):
        storytrace.analyze([missing], workers=0)
    with pytest.raises(ValueError, match="workers must be a whole number, not 1.5"):
        storytrace.analyze([missing], workers=1.5)
    with pytest.raises(ValueError, match="a Ray address needs the ray engine"):
        storytrace.analyze([missing], ray_address="auto")


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
    with pytest.raises(ConfigError, match="whole number"):
        get_engine("local", workers=True)
    monkeypatch.setitem(sys.modules, "ray", None)  # as if the extra were not installed
    with pytest.raises(MissingExtraError, match=r"pip install 'storytrace\[ray\]'"):
        get_engine("ray")
    with pytest.raises(MissingExtraError, match=r"storytrace\[ray\]"):
        import storytrace

        storytrace.analyze([REPO / "no-such-input"], engine="ray")


def test_batches_keep_every_item_in_order():
    items = list(range(103))
    assert [x for b in batched(items, 10) for x in b] == items
    parts = split(items, 8, min_size=16)
    assert [x for p in parts for x in p] == items and len(parts) == 6
    assert all(len(p) >= 16 for p in parts)
    with get_engine("local", workers=2) as engine:
        assert list(engine.map_batches(sum, parts)) == [sum(p) for p in parts]


def _relations(texts, engine=None, **kwargs) -> list[tuple]:
    from storytrace.match import find_relations

    return [(r.a, r.b, r.kind, r.score, r.evidence, r.metrics)
            for r in find_relations(texts, engine=engine, **kwargs)]


def _texts(docs) -> dict[str, str]:
    from storytrace.clean import CleanOptions, clean_corpus

    return {d.id: c.text for d, c in zip(docs, clean_corpus(docs, CleanOptions()), strict=True)}


def test_the_match_stage_on_two_workers_finds_the_same_relations_in_the_same_order(
        monkeypatch):
    """Candidate keys, alignments and derivation features run on the workers, each part with
    its own texts; every relation (kind, score, evidence, metrics) comes back the same, in the
    same order. On the bench corpus (dated, and with a focus as an index adds), the ECB+ dev
    half (rewrites decided by derivation), both again as if one component were too big for a
    part, the bench corpus in many small parts, and the seeds and demo in parts of one item."""
    from storytrace.match import relations

    bench = _texts(_bench_corpus(600))
    dates = {doc_id: f"2024-01-{k % 28 + 1:02d}" for k, doc_id in enumerate(bench)}
    focus = set(list(bench)[::7])
    ecbplus = {d.id: d.raw for d in _dev_half("ecbplus")}
    small = _texts(_documents(DATA / "seeds") + _documents(REPO / "examples" / "corpus"))
    alone = {"bench": _relations(bench, dates=dates),
             "focus": _relations(bench, dates=dates, focus=focus),
             "ecbplus": _relations(ecbplus), "small": _relations(small)}
    assert len(alone["bench"]) >= 200 and len(alone["focus"]) >= 20
    assert sum(r[5]["candidate_channel"] == "derivation" for r in alone["ecbplus"]) >= 100
    assert {r[5]["candidate_channel"] for r in alone["small"]} >= {"identical", "minhash"}
    with get_engine("local", workers=2) as engine:
        assert _relations(bench, engine, dates=dates) == alone["bench"]
        assert _relations(bench, engine, dates=dates, focus=focus) == alone["focus"]
        assert _relations(ecbplus, engine) == alone["ecbplus"]
        # A component too big for one part: alignments first, then derivation, in parts.
        monkeypatch.setattr(relations, "MAX_COMPONENT_SHARES", 0)
        assert _relations(bench, engine, dates=dates, focus=focus) == alone["focus"]
        assert _relations(ecbplus, engine) == alone["ecbplus"]
        monkeypatch.undo()
        monkeypatch.setattr(relations, "MAX_PART", 40)  # many small parts
        assert _relations(bench, engine, dates=dates) == alone["bench"]
        monkeypatch.undo()
        for name in ("MIN_TEXTS", "MIN_PAIRS"):
            monkeypatch.setattr(relations, name, 1)
        assert _relations(small, engine) == alone["small"]


def test_batches_in_flight_stay_small_on_a_large_pile():
    """At least four batches a worker, and none over the cap however large the pile."""
    from storytrace import stages
    from storytrace.match import relations

    class TwoWorkers:
        workers = 2

    items = list(range(25_000))
    for parts, cap in ((stages._parts(items, TwoWorkers()), stages.MAX_BATCH),
                       (relations._parts(items, TwoWorkers(), 16), relations.MAX_PART)):
        assert [x for p in parts for x in p] == items
        assert max(map(len, parts)) <= cap and len(parts) >= 8
    assert len(stages._parts(items[:800], TwoWorkers())) == 8


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


@pytest.mark.parametrize(("name", "workers"), [("local", 1), ("local", 2), ("ray", 2)])
def test_map_shared_gives_each_batch_the_shared_object_in_order(name, workers):
    """What the facts stage and the outputs use: every batch reads one large object, sent to
    a worker once; a second call reads its own object, not the first one's."""
    if name == "ray":
        pytest.importorskip("ray")
    shared = {x: [x] * 50 for x in range(1000)}
    keys = [*range(0, 1000, 7), -1]  # dict.get(shared, key, default): the default for -1
    with get_engine(name, workers=workers) as engine:
        got = list(engine.map_shared(dict.get, shared, keys, "none"))
        assert got == [[x] * 50 for x in keys[:-1]] + ["none"]
        other = {x: -x for x in range(1000)}
        assert list(engine.map_shared(dict.get, other, keys, 0)) == [-x for x in keys[:-1]] + [0]
        # the engine's own batches still run after it (the local pool was closed for the fork)
        assert list(engine.map_batches(sum, [[1, 2], [3]])) == [3, 3]


def _freeze_count(shared, batch):
    import gc

    return gc.get_freeze_count()


def test_map_shared_workers_leave_the_inherited_heap_out_of_their_collections():
    """The local engine's map_shared workers inherit the parent's heap frozen (their garbage
    collections would otherwise copy every page of it); the parent's heap is not left frozen."""
    import gc

    shared = [{"n": n} for n in range(10_000)]
    with get_engine("local", workers=2) as engine:
        in_workers = list(engine.map_shared(_freeze_count, shared, [0, 1, 2, 3]))
    assert min(in_workers) >= len(shared)
    assert gc.get_freeze_count() == 0


class _NotPickled:
    """An argument that fails if it is ever pickled."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __reduce__(self):
        raise AssertionError("this argument was pickled")


def _plus(batch: list[int], box: _NotPickled) -> list[int]:
    return [x + box.n for x in batch]


def test_local_map_batches_arguments_reach_the_workers_with_the_fork():
    """Arguments beside the batches (the match stage's word rarity, the cleaner's repeated
    lines: corpus-wide) go to each worker once, inherited, never pickled with each batch;
    the results stay in batch order, and a second call gets its own arguments."""
    batches = [[n, n + 1] for n in range(0, 40, 2)]
    with get_engine("local", workers=2) as engine:
        got = list(engine.map_batches(_plus, batches, _NotPickled(100)))
        assert got == [[x + 100 for x in batch] for batch in batches]
        again = list(engine.map_batches(_plus, batches, _NotPickled(-1)))
        assert again == [[x - 1 for x in batch] for batch in batches]
        assert list(engine.map_batches(sum, [[1, 2], [3]])) == [3, 3]
        # a stream read as the workers take it: a generator of batches, stopped part-way
        stream = engine.map_batches(_plus, iter(batches), _NotPickled(1))
        assert next(stream) == [1, 2]
        stream.close()
