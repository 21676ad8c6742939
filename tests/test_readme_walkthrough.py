"""The README's verbs, in the README's order, as a user runs them: the installed `chorusline` command
in a fresh folder, on the smoke scenario and the bundled samples, through the report and every
export. Each step must exit 0 and leave its output; the order of the steps is checked against the
README's "Use" block, so the README and this test cannot drift apart."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
CLI = shutil.which("chorusline", path=str(Path(sys.executable).parent)) or "chorusline"


def readme_verbs() -> list[str]:
    """The verbs of the README's Use block in order (`export stix|misp|…` counts as `export`)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## Use", 1)[1].split("```", 2)[1]
    verbs = []
    for line in block.splitlines():
        # a line may chain two commands with &&
        for command in line.split("&&"):
            found = re.search(r"chorusline\s+(--version|[a-z-]+)", command)
            if found:
                verbs.append(found.group(1))
    return verbs


def chorusline(folder: Path, *args: str) -> str:
    run = subprocess.run([CLI, *args], cwd=folder, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"chorusline {' '.join(args)} exited {run.returncode}:\n{run.stdout}\n{run.stderr}"
    assert "Traceback" not in run.stderr
    return run.stdout


def test_the_readme_walkthrough(tmp_path):
    sim = tmp_path / "smoke"
    db = "my.duckdb"
    steps: list[tuple[str, list[str]]] = []

    def step(*args: str) -> str:
        steps.append((args[0], list(args)))
        return chorusline(tmp_path, *args)

    assert step("--version").strip().startswith("chorusline ")
    assert "x-archive" in step("formats")
    # the first ingest creates the store; the canonical one loads the smoke scenario (made first,
    # with the library, so that the README's order can be followed)
    from chorusline.sim import load_scenario, simulate

    simulate(load_scenario("smoke"), sim)
    step("ingest", "--db", db, "-f", "x-archive", str(EXAMPLES / "formats" / "x_archive_tweets.csv"),
         str(EXAMPLES / "formats" / "x_archive_users.csv"))
    step("ingest", "--db", db, *map(str, sorted(sim.glob("*.parquet"))))
    status = json.loads(step("status", "--db", db, "--json"))
    assert {r["table"]: r["rows"] for r in status}["posts"] > 0
    step("quarantine", "--db", db)
    step("simulate", "--scenario", "smoke", "--out", "sim2")
    assert (tmp_path / "sim2" / "truth" / "accounts.parquet").exists()
    step("enrich", "--db", db)
    step("signals", "--db", db, "--signals-out", "signals")
    assert any((tmp_path / "signals").iterdir())
    step("detect", "--db", db)
    listed = json.loads(step("campaigns", "--db", db, "--json"))
    reported = [c["campaign_id"] for c in listed if c["above_threshold"]]
    assert reported, "the smoke scenario's operation is reported"
    top = str(reported[0])
    assert f"campaign {top}" in step("campaigns", "--db", db, "--campaign", top)
    scores = json.loads(step("eval", "--db", db, "--truth", str(sim / "truth"), "--json"))
    assert scores["account_f1"] >= 0.8
    step("decide", "confirm", "--campaign", top, "--analyst", "ana", "--db", db)
    step("enforce", "--db", db, "--out", "suspend.csv")
    step("watchlist", "--db", db)
    step("match", "--db", db)
    step("report", "--db", db, "--out", "report.html")
    for fmt, out in (("stix", "bundle.json"), ("misp", "event.json"), ("indicators", "indicators.csv"),
                     ("gexf", "g.gexf"), ("graphml", "g.graphml"), ("tables", "tables")):
        step("export", fmt, "--db", db, "--out", out)
        assert (tmp_path / out).exists()
    shares = tmp_path / "shares.csv"
    shares.write_text("object_id,account_id,content_id,timestamp_share\n"
                      + "".join(f"o{k},a{j},c{k}{j},{1000 * k + j}\n" for k in range(3) for j in range(3)))
    step("coshare", str(shares), "--time-window", "60", "--min-participation", "2", "--out", "pairs.csv",
         "--edges", "edges.csv")

    texts = tmp_path / "posts.csv"
    texts.write_text("account,text\n" + "".join(
        f"a{k % 2},\"Post number {k} says something about the weather and the game tonight.\"\n" for k in range(6)))
    step("ai-text", str(texts), "--text-column", "text", "--group-by", "account", "--out", "scores.csv")
    assert "machine_probability" in (tmp_path / "scores.csv").read_text().splitlines()[0]

    for made in ("suspend.csv", "report.html", "bundle.json", "event.json", "indicators.csv", "g.gexf", "g.graphml",
                 "pairs.csv", "edges.csv", "scores.csv", "tables/campaigns.parquet"):
        assert (tmp_path / made).stat().st_size > 0, made
    assert "Campaign " + top in (tmp_path / "report.html").read_text(encoding="utf-8")
    assert json.loads((tmp_path / "bundle.json").read_text())["type"] == "bundle"
    # the same verbs in the same order as the README (its last line, Spark, is the test below)
    verbs = [verb for verb, _ in steps]
    verbs = [v for i, v in enumerate(verbs) if not (v == "export" and verbs[i - 1] == "export")]  # one README line
    assert verbs == readme_verbs()[:-1]


@pytest.mark.spark
def test_the_readme_spark_line(tmp_path):
    assert readme_verbs()[-1] == "ingest"
    out = chorusline(tmp_path, "ingest", "--db", "spark://local[2]", "--warehouse", "wh", "-f", "bedrock",
                     str(EXAMPLES / "formats" / "bedrock_invocations.jsonl"))
    assert "llm_calls" in out and any((tmp_path / "wh").iterdir())
