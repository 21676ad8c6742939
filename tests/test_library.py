"""The library API: `import chorusline` is light and versioned, docs/LIBRARY.md's example runs as
written, its functions return what the CLI prints as JSON, and `detect_groups` is CooRTweet's."""

import json
import os
import re
import subprocess
import sys

import pandas as pd
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from conftest import ROOT, SHARED, needs_shared

PEERS = SHARED / "peers"


def test_import_is_light_and_versioned():
    code = ("import sys, chorusline; print(chorusline.__version__); "
            "print(sorted(m for m in ('ibis', 'duckdb', 'pandas', 'pyarrow', 'chorusline.api') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True).stdout
    version, heavy = out.splitlines()
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", version) and heavy == "[]"
    import chorusline

    assert {"open_store", "load_files", "simulate", "detect", "explain_campaign", "detect_groups"} <= set(dir(chorusline))
    with pytest.raises(AttributeError):
        chorusline.no_such_thing


def test_version_falls_back_to_pyproject(monkeypatch):
    from importlib import metadata

    import chorusline

    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    assert chorusline._version() == re.search(r'^version = "(.+)"', (ROOT / "pyproject.toml").read_text(), re.M)[1]


@pytest.fixture(scope="module")
def worked_example(tmp_path_factory):
    """docs/LIBRARY.md's python block, run as written in an empty folder: (folder, its names)."""
    text = (ROOT / "docs" / "LIBRARY.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 1, "LIBRARY.md has one runnable example"
    folder = tmp_path_factory.mktemp("library")
    here = os.getcwd()
    os.chdir(folder)
    try:
        names = {"__name__": "__example__"}
        exec(compile(blocks[0], "docs/LIBRARY.md", "exec"), names)
    finally:
        os.chdir(here)
    return folder, names


def test_the_worked_example_runs_and_finds_the_operation(worked_example):
    folder, x = worked_example
    assert x["sim"]["scenario"] == "smoke" and (folder / "sim" / "truth" / "accounts.parquet").exists()
    assert x["loaded"]["exit_code"] == 0 and x["loaded"]["tables"]["posts"]["quarantined"] == 0
    assert x["reported"] and x["evidence"]["clock"]["operator_offset"] == 8  # the smoke operator works on UTC+8
    assert {"T0085.001", "T0154.001"} <= {d["external_id"] for d in x["evidence"]["disarm"]}
    pairs = x["pairs"]
    assert isinstance(pairs, pd.DataFrame)
    assert pairs[["object_id", "account_id", "account_id_y", "time_delta"]].values.tolist() == [
        ["o1", "a", "b", 30], ["o2", "a", "b", 5]]


def test_the_library_returns_what_the_cli_prints(worked_example):
    import chorusline
    from chorusline.cli import app

    folder, x = worked_example
    store, db = x["store"], str(folder / "example.duckdb")
    run = CliRunner().invoke

    def cli(*args):
        result = run(app, [*args, "--db", db, "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)

    def as_json(value):
        return json.loads(json.dumps(value, default=lambda v: v.isoformat()))

    assert cli("campaigns") == as_json(chorusline.list_campaigns(store)) == as_json(x["campaigns"])
    cid = x["reported"][0]["campaign_id"]
    assert cli("campaigns", "--campaign", str(cid)) == as_json(x["evidence"])
    assert cli("status") == as_json(chorusline.store_status(store))


def test_store_errors():
    import chorusline
    from chorusline.campaigns.explain import CampaignNotFound

    with pytest.raises(chorusline.StoreNotFound, match="no store at nowhere.duckdb"):
        chorusline.open_store("nowhere.duckdb")
    with pytest.raises(CampaignNotFound, match="run `chorusline detect` first"):
        chorusline.list_campaigns(chorusline.open_store(":memory:"))


def test_detect_groups_takes_arrow_and_times_and_says_what_is_missing():
    import chorusline

    frame = pd.DataFrame({"object_id": ["o", "o", "o"], "account_id": ["a", "b", "a"], "content_id": ["1", "2", "3"],
                          "timestamp_share": [100, 110, 500]})
    want = chorusline.detect_groups(frame, time_window=60, min_participation=1)
    as_times = frame.assign(timestamp_share=pd.to_datetime(frame.timestamp_share, unit="s", utc=True))
    assert chorusline.detect_groups(as_times, time_window=60, min_participation=1).equals(want)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    got = chorusline.detect_groups(table, time_window=60, min_participation=1)
    assert isinstance(got, pa.Table) and got.to_pandas().equals(want)
    stream = pa.RecordBatchReader.from_batches(table.schema, table.to_batches())  # any Arrow C stream
    assert chorusline.detect_groups(stream, time_window=60, min_participation=1).equals(got)
    with pytest.raises(ValueError, match="no column timestamp_share"):
        chorusline.detect_groups(frame.drop(columns="timestamp_share"))
    with pytest.raises(ValueError, match="row 1: missing object, account, content or a valid time"):
        chorusline.detect_groups(frame.assign(account_id=["a", None, "a"]))


def test_detect_groups_takes_polars():
    polars = pytest.importorskip("polars", reason="polars is not installed (an optional input type, not a dependency)")
    import chorusline

    frame = polars.DataFrame({"object_id": ["o", "o"], "account_id": ["a", "b"], "content_id": ["1", "2"],
                              "timestamp_share": [100, 110]})
    got = chorusline.detect_groups(frame, time_window=60, min_participation=1)
    assert isinstance(got, polars.DataFrame) and got.rows() == [("o", "1", "2", 10, "a", "b")]


@needs_shared
def test_detect_groups_matches_coortweet_on_its_data():
    import chorusline

    shares = pd.read_csv(PEERS / "russian_coord_tweets.csv", dtype={c: str for c in ("object_id", "account_id",
                                                                                       "content_id")})
    got = chorusline.detect_groups(shares, time_window=60, min_participation=2)
    want = pd.read_csv(PEERS / "expected" / "coortweet_russian_tw60_mp2_ew0.5_detect_groups.csv", dtype=str)
    assert list(got.columns) == list(want.columns) and len(got) == 3791
    assert got.astype(str).equals(want)  # same rows, same order
