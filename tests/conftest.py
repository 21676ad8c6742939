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


def add_posts(store, records: list[dict]):
    """Append hand-built posts (dicts with post_id, account_id, ts seconds, and any other POSTS
    column) to a store; the rest of the columns are empty."""
    import pandas as pd
    import pyarrow as pa

    from chorusline.schema import POSTS

    frame = pd.DataFrame(records)
    frame["ts"] = pd.to_datetime(frame["ts"], unit="s", utc=True)
    frame["platform"] = frame.get("platform", "x")
    for col in ("urls", "hashtags", "mentions", "media_hashes"):
        if col not in frame:
            frame[col] = [[] for _ in range(len(frame))]
        frame[col] = [v if isinstance(v, list) else [] for v in frame[col]]
    frame["kind"] = frame["kind"].fillna("post") if "kind" in frame else "post"
    for col in POSTS.column_names:
        if col not in frame:
            frame[col] = None
    store.append_rows(POSTS, pa.Table.from_pandas(frame[POSTS.column_names], schema=POSTS.arrow_schema,
                                                  preserve_index=False))
    return store.table("posts")
