"""near_duplicate at scale: seconds, peak memory and LSH recall against exact Jaccard.

Run: `.venv/bin/python bench/near_duplicate.py [--texts 1000000]`. The texts are generated here,
deterministically (seed 5): 12-25 words from a 20,000-word vocabulary; a tenth of them come in
families of 2-40 near-copies of one text (0-2 words replaced, or one dropped) posted within an hour
by different accounts, as a campaign's paraphrase-light copies would be. The signal runs in a
child process (wall seconds, peak RSS from /usr/bin/time) with a one-hour window. Recall: every
pair of texts in a one-day slice is compared exactly (sparse shingle-matrix product), and the
pairs at Jaccard >= 0.8 within the window are looked up among the pairs the signal found.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from timing import timed

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
DAY = 86_400


def make_texts(n: int, seed: int = 5) -> pa.Table:
    rng = np.random.default_rng(seed)
    vocab = np.array([f"w{i}" for i in range(20_000)])
    n_family = n // 10
    sizes = rng.integers(2, 41, n_family // 10)
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), n_family))]
    n_base = n - int(sizes.sum())
    lengths = rng.integers(12, 26, n_base)
    words = [vocab[rng.integers(0, len(vocab), k)] for k in lengths]
    ts = rng.integers(0, 30 * DAY, n_base)
    actors = rng.integers(0, n // 20, n_base)
    texts, times, who = [" ".join(w) for w in words], list(ts), list(actors)
    for f, size in enumerate(sizes):  # family f copies base text f
        base = words[f]
        for _ in range(size):
            w = base.copy()
            for _ in range(rng.integers(0, 3)):
                w[rng.integers(0, len(w))] = vocab[rng.integers(0, len(vocab))]
            if rng.random() < 0.2:
                w = np.delete(w, rng.integers(0, len(w)))
            texts.append(" ".join(w))
            times.append(ts[f] + int(rng.integers(0, 3600)))
            who.append(int(rng.integers(0, n // 20)))
    return pa.table({"doc_id": pa.array([f"d{i}" for i in range(len(texts))]),
                     "actor": pa.array([f"a{a}" for a in who]), "ts": pa.array(times, pa.int64()),
                     "text": pa.array(texts)})


def run_signal(texts: Path, out: Path) -> None:
    """Child: the signal on DuckDB, verified pairs written to Parquet."""
    from chorusline.engine import connect
    from chorusline.signals.near_duplicate import near_duplicate_pairs

    con = connect(":memory:")
    pairs = near_duplicate_pairs(con.read_parquet(texts))
    con.to_parquet(pairs.select("doc_id", "doc_id_y", "jaccard"), out)


def exact_pairs(table: pa.Table, lo: int, hi: int, threshold: float = 0.8, window: int = 3600) -> set:
    """All pairs in [lo, hi) with Jaccard >= threshold, at most `window` apart, different actors,
    by exact set comparison of every pair that shares a bigram (an inverted index)."""
    from collections import defaultdict
    from itertools import combinations

    ts = table["ts"].to_numpy()
    keep = np.nonzero((ts >= lo) & (ts < hi))[0]
    ids = table["doc_id"].to_numpy(zero_copy_only=False)[keep]
    actors = table["actor"].to_numpy(zero_copy_only=False)[keep]
    t = ts[keep]
    sets = []
    postings = defaultdict(list)
    for r, text in enumerate(table["text"].to_numpy(zero_copy_only=False)[keep]):
        w = text.lower().split()
        s = frozenset(f"{a} {b}" for a, b in zip(w, w[1:]))
        sets.append(s)
        for bg in s:
            postings[bg].append(r)
    candidates = {pair for docs in postings.values() for pair in combinations(docs, 2)}
    out = set()
    for i, j in candidates:
        a, b = sets[i], sets[j]
        if len(a) >= 3 and len(b) >= 3 and abs(t[i] - t[j]) <= window and actors[i] != actors[j] \
                and len(a & b) / len(a | b) >= threshold:
            out.add(frozenset((ids[i], ids[j])))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=1_000_000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_signal(Path(args.child[0]), Path(args.child[1]))
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        table = make_texts(args.texts)
        pq.write_table(table, folder / "texts.parquet")
        _, seconds, mib = timed([str(PYTHON), __file__, "--child", str(folder / "texts.parquet"),
                                 str(folder / "pairs.parquet")])
        found = pq.read_table(folder / "pairs.parquet")
        found_set = set(map(frozenset, zip(found["doc_id"].to_pylist(), found["doc_id_y"].to_pylist())))
        lo = 10 * DAY
        truth = exact_pairs(table, lo, lo + DAY)
        in_slice = set(table.filter(pa.compute.and_(pa.compute.greater_equal(table["ts"], lo),
                                                    pa.compute.less(table["ts"], lo + DAY)))["doc_id"].to_pylist())
        found_slice = {p for p in found_set if p <= in_slice}
        recall = len(truth & found_slice) / len(truth) if truth else float("nan")
        print(f"{'texts':>10} {'seconds':>8} {'texts/s':>9} {'peak MiB':>9} {'pairs':>9}  recall@J>=0.8 (one-day slice)")
        print(f"{table.num_rows:>10,} {seconds:>8.1f} {table.num_rows / seconds:>9,.0f} "
              f"{mib:>9.0f} {found.num_rows:>9,}  {recall:.4f} ({len(truth & found_slice)}/{len(truth)}; "
              f"{len(found_slice - truth)} found pairs in the slice not in the exact set)")


if __name__ == "__main__":
    main()
