"""The command line: verbs, summaries, exit codes, one-line errors."""

import io
import json
import os
import re
import shlex
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from chorusline.cli import app
from conftest import EXAMPLES

runner = CliRunner()
POSTS = str(EXAMPLES / "canonical" / "posts.csv")


def run(*args):
    return runner.invoke(app, [str(a) for a in args], terminal_width=200)


def test_help_lists_every_verb():
    out = run("--help").output
    for verb in ("ingest", "status", "quarantine", "formats"):
        assert verb in out


def test_ingest_then_status_then_reingest(tmp_path):
    db = tmp_path / "s.duckdb"
    first = run("ingest", "--db", db, POSTS)
    assert first.exit_code == 0, first.output
    assert "posts" in first.output and "│     3 │   3 │" in first.output
    status = run("status", "--db", db)
    assert status.exit_code == 0 and "posts" in status.output and "2025-03-04" in status.output
    again = run("ingest", "--db", db, POSTS)
    assert again.exit_code == 0 and "│   0 │" in again.output  # nothing new


def test_bad_rows_are_quarantined_and_shown(tmp_path):
    db, path = tmp_path / "s.duckdb", tmp_path / "posts.csv"
    path.write_text("platform,post_id,account_id,ts\nx,1,a,2025-01-01\nx,2,a,never\n")
    result = run("ingest", "--db", db, path)
    assert result.exit_code == 0 and "quarantine" in result.output
    shown = run("quarantine", "--db", db)
    assert "posts.csv" in shown.output and "ts: not a valid timestamp: 'never'" in shown.output
    assert "│ 3 " in shown.output


def test_wrong_format_fails_fast_with_one_line(tmp_path):
    db = tmp_path / "s.duckdb"
    result = run("ingest", "--db", db, "--format", "bluesky-jetstream", POSTS)
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "line 1: not bluesky-jetstream" in errors[0]


@pytest.mark.parametrize("args,message", [
    (["--format", "nope", POSTS], "unknown format 'nope'"),
    (["/no/such/file.csv"], "no such file"),
])
def test_bad_arguments_exit_2_with_a_message(tmp_path, args, message):
    result = run("ingest", "--db", tmp_path / "s.duckdb", *args)
    assert result.exit_code == 2 and message in result.output


def test_store_in_a_missing_folder_is_a_clear_error(tmp_path):
    result = run("ingest", "--db", tmp_path / "nope" / "s.duckdb", POSTS)
    assert result.exit_code == 2 and "does not exist" in result.output


def test_formats_lists_every_adapter():
    from chorusline.ingest import ADAPTERS

    out = run("formats").output
    assert all(name in out for name in ADAPTERS)


@pytest.mark.spark
def test_spark_store_persists_between_commands(tmp_path):
    """Two processes: Spark's catalog forgets tables, the warehouse folder does not."""
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"}
    base = [sys.executable, "-m", "chorusline.cli"]
    target = ["--db", "spark://local[2]", "--warehouse", str(tmp_path / "wh")]
    ingest = subprocess.run([*base, "ingest", *target, "-f", "bedrock", str(EXAMPLES / "formats" / "bedrock_invocations.jsonl")],
                            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert ingest.returncode == 0, ingest.stderr[-2000:]
    status = subprocess.run([*base, "status", *target], capture_output=True, text=True, env=env, cwd=tmp_path,
                            timeout=300)
    assert status.returncode == 0, status.stderr[-2000:]
    line = next(row for row in status.stdout.splitlines() if "llm_calls" in row)
    assert "│    3 │" in line


def test_simulate_then_ingest_loads_everything(tmp_path):
    out = tmp_path / "sim"
    result = run("simulate", "--scenario", "smoke", "--out", out, "--seed", 3)
    assert result.exit_code == 0, result.output
    assert (out / "truth" / "accounts.parquet").exists() and "posts" in result.output
    loaded = run("ingest", "--db", tmp_path / "s.duckdb", *sorted(out.glob("*.parquet")))
    assert loaded.exit_code == 0 and "quarantined records:" not in loaded.output


def test_simulate_bad_scenario_is_one_line(tmp_path):
    result = run("simulate", "--scenario", "nope", "--out", tmp_path)
    assert result.exit_code == 2 and result.output.startswith("error: no scenario 'nope'")


@pytest.mark.skipif(not (EXAMPLES.parent.parent / "shared" / "data").exists(), reason="../shared/data is not present")
def test_coshare_is_a_drop_in_for_coortweet(tmp_path):
    shared = EXAMPLES.parent.parent / "shared" / "data" / "peers"
    pairs, edges = tmp_path / "pairs.csv", tmp_path / "edges.csv"
    result = run("coshare", shared / "russian_coord_tweets.csv", "--time-window", 60, "--min-participation", 2,
                 "--out", pairs, "--edges", edges)
    assert result.exit_code == 0, result.output
    import pandas as pd

    got = pd.read_csv(pairs, dtype=str)
    want = pd.read_csv(shared / "expected" / "coortweet_russian_tw60_mp2_ew0.5_detect_groups.csv", dtype=str)
    assert got.equals(want)  # same rows, same order, same columns
    assert len(pd.read_csv(edges)) == 3721


@pytest.mark.skipif(not (EXAMPLES.parent.parent / "shared" / "data").exists(), reason="../shared/data is not present")
def test_coshare_is_a_drop_in_for_the_toolkit(tmp_path):
    """The toolkit's CSV in (with messages that are not reposts, and one broken row), its directed
    network out, weights and all."""
    import pandas as pd

    shared = EXAMPLES.parent.parent / "shared" / "data" / "peers"
    src = pd.read_csv(shared / "russian_coord_tweets.csv", dtype=str)
    cnt = pd.DataFrame({"message_id": src.content_id, "user_id": src.account_id, "username": src.account_id,
                        "repost_id": src.object_id, "reply_id": "", "message": "", "timestamp": src.timestamp_share,
                        "urls": ""})
    originals = pd.DataFrame({"message_id": ["own1", "own2"], "user_id": ["u1", "u2"], "username": ["u1", "u2"],
                              "repost_id": ["", ""], "reply_id": ["", ""], "message": ["hello", "a\nnewline"],
                              "timestamp": ["1623881091", "1623881092"], "urls": ["", ""]})
    broken = pd.DataFrame({"message_id": ["bad"], "user_id": ["u3"], "username": ["u3"], "repost_id": ["x"],
                           "reply_id": [""], "message": [""], "timestamp": ["not a time"], "urls": [""]})
    want = pd.read_csv(shared / "expected" / "cnt_russian_tw60_mew2_edges.csv", dtype={"source": str, "target": str})
    # a clean file takes the fast read (only the share columns); a broken row forces the line-exact one
    for rows, name in (([originals, cnt], "clean.csv"), ([originals, cnt, broken], "cnt.csv")):
        path = tmp_path / name
        pd.concat(rows).to_csv(path, index=False)
        edges = tmp_path / "edges.csv"
        result = run("coshare", path, "--format", "cnt", "--time-window", 60, "--edges", edges,
                     "--edges-format", "cnt", "--min-edge-weight", 2)
        assert result.exit_code == 0, result.output
        got = pd.read_csv(edges, dtype={"source": str, "target": str})
        assert list(got.columns) == ["source", "target", "weight", "edge_type"] and set(got.edge_type) == {"co_retweet"}
        assert set(map(tuple, got.values.tolist())) == set(map(tuple, want.values.tolist()))
    # the two original posts are not shares and not errors; the broken row is reported with its line
    # (the header, two originals over three lines, then the Russian rows)
    assert "1 input row(s) could not be used" in result.output
    aside = (tmp_path / "edges.rejected.csv").read_text()
    assert f",{len(cnt) + 5},\"missing account, content or a valid time\"" in aside


def test_coshare_needs_an_output_and_a_known_format(tmp_path):
    assert run("coshare", POSTS).exit_code == 2
    bad = tmp_path / "x.csv"
    bad.write_text("a,b\n1,2\n")
    result = run("coshare", bad, "--out", tmp_path / "p.csv")
    assert result.exit_code == 2 and "not coortweet: header lacks object_id" in result.output


def test_coshare_reports_rows_it_cannot_use(tmp_path):
    path = tmp_path / "shares.csv"
    path.write_text("object_id,account_id,content_id,timestamp_share\n"
                    "o,a,c1,100\no,b,c2,105\no,c\no,d,c4,soon\no,e,c5,108\n")
    result = run("coshare", path, "--min-participation", 1, "--out", tmp_path / "pairs.csv")
    assert result.exit_code == 0, result.output
    assert "pairs: 3 rows" in result.output and "2 input row(s) could not be used" in result.output
    aside = (tmp_path / "pairs.rejected.csv").read_text()
    assert "expected 4 fields, found 2" in aside and "missing object, account, content or a valid time" in aside
    assert ",4," in aside and ",5," in aside  # the lines of the two bad rows


def test_enrich_verb_writes_network_info_and_warns_about_stale_sources(tmp_path):
    import pandas as pd
    import pyarrow as pa

    from chorusline.schema import LLM_CALLS
    from chorusline.store import Store

    db = tmp_path / "s.duckdb"
    store = Store.open(str(db))
    calls = pd.DataFrame({"platform": ["api"] * 2, "call_id": ["c1", "c2"], "account_id": ["k", "k"],
                          "ts": pd.to_datetime([0, 1], unit="s", utc=True), "ip": ["3.2.76.0", "999.1.1.1"]})
    for col in LLM_CALLS.column_names:
        if col not in calls:
            calls[col] = None
    store.append_rows(LLM_CALLS, pa.Table.from_pandas(calls[LLM_CALLS.column_names], schema=LLM_CALLS.arrow_schema,
                                                      preserve_index=False))
    store.backend.disconnect()
    out = run("enrich", "--db", db)
    assert out.exit_code == 0, out.output
    assert "network_info: 1 addresses; hosting 1" in out.output
    assert "1 bad address(es) quarantined" in out.output
    # the stale sources (Tor lists go stale in days) in one line, with the command that plugs in current data
    warnings = [line for line in out.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "past their refresh age" in warnings[0]
    assert f"chorusline enrich --db {db} --source FILE.mmdb" in warnings[0]
    bad = run("enrich", "--db", db, "--source", tmp_path / "nope.txt")
    assert bad.exit_code == 2 and "error: " in bad.output and "Traceback" not in bad.output


def test_signals_verb_writes_one_file_per_signal(tmp_path):
    db = tmp_path / "s.duckdb"
    assert run("ingest", "--db", db, POSTS).exit_code == 0
    out = run("signals", "--db", db, "--signals-out", tmp_path / "edges")
    assert out.exit_code == 0, out.output
    for name in ("coshare", "fast_share", "hashtag_sequence", "near_duplicate_posts", "provenance", "prompt_template",
                 "infrastructure", "synchrony", "circadian", "creation_burst", "language_mismatch", "lifecycle",
                 "news_response"):
        assert (tmp_path / "edges" / f"{name}.parquet").exists() and name in out.output
    bad = run("signals", "--db", db, "--out", tmp_path / "edges", "--signal", "telepathy")  # the old spelling
    assert bad.exit_code == 2 and "unknown signal 'telepathy'" in bad.output
    one = json.loads(run("signals", "--db", db, "--signals-out", tmp_path / "e2", "--signal", "coshare", "--json").output)
    assert one == {"coshare": 0}


# -- a CLI that speaks clearly ---------------------------------------------------------------------

def one_error_line(result) -> str:
    """Exit 2 and exactly one line of output, an `error:` line (no traceback, no usage panel)."""
    lines = result.output.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and lines[0].startswith("error: "), result.output
    return lines[0]


@pytest.fixture(scope="module")
def posts_store(tmp_path_factory):
    """A store with three posts and no detection run yet."""
    db = tmp_path_factory.mktemp("posts") / "s.duckdb"
    assert run("ingest", "--db", db, POSTS).exit_code == 0
    return str(db)


@pytest.fixture
def no_long_work(monkeypatch):
    """The long stages fail the test if a verb reaches them."""
    import chorusline.api
    import chorusline.export.report
    import chorusline.export.stix
    import chorusline.signals.run

    def started(*args, **kwargs):
        raise AssertionError("long work started before the mistake was reported")

    for module, name in ((chorusline.api, "detect"), (chorusline.signals.run, "run_signals"),
                         (chorusline.export.report, "write_report"), (chorusline.export.stix, "stix_bundle"),
                         (chorusline.api, "simulate"), (chorusline.api, "load_files")):
        monkeypatch.setattr(module, name, started)


def test_common_mistakes_are_one_error_line_before_any_work(posts_store, tmp_path, no_long_work):
    gone = tmp_path / "no" / "such" / "folder"
    cases = [
        (["enforce", "--db", posts_store, "--out", tmp_path / "e.csv"], "has no campaigns: run `chorusline detect"),
        (["watchlist", "--db", posts_store], "has no campaigns"),
        (["coshare", tmp_path / "missing.csv", "--out", tmp_path / "p.csv"], "no such file: "),
        (["coshare", "-f", "nope", POSTS, "--out", tmp_path / "p.csv"], "'nope' is not one of"),
        (["coshare", POSTS, "--out", gone / "p.csv"], f"folder {gone} does not exist"),
        (["report", "--db", posts_store, "--out", gone / "r.html"], f"folder {gone} does not exist"),
        (["report", "--db", posts_store, "--out", tmp_path], "is a folder"),
        (["enforce", "--db", posts_store, "--out", gone / "e.csv"], "does not exist"),
        (["match", "--db", posts_store, "--out", gone / "m.csv"], "does not exist"),
        (["match", "--db", posts_store, "--until", "yesterday"], "not an ISO date"),
        (["detect", "--db", posts_store, "--signals-out", gone / "s"], "does not exist"),
        (["detect", "--db", posts_store, "--config", tmp_path / "none.toml"], "does not exist"),
        (["signals", "--db", posts_store, "--signals-out", gone / "s"], "does not exist"),
        (["simulate", "--scenario", "smoke", "--out", gone / "sim"], "does not exist"),
        (["ingest", "--db", tmp_path / "new.duckdb", "-f", "nope", POSTS], "unknown format 'nope'"),
        (["ingest", "--db", tmp_path / "new.duckdb", tmp_path / "missing.csv"], "no such file"),
        (["enrich", "--db", posts_store, "--source", tmp_path / "missing.mmdb"], "no such file"),
        (["eval", "--db", posts_store, "--truth", tmp_path], "no accounts.parquet"),
        (["campaigns", "--db", posts_store, "--campaign", "x"], "Invalid value for '--campaign'"),
        (["campaigns", "--db", posts_store, "--bogus"], "No such option: --bogus"),
        (["decide", "confirm", "--analyst", "ana", "--db", posts_store], "name the campaign: "),
        (["export", "tables", "--db", posts_store, "--format", "xlsx", "--out", tmp_path / "t"], "'xlsx' is not one of"),
        (["export", "misp", "--db", posts_store, "--tlp", "purple"], "'purple' is not one of"),
    ]
    cases += [(["export", verb, "--db", posts_store, "--out", gone / f"x.{verb}"], "does not exist")
              for verb in ("stix", "misp", "indicators", "gexf", "graphml", "tables")]
    for args, message in cases:
        started = time.perf_counter()
        line = one_error_line(run(*args))
        assert message in line, (args, line)
        assert time.perf_counter() - started < 10, args  # before long work (the stages are also disarmed)
    assert not (tmp_path / "new.duckdb").exists()  # a load that cannot start creates no store


@pytest.mark.parametrize("verb", ["status", "quarantine", "enrich", "signals", "detect", "campaigns", "eval",
                                  "enforce", "watchlist", "match", "report", "export stix"])
def test_reading_verbs_never_create_a_store(verb, tmp_path, no_long_work):
    db = tmp_path / "typo.duckdb"
    (tmp_path / "accounts.parquet").touch()  # eval's truth folder, so that the store is what is missing
    line = one_error_line(run(*verb.split(), "--db", db, *(["--truth", tmp_path] if verb == "eval" else [])))
    assert f"no store at {db}" in line and "chorusline ingest --db" in line
    assert not db.exists()


def test_version_json_and_help(tmp_path, posts_store):
    import chorusline

    assert run("--version").output.strip() == f"chorusline {chorusline.__version__}"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", chorusline.__version__)
    assert [t["table"] for t in json.loads(run("status", "--db", posts_store, "--json").output)][:3] == \
        ["accounts", "llm_calls", "posts"]
    assert json.loads(run("quarantine", "--db", posts_store, "--json").output) == []
    assert {f["format"] for f in json.loads(run("formats", "--json").output)} >= {"canonical", "coortweet"}
    loaded = json.loads(run("ingest", "--db", posts_store, POSTS, "--json").output)
    assert loaded["tables"]["posts"] == {"valid": 3, "inserted": 0, "quarantined": 0} and loaded["exit_code"] == 0
    verbs = ["", "ingest", "status", "quarantine", "formats", "simulate", "enrich", "signals", "detect", "campaigns",
             "eval", "decide", "enforce", "watchlist", "match", "report", "coshare", "export", "export stix",
             "export misp", "export indicators", "export gexf", "export graphml", "export tables"]
    for verb in verbs:
        text = run(*verb.split(), "--help").output
        assert "Usage: " in text
        assert not re.search(r"<(list\[|str>|int>|float>|bool>|path>)", text), (verb, text)  # metavars, not types


def test_output_to_a_pipe_is_not_wrapped(tmp_path):
    """A long path stays on one line (for grep and copy) when stdout is not a terminal, and a
    process whose stderr is not a terminal gets no progress noise there."""
    out = tmp_path / ("a-long-folder-name-" * 8) / "sim"
    out.parent.mkdir()
    made = run("simulate", "--scenario", "smoke", "--out", out)
    assert made.exit_code == 0 and f"written to {out}/ (truth in {out / 'truth'}/)" in made.output.splitlines()
    db = out / "s.duckdb"
    assert run("ingest", "--db", db, out / "accounts.parquet").exit_code == 0
    result = subprocess.run([sys.executable, "-m", "chorusline.cli", "status", "--db", str(db)],
                            capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": ""})
    assert result.returncode == 0 and result.stderr == ""
    assert f"store {db}" in result.stdout.splitlines()
    assert any(line.startswith("│ accounts") for line in result.stdout.splitlines())  # the table, unwrapped


def test_detect_marks_reported_campaigns_and_prints_a_runnable_next_command(smoke_run):
    _, db, output = smoke_run
    lines = output.splitlines()
    assert any(line.startswith("* reported: score at or above the campaign threshold") for line in lines)
    assert any(line.startswith("time: signals ") and "fuse" in line and "cluster" in line for line in lines)
    hint = next(line for line in lines if line.startswith("next: "))
    assert " DB" not in hint and " N" not in hint and f"--db {db}" in hint
    reported = {c["campaign_id"] for c in json.loads(run("campaigns", "--db", db, "--json").output)
                if c["above_threshold"]}
    table_rows = [line for line in lines if line.startswith("│ *")]
    assert len(table_rows) == len(reported) and int(table_rows[0].split("│")[2]) in reported
    args = shlex.split(hint.removeprefix("next: "))
    assert args[0] == "chorusline" and int(args[-1]) in reported
    shown = run(*args[1:])
    assert shown.exit_code == 0 and f"campaign {args[-1]}" in shown.output


def test_campaign_choice_and_its_errors(smoke_run):
    _, db, _ = smoke_run
    listed = json.loads(run("campaigns", "--db", db, "--json").output)
    assert [c["score"] for c in listed] == sorted((c["score"] for c in listed), reverse=True)
    quiet = [c for c in listed if not c["flagged"]]
    assert quiet, "the smoke scenario has unreported clusters"
    # any cluster is explained, reported or not, with why it stayed below the line
    shown = run("campaigns", "--db", db, "--campaign", quiet[0]["campaign_id"])
    assert shown.exit_code == 0 and "not reported:" in shown.output and "none flagged" in shown.output
    x = json.loads(run("campaigns", "--db", db, "--campaign", quiet[0]["campaign_id"], "--json").output)
    assert x["members_shown"] == "all (none flagged)" and x["campaign"]["verdict"].startswith("not reported")
    missing = max(c["campaign_id"] for c in listed) + 1
    assert f"no campaign {missing}" in one_error_line(run("campaigns", "--db", db, "--campaign", missing))
    best = listed[0]["campaign_id"]
    old = run("campaigns", "--db", db, "--id", best, "--json")  # the old spelling still works
    assert old.exit_code == 0 and json.loads(old.output)["campaign"]["campaign_id"] == best


def test_stage_clock_draws_on_a_terminal_and_keeps_time():
    from rich.console import Console

    from chorusline.cli_progress import showing_progress
    from chorusline.progress import stage

    screen = io.StringIO()
    with showing_progress(Console(file=screen, force_terminal=True, width=100)) as clock:
        with stage("signals", total=2) as outer:
            for name in ("coshare", "synchrony"):
                with stage(f"signals: {name}"):
                    pass
                outer.advance()
    assert "signals: coshare" in screen.getvalue()
    assert [(t["stage"], t["depth"]) for t in clock.timings()] == [("signals", 0), ("signals: coshare", 1),
                                                                   ("signals: synchrony", 1)]
    quiet = io.StringIO()
    with showing_progress(Console(file=quiet)) as clock:  # not a terminal: nothing drawn, time still kept
        with stage("fuse"):
            pass
    assert quiet.getvalue() == "" and clock.timings()[0]["stage"] == "fuse"


def test_report_explains_the_thresholds_detection_ran_with(smoke_run, tmp_path):
    _, db, _ = smoke_run
    settings = tmp_path / "chorusline.toml"
    settings.write_text("[score]\ncampaign_threshold = 0.42\n")
    out = tmp_path / "r.html"
    assert run("report", "--db", db, "--config", settings, "--out", out).exit_code == 0
    assert "report threshold 0.42" in out.read_text(encoding="utf-8")
    missing = run("report", "--db", db, "--config", tmp_path / "none.toml", "--out", out)
    assert missing.exit_code == 2 and "does not exist" in missing.output
