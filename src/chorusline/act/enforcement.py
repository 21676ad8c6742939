"""The enforcement list: the accounts of confirmed campaigns to suspend, each with its campaign,
the confidence (member score) and the reasons (the indicators and signals that tie it in)."""

from __future__ import annotations

import ibis

from chorusline.act.decisions import confirmed_members
from chorusline.campaigns.suspicion import INDICATORS
from chorusline.graph.fuse import signal_evidence


def enforcement_list(store) -> ibis.Table:
    """platform, account_id, campaign_id, latest_tier (its campaign's tier in the latest detection
    run: ids change between runs), confidence, reasons (one line)."""
    confirmed = confirmed_members(store)
    m = store.table("campaign_members")
    j = confirmed.join(m.drop("campaign_id"), "actor", how="left")
    # strongest signals per account among its ties to fellow members
    ev = signal_evidence(store.table("edges"))
    ends = ev.select(actor=ev.a_actor, other=ev.b_actor, signal=ev.signal, evidence=ev.evidence).union(
        ev.select(actor=ev.b_actor, other=ev.a_actor, signal=ev.signal, evidence=ev.evidence), distinct=False)
    mates = confirmed.select(other=confirmed.actor, _c=confirmed.campaign_id)
    ties = ends.join(confirmed, "actor").join(mates, "other")
    ties = ties.filter(ties.campaign_id == ties._c)
    per = ties.group_by(["actor", "signal"]).aggregate(n=ties.count(), e=ties.evidence.max())
    per = per.filter(per.e >= 0.3)
    label = per.signal.concat(" (", per.n.cast("string"), ")")
    signals = per.group_by("actor").aggregate(signals=label.collect().sort())
    j = j.left_join(signals, "actor").select(j, signals=signals.signals)
    # personas posting the campaign's generated text (recruited ones may have no other tie)
    if "campaign_links" in store.backend.list_tables():
        links = store.table("campaign_links")
        carried = links.group_by(actor=links.persona_actor).aggregate(carried=links.posts.sum())
    else:
        carried = ibis.memtable({"actor": [], "carried": []}, schema={"actor": "string", "carried": "int64"})
    j = j.left_join(carried, "actor").select(j, carried=carried.carried)
    shown = [ibis.ifelse(j[n] >= 0.5, ibis.literal(n), ibis.null("string")) for n in INDICATORS]
    indicators = ibis.array(shown).filter(lambda v: v.notnull())
    output = ibis.ifelse(j.carried.notnull(), ibis.literal("; posts the campaign's generated text: ").concat(
        j.carried.cast("string"), " post(s)"), ibis.literal(""))
    reasons = ibis.literal("ties: ").concat(j.signals.join(", ").fill_null("–"), "; looks inauthentic: ",
                                            indicators.join(", ").fill_null("–"), output)
    return j.select(platform=j.actor.split(":")[0], account_id=j.actor.substr(j.actor.find(":") + 1),
                    campaign_id=j.campaign_id, latest_tier=j.tier.fill_null("not in the latest run"),
                    confidence=j.member_score.fill_null(0.0),
                    reasons=reasons).order_by(
        ["campaign_id", ibis.desc("confidence"), "platform", "account_id"])
