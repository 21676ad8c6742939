"""`make demo`: the product on the embedded default, in one command.

For now (foundation issue) it loads the bundled samples of every supported input format into a
DuckDB store under ``demo-output/`` and prints the store's status; later stages extend it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from rich.console import Console

from chorusline.ingest import IngestOptions, adapter_for, ingest_files
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
    for fmt, paths in SAMPLES:
        report = ingest_files(store, adapter_for(fmt), paths, IngestOptions())
        totals = {t: c["inserted"] for t, c in report.totals().items()}
        console.print(f"[bold]{fmt:<11}[/bold] {len(paths)} file(s) -> {totals}")
    console.print()
    from chorusline.cli import status

    status(db=str(db), warehouse=None)
    console.print(f"\nstore: {db}\nnext: `.venv/bin/chorusline status --db {db}`")


if __name__ == "__main__":
    main()
