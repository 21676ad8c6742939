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
  one lacked. id = hash(kind, key, the new members). Raised between detections too, from the
  sliding-window signals (``live.window``), for one account at a time (id = hash(kind, key,
  account)), by the batch rules for joining a campaign: a persona whose posts carry the known
  campaign's API outputs (``links.recruit_min_posts`` copies near-verbatim, ``links.min_jaccard``, the
  first to post each, ``recruit_min_share`` of all it wrote), or an account that co-acted with
  ``COACTING_MEMBERS`` of its members with ``COACTING_POSTS`` of its posts inside the window; one
  alert per account, for the known campaign it is most tied to. The
  account then counts as known, so the next detection does not raise it again.
Known campaigns start as the store's reported and confirmed campaigns when the watcher first starts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import orjson

from chorusline.live.state import ALERTS, LIVE_CAMPAIGNS, append, first_seen, now

COACTING_MEMBERS = 2  # a known campaign's members an account must co-act with to join it between detections
COACTING_POSTS = 3  # ... with this many of its posts (batch coshare asks 2 objects per pair; this is an alert)
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


def confirmed_groups(store) -> dict[int, list[str]]:
    """Each confirmed campaign's members (sorted), by its id."""
    from chorusline.act.decisions import confirmed_members

    confirmed = confirmed_members(store).to_pyarrow()
    by_campaign: dict[int, list[str]] = {}
    for cid, actor in zip(confirmed.column("campaign_id").to_pylist(), confirmed.column("actor").to_pylist()):
        by_campaign.setdefault(cid, []).append(actor)
    return {cid: sorted(v) for cid, v in sorted(by_campaign.items())}


def seed_known_campaigns(store) -> int:
    """The store's reported and confirmed campaigns become known ones (no alert for what the
    analyst has already seen)."""
    groups = [members for _, members in reported_campaigns(store) if members]
    groups += list(confirmed_groups(store).values())
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
            # accounts known under another key were alerted then: two known campaigns detection now
            # sees as one (campaigns.consolidate merges an operation's fragments) bring nobody new
            elsewhere = set().union(*(a for k, a in known.items() if k != best))
            new = sorted(members - known[best] - elsewhere)
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


def window_growth(store, update, event_ts, arrivals: dict[str, int], links=None) -> list[dict]:
    """``campaign_grew`` alerts (not yet recorded) for accounts the window's new links and co-action
    pairs tie to a known campaign (``update``: a ``live.window.WindowUpdate``; ``links``:
    ``LinkParams``). Recording them, ``join_known`` makes each account a known member."""
    from chorusline.campaigns.links import LinkParams

    links = links or LinkParams()
    out = []
    if store.table(LIVE_CAMPAIGNS.name).count().execute() == 0:
        return out  # no known campaign to grow
    if update.linked_personas:
        out += _carrying(store, update.linked_personas, links, event_ts, arrivals)
    if update.coacting:
        out += _coacting(store, update.coacting, event_ts, arrivals)
    return out


def still_news(store, found: list[dict]) -> list[dict]:
    """``found`` less the one-account ``campaign_grew`` alerts whose account is a known member of
    that campaign by now (a detection that ran while the window's run was reading recorded it)."""
    mine = [a for a in found if a["kind"] == "campaign_grew" and "actor" in json.loads(a["evidence"])]
    if not mine:
        return found
    k = store.table(LIVE_CAMPAIGNS.name).to_pyarrow()
    known = set(zip(k.column("campaign_key").to_pylist(), k.column("actor").to_pylist()))
    stale = {a["alert_id"] for a in mine if (a["subject"], json.loads(a["evidence"])["actor"]) in known}
    return [a for a in found if a["alert_id"] not in stale]


def join_known(store, fresh: list[dict]) -> None:
    """The accounts of fresh one-account ``campaign_grew`` alerts become members of their known
    campaign, and returning actors of the confirmed campaign they matched: the personas that post a
    returner's outputs then join it from the window, between detections."""
    rows, confirmed = [], None
    for a in fresh:
        if a["kind"] == "returning_actor":
            confirmed = confirmed_groups(store) if confirmed is None else confirmed
            if a["campaign_id"] in confirmed:
                rows.append({"campaign_key": campaign_key(confirmed[a["campaign_id"]]), "actor": a["subject"]})
            continue
        evidence = json.loads(a["evidence"]) if a["kind"] == "campaign_grew" else {}
        if "actor" in evidence:
            rows.append({"campaign_key": a["subject"], "actor": evidence["actor"]})
    append(store, LIVE_CAMPAIGNS, rows)


def _accounts(accounts: list[str]):
    import ibis
    import pyarrow as pa

    return ibis.memtable(pa.table({"_account": pa.array(sorted(set(accounts)), pa.string())}))


def _outsiders(store, table, column: str, accounts: list[str]):
    """``table`` rows whose ``column`` is one of ``accounts`` and in no known campaign yet (as batch
    recruiting takes only accounts no campaign flagged: one campaign per account)."""
    k = store.table(LIVE_CAMPAIGNS.name).view()  # the caller's table joined it already
    wanted = _accounts(accounts)
    t = table.semi_join(wanted, table[column] == wanted._account)
    return t.anti_join(k, t[column] == k.actor)


def _carrying(store, personas: list[str], links, event_ts, arrivals) -> list[dict]:
    from chorusline.live.window import LINKS
    from chorusline.signals.near_duplicate import post_texts

    t = store.table(LINKS.name)
    t = t.mutate(_first=t.post_ts.min().over(group_by=t.call_id))  # the first to post an output
    t = t.filter((t.post_ts == t._first) & (t.jaccard >= links.min_jaccard))
    k = store.table(LIVE_CAMPAIGNS.name)
    j = t.join(k, t.api_actor == k.actor).select(t, campaign_key=k.campaign_key)
    j = _outsiders(store, j, "persona_actor", personas)
    per = j.group_by(["campaign_key", "persona_actor"]).aggregate(
        copies=j.post_id.nunique(), sources=j.api_actor.collect(distinct=True).sort(),
        examples=j.call_id.concat("~", j.post_id).collect().sort()[:10])
    per = per.filter(per.copies >= links.recruit_min_posts).to_pyarrow()
    if not per.num_rows:
        return []
    posts = store.table("posts")
    wanted = _accounts(per.column("persona_actor").to_pylist())
    written = post_texts(posts.semi_join(wanted, posts.platform.concat(":", posts.account_id) == wanted._account))
    counts = written.group_by("actor").aggregate(wrote=written.count()).to_pyarrow()
    wrote = dict(zip(counts.column("actor").to_pylist(), counts.column("wrote").to_pylist()))
    rows = []
    for r in per.to_pylist():
        r["wrote"] = wrote.get(r["persona_actor"], 0)
        if r["copies"] >= links.recruit_min_share * r["wrote"]:
            rows.append(r)
    return [_joined(r["campaign_key"], r["persona_actor"],
                    f"{r['copies']} of its {r['wrote']} posts carry the campaign's generated text "
                    f"({', '.join(r['sources'][:3])})",
                    {"basis": "provenance", "copies": r["copies"], "wrote": r["wrote"], "sources": r["sources"],
                     "matched": r["examples"]}, event_ts, arrivals)
            for r in _best_campaign(rows, "persona_actor", "copies")]


def _joined(key: str, who: str, why: str, evidence: dict, event_ts, arrivals) -> dict:
    """A one-account ``campaign_grew`` alert: ``who`` joined known campaign ``key`` from the window."""
    return _alert("campaign_grew", key, None, None, f"campaign {key} gained {who}: {why}",
                  {"actor": who, "campaign_key": key, **evidence}, event_ts,
                  None if who not in arrivals else arrival(arrivals[who]), key, who)


def _best_campaign(rows: list[dict], who: str, strength: str) -> list[dict]:
    """Per account, the known campaign it is most tied to (``strength``, then the key): one
    operation known under two keys (reported, then confirmed) raises one alert, as batch
    recruiting keeps one campaign per persona."""
    best: dict[str, dict] = {}
    for r in sorted(rows, key=lambda r: (-r[strength], r["campaign_key"])):
        best.setdefault(r[who], r)
    return [best[a] for a in sorted(best)]


def _coacting(store, accounts: list[str], event_ts, arrivals) -> list[dict]:
    from chorusline.live.window import COACTION

    c = store.table(COACTION.name)
    obj = c.object_type.concat(":", c.object_id)
    ends = c.select(actor=c.a_actor, other=c.b_actor, own=c.a_content, obj=obj).union(
        c.select(actor=c.b_actor, other=c.a_actor, own=c.b_content, obj=obj), distinct=False)
    k = store.table(LIVE_CAMPAIGNS.name)
    j = ends.join(k, ends.other == k.actor).select(ends, campaign_key=k.campaign_key)
    j = _outsiders(store, j, "actor", accounts)
    # its posts, not objects, are counted: one post's link is a URL and a domain, often a hashtag too
    per = j.group_by(["campaign_key", "actor"]).aggregate(
        members=j.other.nunique(), posts=j.own.nunique(), objects=j.obj.nunique(),
        with_=j.other.collect(distinct=True).sort()[:10], on=j.obj.collect(distinct=True).sort()[:10])
    per = per.filter((per.members >= COACTING_MEMBERS) & (per.posts >= COACTING_POSTS))
    return [_joined(r["campaign_key"], r["actor"],
                    f"{r['posts']} of its posts co-acted with {r['members']} of its members within the window",
                    {"basis": "co-action", "members": r["members"], "posts": r["posts"], "objects": r["objects"],
                     "with": r["with_"], "on": r["on"]}, event_ts, arrivals)
            for r in _best_campaign(per.to_pyarrow().to_pylist(), "actor", "posts")]


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
