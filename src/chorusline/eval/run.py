"""One scenario end to end, as the evaluation scripts run it: simulate into a temporary folder, load
the canonical tables into an in-memory DuckDB store, enrich the network, run `detect` with the
default settings and score it against the truth (`chorusline.eval.evaluate`)."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from chorusline.campaigns.detect import detect
from chorusline.enrich.network import enrich_store
from chorusline.eval.evaluate import evaluate
from chorusline.ingest import IngestOptions, adapter_for, ingest_files
from chorusline.sim import Scenario, simulate
from chorusline.store import Store

Inspect = Callable[[Store, Path], dict]


def run_scenario(scenario: Scenario, inspect: Inspect | None = None, keep: Path | None = None) -> dict:
    """The evaluation's metrics for one run, with ``seconds`` (all of it, simulation included) and
    ``simulate_seconds``. ``inspect(store, truth_folder)`` runs after scoring, while the store and the
    truth still exist; what it returns is added to the result (its time is not counted). With
    ``keep`` the store is a file there (``store.duckdb``) and the truth is copied beside it
    (``truth/``), so scoring can be studied again without rerunning the signals."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        simulated = simulate(scenario, folder / "sim")
        if keep is not None:
            Path(keep).mkdir(parents=True, exist_ok=True)
            (Path(keep) / "store.duckdb").unlink(missing_ok=True)
        store = Store.open(":memory:" if keep is None else Path(keep) / "store.duckdb")
        ingest_files(store, adapter_for("canonical"), sorted((folder / "sim").glob("*.parquet")), IngestOptions())
        enrich_store(store)
        detect(store, signals_dir=folder / "signals")
        result = evaluate(store, folder / "sim" / "truth")
        result["seconds"] = time.perf_counter() - started
        result["simulate_seconds"] = simulated.seconds
        if inspect is not None:
            result.update(inspect(store, folder / "sim" / "truth"))
        if keep is not None:
            shutil.copytree(folder / "sim" / "truth", Path(keep) / "truth", dirs_exist_ok=True)
        return result


__all__ = ["Inspect", "run_scenario"]
