"""The whole pipeline on Spark, every verb, against a real standalone cluster (a master and a worker
started from the pyspark install, on loopback), and the same on DuckDB: the same campaigns and
members, metrics within 0.005, every export written. Slow (minutes): marked ``spark``."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.spark

HERE = Path(__file__).resolve().parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(check, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{what} did not come up in {timeout:.0f} s")


@pytest.fixture(scope="module")
def standalone_cluster(tmp_path_factory):
    """A Spark standalone master and one worker (2 cores), as `start-master.sh` / `start-worker.sh`
    would run them: yields the master URL."""
    import pyspark

    home = Path(pyspark.__file__).parent
    tmp = tmp_path_factory.mktemp("standalone")
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOCAL_IP": "127.0.0.1", "SPARK_LOG_DIR": str(tmp),
           "SPARK_WORKER_DIR": str(tmp / "work"), "PYSPARK_PYTHON": sys.executable}
    port, ui, worker_ui = _free_port(), _free_port(), _free_port()
    spark_class = str(home / "bin" / "spark-class")
    logs = [open(tmp / "master.log", "w"), open(tmp / "worker.log", "w")]
    master = subprocess.Popen([spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
                               "--port", str(port), "--webui-port", str(ui)], env=env, stdout=logs[0],
                              stderr=subprocess.STDOUT)
    worker = None
    try:
        _wait_for(lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close() or True, "the master")
        worker = subprocess.Popen([spark_class, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1",
                                   "--cores", "2", "--memory", "2g", "--webui-port", str(worker_ui),
                                   "--work-dir", str(tmp / "work"), f"spark://127.0.0.1:{port}"],
                                  env=env, stdout=logs[1], stderr=subprocess.STDOUT)

        def worker_alive() -> bool:
            with urllib.request.urlopen(f"http://127.0.0.1:{ui}/json/", timeout=2) as page:
                return any(w.get("state") == "ALIVE" for w in json.load(page).get("workers", []))

        _wait_for(worker_alive, "the worker")
        yield f"spark://127.0.0.1:{port}"
    finally:
        for process in (worker, master):
            if process is not None:
                process.terminate()
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
        for log in logs:
            log.close()


def _start_every_verb(db: str, warehouse: str, sim: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable,
           # what docs/SCALE.md says to set on a cluster: few shuffle partitions for little data
           "PYSPARK_SUBMIT_ARGS": "--driver-memory 2g --conf spark.sql.shuffle.partitions=4 pyspark-shell"}
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "stdout.log", "w") as stdout, open(out / "stderr.log", "w") as stderr:  # the child keeps its own
        return subprocess.Popen([sys.executable, str(HERE / "engine_parity.py"), db, warehouse, str(sim), str(out)],
                                stdout=stdout, stderr=stderr, env=env, cwd=out.parent)


def _results(run: subprocess.Popen, db: str, out: Path) -> dict:
    code = run.wait(timeout=1800)  # a run left going is killed by the fixture
    assert code == 0, f"{db}: {(out / 'stdout.log').read_text()[-3000:]}\n{(out / 'stderr.log').read_text()[-5000:]}"
    return json.loads((out / "results.json").read_text())


@pytest.fixture(scope="module")
def both_engines(standalone_cluster, tmp_path_factory):
    """Both engines' runs at once: the Spark run waits on its jobs' scheduling much of the time, and
    the DuckDB run fits in those waits (the fixture 506 → 403 s on 2 cores)."""
    from chorusline.sim import load_scenario, simulate

    tmp = tmp_path_factory.mktemp("parity")
    simulate(load_scenario("smoke"), tmp / "sim")
    spark_run = _start_every_verb(standalone_cluster, str(tmp / "wh"), tmp / "sim", tmp / "spark")
    duck_run = _start_every_verb(str(tmp / "d.duckdb"), "-", tmp / "sim", tmp / "duck")
    try:
        duck = _results(duck_run, "duckdb", tmp / "duck")
        spark = _results(spark_run, standalone_cluster, tmp / "spark")
    finally:
        for run in (duck_run, spark_run):
            if run.poll() is None:
                run.kill()
    return tmp, duck, spark


def _by_id(campaigns: list[dict]) -> dict:
    return {c["campaign_id"]: c for c in campaigns}


def test_same_campaigns_and_members_on_both_engines(both_engines):
    _, duck, spark = both_engines
    d, s = _by_id(duck["campaigns"]), _by_id(spark["campaigns"])
    assert d.keys() == s.keys()
    for cid in d:
        for key in ("size", "flagged", "api_accounts", "social_accounts", "tier", "above_threshold"):
            assert d[cid][key] == s[cid][key], (cid, key)
        for key in ("score", "coordination", "inauthenticity", "coverage"):
            assert d[cid][key] == pytest.approx(s[cid][key], abs=0.005), (cid, key)
    assert duck["members"] == spark["members"]
    assert any(c["above_threshold"] for c in duck["campaigns"])


def test_same_metrics_and_explanation_on_both_engines(both_engines):
    _, duck, spark = both_engines
    for key, value in duck["eval"].items():
        if isinstance(value, float):
            assert spark["eval"][key] == pytest.approx(value, abs=0.005), key
    assert duck["eval"]["account_f1"] >= 0.8
    dx, sx = duck["explain"], spark["explain"]
    assert dx.keys() == sx.keys()
    assert [m["actor"] for m in dx["top_members"]] == [m["actor"] for m in sx["top_members"]]


def test_every_export_and_action_on_spark(both_engines):
    tmp, duck, spark = both_engines
    for name in ("enforce.csv", "report.html", "bundle.json", "event.json", "indicators.csv", "g.gexf",
                 "g.graphml", "tables/campaigns.parquet"):
        made = tmp / "spark" / name
        assert made.exists() and (made.is_dir() or made.stat().st_size > 0), name
    # the same rows, and reasons word for word but for the number of `provenance` ties; confidence
    # within 0.005 (issue 17's tolerance; 0.0008 at most measured). The per-account features are equal
    # on both engines (docs/SCALE.md); the provenance edges are not: their MinHash candidates come from
    # each engine's own hash() of the word bigrams and their time windows from whole seconds that
    # DuckDB rounds and Spark truncates (signals/near_duplicate.py), so a few call→post matches, and
    # with them the member scores, differ
    def rows(engine):
        table = list(csv.DictReader(io.StringIO((tmp / engine / "enforce.csv").read_text())))
        return {(r["platform"], r["account_id"], r["campaign_id"], r["latest_tier"]):
                (float(r["confidence"]), re.sub(r"\bprovenance \(\d+\)", "provenance (#)", r["reasons"]))
                for r in table}
    d, s = rows("duck"), rows("spark")
    assert d.keys() == s.keys() and d
    for key in d:
        assert s[key][0] == pytest.approx(d[key][0], abs=0.005), key
        assert s[key][1] == d[key][1], key
    bundle = lambda engine: json.loads((tmp / engine / "bundle.json").read_text())  # noqa: E731
    kinds = lambda b: sorted(o["type"] for o in b["objects"])  # noqa: E731
    assert kinds(bundle("spark")) == kinds(bundle("duck"))
    # nine in ten accounts matched on both. An account matched by `provenance` follows the
    # provenance edges above, which move one account in or out at the top-N edge, and its score is
    # scaled by a chance rate counted over everyone's provenance matches (act/watchlist.py), which
    # differ by a few between engines: within 10 % (2–5 % measured on smoke). Every other score
    # within 1e-6
    d, s = ({m["actor"]: m for m in engine["match"]} for engine in (duck, spark))
    assert d and len(d.keys() & s.keys()) >= 0.9 * max(len(d), len(s))
    for actor in d.keys() & s.keys():
        by_provenance = "provenance" in d[actor]["kinds"] or "provenance" in s[actor]["kinds"]
        assert d[actor]["kinds"] == s[actor]["kinds"], actor
        assert s[actor]["score"] == pytest.approx(d[actor]["score"], rel=0.1 if by_provenance else 0, abs=1e-6), actor
    assert sum("provenance" not in m["kinds"] for m in d.values()) >= 5  # the exact part is not empty
