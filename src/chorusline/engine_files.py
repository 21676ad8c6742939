"""Parquet outputs written and read through the engine, whatever layout it uses.

DuckDB writes one file; Spark writes a folder of part files (and on a cluster, to a path only its
executors may see, such as ``s3a://…``). Code that writes a result and reads it back goes through
these functions instead of assuming a single local file."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import ibis
import pyarrow as pa

from chorusline.engine import is_spark


def location(text: str | os.PathLike) -> Path | str:
    """A place to write: a local Path, or the URL as it was given (a Path would fold ``s3a://`` to
    ``s3a:/``)."""
    return str(text) if not _is_local(text) else Path(str(text).removeprefix("file://"))


def child(base: Path | str, name: str) -> Path | str:
    """``base / name`` for a local folder or a URL."""
    return base / name if isinstance(base, Path) else f"{base.rstrip('/')}/{name}"


def make_folder(base: Path | str) -> None:
    """Create a local output folder; the engine creates a URL's on write."""
    if isinstance(base, Path):
        base.mkdir(parents=True, exist_ok=True)


def _is_local(path: str | os.PathLike) -> bool:
    return "://" not in str(path) or str(path).startswith("file://")


def clear_path(path: str | os.PathLike) -> None:
    """Remove an earlier output at ``path``, a file (DuckDB's) or a folder (Spark's)."""
    if not _is_local(path):
        return  # the engine overwrites remote paths itself
    local = Path(str(path).removeprefix("file://"))
    if local.is_dir():
        shutil.rmtree(local)
    elif local.exists():
        local.unlink()


def write_parquet(backend, result: ibis.Table | pa.Table, path: str | os.PathLike) -> None:
    """Write ``result`` (an engine table, or an Arrow table a Python step made) to ``path``,
    replacing what was there."""
    clear_path(path)
    if is_spark(backend):
        if isinstance(result, pa.Table):
            result = ibis.memtable(result)
        backend.to_parquet(result, os.fspath(path), mode="overwrite")
        return
    if isinstance(result, pa.Table):
        import pyarrow.parquet as pq

        pq.write_table(result, os.fspath(path))
        return
    backend.to_parquet(result, os.fspath(path))


def parquet_exists(backend, path: str | os.PathLike) -> bool:
    """Whether an output is at ``path``: a local file or folder, or a URL that Spark's file system sees."""
    if _is_local(path):
        return Path(str(path).removeprefix("file://")).exists()
    session = backend._session
    hadoop_path = session.sparkContext._jvm.org.apache.hadoop.fs.Path(str(path))
    return bool(hadoop_path.getFileSystem(session.sparkContext._jsc.hadoopConfiguration()).exists(hadoop_path))


def read_parquet(backend, path: str | os.PathLike) -> ibis.Table:
    """An output written by :func:`write_parquet`, as an engine table (a file or a folder)."""
    return backend.read_parquet(os.fspath(path))


def parquet_rows(backend, path: str | os.PathLike) -> int:
    """Rows in an output, counted from its footers where the file is local, by the engine otherwise."""
    if _is_local(path):
        import pyarrow.dataset as ds

        return ds.dataset(str(path).removeprefix("file://"), format="parquet").count_rows()
    return int(read_parquet(backend, path).count().execute())
