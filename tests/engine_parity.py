"""Every verb of the pipeline on one store, in one process, as the CLI runs them: used by
tests/test_spark_pipeline.py to run the same scenario on DuckDB and on Spark (each in its own child
process, so that each engine has a session of its own) and compare what they return.

    python tests/engine_parity.py DB WAREHOUSE SIMDIR OUTDIR

DB is a DuckDB path or a ``spark://…`` target; WAREHOUSE is ``-`` for DuckDB. Writes
OUTDIR/results.json: each verb's JSON output (where it has one) and the files it wrote."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main(db: str, warehouse: str, sim: Path, out: Path) -> None:
    from typer.testing import CliRunner

    from chorusline.cli import app

    out.mkdir(parents=True, exist_ok=True)
    target = ["--db", db] + ([] if warehouse == "-" else ["--warehouse", warehouse])
    results: dict = {"seconds": {}}
    runner = CliRunner()

    def run(*args: str, as_json: bool = False):
        start = time.perf_counter()
        result = runner.invoke(app, [*args, *target] + (["--json"] if as_json else []))
        results["seconds"][" ".join(args[:2])] = round(time.perf_counter() - start, 1)
        if result.exit_code != 0:
            raise SystemExit(f"chorusline {' '.join(args)} exited {result.exit_code}:\n{result.output}\n"
                             f"{result.exception!r}")
        return json.loads(result.stdout) if as_json else result.output

    run("ingest", "-f", "canonical", *map(str, sorted(sim.glob("*.parquet"))))
    run("enrich")
    results["detect"] = run("detect", "--signals-out", str(out / "signals"), as_json=True)
    results["campaigns"] = run("campaigns", as_json=True)
    reported = [c["campaign_id"] for c in results["campaigns"] if c["above_threshold"]]
    top = str(reported[0])
    results["explain"] = run("campaigns", "--campaign", top, as_json=True)
    results["eval"] = run("eval", "--truth", str(sim / "truth"), as_json=True)
    run("decide", "confirm", "--campaign", top, "--analyst", "parity")
    run("enforce", "--out", str(out / "enforce.csv"))
    run("watchlist")
    results["match"] = run("match", as_json=True)
    run("report", "--out", str(out / "report.html"))
    for fmt, name in (("stix", "bundle.json"), ("misp", "event.json"), ("indicators", "indicators.csv"),
                      ("gexf", "g.gexf"), ("graphml", "g.graphml"), ("tables", "tables")):
        run("export", fmt, "--out", str(out / name))
    results["members"] = _members(db, warehouse)
    (out / "results.json").write_text(json.dumps(results, default=str, indent=1))


def _members(db: str, warehouse: str) -> dict[str, list[str]]:
    """campaign id → its flagged members, read back through the library."""
    from chorusline.api import open_store

    store = open_store(db, warehouse=None if warehouse == "-" else warehouse)
    m = store.table("campaign_members")
    rows = m.filter(m.flagged).select("campaign_id", "actor").to_pyarrow().to_pylist()
    members: dict[str, list[str]] = {}
    for row in rows:
        members.setdefault(str(row["campaign_id"]), []).append(row["actor"])
    return {k: sorted(v) for k, v in members.items()}


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
