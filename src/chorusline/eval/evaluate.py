"""`chorusline eval`: a detection run in a store scored against ground truth.

Truth is a folder in the simulator's layout: ``accounts.parquet`` (platform, account_id, campaign —
null for the benign) and optionally ``links.parquet`` (api_platform, api_account_id,
social_platform, persona_account_id, campaign). The real labelled sets are mapped to the same
layout (``eval/real.py``).

- Accounts: every account in the truth is flagged or not (``campaign_members.flagged``); precision,
  recall and F1 of "belongs to a campaign"; ROC AUC of member scores (0 for accounts in no
  cluster); the best precision at recall 0.9.
- Campaigns: adjusted Rand index of the detected campaign of each account (flagged accounts) against
  its true campaign, over all accounts of the truth, the benign and unflagged all in one "none" group.
- Links: API account ↔ persona pairs of ``campaign_links`` against the truth's campaign links.
- False alarms: the share of benign accounts flagged, and the campaigns above the reporting
  threshold whose members are mostly benign."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from chorusline.campaigns.score import ScoreParams
from chorusline.eval.metrics import adjusted_rand_index, precision_at_recall, precision_recall_f1, roc_auc


class TruthError(ValueError):
    """The truth folder lacks accounts.parquet or it has the wrong columns."""


def _actors(table: pa.Table, platform: str, account: str) -> list[str]:
    return pc.binary_join_element_wise(table[platform], table[account], ":").to_pylist()


def read_truth(folder: Path) -> tuple[dict[str, str | None], set[tuple[str, str]] | None]:
    path = Path(folder) / "accounts.parquet"
    if not path.exists():
        raise TruthError(f"{path} does not exist (a truth folder holds accounts.parquet)")
    accounts = pq.read_table(path)
    missing = {"platform", "account_id", "campaign"} - set(accounts.column_names)
    if missing:
        raise TruthError(f"{path} lacks the column(s) {', '.join(sorted(missing))}")
    campaign = dict(zip(_actors(accounts, "platform", "account_id"), accounts["campaign"].to_pylist()))
    links = None
    if (Path(folder) / "links.parquet").exists():
        t = pq.read_table(Path(folder) / "links.parquet")
        t = t.filter(pc.is_valid(t["campaign"]))
        links = set(zip(_actors(t, "api_platform", "api_account_id"), _actors(t, "social_platform", "persona_account_id")))
    return campaign, links


def _benign_campaigns(members: pa.Table, campaign: dict, threshold: float) -> int:
    """Campaigns at or above the reporting threshold whose members are mostly benign in the truth."""
    reported: dict[int, list[bool]] = {}
    for actor, cid, score in zip(members["actor"].to_pylist(), members["campaign_id"].to_pylist(),
                                 members["campaign_score"].to_pylist()):  # members of clusters: few
        if score >= threshold:
            reported.setdefault(cid, []).append(campaign.get(actor) is None)
    return sum(sum(v) > len(v) / 2 for v in reported.values())


def evaluate(store, truth: Path, threshold: float = ScoreParams().campaign_threshold) -> dict:
    campaign, true_links = read_truth(truth)
    tables = set(store.backend.list_tables())
    if "campaign_members" not in tables:
        raise TruthError("the store has no detection results: run `chorusline detect` first")
    members = store.table("campaign_members").select("actor", "campaign_id", "member_score", "flagged",
                                                     "campaign_score").to_pyarrow()
    score = dict(zip(members["actor"].to_pylist(), members["member_score"].to_pylist()))
    found = {a: c for a, c, f in zip(members["actor"].to_pylist(), members["campaign_id"].to_pylist(),
                                      members["flagged"].to_pylist()) if f}
    actors = sorted(campaign)
    actual = np.array([campaign[a] is not None for a in actors])
    flagged = np.array([a in found for a in actors])
    scores = np.array([score.get(a, 0.0) for a in actors])
    precision, recall, f1 = precision_recall_f1(flagged, actual)
    out = {"accounts": len(actors), "campaign_accounts": int(actual.sum()), "flagged": int(flagged.sum()),
           "account_precision": precision, "account_recall": recall, "account_f1": f1,
           "account_auc": roc_auc(scores, actual), "precision_at_recall_0.9": precision_at_recall(scores, actual, 0.9),
           "campaign_ari": adjusted_rand_index([campaign[a] or "none" for a in actors],
                                               [f"c{found[a]}" if a in found else "none" for a in actors]),
           "link_precision": None, "link_recall": None, "link_f1": None,
           "benign_flagged_share": float((flagged & ~actual).sum() / max((~actual).sum(), 1)),
           "benign_campaigns_reported": _benign_campaigns(members, campaign, threshold)}
    if true_links is not None and "campaign_links" in tables:
        got = store.table("campaign_links").select("api_actor", "persona_actor").to_pyarrow()
        predicted = set(zip(got["api_actor"].to_pylist(), got["persona_actor"].to_pylist()))
        hits = len(predicted & true_links)
        lp = hits / len(predicted) if predicted else None
        lr = hits / len(true_links) if true_links else None
        out.update(link_precision=lp, link_recall=lr,
                   link_f1=(2 * lp * lr / (lp + lr) if lp and lr else (0.0 if lp is not None and lr is not None else None)))
    return out
