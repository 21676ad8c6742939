"""Outputs written and read back through the engine, whatever its layout (DuckDB: a file; Spark: a
folder of parts), and the Spark targets the CLI understands."""

from __future__ import annotations

import ibis
import pyarrow as pa
import pytest

from chorusline.engine import spark_master
from chorusline.engine_files import child, location, parquet_exists, parquet_rows, read_parquet, write_parquet


def test_spark_targets():
    assert spark_master("local[2]") == "local[2]"
    assert spark_master("10.0.0.5:7077") == "spark://10.0.0.5:7077"
    assert spark_master("yarn") == "yarn"
    assert spark_master("k8s://https://api:6443") == "k8s://https://api:6443"
    assert spark_master("") is None  # spark-submit's --master decides


def test_urls_stay_urls():
    assert location("s3a://bucket/signals") == "s3a://bucket/signals"
    assert child(location("s3a://bucket/signals/"), "coshare.parquet") == "s3a://bucket/signals/coshare.parquet"
    assert child(location("out"), "x.parquet").as_posix() == "out/x.parquet"


def test_write_count_rewrite_and_read_back(any_store, tmp_path):
    backend = any_store.backend
    path = tmp_path / "edges.parquet"
    assert not parquet_exists(backend, path)
    arrow = pa.table({"src": ["a", "b", "c"], "weight": [1.0, 2.0, 3.0]})
    write_parquet(backend, arrow, path)  # an Arrow table a Python step made
    assert parquet_exists(backend, path) and parquet_rows(backend, path) == 3
    write_parquet(backend, ibis.memtable(arrow).filter(lambda t: t.weight > 1.5), path)  # a rerun replaces it
    assert parquet_rows(backend, path) == 2
    back = read_parquet(backend, path)
    assert sorted(back.src.execute().tolist()) == ["b", "c"]
