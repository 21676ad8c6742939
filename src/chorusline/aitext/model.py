"""The detector: logistic regressions per feature block, stacked by a second small logistic regression.

Every parameter is a number, so a model is one ``.npz`` of arrays plus a JSON header, read with
``allow_pickle=False`` (no code runs on load, and no network is involved). Blocks:

- ``stylometry``: standardised `features.STYLOMETRY` -> logit
- ``char``: hashed character n-grams -> logit (weights stored as float16: 2**18 of them, 0.5 MB)
- ``embedding``: sentence embeddings -> logit (optional, only when a model was trained with them)
- ``lm``: standardised `lm.LM_FEATURES` -> logit (the ``with-lm`` model only)

The stacker turns the block logits into the post's log-odds of being machine-written. Training was
balanced (as many machine as human posts), so a probability is "given even odds"."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from chorusline.aitext import features

FAST_MODEL = "fast"
LM_MODEL = "with-lm"
MODEL_FILES = {FAST_MODEL: "aitext_fast.npz", LM_MODEL: "aitext_with_lm.npz"}
FORMAT = "chorusline-aitext/1"
LOGIT_CLIP = 8.0  # one absurd post moves a pooled mean by at most 8/n


@dataclass
class Block:
    name: str
    coef: np.ndarray
    intercept: float
    mean: np.ndarray | None = None  # standardisation (dense blocks)
    scale: np.ndarray | None = None

    def logit(self, x) -> np.ndarray:
        if self.mean is not None:
            x = (np.asarray(x, np.float64) - self.mean) / self.scale
        return np.asarray(x @ self.coef.astype(np.float64), np.float64).ravel() + self.intercept


@dataclass
class Model:
    blocks: list[Block]
    stack_coef: np.ndarray
    stack_intercept: float
    meta: dict = field(default_factory=dict)

    @property
    def block_names(self) -> list[str]:
        return [b.name for b in self.blocks]

    def block_logits(self, texts, embeddings: np.ndarray | None = None, lm: np.ndarray | None = None) -> np.ndarray:
        columns = []
        for block in self.blocks:
            if block.name == "stylometry":
                x = features.stylometry(texts)
            elif block.name == "char":
                x = features.char_ngrams(texts)
            elif block.name == "embedding":
                x = features.embeddings(texts, self.meta.get("embedding_model", "use-m3")) if embeddings is None \
                    else embeddings
            elif block.name == "lm":
                from chorusline.aitext.lm import lm_features

                x = lm_features(list(features._arrow_strings(texts).to_pylist())) if lm is None else lm
            else:
                raise ValueError(f"unknown block {block.name!r}")
            columns.append(block.logit(x))
        return np.column_stack(columns) if columns else np.zeros((0, 0))

    def logits(self, texts, **given) -> np.ndarray:
        """Each text's log-odds of being machine-written, clipped to ±LOGIT_CLIP; NaN for a null or blank
        text (no evidence either way: an empty string scores as machine-like, so it must not be scored)."""
        if len(texts) == 0:
            return np.zeros(0)
        import pyarrow.compute as pc

        texts = features._arrow_strings(texts)
        blank = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(texts)), 0).to_numpy(zero_copy_only=False)
        z = self.block_logits(texts, **given) @ self.stack_coef + self.stack_intercept
        return np.where(blank, np.nan, np.clip(z, -LOGIT_CLIP, LOGIT_CLIP))

    # -- storage ------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        arrays = {"stack_coef": self.stack_coef.astype(np.float64),
                  "stack_intercept": np.array([self.stack_intercept])}
        for b in self.blocks:
            arrays[f"{b.name}.coef"] = b.coef.astype(np.float16 if b.name == "char" else np.float64)
            arrays[f"{b.name}.intercept"] = np.array([b.intercept])
            if b.mean is not None:
                arrays[f"{b.name}.mean"] = b.mean.astype(np.float64)
                arrays[f"{b.name}.scale"] = b.scale.astype(np.float64)
        header = {"format": FORMAT, "blocks": self.block_names, **self.meta}
        arrays["header"] = np.array(json.dumps(header))
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path) -> Model:
        with np.load(path, allow_pickle=False) as z:
            header = json.loads(str(z["header"]))
            if header.get("format") != FORMAT:
                raise ValueError(f"{path}: not a {FORMAT} model")
            if header.get("hash_buckets", features.HASH_BUCKETS) != features.HASH_BUCKETS:
                raise ValueError(f"{path}: trained with other n-gram hashing settings")
            blocks = [Block(name, z[f"{name}.coef"].astype(np.float32), float(z[f"{name}.intercept"][0]),
                            z[f"{name}.mean"] if f"{name}.mean" in z else None,
                            z[f"{name}.scale"] if f"{name}.scale" in z else None)
                      for name in header["blocks"]]
            meta = {k: v for k, v in header.items() if k not in ("format", "blocks")}
            return cls(blocks, z["stack_coef"], float(z["stack_intercept"][0]), meta)


def model_path(kind: str = FAST_MODEL) -> Path:
    if kind not in MODEL_FILES:
        raise ValueError(f"unknown AI-text model {kind!r}; known: {', '.join(MODEL_FILES)}")
    return Path(str(resources.files("chorusline.aitext") / "data" / MODEL_FILES[kind]))


@lru_cache(maxsize=2)
def load_model(kind: str = FAST_MODEL) -> Model:
    path = model_path(kind)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: build it with `python scripts/build_ai_text_model.py`")
    return Model.load(path)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(z, np.float64)))
