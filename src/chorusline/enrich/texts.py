"""Text enrichment: the sentence embedding of every distinct text the signals compare by meaning
(authored posts, API outputs and prompts), cached in the store (`chorusline.text.cache`).

Run by `chorusline enrich` so that embedding, the slow part, is paid once when data arrives; the
semantic signals call it too and then embed only what the cache lacks."""

from __future__ import annotations

import ibis

from chorusline.signals.near_duplicate import output_texts, post_texts
from chorusline.text.cache import ensure_embeddings
from chorusline.text.embed import DEFAULT_MODEL


def store_texts(store) -> ibis.Table:
    """One ``text`` column: authored posts, outputs, prompts (duplicates are fine: embedding dedupes)."""
    calls = store.table("llm_calls")
    prompts = calls.filter(calls.prompt.notnull()).select(text=calls.prompt)
    return (post_texts(store.table("posts")).select("text")
            .union(output_texts(calls).select("text"), distinct=False)
            .union(prompts, distinct=False))


def embed_store_texts(store, model: str = DEFAULT_MODEL) -> int:
    """Embed the store's texts that the cache lacks; returns how many were embedded."""
    return ensure_embeddings(store, store_texts(store), model)
