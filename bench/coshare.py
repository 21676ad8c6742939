"""Co-share speed side by side with coordination-network-toolkit (CNT) 1.5.2, in one run.

Run: `make bench-coshare` (creates bench/.venv-peers with the toolkit from PyPI) or
`.venv/bin/python bench/coshare.py [--skip-large]`. Data sets, all deterministic:
  (a) 1 M co-retweet shares with heavy-tailed object popularity (generated here, seed 11);
  (b) CooRTweet's Russian data replicated 30x with shifted times (needs ../shared/data);
  (c) 10 M shares, this project alone.
Every tool runs as a child process under /usr/bin/time (wall seconds, peak RSS), 60 s window, ``--repeat``
times (default 2) each; the fastest run is reported for every tool alike (the machines are shared
and one run can be slowed by a neighbour). The project's sources are byte-compiled first, as an installed
package's are (this environment sets PYTHONDONTWRITEBYTECODE, so an editable checkout would otherwise be
compiled again on every start):
  - the toolkit: `compute_networks preprocess` + `compute co_retweet` on its CSV;
  - chorusline, the same job: `chorusline coshare cnt.csv --format cnt --edges-format cnt` reads the
    toolkit's CSV and writes the toolkit's directed network; its (source, target, weight) rows must
    equal the toolkit's exactly (weights included, self-loops excluded as the toolkit's export does);
  - chorusline, CooRTweet's job (for reference): the CooRTweet CSV to CooRTweet's undirected network
    with its per-edge statistics (more work than the toolkit's); its account pairs must equal the
    toolkit's.
"""

from __future__ import annotations

import argparse
import compileall
import sqlite3
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from timing import timed

ROOT = Path(__file__).resolve().parents[1]
PEERS = ROOT / "bench" / ".venv-peers" / "bin" / "compute_networks"
CHORUSLINE = ROOT / ".venv" / "bin" / "chorusline"
RUSSIAN = ROOT.parent / "shared" / "data" / "peers" / "russian_coord_tweets.parquet"


def heavy_tailed(n: int, seed: int = 11) -> pa.Table:
    """Co-retweets as cascades: object sizes follow a discrete power law P(k) ~ k^-2 (as retweet
    cascades do), capped at 30,000 shares so a few objects go viral; each cascade decays from its
    object's birth with a 12-hour mean; account activity is Zipf-like over n/10 accounts. Rows are
    in time order, as a collection would be."""
    rng = np.random.default_rng(seed)
    sizes = np.minimum(rng.zipf(2.0, n), 30_000)
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), n)) + 1]
    sizes[-1] -= int(sizes.sum()) - n
    obj = np.repeat(np.arange(len(sizes)), sizes)
    birth = rng.integers(0, 90 * 86_400, len(sizes))
    ts = birth[obj] + rng.exponential(12 * 3600, n).astype(np.int64)
    n_accounts = max(n // 10, 10)
    weights = 1.0 / np.arange(1, n_accounts + 1) ** 0.9
    accounts = rng.choice(n_accounts, n, p=weights / weights.sum())
    order = np.argsort(ts, kind="stable")
    obj, accounts, ts = obj[order], accounts[order], ts[order]
    return pa.table({"object_id": pa.array(np.char.add("o", obj.astype(str))),
                     "account_id": pa.array(np.char.add("a", accounts.astype(str))),
                     "content_id": pa.array(np.char.add("m", np.arange(n).astype(str))),
                     "timestamp_share": pa.array(1_700_000_000 + ts)})


def russian_replicated(times: int = 30) -> pa.Table:
    base = pq.read_table(RUSSIAN)
    parts = []
    for k in range(times):
        parts.append(pa.table({"object_id": base["object_id"], "account_id": base["account_id"],
                               "content_id": pa.array([f"{c}_{k}" for c in base["content_id"].to_pylist()]),
                               "timestamp_share": pa.array(base["timestamp_share"].to_numpy() + k * 20_000_000)}))
    return pa.concat_tables(parts)


def write_inputs(table: pa.Table, folder: Path) -> tuple[Path, Path]:
    ours = folder / "shares.csv"
    pacsv.write_csv(table, ours)
    n = table.num_rows
    cnt = pa.table({"message_id": table["content_id"], "user_id": table["account_id"], "username": table["account_id"],
                    "repost_id": table["object_id"], "reply_id": pa.nulls(n, pa.string()),
                    "message": pa.array([""] * n), "timestamp": table["timestamp_share"], "urls": pa.array([""] * n)})
    theirs = folder / "cnt.csv"
    pacsv.write_csv(cnt, theirs, pacsv.WriteOptions(quoting_style="needed"))
    return ours, theirs


def best_of(repeat: int, run):
    """The fastest of ``repeat`` runs of ``run()`` -> (seconds, MiB, result)."""
    return min((run() for _ in range(repeat)), key=lambda r: r[0])


def ours(csv: Path, folder: Path, mp: int = 1) -> tuple[float, float, set]:
    """CooRTweet's job: its CSV to its network (edges.csv with the per-edge statistics)."""
    edges = folder / "ours_edges.csv"
    _, seconds, mib = timed([str(CHORUSLINE), "coshare", str(csv), "--time-window", "60", "--min-participation", str(mp),
                          "--edges", str(edges)], folder)
    table = pacsv.read_csv(edges, convert_options=pacsv.ConvertOptions(include_columns=["from", "to"],
                                                                       column_types={"from": pa.string(), "to": pa.string()}))
    pairs = set(map(frozenset, zip(table["from"].to_pylist(), table["to"].to_pylist())))
    return seconds, mib, pairs


def ours_toolkit_job(cnt_csv: Path, folder: Path, read: bool = True) -> tuple[float, float, set | int]:
    """The toolkit's job: its CSV to its directed network; returns the (source, target, weight) rows
    (or, with ``read=False``, only how many there are)."""
    edges = folder / "ours_cnt_edges.csv"
    out, seconds, mib = timed([str(CHORUSLINE), "coshare", str(cnt_csv), "--format", "cnt", "--time-window", "60",
                               "--edges", str(edges), "--edges-format", "cnt"], folder)
    if not read:
        return seconds, mib, int(out.split("edges:")[1].split("rows")[0].replace(",", ""))
    types = {"source": pa.string(), "target": pa.string(), "weight": pa.int64()}
    table = pacsv.read_csv(edges, convert_options=pacsv.ConvertOptions(include_columns=list(types), column_types=types))
    return seconds, mib, set(zip(*(table[c].to_pylist() for c in types)))


def toolkit(csv: Path, folder: Path) -> tuple[float, float, set]:
    db = folder / "cnt.db"
    db.unlink(missing_ok=True)  # each run starts from nothing
    _, s1, m1 = timed([str(PEERS), str(db), "preprocess", "--format", "csv", str(csv)], folder)
    # 1.5.2's --output_file and export_network both fail (output_gephi_csv() got an unexpected keyword
    # argument 'n_messages'), so the edges are read from the network table it computed.
    _, s2, m2 = timed([str(PEERS), str(db), "compute", "co_retweet", "--time_window", "60", "--min_edge_weight", "1",
                    "--n_cpus", "2"], folder)
    with sqlite3.connect(db) as con:
        rows = con.execute("select user_1, user_2, weight from co_retweet_network where user_1 != user_2").fetchall()
    return s1 + s2, max(m1, m2), {(str(a), str(b), int(w)) for a, b, w in rows}


def undirected(rows: set) -> set:
    return {frozenset((a, b)) for a, b, _ in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--large-rows", type=int, default=10_000_000)
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each tool on each set; the fastest counts")
    args = parser.parse_args()
    compileall.compile_dir(ROOT / "src", quiet=1)
    if not PEERS.exists():
        sys.exit("the toolkit is not installed: run `make bench-coshare` (creates bench/.venv-peers)")
    sets = [("(a) heavy-tailed co-retweets", lambda: heavy_tailed(args.rows))]
    if RUSSIAN.exists():
        sets.append(("(b) CooRTweet Russian x30", russian_replicated))
    print(f"{'data':<30}{'rows':>11}  {'tool':<34}{'seconds':>8}{'rows/s':>11}{'peak MiB':>9}  result")
    for name, make in sets:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            table = make()
            ours_csv, cnt_csv = write_inputs(table, folder)
            n = table.num_rows
            s_j, m_j, r_j = best_of(args.repeat, lambda: ours_toolkit_job(cnt_csv, folder))
            s_o, m_o, p_o = best_of(args.repeat, lambda: ours(ours_csv, folder))
            s_t, m_t, r_t = best_of(args.repeat, lambda: toolkit(cnt_csv, folder))
            same = "identical" if r_j == r_t else "DIFFERENT"
            print(f"{name:<30}{n:>11,}  {'coord-network-toolkit':<34}{s_t:>8.1f}{n / s_t:>11,.0f}{m_t:>9.0f}  "
                  f"{len(r_t):,} directed edges")
            print(f"{'':<30}{'':>11}  {'chorusline, the toolkit job':<34}{s_j:>8.1f}{n / s_j:>11,.0f}{m_j:>9.0f}  "
                  f"{len(r_j):,} directed edges, weights {same}; speed-up {s_t / s_j:.1f}x")
            print(f"{'':<30}{'':>11}  {'chorusline, the CooRTweet job':<34}{s_o:>8.1f}{n / s_o:>11,.0f}{m_o:>9.0f}  "
                  f"{len(p_o):,} pairs, identical to the toolkit's: {p_o == undirected(r_t)}; "
                  f"speed-up {s_t / s_o:.1f}x", flush=True)
    if not args.skip_large:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            table = heavy_tailed(args.large_rows, seed=12)
            _, cnt_csv = write_inputs(table, folder)
            del table
            s_j, m_j, n_j = ours_toolkit_job(cnt_csv, folder, read=False)
            n = args.large_rows
            print(f"{'(c) 10 M heavy-tailed':<30}{n:>11,}  {'chorusline, the toolkit job':<34}{s_j:>8.1f}"
                  f"{n / s_j:>11,.0f}{m_j:>9.0f}  {n_j:,} directed edges")


if __name__ == "__main__":
    main()
