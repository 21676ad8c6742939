"""The enforcement list: the accounts of confirmed campaigns to suspend, each with its campaign,
the confidence (member score) and the reasons (the indicators and signals that tie it in)."""

from __future__ import annotations

import ibis

from chorusline.act.decisions import confirmed_members
from chorusline.campaigns.suspicion import INDICATORS
from chorusline.graph.fuse import signal_evidence


def enforcement_list(store) -> ibis.Table:
    """platform, account_id, campaign_id, latest_tier (its campaign's tier in the latest detection
    run: ids change between runs), confidence (member score, 4 places), reasons (one line)."""
    confirmed = confirmed_members(store)
    m = store.table("campaign_members")
    j = confirmed.join(m.drop("campaign_id"), "actor", how="left")
    reasons = member_reasons(store, confirmed)
    j = j.join(reasons, ["campaign_id", "actor"]).select(j, reasons=reasons.reasons)
    return j.select(platform=j.actor.split(":")[0], account_id=j.actor.substr(j.actor.find(":") + 1),
                    campaign_id=j.campaign_id, latest_tier=j.tier.fill_null("not in the latest run"),
                    # four places: enough to rank by, and the same on both engines (their float sums
                    # differ in the last digits)
                    confidence=j.member_score.fill_null(0.0).round(4),
                    reasons=j.reasons).order_by(
        ["campaign_id", ibis.desc("confidence"), "platform", "account_id"])


def member_reasons(store, members: ibis.Table) -> ibis.Table:
    """campaign_id, actor, reasons for the given members (campaign_id, actor: a confirmed snapshot
    or a campaign's flagged rows): the signals tying each to fellow members of its campaign (evidence
    ≥ 0.3 on one tie; for a recruited account, also a signal it meets them on three times or more:
    one attached by many weak ties has no strong one), its indicators at 0.5 or more, and the campaign's generated text it posts with the API
    accounts that generated it (all a persona recruited through links may have)."""
    members = members.select("campaign_id", "actor")
    m = store.table("campaign_members")
    j = members.join(m.drop("campaign_id"), "actor", how="left").select(
        members, *[m[n] for n in INDICATORS], _recruited=m.recruited.fill_null(False))
    # strongest signals per account among its ties to fellow members
    ev = signal_evidence(store.table("edges"))
    ends = ev.select(actor=ev.a_actor, other=ev.b_actor, signal=ev.signal, evidence=ev.evidence).union(
        ev.select(actor=ev.b_actor, other=ev.a_actor, signal=ev.signal, evidence=ev.evidence), distinct=False)
    mates = members.select(other=members.actor, _c=members.campaign_id)
    recruited = j.filter(j._recruited).select(_r="actor")
    ties = ends.join(members, "actor").join(mates, "other")
    ties = ties.filter(ties.campaign_id == ties._c)
    per = ties.group_by(["campaign_id", "actor", "signal"]).aggregate(n=ties.count(), e=ties.evidence.max())
    per = per.left_join(recruited, per.actor == recruited._r)
    per = per.filter((per.e >= 0.3) | ((per.n >= 3) & per._r.notnull())).drop("_r")
    label = per.signal.concat(" (", per.n.cast("string"), ")")
    signals = per.group_by(["campaign_id", "actor"]).aggregate(signals=label.collect().sort())
    j = j.left_join(signals, ["campaign_id", "actor"]).select(j, signals=signals.signals)
    # personas posting the campaign's generated text (recruited ones may have no other tie)
    if "campaign_links" in store.backend.list_tables():
        links = store.table("campaign_links")
        pairs = links.group_by(actor=links.persona_actor, api=links.api_actor).aggregate(posts=links.posts.sum())
        carried = pairs.group_by("actor").aggregate(carried=pairs.posts.sum(), sources=pairs.api.collect().sort())
    else:
        carried = ibis.memtable({"actor": [], "carried": [], "sources": []},
                                schema={"actor": "string", "carried": "int64", "sources": "array<string>"})
    j = j.left_join(carried, "actor").select(j, carried=carried.carried, sources=carried.sources)
    shown = [ibis.ifelse(j[n] >= 0.5, ibis.literal(n), ibis.null("string")) for n in INDICATORS]
    indicators = ibis.array(shown).filter(lambda v: v.notnull())
    # the API accounts by name when a few, else how many (a persona fed by a whole pool)
    sources = ibis.ifelse(j.sources.length() > 3, j.sources.length().cast("string").concat(" API accounts"),
                          j.sources.join(", "))
    output = ibis.ifelse(j.carried.notnull(), ibis.literal("; posts the campaign's generated text: ").concat(
        j.carried.cast("string"), " post(s) from ", sources), ibis.literal(""))

    def listed(words):  # none, or an empty list, reads as a dash
        return ibis.ifelse(words.length().fill_null(0) > 0, words.join(", "), ibis.literal("–"))

    reasons = ibis.literal("ties: ").concat(listed(j.signals), "; looks inauthentic: ", listed(indicators), output)
    return j.select("campaign_id", "actor", reasons=reasons)
