"""Sentence embeddings cached in the store: each distinct text is embedded once per model, whatever
table it came from and however often `detect` reruns.

The cache is the store's ``text_embeddings`` table: ``text_key`` (MD5 of the text, computed by the
engine), ``model`` and ``vector`` (float32 array). `ensure_embeddings` embeds only the texts the
cache lacks, streaming them out of the engine in batches and appending their vectors (DuckDB: through
a spool file, in one step; Spark: batch by batch, as rows its executors can read), so memory stays
at one batch. `with_vectors` joins a
table's texts to their vectors inside the engine; only the rows a caller fetches leave it."""

from __future__ import annotations

import tempfile
from pathlib import Path

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from chorusline.engine import is_spark
from chorusline.progress import stage
from chorusline.text.embed import DEFAULT_MODEL, embed_texts

TABLE = "text_embeddings"
SCHEMA = pa.schema([("text_key", pa.string()), ("model", pa.string()), ("vector", pa.list_(pa.float32()))])
BATCH = 4096


def text_key(text: ibis.StringValue) -> ibis.StringValue:
    return text.hexdigest("md5")


def _cache(store) -> ibis.Table:
    if TABLE not in store.backend.list_tables():
        store.backend.create_table(TABLE, schema=ibis.schema(SCHEMA))
    return store.table(TABLE)


def ensure_embeddings(store, texts: ibis.Table, model: str = DEFAULT_MODEL) -> int:
    """Embed the distinct values of ``texts.text`` that the cache lacks for ``model``; returns how
    many were embedded."""
    cache = _cache(store)
    known = cache.filter(cache.model == model).select("text_key")
    distinct = texts.filter(texts.text.notnull()).select("text").distinct()
    missing = distinct.mutate(text_key=text_key(distinct.text)).anti_join(known, "text_key")
    total = int(missing.count().execute())
    if not total:
        return 0
    done = 0
    with tempfile.TemporaryDirectory(prefix="chorusline-embed-") as tmp, stage("embed texts", total=total) as progress:
        batches = (_embedded(batch, model) for batch in missing.to_pyarrow_batches(chunk_size=BATCH) if batch.num_rows)
        if is_spark(store.backend):
            # a cluster's executors cannot read the driver's files: each batch goes in as rows
            for vectors in batches:
                store.backend.insert(TABLE, ibis.memtable(vectors))
                done += vectors.num_rows
                progress.advance(vectors.num_rows)
            return done
        # a DuckDB connection runs one query at a time: inserting while the missing texts stream out
        # would end the stream, so each batch's vectors go to a spool file, inserted in one step after
        spool = Path(tmp) / "vectors.parquet"
        with pq.ParquetWriter(spool, SCHEMA) as writer:
            for vectors in batches:
                writer.write_table(vectors)
                done += vectors.num_rows
                progress.advance(vectors.num_rows)
        store.backend.insert(TABLE, store.backend.read_parquet(spool))
    return done


def _embedded(batch: pa.RecordBatch, model: str) -> pa.Table:
    vectors = embed_texts(batch.column("text").to_pylist(), model)
    flat = pa.array(vectors.reshape(-1), pa.float32())
    vector = pa.FixedSizeListArray.from_arrays(flat, vectors.shape[1]).cast(pa.list_(pa.float32()))
    return pa.table({"text_key": batch.column("text_key"), "model": pa.array([model] * batch.num_rows),
                     "vector": vector}, schema=SCHEMA)


def with_vectors(store, docs: ibis.Table, model: str = DEFAULT_MODEL) -> ibis.Table:
    """``docs`` (with a ``text`` column) plus its ``vector``; texts without one are left out."""
    cache = _cache(store)
    cache = cache.filter(cache.model == model).select("text_key", "vector")
    keyed = docs.mutate(text_key=text_key(docs.text))
    return keyed.join(cache, "text_key").drop("text_key")


def vector_matrix(column: pa.ChunkedArray | pa.Array, dim: int) -> np.ndarray:
    """An Arrow list<float32> column as an (n, dim) float32 matrix, without a Python loop."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if len(column) == 0:
        return np.zeros((0, dim), np.float32)
    return column.flatten().to_numpy(zero_copy_only=False).astype(np.float32, copy=False).reshape(len(column), dim)
