"""Run every signal on a store: the `chorusline signals` verb and the quality scripts.

Each signal reads the store's tables and returns edges in the contract of ARCHITECTURE §4; this
module names them, gives each its default parameters, and writes each one's edges as a Parquet file
(and all of them as the store's ``edges`` table); the per-account features (circadian, persona-instruction prompts,
creation bursts) go to their own files and the store's ``account_features`` table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import ibis

from chorusline.signals.circadian import circadian_features
from chorusline.signals.coshare import CoshareParams, coshare_edges
from chorusline.signals.creation_burst import creation_burst_features
from chorusline.signals.fast_share import fast_share_edges
from chorusline.signals.hashtag_sequence import hashtag_sequence_edges
from chorusline.signals.infrastructure import infrastructure_edges
from chorusline.signals.near_duplicate import near_duplicate_edges, output_texts, post_texts
from chorusline.signals.prompt_template import persona_instruction_features, prompt_template_edges
from chorusline.signals.provenance import provenance_edges
from chorusline.signals.shares import shares_view


def edge_signals(store) -> dict[str, Callable[[], ibis.Table]]:
    """Name → a function computing that signal's edges on ``store`` (lazily)."""
    t = store.table
    tables = set(store.backend.list_tables())
    return {
        "coshare": lambda: coshare_edges(shares_view(t("posts")), CoshareParams(time_window=60, min_participation=2)),
        "fast_share": lambda: fast_share_edges(t("posts")),
        "hashtag_sequence": lambda: hashtag_sequence_edges(t("posts")),
        "near_duplicate_posts": lambda: near_duplicate_edges(post_texts(t("posts")), signal="near_duplicate:posts"),
        "near_duplicate_outputs": lambda: near_duplicate_edges(output_texts(t("llm_calls")),
                                                               signal="near_duplicate:outputs"),
        "provenance": lambda: provenance_edges(t("llm_calls"), t("posts")),
        "prompt_template": lambda: prompt_template_edges(t("llm_calls")),
        "infrastructure": lambda: infrastructure_edges(t("llm_calls"), t("accounts"),
                                                       t("network_info") if "network_info" in tables else None),
    }


def run_signals(store, out: Path, only: list[str] | None = None) -> dict[str, int]:
    """Compute the signals, write ``out/<name>.parquet`` for each, and the union as ``edges``."""
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    signals = edge_signals(store)
    for name in only or list(signals):
        if name == "circadian":
            continue
        if name not in signals:
            raise ValueError(f"unknown signal {name!r}; known: {', '.join([*signals, 'circadian'])}")
        edges = signals[name]()
        path = out / f"{name}.parquet"
        store.backend.to_parquet(edges, path)
        counts[name] = int(store.backend.read_parquet(path).count().execute())
    parts = [store.backend.read_parquet(out / f"{name}.parquet") for name in counts]
    if only is None or "circadian" in only:  # per-account features: the account_features table
        import pyarrow.parquet as pq

        features = circadian_features(store.table("llm_calls"), store.table("posts"), store.table("accounts"))
        pq.write_table(features, out / "circadian.parquet")
        store.backend.to_parquet(persona_instruction_features(store.table("llm_calls")), out / "persona_prompts.parquet")
        store.backend.to_parquet(creation_burst_features(store.table("accounts")), out / "creation_burst.parquet")
        every = store.backend.read_parquet(out / "circadian.parquet")
        for name in ("persona_prompts", "creation_burst"):
            every = every.union(store.backend.read_parquet(out / f"{name}.parquet"), distinct=False)
        store.backend.create_table("account_features", every.cache(), overwrite=True)
        counts["circadian"] = features.num_rows
        for name in ("persona_prompts", "creation_burst"):
            counts[name] = int(store.backend.read_parquet(out / f"{name}.parquet").count().execute())
    if parts:
        union = parts[0]
        for part in parts[1:]:
            union = union.union(part, distinct=False)
        store.backend.create_table("edges", union.cache(), overwrite=True)
    return counts
