"""Network enrichment speed: 1 M distinct IPv4 + 200 k distinct IPv6 addresses, end to end.

Run: `make bench-network` (= `.venv/bin/python bench/network.py [--v4 N --v6 N]`). The addresses are
drawn from the shipped ASN ranges weighted by size (seed 7), as NETWORK.md §6 measured them, plus 1 %
bad strings; the enrichment (keys, every shipped source, iptocc, the fused view, every source's answer
written to Parquet) runs in a child
process under /usr/bin/time. Target (issue 5): <= 10 s for 1 M distinct addresses.
"""

from __future__ import annotations

import argparse
import ipaddress
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from timing import timed

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
DATA = ROOT / "src" / "chorusline" / "enrich" / "data" / "net" / "ip_asn.parquet"


def addresses(n4: int, n6: int, seed: int = 7) -> pa.Array:
    rng = np.random.default_rng(seed)
    ranges = pq.read_table(DATA).to_pandas()
    v4 = ranges[ranges.ip_version == 4]
    size = (v4.end_lo - v4.start_lo + 1).to_numpy(dtype=float)
    pick = rng.choice(len(v4), n4 * 2, p=size / size.sum())
    values = v4.start_lo.to_numpy()[pick] + (rng.random(n4 * 2) * size[pick]).astype(np.uint64)
    values = np.unique(values)[:n4]
    octets = [(values >> s) & 255 for s in (24, 16, 8, 0)]
    text4 = [".".join(map(str, o)) for o in zip(*octets)]
    v6 = ranges[ranges.ip_version == 6]
    pick = rng.choice(len(v6), n6)
    text6 = [str(ipaddress.IPv6Address((int(h) << 64) | int(rng.integers(0, 2**62))))
             for h in v6.start_hi.to_numpy()[pick]]
    bad = [f"bad-{i}" for i in range((n4 + n6) // 100)]
    return pa.array(text4 + text6 + bad)


def child(path: str) -> None:
    import time

    from chorusline.enrich.network import enrich_ips

    ips = pq.read_table(path).column("ip").combine_chunks()
    start = time.perf_counter()
    result = enrich_ips(ips, sources_to=Path(path).with_name("network_sources.parquet"))
    print(f"RESULT {time.perf_counter() - start:.2f} {result.info.num_rows} {result.invalid.num_rows}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--v4", type=int, default=1_000_000)
    parser.add_argument("--v6", type=int, default=200_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ips.parquet"
        ips = addresses(args.v4, args.v6)
        pq.write_table(pa.table({"ip": ips}), path)
        stdout, wall, mib = timed([str(PYTHON), __file__, "--child", str(path)])
        result = [x for x in stdout.splitlines() if x.startswith("RESULT ")][-1].split()
        seconds, enriched, bad = float(result[1]), int(result[2]), int(result[3])
        print(f"{'addresses':>10} {'enrich s':>9} {'process s':>10} {'addr/s':>10} {'peak MiB':>9} {'enriched':>10} {'bad':>7}")
        print(f"{len(ips):>10,} {seconds:>9.2f} {wall:>10.2f} {len(ips) / seconds:>10,.0f} "
              f"{mib:>9.0f} {enriched:>10,} {bad:>7,}")


if __name__ == "__main__":
    main()
