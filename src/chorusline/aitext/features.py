"""Features of short texts a CPU can afford, all batch-wise (Arrow kernels, numpy, sparse hashing):

- ``stylometry``: 24 counts and ratios per text (length, word length, casing, punctuation, links,
  mentions, hashtags, emoji, repeated words, truncation marks...), from Arrow string kernels.
- ``char_ngrams``: character 1-4-grams hashed into 2**18 buckets (sklearn's HashingVectorizer: murmur3,
  stateless, so nothing but its settings needs shipping).
- ``embeddings``: the project's sentence embeddings (``chorusline.text.embed``), optional because at
  ~500 texts/s they are the slow part; a caller that already has them passes them in."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

STYLOMETRY = (
    "log_chars", "log_words", "mean_word_length", "upper_share", "lower_share", "digit_share", "space_share",
    "punct_share", "non_ascii_share", "emoji_share", "urls", "mentions", "hashtags", "newlines",
    "html_entities", "exclamations", "questions", "periods", "commas", "apostrophes", "quotes",
    "ends_truncated", "ends_punct", "starts_upper", "distinct_word_share", "punct_runs",
    "all_caps_words",
)

_URL = r"https?://\S+"
_EMOJI = r"[\x{1F000}-\x{1FAFF}\x{2600}-\x{27BF}]"


def _arrow_strings(texts) -> pa.Array:
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if not isinstance(texts, pa.Array):
        texts = pa.array(list(texts) if not isinstance(texts, list) else texts, type=pa.string())
    if pa.types.is_large_string(texts.type) or pa.types.is_string_view(texts.type):
        texts = texts.cast(pa.string())
    return pc.fill_null(texts, "")


def _num(array) -> np.ndarray:
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=np.float64)


def _count(texts: pa.Array, pattern: str) -> np.ndarray:
    return _num(pc.count_substring_regex(texts, pattern))


def _distinct_word_share(words: pa.ListArray) -> np.ndarray:
    """Distinct words / words per text, without a loop over texts: hash every (text, word) pair and count
    unique pairs per text."""
    n = len(words)
    flat = pc.utf8_lower(pc.list_flatten(words))
    owner = _num(pc.list_parent_indices(words)).astype(np.int64)
    total = np.bincount(owner, minlength=n)
    if len(flat) == 0:
        return np.ones(n)
    codes = _num(pc.dictionary_encode(flat).indices).astype(np.int64)
    pairs = np.unique(owner * (codes.max() + 1) + codes)
    distinct = np.bincount(pairs // (codes.max() + 1), minlength=n)
    return np.where(total > 0, distinct / np.maximum(total, 1), 1.0)


def stylometry(texts) -> np.ndarray:
    """(n, len(STYLOMETRY)) float32. Shares are of the text's characters, counts are raw."""
    texts = _arrow_strings(texts)
    chars = _num(pc.utf8_length(texts))
    safe_chars = np.maximum(chars, 1)
    no_urls = pc.replace_substring_regex(texts, _URL, "")
    words = pc.utf8_split_whitespace(no_urls)
    n_words = _num(pc.list_value_length(words))
    word_chars = _num(pc.utf8_length(pc.replace_substring_regex(no_urls, r"\s+", "")))
    columns = {
        "log_chars": np.log1p(chars),
        "log_words": np.log1p(n_words),
        "mean_word_length": word_chars / np.maximum(n_words, 1),
        "upper_share": _count(texts, r"\p{Lu}") / safe_chars,
        "lower_share": _count(texts, r"\p{Ll}") / safe_chars,
        "digit_share": _count(texts, r"\d") / safe_chars,
        "space_share": _count(texts, r"\s") / safe_chars,
        "punct_share": _count(texts, r"\p{P}") / safe_chars,
        "non_ascii_share": _count(texts, r"[^\x00-\x7F]") / safe_chars,
        "emoji_share": _count(texts, _EMOJI) / safe_chars,
        "urls": _count(texts, _URL),
        "mentions": _count(texts, r"@\w+"),
        "hashtags": _count(texts, r"#\w+"),
        "newlines": _count(texts, r"\n"),
        "html_entities": _count(texts, r"&(amp|lt|gt|quot|#\d+);"),
        "exclamations": _count(texts, "!"),
        "questions": _count(texts, r"\?"),
        "periods": _count(texts, r"\."),
        "commas": _count(texts, ","),
        "apostrophes": _count(texts, "['’]"),
        "quotes": _count(texts, "[\"“”]"),
        "ends_truncated": _num(pc.match_substring_regex(texts, r"(…|\.\.\.)\s*$")),
        "ends_punct": _num(pc.match_substring_regex(texts, r"[.!?)\"”]\s*$")),
        "starts_upper": _num(pc.match_substring_regex(texts, r"^\s*\p{Lu}")),
        "distinct_word_share": _distinct_word_share(words),
        "punct_runs": _count(texts, r"[!?.,]{2,}"),
        "all_caps_words": _count(no_urls, r"\b\p{Lu}{2,}\b"),
    }
    return np.column_stack([columns[name] for name in STYLOMETRY]).astype(np.float32)


# Character n-grams, hashed. Fixed here because the shipped weights are indexed by these buckets.
NGRAM_RANGE = (1, 4)
HASH_BUCKETS = 2 ** 18


def _hasher():
    from sklearn.feature_extraction.text import HashingVectorizer

    # char_wb: n-grams inside word boundaries; links collapsed so t.co ids don't fill the buckets
    return HashingVectorizer(analyzer="char_wb", ngram_range=NGRAM_RANGE, n_features=HASH_BUCKETS,
                             alternate_sign=False, norm="l2", lowercase=False, dtype=np.float32)


def char_ngrams(texts):
    """Sparse (n, HASH_BUCKETS) float32 CSR, rows of unit length."""
    texts = pc.replace_substring_regex(_arrow_strings(texts), _URL, "http://link")
    return _hasher().transform(texts.to_pylist())


def embeddings(texts: Sequence[str] | pa.Array, model: str = "use-m3") -> np.ndarray:
    from chorusline.text.embed import embed_texts

    return embed_texts(_arrow_strings(texts).to_pylist(), model=model)
