"""How well `provenance` recovers which call a post's text came from, and which API accounts feed
which personas, on the simulator's scenarios.

Run: `.venv/bin/python scripts/provenance_quality.py [--scenario seed-case multi-campaign]
[--threshold 0.5 0.6 0.7]`. Scores the (call, post) links against `truth/provenance.parquet`
(recall split by whether the operator paraphrased the output) and the API account ↔ persona
`provenance` edges against `truth/links.parquet`. Raw signal, before fusion (issue 6).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import duckdb

from chorusline.ingest import IngestOptions, adapter_for, ingest_files
from chorusline.signals.provenance import ProvenanceParams, provenance_edges, provenance_links
from chorusline.sim import load_scenario, simulate
from chorusline.store import Store


def evaluate(name: str, thresholds: list[float]) -> list[tuple]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        simulate(load_scenario(name), folder)
        store = Store.open(":memory:")
        ingest_files(store, adapter_for("canonical"), sorted(folder.glob("*.parquet")), IngestOptions())
        truth, links_truth = folder / "truth" / "provenance.parquet", folder / "truth" / "links.parquet"
        for th in thresholds:
            params = ProvenanceParams(threshold=th)
            con = duckdb.connect()
            con.register("l", provenance_links(store.table("llm_calls"), store.table("posts"), params).to_pyarrow())
            con.register("e", provenance_edges(store.table("llm_calls"), store.table("posts"), params).to_pyarrow())
            recall = dict(con.sql(f"""select paraphrased, avg((l.call_id is not null)::int) from '{truth}' t
                                      left join l using (call_id, post_id) group by 1""").fetchall())
            n_links, link_precision = con.sql(f"""select count(*), avg((t.call_id is not null)::int) from l
                                                   left join '{truth}' t using (call_id, post_id)""").fetchone()
            found, n_truth, tp = con.sql(f"""
                with tl as (select api_platform || ':' || api_account_id a, social_platform || ':' || persona_account_id p
                            from '{links_truth}'),
                     got as (select case when a_actor like 'llm-api:%' then a_actor else b_actor end a,
                                    case when a_actor like 'llm-api:%' then b_actor else a_actor end p
                             from e where signal = 'provenance')
                select (select count(*) from got), (select count(*) from tl),
                       (select count(*) from got join tl using (a, p))""").fetchone()
            rows.append((name, th, n_links, link_precision, recall.get(False), recall.get(True), found,
                         tp / found if found else None, tp / n_truth if n_truth else None))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", nargs="+", default=["seed-case", "multi-campaign"])
    parser.add_argument("--threshold", nargs="+", type=float, default=[0.5, 0.6, 0.7])
    args = parser.parse_args()
    print("| scenario | threshold | call→post links | link precision | recall (verbatim) | recall (paraphrased) "
          "| API↔persona edges | edge precision | edge recall |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    f = lambda v: "–" if v is None else f"{v:.3f}"  # noqa: E731
    for name in args.scenario:
        for row in evaluate(name, args.threshold):
            print(f"| {row[0]} | {row[1]} | {row[2]:,} | {f(row[3])} | {f(row[4])} | {f(row[5])} | {row[6]:,} | "
                  f"{f(row[7])} | {f(row[8])} |")


if __name__ == "__main__":
    main()
