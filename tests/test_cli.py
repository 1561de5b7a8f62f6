"""The real `storytrace` command on real files, as a user runs it."""

import json
import re
import shutil
import subprocess
import sys

import pytest
from conftest import DATA, REPO

import storytrace


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "storytrace", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, timeout=600, check=False,
    )


def test_analyze_files_writes_result_and_report(tmp_path):
    seeds = sorted((DATA / "seeds").glob("*.txt"))
    out = tmp_path / "out"
    done = run("analyze", seeds[1], seeds[4], "--out", out)
    assert done.returncode == 0, done.stderr
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert [d["id"][:3] for d in result["documents"]] == ["001", "004"]
    assert len(result["families"]) == 1
    assert set(result) >= {"documents", "relations", "families", "stories", "errors"}
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<html" in html.lower() and "001_5965018a4c1e8408" in html
    assert (out / "parquet" / "documents.parquet").exists()
    assert "documents" in done.stdout and "stories" in done.stdout and "report" in done.stdout


def test_analyze_directory_with_a_bad_file_goes_on(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(DATA / "seeds", corpus)
    (corpus / "garbage.txt").write_bytes(b"\x00\x01\x02binary\x00" * 50)
    (corpus / "blank.txt").write_text("")
    out = tmp_path / "out"
    done = run("analyze", corpus, "--out", out)
    assert done.returncode == 1, done.stderr  # 1: some input was rejected
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert len(result["documents"]) == 5
    errors = {e["source"].rsplit("/", 1)[-1]: e["reason"] for e in result["errors"]}
    assert set(errors) == {"garbage.txt", "blank.txt"}
    assert "garbage.txt" in done.stderr  # the user is told which file, not only the JSON


def test_analyze_jsonl_with_custom_fields(tmp_path):
    rows = []
    for path in sorted((DATA / "seeds").glob("*.txt")):
        rows.append({"key": path.stem[:3], "body": path.read_text(encoding="utf-8"),
                     "when": "2021-10-08"})
    pile = tmp_path / "pile.jsonl"
    pile.write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken\n", encoding="utf-8")
    out = tmp_path / "out"
    done = run("analyze", pile, "--out", out, "--id-field", "key", "--text-field", "body",
               "--date-field", "when")
    assert done.returncode == 1, done.stderr  # the broken row
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    ids = [d["id"] for d in result["documents"]]
    assert ids == ["000", "001", "002", "003", "004"]
    assert all(d["date"] == "2021-10-08" for d in result["documents"])
    assert result["errors"] == [{"source": str(pile), "reason": result["errors"][0]["reason"],
                                 "record": "line 6"}]
    family = {d["id"]: d["family"] for d in result["documents"]}
    assert family["001"] == family["004"]


def test_nothing_readable_fails_with_a_message_and_writes_no_empty_report(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    done = run("analyze", tmp_path / "empty.txt", "--out", tmp_path / "out")
    assert done.returncode == 1
    assert "empty.txt" in done.stderr and "no readable documents" in done.stderr
    assert not (tmp_path / "out").exists()


def test_every_command_is_documented():
    from storytrace.cli import app

    names = [c.name or c.callback.__name__ for c in app.registered_commands]
    assert names == ["analyze", "dedup", "distill-embeddings", "serve"]
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name in names:
        assert f"storytrace {name}" in readme
        assert run(name, "--help").returncode == 0


def test_dedup_keeps_one_copy_and_records_bad_rows(tmp_path):
    rows = []
    for path in sorted((DATA / "seeds").glob("*.txt")):
        rows.append({"id": path.stem[:3], "text": path.read_text(encoding="utf-8")})
    rows.append({"id": "again", "text": rows[2]["text"]})  # a verbatim re-scrape of 002
    pile = tmp_path / "pile.jsonl"
    pile.write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken\n", encoding="utf-8")
    out = tmp_path / "out"
    done = run("dedup", pile, "--out", out)
    assert done.returncode == 1, done.stderr  # the broken row
    mapping = [json.loads(x) for x in (out / "mapping.jsonl").read_text().splitlines()]
    assert {m["id"]: m["representative"] for m in mapping}["again"] == "002"
    kept = [json.loads(x)["id"] for x in (out / "documents.jsonl").read_text().splitlines()]
    assert "again" not in kept and "002" in kept and len(kept) == 5
    (error,) = [json.loads(x) for x in (out / "errors.jsonl").read_text().splitlines()]
    assert error["source"] == str(pile) and error["record"] == "line 7"
    assert "pile.jsonl" in done.stderr


def test_dedup_gives_every_document_an_id_of_its_own(tmp_path):
    rows = [{"id": "dup", "text": "The harbour strike ended on Sunday after nine days."},
            {"id": "dup", "text": "A new library opened downtown with 40,000 books."},
            {"id": "dup~2", "text": "Snow closed the mountain pass for the third time."}]
    (tmp_path / "ids.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    done = run("dedup", tmp_path / "ids.jsonl", "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    mapping = [json.loads(x) for x in (tmp_path / "out" / "mapping.jsonl").read_text().splitlines()]
    ids = [m["id"] for m in mapping]
    assert len(ids) == 3 and len(set(ids)) == 3 and ids[:2] == ["dup", "dup~2"]


def test_dedup_refuses_an_unknown_mode(tmp_path):
    done = run("dedup", DATA / "seeds", "--out", tmp_path / "out", "--mode", "fuzzy")
    assert done.returncode != 0 and "lexical" in done.stderr


def test_report_stories_limits_the_stories_drawn_but_not_the_results(tmp_path):
    out = tmp_path / "out"
    done = run("analyze", REPO / "examples" / "corpus", "--out", out, "--report-stories", "1",
               "--no-parquet")  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert len(result["stories"]) == 2
    html = (out / "report.html").read_text(encoding="utf-8")
    assert len(re.findall(r'class="story[ "][^>]*id="story-', html)) == 1
    assert 'id="more-stories"' in html
    assert run("analyze", REPO / "examples" / "corpus", "--out", out,
               "--report-stories", "-1").returncode != 0  # fmt: skip


def test_streaming_stories_from_the_cli_and_the_api(tmp_path):
    out = tmp_path / "out"
    done = run("analyze", REPO / "examples" / "corpus", "--out", out, "--stories", "streaming",
               "--no-parquet", "--no-html")  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert result["stats"]["story_mode"] == "streaming"
    # The demo's levee reports (five documents, two families) are one story, the observatory
    # piece another, as in batch mode.
    assert sorted(len(s["documents"]) for s in result["stories"]) == [1, 5]
    refused = run("analyze", REPO / "examples" / "corpus", "--out", out, "--stories", "online")
    assert refused.returncode != 0 and "streaming" in refused.stderr

    with pytest.raises(storytrace.ConfigError, match="batch, streaming"):
        storytrace.analyze([REPO / "examples" / "corpus"], stories="online")
    seeds = storytrace.analyze([DATA / "seeds"], stories="streaming")
    assert len(seeds.stories) == 1 and seeds.stats["story_mode"] == "streaming"


# CLI hygiene: usage errors before any work, exit codes, quiet/verbose/json, stale outputs.

def invoke(*args):
    """The CLI in-process (typer's CliRunner): fast enough for checks that never analyze."""
    from typer.testing import CliRunner

    from storytrace.cli import app

    return CliRunner().invoke(app, [str(a) for a in args])


def test_version_and_help_show_examples_without_type_noise():
    assert invoke("--version").stdout.strip() == f"storytrace {storytrace.__version__}"
    for command in ("analyze", "dedup"):
        shown = invoke(command, "--help").stdout
        assert "Examples:" in shown and f"storytrace {command} " in shown
        assert "INPUT..." in shown and "DIR" in shown
        assert "<list[Path]>" not in shown and "{inputs}" not in shown and "<bool>" not in shown
    for command in (("analyze",), ("dedup",), ("index", "add")):
        # help is rich markup: an unescaped "[ray]" would vanish from the install hint
        words = invoke(*command, "--help").stdout.replace("\u2502", " ").split()
        assert any(word.startswith("'storytrace[ray]") for word in words)


def test_bad_out_and_missing_inputs_are_usage_errors_before_any_work(tmp_path):
    seeds = DATA / "seeds"
    a_file = tmp_path / "taken.txt"
    a_file.write_text("not a directory")
    done = invoke("analyze", seeds, "--out", a_file)
    assert done.exit_code == 2 and "is a file" in done.output
    done = invoke("analyze", tmp_path / "corpsu", "--out", tmp_path / "out")
    assert done.exit_code == 2 and "no such file or directory" in done.output
    assert "corpsu" in done.output and not (tmp_path / "out").exists()
    done = invoke("dedup", seeds, "--out", seeds)  # the swap would delete the inputs
    assert done.exit_code == 2 and "holds the input" in done.output
    other = tmp_path / "mine"
    other.mkdir()
    (other / "thesis.tex").write_text("someone's work")
    done = invoke("analyze", seeds, "--out", other)
    assert done.exit_code == 2 and "holds other files" in done.output
    assert (other / "thesis.tex").exists()


def test_a_second_run_into_a_locked_out_is_refused(tmp_path):
    import fcntl

    out = tmp_path / "out"
    with (tmp_path / ".out.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a running storytrace holds it
        done = invoke("dedup", DATA / "seeds", "--out", out)
    assert done.exit_code == 2 and "another storytrace run" in done.output
    assert not out.exists()


def test_a_wrong_text_field_is_one_warning_naming_the_fields_that_exist(tmp_path):
    pile = tmp_path / "pile.jsonl"
    rows = [{"id": f"r{n}", "body": "Some text here."} for n in range(150)]
    rows.append({"id": "good", "content": "The one row with the field asked for."})
    pile.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    done = run("dedup", pile, "--out", tmp_path / "out", "--text-field", "content")
    assert done.returncode == 1
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, done.stderr
    assert "no 'content' field" in done.stderr and "id, body" in done.stderr
    assert "149 more" in done.stderr
    errors = (tmp_path / "out" / "errors.jsonl").read_text().splitlines()
    assert len(errors) == 150  # the file still lists every record


def test_quiet_json_summary_and_stale_outputs_replaced(tmp_path):
    out = tmp_path / "out"
    corpus = REPO / "examples" / "corpus"
    first = run("analyze", corpus, "--out", out, "--no-html")
    assert first.returncode == 0, first.stderr
    assert (out / "parquet" / "documents.parquet").exists()
    again = run("-q", "analyze", corpus, "--out", out, "--no-parquet", "--no-html", "--json")
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)  # stdout is the JSON object alone
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert summary["documents"] == len(result["documents"]) and summary["exit_code"] == 0
    assert summary["errors"] == 0 and summary["report"] is None
    # the command's own CPU (imports, reading, writing): what bench/scale.py bounds runs by
    assert 0 < summary["main_cpu_seconds"] < 600
    assert not (out / "parquet").exists()  # the first run's tables are gone, not left beside
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.lock", "out"]


def test_out_inside_an_input_directory_is_never_read_back(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(DATA / "seeds", corpus)
    for _ in range(2):
        done = run("dedup", corpus, "--out", corpus / "dedup")
        assert done.returncode == 0, done.stderr
        mapping = (corpus / "dedup" / "mapping.jsonl").read_text().splitlines()
        assert len(mapping) == 5  # the seeds, not also the first run's documents.jsonl


def test_strict_stops_at_the_first_bad_input_and_writes_nothing(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(DATA / "seeds", corpus)
    (corpus / "blank.txt").write_text("")
    done = run("dedup", corpus, "--out", tmp_path / "out", "--strict")
    assert done.returncode == 1 and "blank.txt" in done.stderr and "--strict" in done.stderr
    assert not (tmp_path / "out").exists()


def test_api_refuses_a_path_that_names_nothing(tmp_path):
    with pytest.raises(storytrace.InputPathError, match="corpsu"):
        storytrace.analyze([str(REPO / "examples" / "corpsu")])
    with pytest.raises(storytrace.InputPathError):
        storytrace.analyze([tmp_path / "missing.jsonl"])


def test_the_cli_starts_without_loading_the_pipeline():
    probe = ("import sys, storytrace.cli; "
             "print(sorted(m for m in ('storytrace.pipeline', 'sklearn', 'scipy', 'trafilatura')"
             " if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"  # --help and --version stay well under a second


def test_files_of_unknown_type_are_counted_in_result_json(tmp_path):
    """An archive or an image in the input folder is not an error, but it was not read:
    result.json says so (stderr alone is lost once the run is over)."""
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "a.txt").write_text("The harbour strike ended on Sunday after nine days of talks.")
    (inbox / "old.zip").write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    (inbox / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    done = invoke("analyze", inbox, "--out", tmp_path / "out", "--workers", "1")
    assert done.exit_code == 0, done.output
    stats = json.loads((tmp_path / "out" / "result.json").read_text(encoding="utf-8"))["stats"]
    assert stats["skipped_files"]["count"] == 2
    assert sorted(p.rsplit("/", 1)[-1] for p in stats["skipped_files"]["examples"]) == \
        ["old.zip", "photo.png"]
    assert storytrace.analyze([inbox]).stats["skipped_files"]["count"] == 2
    assert "skipped_files" not in storytrace.analyze([inbox / "a.txt"]).stats
