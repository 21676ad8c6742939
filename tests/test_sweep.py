"""The random-scenario sweep: draws are deterministic, inside their documented ranges and valid,
and a tiny draw runs end to end through scripts/evaluate_sweep.py's run function."""

import dataclasses
import importlib.util
import json
from pathlib import Path

import pytest

from chorusline.sim.scenario import validate
from chorusline.sim.sweep import (
    RANGES, Between, OneOf, OrNone, SomeOf, describe, draw_scenario, drawn_values, ranges_markdown,
)

ROOT = Path(__file__).resolve().parents[1]
SEEDS = range(1000, 1150)


@pytest.fixture(scope="module")
def draws():
    return [draw_scenario(seed) for seed in SEEDS]


def test_a_seed_gives_the_same_scenario(draws):
    assert dataclasses.asdict(draw_scenario(SEEDS[0])) == dataclasses.asdict(draws[0])
    assert dataclasses.asdict(draws[0]) != dataclasses.asdict(draws[1])
    assert draws[0].seed == SEEDS[0]


def test_every_drawn_value_lies_in_its_documented_range(draws):
    for s in draws:
        values = drawn_values(s)
        assert {path for path, _ in values} == set(RANGES)  # every range is drawn, nothing undeclared
        outside = [(path, value) for path, value in values if not RANGES[path].holds(value)]
        assert outside == [], s.name
        validate(s, s.name)
        for c in s.campaigns:  # the knobs bounded by others
            assert c.api_accounts <= c.personas and c.cells <= c.api_accounts
            assert c.ban_wave.day is None or s.days // 3 <= c.ban_wave.day <= s.days - 2
            assert not c.cell_zones or c.cells > 1
        assert s.organic.community_size <= s.organic.community_size_max


def test_the_draws_cover_the_ranges(draws):
    campaigns = [c for s in draws for c in s.campaigns]
    personas = [c.personas for c in campaigns]
    assert min(personas) < 15 and max(personas) > 250
    assert {len(s.campaigns) for s in draws} == {1, 2, 3}
    assert {c.cells for c in campaigns} >= {1, 2, 3, 4, 5}
    assert any(c.ban_wave.day is None for c in campaigns) and any(c.ban_wave.day for c in campaigns)
    paraphrase = [c.paraphrase_rate for c in campaigns]
    assert min(paraphrase) < 0.05 and max(paraphrase) > 0.95
    assert {s.organic.syndication_networks for s in draws} >= {0, 6}


def test_ranges_reject_what_lies_outside():
    assert Between(1, 3, whole=True).holds(2) and not Between(1, 3, whole=True).holds(4)
    assert not Between(1, 3, whole=True).holds(2.5)
    assert not OneOf(("pro", "anti")).holds("neutral")
    assert not SomeOf(("a", "b"), 1, 2).holds(["c"]) and not SomeOf(("a", "b"), 1, 2, weighted=True).holds({"a": 0})
    assert OrNone(Between(0, 1), 0.5).holds(None) and not OrNone(Between(0, 1), 0.5).holds(2)
    assert "`campaigns[].personas` | 8–400 (log-uniform)" in ranges_markdown()


def _sweep_script():
    spec = importlib.util.spec_from_file_location("evaluate_sweep", ROOT / "scripts" / "evaluate_sweep.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_tiny_draw_runs_end_to_end():
    sweep = _sweep_script()
    record = sweep.run_one(SEEDS[0], scale=0.1)
    json.dumps(record)  # the JSONL line
    assert record["draw"] == SEEDS[0] and record["knobs"] == describe(draw_scenario(SEEDS[0]).scaled(0.1))
    for key in ("account_precision", "account_recall", "account_f1", "link_f1"):
        assert record[key] is None or 0 <= record[key] <= 1
    assert 0 <= record["benign_flagged_share"] <= 1
    # the diagnosis knows every campaign of the draw and counts its accounts as the truth does
    diagnosis = record["diagnosis"]
    assert set(diagnosis["campaigns"]) == {c.name for c in draw_scenario(SEEDS[0]).campaigns}
    assert sum(c["accounts"] for c in diagnosis["campaigns"].values()) == record["campaign_accounts"]
    assert sum(c["flagged"] for c in diagnosis["campaigns"].values()) + diagnosis["false_alarms"]["accounts"] \
        == record["flagged"]
    assert isinstance(sweep.explain(record), str)
    summary = sweep.summary([record, {**record, "draw": 1, "account_f1": None, "account_precision": None}])
    assert "| account F1 | 0.000 |" in summary  # a draw that flags nothing counts as F1 0


def test_a_failing_run_is_recorded_and_retried(tmp_path, monkeypatch):
    sweep = _sweep_script()

    def broken(draw, scale=1.0, keep=None):
        raise RuntimeError("out of\nmemory")

    monkeypatch.setattr(sweep, "run_one", broken)
    record = sweep.attempt(7)
    assert record["draw"] == 7 and record["error"] == "RuntimeError: out of memory"
    path = tmp_path / "sweep.jsonl"
    path.write_text(json.dumps(record) + "\n" + json.dumps({"draw": 8, "account_f1": 1.0}) + "\n")
    assert set(sweep.load(path)) == {8}  # the failed draw runs again on resume
