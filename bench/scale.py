"""The scaling curve: a scenario (default `large`) at several scales, on DuckDB and on Spark local[2],
side by side in one run: seconds and peak memory against rows, the growth exponent fitted, and
where the time goes at the largest size.

Run: `.venv/bin/python bench/scale.py [--scales 0.25 0.5 1 2] [--spark-scales 0.25 0.5]
[--plot docs/img/scale.png]`. Each point: the scenario is simulated and loaded (not timed), then a
child process runs `enrich` and `detect` as the CLI does (network enrichment, text embeddings, every
signal, fusion, clustering, scoring, links, narratives). Peak memory is the child's whole process
tree (the JVM included, for Spark), sampled every 0.2 s from /proc. Each point is also scored against
the simulator's truth (account F1, precision, ARI, link F1, benign flagged, campaigns reported
against true ones; scoring is not timed). The exponent is the slope of log(seconds) on log(rows)
(rows = posts + API calls); 1 is linear.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"


def child(db: str, warehouse: str, signals: str, truth: str) -> None:
    """Enrich and detect one store, then score it against the truth; print the stage timings, the
    scores and how long scoring took (taken off the point's time) as one JSON line."""
    from rich.console import Console

    from chorusline.api import detect, open_store
    from chorusline.cli_progress import showing_progress
    from chorusline.enrich.network import enrich_store
    from chorusline.enrich.texts import embed_store_texts
    from chorusline.eval.evaluate import evaluate

    store = open_store(db, warehouse=None if warehouse == "-" else warehouse)
    with showing_progress(Console(file=io.StringIO())) as clock:
        enrich_store(store)
        embed_store_texts(store)
        campaigns = detect(store, signals_out=signals)
    start = time.perf_counter()
    scores = evaluate(store, Path(truth))
    print(json.dumps({"timings": clock.timings(), "reported": sum(1 for c in campaigns if c["above_threshold"]),
                      "scores": scores, "eval_seconds": time.perf_counter() - start}))


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parent = int(fh.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            pass
        todo.extend(children.get(p, []))
    return total


def measured(cmd: list[str]) -> tuple[str, float, float]:
    """(stdout, wall seconds, peak process-tree RSS in MiB) of a command; exits if it fails."""
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": str(PYTHON)}
    start, peak = time.perf_counter(), 0
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=ROOT)
        while process.poll() is None:
            peak = max(peak, _tree_rss(process.pid))
            time.sleep(0.2)
        wall = time.perf_counter() - start
        out.seek(0), err.seek(0)
        if process.returncode:
            sys.exit(f"{' '.join(cmd[:4])} failed:\n{err.read()[-3000:]}")
        return out.read(), wall, peak / 2**20


def point(scenario: str, scale: float, engine: str, work: Path) -> dict:
    from chorusline.ingest import IngestOptions, adapter_for, ingest_files
    from chorusline.sim import load_scenario, simulate
    from chorusline.store import Store

    folder = work / f"{engine}-{scale}"
    summary = simulate(load_scenario(scenario, scale=scale), folder / "sim")
    if engine == "duckdb":
        db, warehouse = str(folder / "s.duckdb"), "-"
    else:
        db, warehouse = "spark://local[2]", str(folder / "wh")
    if engine == "duckdb":
        store = Store.open(db)
        ingest_files(store, adapter_for("canonical"), sorted((folder / "sim").glob("*.parquet")), IngestOptions())
        store.backend.disconnect()
    else:  # loading is not timed, but runs in its own process so the timed one starts a fresh JVM
        subprocess.run([str(PYTHON), "-m", "chorusline.cli", "ingest", "--db", db, "--warehouse", warehouse,
                        "-f", "canonical", *map(str, sorted((folder / "sim").glob("*.parquet")))],
                       check=True, capture_output=True, cwd=ROOT, env={**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"})
    out, wall, peak = measured([str(PYTHON), __file__, "--child", db, warehouse, str(folder / "signals"),
                                str(folder / "sim" / "truth")])
    result = json.loads(out.strip().splitlines()[-1])
    rows = summary.rows.get("posts", 0) + summary.rows.get("llm_calls", 0)
    import pyarrow.parquet as pq

    truth = pq.read_table(folder / "sim" / "truth" / "accounts.parquet").to_pylist()
    true_campaigns = len({r.get("campaign") for r in truth if r.get("campaign") not in (None, "", "benign")})
    return {"engine": engine, "scale": scale, "rows": rows, "accounts": summary.rows.get("accounts", 0),
            "seconds": round(wall - result["eval_seconds"], 1), "peak_mib": round(peak),
            "reported": result["reported"], "true_campaigns": true_campaigns, "scores": result["scores"],
            "timings": result["timings"]}


def _f(value, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def exponent(points: list[dict]) -> float | None:
    """Least-squares slope of log(seconds) on log(rows)."""
    if len(points) < 2:
        return None
    xs = [math.log(p["rows"]) for p in points]
    ys = [math.log(p["seconds"]) for p in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def plot(points: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for engine, marker in (("duckdb", "o-"), ("spark", "s--")):
        mine = sorted((p for p in points if p["engine"] == engine), key=lambda p: p["rows"])
        if mine:
            left.plot([p["rows"] for p in mine], [p["seconds"] for p in mine], marker, label=engine)
            right.plot([p["rows"] for p in mine], [p["peak_mib"] for p in mine], marker, label=engine)
    for ax, label in ((left, "seconds (enrich + detect)"), (right, "peak memory, process tree (MiB)")):
        ax.set_xscale("log"), ax.set_yscale("log")
        ax.set_xlabel("rows (posts + API calls)"), ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3), ax.legend()
    fig.suptitle("chorusline on the `large` scenario, 2 cores")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:6])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="large")
    parser.add_argument("--scales", type=float, nargs="*", default=[0.25, 0.5, 1.0, 2.0])
    parser.add_argument("--spark-scales", type=float, nargs="*", default=[0.25, 0.5])
    parser.add_argument("--plot", type=Path, default=None, help="write the curve as a PNG here")
    parser.add_argument("--json", type=Path, default=None, help="write every point as JSON here")
    args = parser.parse_args()
    points = []
    with tempfile.TemporaryDirectory(prefix="chorusline-scale-") as tmp:
        for engine, scales in (("duckdb", args.scales), ("spark", args.spark_scales)):
            for scale in scales:
                points.append(point(args.scenario, scale, engine, Path(tmp)))
                p = points[-1]
                print(f"{engine} scale {scale}: {p['rows']:,} rows, {p['seconds']} s, {p['peak_mib']:,} MiB, "
                      f"{p['reported']} reported", file=sys.stderr, flush=True)
    print(f"`{args.scenario}`, enrich + detect in a child process, 2 cores\n")
    print("| engine | scale | rows (posts + calls) | accounts | seconds | peak MiB (tree) | account F1 | precision "
          "| ARI | link F1 | benign flagged | campaigns reported / true |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for p in points:
        s = p["scores"]
        print(f"| {p['engine']} | {p['scale']} | {p['rows']:,} | {p['accounts']:,} | {p['seconds']:,} | "
              f"{p['peak_mib']:,} | {_f(s.get('account_f1'))} | {_f(s.get('account_precision'))} | "
              f"{_f(s.get('campaign_ari'))} | {_f(s.get('link_f1'))} | {_f(s.get('benign_flagged_share'), 4)} | "
              f"{p['reported']} / {p['true_campaigns']} |")
    for engine in ("duckdb", "spark"):
        slope = exponent([p for p in points if p["engine"] == engine])
        if slope is not None:
            print(f"\n{engine}: seconds grow as rows^{slope:.2f}")
    largest = max((p for p in points if p["engine"] == "duckdb"), key=lambda p: p["rows"], default=None)
    if largest:
        top = sorted((t for t in largest["timings"] if t["depth"] <= 1), key=lambda t: -t["seconds"])[:12]
        print(f"\nwhere the time goes, DuckDB at scale {largest['scale']}:\n\n| stage | seconds |\n| --- | --- |")
        for t in top:
            print(f"| {t['stage']} | {t['seconds']:.1f} |")
    if args.plot:
        plot(points, args.plot)
    if args.json:
        args.json.write_text(json.dumps(points, indent=1))


if __name__ == "__main__":
    main()
