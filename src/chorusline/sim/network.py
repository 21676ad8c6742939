"""Simulated IP addresses drawn from real prefixes of the network class and country they claim
(data/ip_pools.csv; sources in data/ATTRIBUTION.md)."""

from __future__ import annotations

import csv
import ipaddress
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

POOLS_FILE = Path(__file__).parent / "data" / "ip_pools.csv"


@lru_cache(maxsize=1)
def pools() -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    with open(POOLS_FILE, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            net = ipaddress.ip_network(row["cidr"])
            out.setdefault(row["pool"], []).append({**row, "base": int(net.network_address), "size": net.num_addresses})
    return out


POOL_COUNTRIES = frozenset(key.split(":")[1] for key in pools() if key.split(":")[1] != "any")


def pool_keys(network_types: list[str], countries: list[str]) -> list[str]:
    """Existing pools for these classes and countries (a VPN exit is any country's)."""
    keys = []
    for kind in network_types:
        if kind == "vpn":
            keys.append("vpn:any")
        keys += [f"{kind}:{c}" for c in countries if f"{kind}:{c}" in pools()]
    return [k for k in dict.fromkeys(keys) if k in pools()]


def draw(rng: np.random.Generator, keys: list[str], n: int) -> pa.Array:
    """n addresses: a pool (uniform over ``keys``), a prefix in it, a host in the prefix."""
    if not keys:
        raise ValueError("no IP pool to draw from")
    prefixes = [p for k in keys for p in pools()[k]]
    pool_of = np.array([i for i, k in enumerate(keys) for _ in pools()[k]])
    pool = rng.integers(0, len(keys), n)
    # a prefix inside the chosen pool, uniformly
    counts = np.bincount(pool_of, minlength=len(keys))
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    prefix = starts[pool] + (rng.random(n) * counts[pool]).astype(np.int64)
    base = np.array([p["base"] for p in prefixes], dtype=np.int64)[prefix]
    size = np.array([p["size"] for p in prefixes], dtype=np.int64)[prefix]
    host = 1 + (rng.random(n) * np.maximum(size - 2, 1)).astype(np.int64)
    return dotted(base + host)


def dotted(numbers: np.ndarray) -> pa.Array:
    n = pa.array(numbers.astype(np.int64))
    octets = [pc.bit_wise_and(pc.shift_right(n, shift), 255).cast(pa.string()) for shift in (24, 16, 8, 0)]
    return pc.binary_join_element_wise(*octets, ".")
