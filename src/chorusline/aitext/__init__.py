"""Machine-generated short text: a per-post probability and a pooled per-account score (docs/AI_TEXT.md).

Library API (what the pipeline calls):

- ``machine_probability(texts, with_lm=False, embeddings=None) -> np.ndarray``: each text's probability
  of being machine-written, given even odds. Fast path (default): stylometry + character n-grams,
  thousands of texts/s on 2 cores, no torch, no network.
- ``machine_logits(...)``: the same as log-odds (clipped to ±8), what pooling averages.
- ``pool(groups, logits) -> pyarrow.Table``: per group (an account): posts, mean log-odds, the pooled
  probability and the share of posts above even odds.
- ``ACCOUNT_THRESHOLD`` / ``MIN_POSTS``: the pooled probability above which an account's posts, on
  their own, look machine-written (calibrated so that a human account with 30 % machine-written posts
  stays below it (99 % of 20-post windows); see docs/AI_TEXT.md)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from chorusline.aitext.model import FAST_MODEL, LM_MODEL, load_model, sigmoid

# Filled from the validation figures by scripts/build_ai_text_model.py (docs/AI_TEXT.md, "Calibration").
ACCOUNT_THRESHOLD = 0.55
MIN_POSTS = 20


def machine_logits(texts, with_lm: bool = False, embeddings: np.ndarray | None = None) -> np.ndarray:
    """Log-odds that each text is machine-written (float64, clipped to ±8; NaN for a null or blank text,
    which carries no evidence and which ``pool`` skips). ``texts``: a list of str or an Arrow string
    array. ``embeddings``: the texts' use-m3 vectors if the caller has
    them and the model uses them (else ignored, or computed)."""
    model = load_model(LM_MODEL if with_lm else FAST_MODEL)
    given = {"embeddings": embeddings} if "embedding" in model.block_names and embeddings is not None else {}
    return model.logits(texts, **given)


def machine_probability(texts, with_lm: bool = False, embeddings: np.ndarray | None = None) -> np.ndarray:
    """Probability that each text is machine-written, given even prior odds (float64 in (0, 1); NaN for a
    null or blank text)."""
    return sigmoid(machine_logits(texts, with_lm=with_lm, embeddings=embeddings))


def pool(groups, logits: np.ndarray) -> pa.Table:
    """Pool post log-odds per group (an account, a persona).

    Why the mean of log-odds: summing them (naive Bayes) would treat an account's posts as independent
    evidence, and the posts of one writer are not — the sum grows with the post count until any prolific
    human crosses any threshold. The mean is the typical evidence per post, comparable across accounts of
    any size; its noise shrinks with more posts, so ``posts`` is returned beside it and small groups
    should be read with care (MIN_POSTS). ``machine_share`` (posts above even odds) is kept for reading.

    A group whose every post is blank has posts 0 and NaN scores.
    Columns: group, posts, mean_logit, machine_probability (sigmoid of the mean), machine_share."""
    groups = groups if isinstance(groups, (pa.Array, pa.ChunkedArray)) else pa.array(groups)
    encoded = pc.dictionary_encode(groups).combine_chunks() if isinstance(groups, pa.ChunkedArray) \
        else pc.dictionary_encode(groups)
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    logits = np.asarray(logits, np.float64)
    # a post without a group, or without text (NaN logit), is not pooled
    has_group = ~pc.is_null(encoded.indices).to_numpy(zero_copy_only=False) & ~np.isnan(logits)
    codes = np.where(has_group, codes, 0).astype(np.int64)
    n_groups = len(encoded.dictionary)
    posts = np.bincount(codes[has_group], minlength=n_groups)
    total = np.bincount(codes[has_group], weights=logits[has_group], minlength=n_groups)
    above = np.bincount(codes[has_group], weights=(logits[has_group] > 0).astype(np.float64), minlength=n_groups)
    mean = np.where(posts > 0, total / np.maximum(posts, 1), np.nan)
    share = np.where(posts > 0, above / np.maximum(posts, 1), np.nan)
    return pa.table({"group": encoded.dictionary, "posts": pa.array(posts, pa.int64()),
                     "mean_logit": pa.array(mean, from_pandas=True),  # NaN -> null: a group with no text
                     "machine_probability": pa.array(sigmoid(mean), from_pandas=True),
                     "machine_share": pa.array(share, from_pandas=True)})


__all__ = ["ACCOUNT_THRESHOLD", "MIN_POSTS", "machine_logits", "machine_probability", "pool"]
