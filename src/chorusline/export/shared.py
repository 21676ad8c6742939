"""What every export shares: its error, which campaigns it covers, their members, and the
indicators (shared egress, pushed links) that STIX, MISP and the indicator CSV all carry."""

from __future__ import annotations

import ibis

from chorusline.campaigns.explain import CampaignNotFound, flagged_members, with_account_columns


class ExportError(ValueError):
    """Nothing to export (empty store, no campaign above the threshold, unknown campaign) or a bad option."""


def campaigns_to_export(store, campaign_ids: list[int] | None) -> list[int]:
    """The ids asked for, checked against the store; by default every campaign above the threshold."""
    if "campaigns" not in set(store.backend.list_tables()):
        raise ExportError("the store has no campaigns: run `chorusline detect` first")
    camp = store.table("campaigns")
    known = camp.campaign_id.execute().tolist()
    if campaign_ids is None:
        campaign_ids = camp.filter(camp.above_threshold).campaign_id.execute().tolist()
        if not campaign_ids:
            raise ExportError("no campaign above the threshold to export")
    missing = [c for c in campaign_ids if c not in known]
    if missing:
        raise ExportError(f"no campaign {missing[0]}; campaigns: {sorted(known)[:20]}")
    return [int(c) for c in campaign_ids]


def members_to_export(store, campaign_id: int) -> ibis.Table:
    """The campaign's flagged members; an ExportError when it has none."""
    try:
        return flagged_members(store, campaign_id)
    except CampaignNotFound as exc:
        raise ExportError(str(exc)) from None


def infrastructure_indicators(store, m: ibis.Table, min_accounts: int = 2) -> list[dict]:
    """kind (ip | prefix), value, accounts, calls, first, last for the campaign's shared egress."""
    calls = store.table("llm_calls")
    api = with_account_columns(m.filter(m.platform == "llm-api")).select("account_id")
    c = calls.join(api, "account_id").filter(calls.ip.notnull())
    rows = []
    ips = c.group_by("ip").aggregate(accounts=c.account_id.nunique(), calls=c.count(), first=c.ts.min(), last=c.ts.max())
    for r in ips.filter(ips.accounts >= min_accounts).order_by([ibis.desc("accounts"), "ip"]).to_pyarrow().to_pylist():
        rows.append({"kind": "ip", "value": r["ip"], **{k: r[k] for k in ("accounts", "calls", "first", "last")}})
    if "network_info" in store.backend.list_tables():
        n = store.table("network_info").select("ip", "prefix")
        j = c.join(n, "ip")
        pre = j.group_by("prefix").aggregate(accounts=j.account_id.nunique(), calls=j.count(), first=j.ts.min(),
                                             last=j.ts.max())
        for r in pre.filter(pre.accounts >= min_accounts).order_by([ibis.desc("accounts"), "prefix"]).to_pyarrow().to_pylist():
            rows.append({"kind": "prefix", "value": r["prefix"], **{k: r[k] for k in ("accounts", "calls", "first", "last")}})
    return rows


def link_indicators(store, m: ibis.Table, min_accounts: int = 2, min_member_share: float = 0.5) -> list[dict]:
    """kind (domain | url), value, accounts, posts, first, last: links the campaign pushed."""
    posts = store.table("posts")
    social = m.filter(m.platform != "llm-api").select("actor")
    p = posts.mutate(actor=posts.platform.concat(":", posts.account_id)).filter(posts.urls.length() > 0)
    p = p.mutate(url=p.urls.unnest())
    p = p.mutate(domain=p.url.re_extract(r"^[a-z]+://([^/:?#]+)", 1).lower())
    p = p.left_join(social.mutate(member=ibis.literal(True)), "actor").select(p, member=social.mutate(
        member=ibis.literal(True)).member.fill_null(False))
    rows = []
    for kind in ("domain", "url"):
        g = p.group_by(kind).aggregate(accounts=p.actor.nunique(where=p.member), posts=p.count(where=p.member),
                                       all_posts=p.count(), first=p.ts.min(where=p.member), last=p.ts.max(where=p.member))
        g = g.filter((g.accounts >= min_accounts) & (g.posts >= g.all_posts * min_member_share) & (g[kind] != ""))
        for r in g.order_by([ibis.desc("accounts"), kind]).limit(200).to_pyarrow().to_pylist():
            rows.append({"kind": kind, "value": r[kind], **{k: r[k] for k in ("accounts", "posts", "first", "last")}})
    return rows
