"""The semantic family's cost: embedding throughput per packaged model, faiss exact against HNSW,
and `detect` on seed-case with and without the semantic signals, in one run.

Run: `.venv/bin/python bench/semantic.py [--texts 5000]`. Each measurement is a child process under
/usr/bin/time (wall seconds, peak RSS). The detect runs use copies of one store: `lexical` leaves the
two semantic signals out; `semantic, cold` embeds every text inside detect; `semantic, warm` finds
them cached (as after `chorusline enrich`). Ratios, not absolute times, are the figures to compare:
the machines are shared and noisy.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from timing import timed

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
SEMANTIC = ("semantic_provenance", "semantic_duplicate")


def child_embed(db: str, model: str, n: int) -> None:
    from chorusline.store import Store
    from chorusline.text.embed import embed_texts

    store = Store.open(db)
    texts = [r[0] for r in store.backend.raw_sql(
        f"select distinct text from posts where text is not null order by text limit {n}").fetchall()]
    embed_texts(texts[:32], model)  # load the model outside the timing
    start = time.perf_counter()
    embed_texts(texts, model)
    print(json.dumps({"texts": len(texts), "seconds": time.perf_counter() - start}))


def child_faiss(n: int) -> None:
    import faiss
    import numpy as np

    rng = np.random.default_rng(7)
    centres = rng.normal(size=(n // 50, 512)).astype(np.float32)
    x = centres[rng.integers(0, len(centres), n)] + 0.3 * rng.normal(size=(n, 512)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    q = x[rng.choice(n, 1000, replace=False)]
    out = {}
    start = time.perf_counter()
    flat = faiss.IndexFlatIP(512)
    flat.add(x)
    _, truth = flat.search(q, 10)
    out["exact seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(512, 32, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efSearch = 128
    hnsw.add(x)
    _, found = hnsw.search(q, 10)
    out["hnsw seconds"] = time.perf_counter() - start
    out["hnsw recall@10"] = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, found)]))
    print(json.dumps(out))


def child_detect(db: str, signals: str, semantic: bool) -> None:
    from chorusline.campaigns.detect import detect
    from chorusline.signals.run import edge_signals, feature_signals, run_signals
    from chorusline.store import Store

    store = Store.open(db)
    names = [n for n in [*edge_signals(store), *feature_signals(store)] if semantic or n not in SEMANTIC]
    start = time.perf_counter()
    run_signals(store, Path(signals), names)
    detect(store)
    print(json.dumps({"seconds": time.perf_counter() - start,
                      "reported": int(store.table("campaigns").filter(lambda t: t.above_threshold).count().execute())}))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        kind, *rest = sys.argv[2:]
        if kind == "embed":
            child_embed(rest[0], rest[1], int(rest[2]))
        elif kind == "faiss":
            child_faiss(int(rest[0]))
        else:
            child_detect(rest[0], rest[1], rest[2] == "1")
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=5000)
    parser.add_argument("--vectors", type=int, default=50_000)
    args = parser.parse_args()
    from chorusline.enrich.network import enrich_store
    from chorusline.enrich.texts import embed_store_texts
    from chorusline.ingest import IngestOptions, adapter_for, ingest_files
    from chorusline.sim import load_scenario, simulate
    from chorusline.store import Store

    me = [str(PYTHON), __file__, "--child"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        simulate(load_scenario("seed-case"), tmp / "sim")
        base = str(tmp / "base.duckdb")
        store = Store.open(base)
        ingest_files(store, adapter_for("canonical"), sorted((tmp / "sim").glob("*.parquet")), IngestOptions())
        enrich_store(store)
        store.backend.disconnect()

        print(f"### Embedding throughput ({args.texts:,} distinct seed-case post texts, 2 cores)\n")
        print("| model | texts/s | peak RSS MiB |\n| --- | --- | --- |")
        for model in ("use-m3", "minilm"):
            out, _, rss = timed([*me, "embed", base, model, str(args.texts)], cwd=ROOT)
            r = json.loads(out.strip().splitlines()[-1])
            print(f"| {model} | {r['texts'] / r['seconds']:,.0f} | {rss:,.0f} |")

        print(f"\n### Nearest neighbours ({args.vectors:,} unit vectors × 512, 1,000 queries, k = 10)\n")
        out, _, rss = timed([*me, "faiss", str(args.vectors)], cwd=ROOT)
        r = json.loads(out.strip().splitlines()[-1])
        print(f"exact IndexFlatIP {r['exact seconds']:.2f} s; HNSW (M 32, efSearch 128) {r['hnsw seconds']:.2f} s "
              f"with recall@10 {r['hnsw recall@10']:.3f}; peak RSS {rss:,.0f} MiB")

        print("\n### detect on seed-case (signals included)\n")
        print("| run | seconds | × lexical | peak RSS MiB | campaigns reported |\n| --- | --- | --- | --- | --- |")
        warm = str(tmp / "warm.duckdb")
        shutil.copy(base, warm)
        store = Store.open(warm)
        start = time.perf_counter()
        embedded = embed_store_texts(store)
        enrich_seconds = time.perf_counter() - start
        store.backend.disconnect()
        lexical_seconds = None
        for label, db, semantic in (("lexical only", base, False), ("semantic, cold cache", base, True),
                                    ("semantic, warm cache", warm, True)):
            copy = str(tmp / "run.duckdb")
            shutil.copy(db, copy)
            out, wall, rss = timed([*me, "detect", copy, str(tmp / "signals"), "1" if semantic else "0"], cwd=ROOT)
            r = json.loads(out.strip().splitlines()[-1])
            lexical_seconds = lexical_seconds or wall
            print(f"| {label} | {wall:.1f} | {wall / lexical_seconds:.2f} | {rss:,.0f} | {r['reported']} |")
            shutil.rmtree(tmp / "signals", ignore_errors=True)
        print(f"\nembedding the store's {embedded:,} distinct texts once (`chorusline enrich`): {enrich_seconds:.1f} s")


if __name__ == "__main__":
    main()
