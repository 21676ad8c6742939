"""Building blocks shared by organic and campaign generation: ids, profiles, accumulated tables.

Ids are random and opaque for everyone (nothing in an id tells a campaign account from an organic
one); profiles are drawn from the same distributions for both, except where a tactic differs."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from chorusline.schema import CANONICAL

SOCIAL = "x"  # platform name of the simulated social network
API = "llm-api"  # platform name of the simulated AI provider

FREE_MAIL = ["gmail.com", "outlook.com", "yahoo.com", "proton.me", "qq.com", "163.com", "icloud.com", "gmx.de"]
FREE_MAIL_P = [0.45, 0.15, 0.08, 0.06, 0.07, 0.04, 0.1, 0.05]
FIRST = ["Jane", "Mike", "Dale", "Maria", "Chris", "Linda", "Tom", "Sarah", "Paul", "Emma", "Lukas", "Chloe", "Raj",
         "Ana", "Wei", "Kevin", "Laura", "Nick", "Olivia", "Sam"]
LAST = ["Miller", "Smith", "Brown", "Jones", "Garcia", "Wilson", "Moore", "Taylor", "Martin", "Clark", "Weber",
        "Dubois", "Patel", "Silva", "Chen", "Young", "King", "Scott", "Green", "Baker"]
WORDS = ["sunny", "coffee", "daily", "river", "pixel", "maple", "urban", "lucky", "quiet", "nova", "echo", "wild"]
BIOS = ["Mom of two. Coffee first.", "Retired teacher. Proud American.", "Dog dad. Veteran. Opinions my own.",
        "Nurse | runner | bookworm", "Small business owner. Family first.", "Just a regular guy who loves his country.",
        "Student. Music, travel and good food.", "Engineer by day, gamer by night.", "Grandma, gardener, news junkie.",
        "Football, BBQ and freedom.", ""]
USER_AGENTS = ["OpenAI/Python 1.54.3", "OpenAI/Python 1.51.0", "OpenAI/NodeJS 4.67.1", "python-requests/2.32.3",
               "curl/8.5.0", "langchain/0.3.7", "Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "OpenAI/Python 1.12.0"]
USER_AGENT_P = [0.3, 0.15, 0.15, 0.1, 0.05, 0.1, 0.12, 0.03]
MODELS = ["gpt-4o-mini", "gpt-4o", "gpt-4.1", "o3-mini"]
MODELS_P = [0.5, 0.25, 0.15, 0.1]
NEWS_SITES = ["news.example.org", "dailypost.example.com", "citywire.example.net", "worldreport.example.org"]


def fingerprint(user_agents: pa.Array) -> pa.Array:
    """A JA4-like client fingerprint that follows the client library (same library, same TLS stack)."""
    family = pc.utf8_slice_codeunits(pc.replace_substring_regex(user_agents, r"[/ ].*$", ""), 0, 12)
    return pc.binary_join_element_wise("t13d1516h2_", pc.utf8_lower(family), "_02713d6af862", "")


def hex_ids(rng: np.random.Generator, prefix: str, n: int) -> pa.Array:
    """Random opaque ids (``acct_3f9a…``); unique by construction (re-drawn on collision)."""
    values = rng.integers(0, 2**62, n, dtype=np.int64)
    while len(np.unique(values)) < n:
        values = np.unique(np.concatenate([values, rng.integers(0, 2**62, n, dtype=np.int64)]))[:n]
        rng.shuffle(values)
    return pa.array(np.char.add(prefix, np.char.mod("%015x", values)).tolist(), pa.string())


def snowflakes(rng: np.random.Generator, ts_us: np.ndarray) -> pa.Array:
    """Tweet-like ids whose high bits are the time (unique: random low bits, collisions re-drawn)."""
    ms = (ts_us // 1000 - 1288834974657).astype(np.int64)
    ids = (ms << 22) | rng.integers(0, 2**22, len(ts_us), dtype=np.int64)
    seen, dup = np.unique(ids, return_counts=True)
    while (dup > 1).any():
        clash = np.isin(ids, seen[dup > 1])
        ids[clash] = (ms[clash] << 22) | rng.integers(0, 2**22, clash.sum(), dtype=np.int64)
        seen, dup = np.unique(ids, return_counts=True)
    return pa.array(ids).cast(pa.string())


def handles(rng: np.random.Generator, n: int, templated: float) -> pa.Array:
    """Handles: ``templated`` share as first+last+digits (what bulk-created accounts look like,
    and also many real people), the rest word-based."""
    first = pc.take(pa.array(FIRST), pa.array(rng.integers(0, len(FIRST), n)))
    last = pc.take(pa.array(LAST), pa.array(rng.integers(0, len(LAST), n)))
    digits = pa.array(rng.integers(10, 99999, n)).cast(pa.string())
    word = pc.take(pa.array(WORDS), pa.array(rng.integers(0, len(WORDS), n)))
    templ = pc.binary_join_element_wise(first, last, digits, "")
    other = pc.binary_join_element_wise(pc.utf8_lower(first), "_", word, pa.array(rng.integers(0, 100, n)).cast(pa.string()), "")
    return pc.if_else(pa.array(rng.random(n) < templated), templ, other)


def choice(rng, values: list, p: list | None, n: int) -> pa.Array:
    return pc.take(pa.array(values), pa.array(rng.choice(len(values), n, p=p)))


def heavy_tailed_counts(rng: np.random.Generator, mean: float, n: int, sigma: float = 1.1) -> np.ndarray:
    """Per-actor event counts, log-normal with the given mean, at least 1."""
    mu = np.log(mean) - sigma**2 / 2
    return np.maximum(1, np.round(rng.lognormal(mu, sigma, n))).astype(np.int64)


class Tables:
    """Columns accumulated per table (canonical and truth), concatenated once at the end."""

    def __init__(self):
        self.parts: dict[str, list[dict[str, pa.Array]]] = defaultdict(list)

    def add(self, table: str, **columns) -> None:
        n = {len(v) for v in columns.values() if isinstance(v, (pa.Array, pa.ChunkedArray, np.ndarray))}
        assert len(n) == 1, (table, n)
        (rows,) = n
        self.parts[table].append({k: _arrow(v, rows) for k, v in columns.items()})

    def table(self, name: str, schema: pa.Schema | None = None) -> pa.Table:
        if schema is None and name in CANONICAL:
            schema = CANONICAL[name].arrow_schema
        pieces = []
        for part in self.parts.get(name, []):
            rows = len(next(iter(part.values())))
            if schema is None:
                pieces.append(pa.table(part))
                continue
            cols = {}
            for f in schema:
                cols[f.name] = part[f.name].cast(f.type) if f.name in part else pa.nulls(rows, f.type)
            pieces.append(pa.table(cols, schema=schema))
        if not pieces:
            return schema.empty_table() if schema is not None else pa.table({})
        return pa.concat_tables(pieces, promote_options="default")


def _arrow(value, rows):
    if isinstance(value, (pa.Array, pa.ChunkedArray)):
        return value.combine_chunks() if isinstance(value, pa.ChunkedArray) else value
    if isinstance(value, np.ndarray):
        return pa.array(value)
    return pa.array([value] * rows)
