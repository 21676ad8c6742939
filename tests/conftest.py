"""Shared fixtures: stores on both engines, paths to bundled and shared samples."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SHARED = ROOT.parent / "shared" / "data"

needs_shared = pytest.mark.skipif(
    not SHARED.exists(), reason="../shared/data is not present here (the real samples live there)"
)


@pytest.fixture
def duck_store(tmp_path):
    from chorusline.store import Store

    return Store.open(str(tmp_path / "test.duckdb"))


@pytest.fixture(scope="session")
def spark(tmp_path_factory):
    from chorusline.engine import spark_session

    session = spark_session("local[2]", tmp_path_factory.mktemp("warehouse"))
    yield session
    session.stop()


@pytest.fixture
def spark_store(spark):
    """A fresh Spark store: the session is shared, so drop what the last test left."""
    import ibis

    from chorusline.schema import ALL_TABLES
    from chorusline.store import Store

    backend = ibis.pyspark.connect(spark)
    for name in backend.list_tables():
        if name in ALL_TABLES or name.startswith("_stage_"):
            backend.drop_table(name, force=True)
    store = Store(backend)
    store.ensure_tables()
    return store


@pytest.fixture(params=["duckdb", pytest.param("spark", marks=pytest.mark.spark)])
def any_store(request):
    """The same test on DuckDB and on Spark (local mode)."""
    return request.getfixturevalue("duck_store" if request.param == "duckdb" else "spark_store")


def load(store, fmt, *paths, **options):
    """Ingest files with one adapter; returns the IngestReport."""
    from chorusline.ingest import IngestOptions, adapter_for, ingest_files

    return ingest_files(store, adapter_for(fmt), [Path(p) for p in paths], IngestOptions(**options))


def rows(store, table, order_by=None):
    t = store.table(table)
    if order_by:
        t = t.order_by(order_by)
    return t.to_pyarrow().to_pylist()


def quarantine(store):
    return rows(store, "quarantine", ["source_file", "line"])


def add_rows(store, spec, records: list[dict], platform: str):
    """Append hand-built rows of one canonical table (times as UNIX seconds; missing columns empty)."""
    import pandas as pd
    import pyarrow as pa

    frame = pd.DataFrame(records)
    for col in ("ts", "created_at"):
        if col in frame:
            frame[col] = pd.to_datetime(frame[col], unit="s", utc=True)
    if "platform" not in frame:
        frame["platform"] = platform
    for col in spec.column_names:
        if col not in frame:
            frame[col] = None
    store.append_rows(spec, pa.Table.from_pandas(frame[spec.column_names], schema=spec.arrow_schema,
                                                 preserve_index=False))
    return store.table(spec.name)


def add_posts(store, records: list[dict]):
    """Append hand-built posts (dicts with post_id, account_id, ts seconds, and any other POSTS
    column; platform x, kind post and empty lists by default)."""
    from chorusline.schema import POSTS

    rows = []
    for r in records:
        r = {"kind": "post", **r}
        r["kind"] = r["kind"] or "post"
        for col in ("urls", "hashtags", "mentions", "media_hashes"):
            r[col] = r.get(col) if isinstance(r.get(col), list) else []
        rows.append(r)
    return add_rows(store, POSTS, rows, "x")


def add_calls(store, records: list[dict]):
    """Append hand-built API calls (platform llm-api by default)."""
    from chorusline.schema import LLM_CALLS

    return add_rows(store, LLM_CALLS, records, "llm-api")


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """The smoke scenario simulated, loaded, enriched and detected once: (folder, db path, detect output)."""
    from typer.testing import CliRunner

    from chorusline.cli import app

    tmp = tmp_path_factory.mktemp("smoke")
    run = CliRunner().invoke
    db = str(tmp / "s.duckdb")
    assert run(app, ["simulate", "--scenario", "smoke", "--out", str(tmp / "sim")]).exit_code == 0
    assert run(app, ["ingest", "--db", db, *map(str, sorted((tmp / "sim").glob("*.parquet")))]).exit_code == 0
    assert run(app, ["enrich", "--db", db]).exit_code == 0
    out = run(app, ["detect", "--db", db, "--signals-out", str(tmp / "signals")])
    assert out.exit_code == 0, out.output
    return tmp, db, out.output


# `make test` runs the suite on two workers (pytest-xdist, `--dist loadscope`: a module stays on one
# worker, so its module fixtures are built once). The modules that take minutes start first, so the
# suite does not end on one of them running alone while the other worker idles.
SLOW_FIRST = ("test_spark_pipeline.py", "test_readme_walkthrough.py", "test_campaigns.py", "test_detect_horizon.py",
              "test_live_detection.py", "test_live_redis.py", "test_consolidate.py", "test_web_browser.py",
              "test_cli.py", "test_live_kafka.py", "test_fuse.py", "test_sweep.py", "test_live_agreement.py")


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SLOW_FIRST)))  # stable: the rest keep their order
