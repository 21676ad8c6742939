"""Run every signal on a store: the `chorusline signals` verb and the quality scripts.

Each signal reads the store's tables and returns edges in the contract of ARCHITECTURE §4; this
module names them, gives each its default parameters, and writes each one's edges as a Parquet file
(and all of them as the store's ``edges`` table); the per-account features go to their own files
and the store's ``account_features`` table."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import ibis
import pyarrow as pa

from chorusline.engine_files import child, location, make_folder, parquet_exists, parquet_rows, read_parquet, write_parquet
from chorusline.progress import stage
from chorusline.signals.circadian import circadian_features
from chorusline.signals.coshare import CoshareParams, coshare_edges
from chorusline.signals.creation_burst import creation_burst_features
from chorusline.signals.fast_share import fast_share_edges
from chorusline.signals.hashtag_sequence import hashtag_sequence_edges
from chorusline.signals.infrastructure import infrastructure_edges
from chorusline.signals.near_duplicate import near_duplicate_edges, output_texts, post_texts
from chorusline.signals.prompt_template import persona_instruction_features, prompt_template_edges
from chorusline.signals.ghostwriting import save_ghostwriting
from chorusline.signals.language_mismatch import language_features
from chorusline.signals.lifecycle import lifecycle_features
from chorusline.signals.machine_text import machine_text_features
from chorusline.signals.news_response import news_response_features
from chorusline.signals.provenance import provenance_edges
from chorusline.signals.shares import shares_view
from chorusline.signals.semantic import MATCH_TABLE, SemanticParams, semantic_duplicate_edges, semantic_provenance_edges
from chorusline.signals.synchrony import synchrony_edges


def edge_signals(store, semantic: SemanticParams = SemanticParams()) -> dict[str, Callable[[], ibis.Table]]:
    """Name → a function computing that signal's edges on ``store`` (lazily); the semantic family
    only when ``semantic.enabled``."""
    t = store.table
    tables = set(store.backend.list_tables())
    signals = {
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
        "synchrony": lambda: synchrony_edges(t("llm_calls"), t("posts")),
    }
    if semantic.enabled:
        signals["semantic_provenance"] = lambda: semantic_provenance_edges(store, semantic)
        signals["semantic_duplicate"] = lambda: semantic_duplicate_edges(store, semantic)
    return signals


def feature_signals(store, semantic: SemanticParams = SemanticParams()) -> dict[str, Callable[[], ibis.Table | pa.Table]]:
    """Name → a function computing that signal's per-account features (an engine table, or an
    Arrow table for the few that run a model in Python on a bounded sample). ``ghostwriting`` reads
    the paraphrase matches ``semantic_provenance`` leaves in the store, so it runs after it."""
    t = store.table

    def paraphrases():
        return t(MATCH_TABLE) if semantic.enabled and MATCH_TABLE in store.backend.list_tables() else None

    return {
        "circadian": lambda: circadian_features(t("llm_calls"), t("posts"), t("accounts")),
        "persona_prompts": lambda: persona_instruction_features(t("llm_calls")),
        "creation_burst": lambda: creation_burst_features(t("accounts")),
        "language_mismatch": lambda: language_features(t("llm_calls"), t("posts"), t("accounts")),
        "lifecycle": lambda: lifecycle_features(t("posts"), t("accounts")),
        "news_response": lambda: news_response_features(t("posts"), t("news_events")),
        "machine_text": lambda: machine_text_features(t("posts")),
        "ghostwriting": lambda: save_ghostwriting(store, paraphrases()),
    }


def _union_into(store, name: str, paths: list[Path]) -> None:
    if not paths:
        return
    union = read_parquet(store.backend, paths[0])
    for path in paths[1:]:
        union = union.union(read_parquet(store.backend, path), distinct=False)
    store.backend.create_table(name, union, overwrite=True)


def run_signals(store, out: Path | str, only: list[str] | None = None,
                semantic: SemanticParams = SemanticParams()) -> dict[str, int]:
    """Compute the signals, write ``out/<name>.parquet`` for each, the edges' union as the store's
    ``edges`` table and the features' union as ``account_features``. Returns rows per signal.
    ``out`` is a local folder or, for a Spark cluster, a URL its executors can write."""
    out = location(out)
    make_folder(out)
    edges, features = edge_signals(store, semantic), feature_signals(store, semantic)
    names = only or [*edges, *features]
    unknown = [n for n in names if n not in edges and n not in features]
    if unknown:
        raise ValueError(f"unknown signal {unknown[0]!r}; known: {', '.join([*edges, *features])}")
    counts = {}
    with stage("signals", total=len(names)) as signals:
        for name in names:
            path = child(out, f"{name}.parquet")
            with stage(f"signals: {name}"):
                write_parquet(store.backend, (edges.get(name) or features[name])(), path)
            counts[name] = parquet_rows(store.backend, path)
            signals.advance()
        # the tables hold every signal whose file is in `out`: rerunning one signal replaces only its part
        written = {n: child(out, f"{n}.parquet") for n in [*edges, *features]}
        _union_into(store, "edges", [written[n] for n in edges if parquet_exists(store.backend, written[n])])
        _union_into(store, "account_features", [written[n] for n in features if parquet_exists(store.backend, written[n])])
    return counts
