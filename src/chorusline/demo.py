"""`make demo`: the product on the embedded default, in one command.

So far: simulate the seed case (an LLM-assisted persona network inside an organic world, with ground
truth), load it and the bundled samples of every input format into a DuckDB store under
``demo-output/``, and print what is there. Detection, reports and exports join as they land.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from rich.console import Console

from chorusline.ingest import IngestOptions, adapter_for, ingest_files
from chorusline.sim import load_scenario, simulate
from chorusline.store import Store

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
OUT = ROOT / "demo-output"

SAMPLES = [
    ("canonical", sorted((EXAMPLES / "canonical").glob("*.csv"))),
    ("x-archive", [EXAMPLES / "formats" / "x_archive_tweets.csv", EXAMPLES / "formats" / "x_archive_users.csv"]),
    ("bedrock", [EXAMPLES / "formats" / "bedrock_invocations.jsonl"]),
    ("litellm", [EXAMPLES / "formats" / "litellm_spend_logs.csv", EXAMPLES / "formats" / "litellm_payloads.json"]),
    ("otel-genai", [EXAMPLES / "formats" / "otel_genai_spans.jsonl"]),
    ("telegram", [EXAMPLES / "formats" / "telegram_chat.json", EXAMPLES / "formats" / "telegram_full_export.json"]),
]


def main() -> None:
    console = Console()
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir()
    db = OUT / "chorusline.duckdb"
    store = Store.open(str(db))
    scenario = load_scenario("seed-case")
    sim = simulate(scenario, OUT / "seed-case")
    console.print(f"[bold]simulate[/bold]    seed-case in {sim.seconds:.1f} s -> {OUT / 'seed-case'} (truth in truth/)")
    report = ingest_files(store, adapter_for("canonical"), sorted((OUT / "seed-case").glob("*.parquet")), IngestOptions())
    loaded = {t: c["inserted"] for t, c in report.totals().items()}
    console.print(f"[bold]{'canonical':<11}[/bold] seed-case -> {loaded}")
    for fmt, paths in SAMPLES:
        report = ingest_files(store, adapter_for(fmt), paths, IngestOptions())
        totals = {t: c["inserted"] for t, c in report.totals().items()}
        console.print(f"[bold]{fmt:<11}[/bold] {len(paths)} sample file(s) -> {totals}")
    console.print()
    from chorusline.cli import status

    status(db=str(db), warehouse=None)
    truth = OUT / "seed-case" / "truth" / "accounts.parquet"
    import duckdb

    console.print(duckdb.sql(f"select campaign, role, count(*) accounts from '{truth}' where campaign is not null "
                             "group by all order by all"))
    console.print(f"store: {db}\nnext: `.venv/bin/chorusline status --db {db}`")


if __name__ == "__main__":
    main()
