"""What the watcher alerts on, each alert with its evidence and a stable id.

The detection is the batch code's, called as it is: ``act.watchlist.match_accounts`` for returning
actors, ``api.detect`` + ``api.list_campaigns`` for campaigns. This module only decides which of
their results are news, and names each piece of news so that raising it again (after a restart, or
on the next run) is recognised as the same alert:

- ``returning_actor`` — an account first seen after the watcher's baseline (the latest event in the
  store when it first started) matches a confirmed campaign's watchlist with a score of at least
  the threshold. id = hash(kind, actor): an account is reported once, even if a later match finds
  another confirmed campaign fits it better (the pieces of one operation, confirmed separately).
  Two checks raise it: per micro-batch, the new accounts the batch brought on their fingerprints
  alone (``act.watchlist.match_fingerprints``: infrastructure, templates, clock — seconds sooner);
  on a schedule, the full ``match_accounts`` (adds style and the personas' provenance). The first
  to find an account raises its alert; the other finds the same id and raises nothing. An alert
  is not updated when the full match later scores the account higher: it is a fact delivered
  once (stream, webhook); ``chorusline match`` shows the full evidence at any time.
- ``new_campaign`` — a reported campaign (``above_threshold``) none of whose flagged members are
  mostly in a campaign the watcher already knows. Its key is the hash of its flagged members then;
  id = hash(kind, key).
- ``campaign_grew`` — a reported campaign that is mostly a known one has flagged members the known
  one lacked. id = hash(kind, key, the new members).
Known campaigns start as the store's reported and confirmed campaigns when the watcher first starts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import orjson

from chorusline.live.state import ALERTS, LIVE_CAMPAIGNS, append, first_seen, now

SAME_CAMPAIGN = 0.3  # share of the smaller of a reported and a known campaign they must share to be one
MAX_LISTED = 50  # members listed in one alert's evidence


def alert_id(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode()).hexdigest()[:20]


def _alert(kind, subject, campaign_id, score, summary, evidence, event_ts, arrived_at, *ids) -> dict:
    return {"alert_id": alert_id(kind, *ids), "kind": kind, "subject": subject, "campaign_id": campaign_id,
            "score": None if score is None else float(score), "summary": summary,
            "evidence": json.dumps(evidence, default=str, ensure_ascii=False), "event_ts": event_ts,
            "arrived_at": arrived_at, "alerted_at": now()}


def known_ids(store, ids: list[str]) -> set[str]:
    if not ids:
        return set()
    t = store.table(ALERTS.name)
    return set(t.filter(t.alert_id.isin(ids)).alert_id.to_pyarrow().to_pylist())


def record(store, alerts: list[dict]) -> list[dict]:
    """Store the alerts not raised before; returns those (in the order given)."""
    seen = known_ids(store, [a["alert_id"] for a in alerts])
    fresh, ids = [], set()
    for a in alerts:
        if a["alert_id"] not in seen and a["alert_id"] not in ids:
            fresh.append(a)
            ids.add(a["alert_id"])
    append(store, ALERTS, fresh)
    return fresh


# -- returning actors ------------------------------------------------------------------------------

def returning_actors(store, baseline: dt.datetime | None, threshold: float, event_ts,
                     arrivals: dict[str, int]) -> list[dict]:
    """Alerts for new accounts matching a confirmed campaign's watchlist (``match_accounts``)."""
    from chorusline.act.watchlist import match_accounts

    if "watchlist" not in store.backend.list_tables():
        return []
    # over the whole store: the persona links' tests read the population of posts (a view of the
    # new accounts alone halved the match's time on smoke but cut two returners' scores below 2.0)
    return _returning(store, match_accounts(store), baseline, threshold, event_ts, arrivals, "match")


def returning_by_fingerprints(store, actors: list[str], baseline: dt.datetime | None, threshold: float, event_ts,
                              arrivals: dict[str, int]) -> list[dict]:
    """Alerts for ``actors`` (new accounts a micro-batch brought) whose fingerprints alone match a
    confirmed campaign's watchlist (``match_fingerprints``, over their own rows)."""
    from chorusline.act.watchlist import match_fingerprints

    if not actors or "watchlist" not in store.backend.list_tables():
        return []
    return _returning(store, match_fingerprints(store, actors), baseline, threshold, event_ts, arrivals,
                      "fingerprints")


def _returning(store, ranking, baseline, threshold: float, event_ts, arrivals: dict[str, int], basis: str) -> list[dict]:
    strong = ranking.filter(_at_least(ranking.column("score"), threshold)).to_pylist()
    firsts = first_seen(store, [r["actor"] for r in strong])
    out = []
    for r in strong:
        first = firsts.get(r["actor"])
        if baseline is not None and (first is None or first <= baseline):
            continue  # an account the store knew before the watcher started: not a return
        arrived = arrivals.get(r["actor"])
        out.append(_alert(
            "returning_actor", r["actor"], r["campaign_id"], r["score"],
            f"{r['actor']} matches confirmed campaign {r['campaign_id']}'s watchlist (score {r['score']:.2f}: "
            f"{', '.join(r['kinds'])})",
            {"actor": r["actor"], "campaign_id": r["campaign_id"], "score": r["score"], "kinds": r["kinds"],
             "matched": r["evidence"], "first_seen": first, "basis": basis},
            event_ts, None if arrived is None else arrival(arrived), r["actor"]))
    return out


def returning_alert_id(actor: str) -> str:
    return alert_id("returning_actor", actor)


def arrival(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


def _at_least(column, threshold: float):
    import pyarrow.compute as pc

    return pc.fill_null(pc.greater_equal(column, threshold), False)


# -- campaigns ----------------------------------------------------------------------------------------

def reported_campaigns(store) -> list[tuple[dict, list[str]]]:
    """(campaign row as ``list_campaigns`` gives it, its flagged members) for every reported one."""
    from chorusline.api import list_campaigns

    tables = set(store.backend.list_tables())
    if "campaigns" not in tables or "campaign_members" not in tables:
        return []
    rows = [r for r in list_campaigns(store) if r.get("above_threshold")]
    if not rows:
        return []
    m = store.table("campaign_members")
    m = m.filter(m.flagged & m.campaign_id.isin([r["campaign_id"] for r in rows]))
    members = m.select("campaign_id", "actor").to_pyarrow()
    by_campaign: dict[int, list[str]] = {}
    for cid, actor in zip(members.column("campaign_id").to_pylist(), members.column("actor").to_pylist()):
        by_campaign.setdefault(cid, []).append(actor)
    return [(r, sorted(by_campaign.get(r["campaign_id"], []))) for r in rows]


def known_campaigns(store) -> dict[str, set[str]]:
    t = store.table(LIVE_CAMPAIGNS.name).to_pyarrow()
    out: dict[str, set[str]] = {}
    for key, actor in zip(t.column("campaign_key").to_pylist(), t.column("actor").to_pylist()):
        out.setdefault(key, set()).add(actor)
    return out


def campaign_key(members: list[str]) -> str:
    return "c" + alert_id(*sorted(members))[:12]


def seed_known_campaigns(store) -> int:
    """The store's reported and confirmed campaigns become known ones (no alert for what the
    analyst has already seen)."""
    from chorusline.act.decisions import confirmed_members

    groups = [members for _, members in reported_campaigns(store) if members]
    confirmed = confirmed_members(store).to_pyarrow()
    by_campaign: dict[int, list[str]] = {}
    for cid, actor in zip(confirmed.column("campaign_id").to_pylist(), confirmed.column("actor").to_pylist()):
        by_campaign.setdefault(cid, []).append(actor)
    groups += [sorted(v) for _, v in sorted(by_campaign.items())]
    rows = [{"campaign_key": campaign_key(g), "actor": a} for g in groups for a in g]
    return append(store, LIVE_CAMPAIGNS, rows)


def campaign_changes(store, event_ts) -> list[dict]:
    """Alerts for reported campaigns that are new or have grown, after a detection run."""
    known = known_campaigns(store)
    out, memberships = [], []
    for row, flagged in reported_campaigns(store):
        if not flagged:
            continue
        members = set(flagged)
        best, overlap = None, 0
        for key in sorted(known):
            n = len(members & known[key])
            if n > overlap or (n == overlap and n and best is not None and len(known[key]) > len(known[best])):
                best, overlap = key, n
        evidence = {k: row.get(k) for k in ("campaign_id", "size", "api_accounts", "social_accounts", "coordination",
                                            "inauthenticity", "score", "tier", "verdict")}
        # the same campaign: a good share of the smaller of the two (a campaign detection now sees
        # whole may have been known as several smaller clusters, and the other way round)
        if best is not None and overlap >= SAME_CAMPAIGN * min(len(members), len(known[best])):
            new = sorted(members - known[best])
            if not new:
                continue
            evidence |= {"campaign_key": best, "new_members": new[:MAX_LISTED], "n_new": len(new)}
            out.append(_alert("campaign_grew", best, row["campaign_id"], row["score"],
                              f"campaign {best} (now #{row['campaign_id']}, {row['tier']}) gained {len(new)} "
                              f"member(s): {', '.join(new[:3])}{'…' if len(new) > 3 else ''}",
                              evidence, event_ts, None, best, *new))
            known[best] |= set(new)
            memberships += [{"campaign_key": best, "actor": a} for a in new]
        else:
            key = campaign_key(flagged)
            evidence |= {"campaign_key": key, "members": flagged[:MAX_LISTED], "n_members": len(flagged)}
            out.append(_alert("new_campaign", key, row["campaign_id"], row["score"],
                              f"new campaign {key} (#{row['campaign_id']}, {row['tier']}, score {row['score']:.2f}): "
                              f"{len(flagged)} flagged account(s)", evidence, event_ts, None, key))
            known[key] = set(members)
            memberships += [{"campaign_key": key, "actor": a} for a in flagged]
    # the alerts first: a crash between the two re-raises the same ids next run, which record() drops
    fresh = record(store, out)
    append(store, LIVE_CAMPAIGNS, memberships)
    return fresh


def as_message(alert: dict) -> bytes:
    """An alert as the alerts stream and the webhook carry it (evidence as JSON, times ISO)."""
    body = dict(alert)
    body["evidence"] = json.loads(body["evidence"]) if isinstance(body["evidence"], str) else body["evidence"]
    return orjson.dumps(body, default=str)


KINDS = ("returning_actor", "new_campaign", "campaign_grew")


def list_alerts(store, kind: str | None = None, limit: int | None = None) -> list[dict]:
    """The alerts table, newest first (by when they were raised), evidence as JSON: what
    ``chorusline alerts --json`` prints. A store the watcher never ran on has none."""
    import ibis

    if ALERTS.name not in store.backend.list_tables():
        return []
    t = store.table(ALERTS.name)
    if kind is not None:
        t = t.filter(t.kind == kind)
    t = t.order_by([ibis.desc("alerted_at"), "alert_id"])
    if limit is not None:
        t = t.limit(limit)
    rows = t.to_pyarrow().to_pylist()
    for r in rows:
        r["evidence"] = json.loads(r["evidence"]) if r["evidence"] else None
    return rows
