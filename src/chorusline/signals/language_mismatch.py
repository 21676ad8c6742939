"""language_mismatch (features): the language an account prompts in, the language it gets written,
and the language its persona claims.

An operator who prompts in Chinese for English commentary, or a "US nurse" whose posts are in
another language than the one the profile claims, shows a gap between who acts and who is shown.
Language identification is ``py3langid`` (langid.py's model, shipped inside the package, 97
languages, no download). It is a model, so it runs in Python, but bounded: the engine draws at
most ``per_account`` texts of each kind per account (a hash-ordered sample), only distinct texts
are classified, and texts shorter than ``min_chars`` (too short to identify) are skipped.

Features (value is a share 0..1, evidence = the detected languages and their counts):
- ``language_mismatch:prompt_output`` — API calls whose prompt and output are in different languages;
- ``language_mismatch:prompt_claimed`` / ``output_claimed`` / ``post_claimed`` — prompts, outputs or
  posts not in the account's ``claimed_language`` (when the account claims one);
- ``language_mismatch:post_declared`` — posts whose detected language differs from the language the
  platform recorded for them (``posts.lang``), where it did."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from chorusline.signals.sample import account_sample


@dataclass(frozen=True)
class LanguageParams:
    per_account: int = 20  # texts of each kind classified per account
    min_chars: int = 20


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_pickled_model(MODEL_FILE, norm_probs=False)


def identify(texts: list[str]) -> list[str]:
    """ISO 639-1 code of each text (langid's best guess)."""
    ident = _identifier()
    return [ident.classify(t)[0] for t in texts]


def _sample(table: ibis.Table, key: str, columns: dict, params: LanguageParams) -> pa.Table:
    return account_sample(table, key, columns, params.per_account)


def _languages(values: list, params: LanguageParams) -> np.ndarray:
    """Detected language per value (None where missing or too short), each distinct text once."""
    usable = sorted({v for v in values if v and len(v.strip()) >= params.min_chars})
    found = dict(zip(usable, identify(usable)))
    return np.array([found.get(v) for v in values], dtype=object)


def language_features(calls: ibis.Table | None, posts: ibis.Table | None, accounts: ibis.Table | None,
                      params: LanguageParams = LanguageParams()) -> pa.Table:
    claimed = {}
    if accounts is not None:
        a = accounts.filter(accounts.claimed_language.notnull() & (accounts.claimed_language != ""))
        got = a.select(actor=a.platform.concat(":", a.account_id), lang=a.claimed_language.lower()).to_pyarrow()
        claimed = dict(zip(got["actor"].to_pylist(), (v[:2] for v in got["lang"].to_pylist())))
    parts: list[pa.Table] = []

    def emit(feature: str, actors: np.ndarray, mismatch: np.ndarray, langs: np.ndarray) -> None:
        """One value per actor: the share of its usable rows where ``mismatch`` holds (Arrow group-bys)."""
        rows = pa.table({"actor": pa.array(actors.tolist(), pa.string()), "mismatch": mismatch.astype(np.float64),
                         "lang": pa.array(langs.tolist(), pa.string())})
        shares = rows.group_by("actor").aggregate([("mismatch", "mean")])
        counts = rows.group_by(["actor", "lang"]).aggregate([("lang", "count")]).sort_by(
            [("actor", "ascending"), ("lang_count", "descending"), ("lang", "ascending")])
        label = pc.binary_join_element_wise(counts["lang"], pc.cast(counts["lang_count"], pa.string()), "=")
        listed = pa.table({"actor": counts["actor"], "label": label}).group_by("actor", use_threads=False).aggregate(
            [("label", "list")])
        evidence = pc.binary_join_element_wise('["', pc.binary_join(listed["label_list"], '","'), '"]', "")
        listed = pa.table({"actor": listed["actor"], "evidence": evidence})
        got = shares.join(listed, "actor")
        parts.append(pa.table({"actor": got["actor"], "feature": pa.array([f"language_mismatch:{feature}"] * got.num_rows),
                               "value": got["mismatch_mean"], "evidence": got["evidence"]}))

    def against_claim(feature: str, actors: np.ndarray, langs: np.ndarray) -> None:
        claim = np.array([claimed.get(a) for a in actors], dtype=object)
        keep = (langs != None) & (claim != None)  # noqa: E711 (element-wise on object arrays)
        if keep.any():
            emit(feature, actors[keep], langs[keep] != claim[keep], langs[keep])

    if calls is not None:
        got = _sample(calls, "call_id", {"prompt": calls.prompt, "output": calls.output}, params)
        actors = np.array(got["actor"].to_pylist(), dtype=object)
        prompt = _languages(got["prompt"].to_pylist(), params)
        output = _languages(got["output"].to_pylist(), params)
        both = (prompt != None) & (output != None)  # noqa: E711
        if both.any():
            emit("prompt_output", actors[both], prompt[both] != output[both],
                 np.array([f"{p}>{o}" for p, o in zip(prompt[both], output[both])], dtype=object))
        against_claim("prompt_claimed", actors, prompt)
        against_claim("output_claimed", actors, output)
    if posts is not None:
        authored = posts.filter(posts.kind != "repost")
        got = _sample(authored, "post_id", {"text": authored.text, "lang": authored.lang}, params)
        actors = np.array(got["actor"].to_pylist(), dtype=object)
        detected = _languages(got["text"].to_pylist(), params)
        against_claim("post_claimed", actors, detected)
        declared = np.array([(v or "")[:2].lower() or None for v in got["lang"].to_pylist()], dtype=object)
        keep = (detected != None) & (declared != None) & (declared != "un")  # noqa: E711
        if keep.any():
            emit("post_declared", actors[keep], detected[keep] != declared[keep], detected[keep])
    if not parts:
        return pa.table({"actor": pa.array([], pa.string()), "feature": pa.array([], pa.string()),
                         "value": pa.array([], pa.float64()), "evidence": pa.array([], pa.string())})
    return pa.concat_tables(parts)
