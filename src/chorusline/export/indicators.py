"""Indicators as the CSV layout of platform threat-research releases: indicator_type,
indicator_value, comment, ds (the day the indicator was last seen, YYYY-MM-DD)."""

from __future__ import annotations

import pyarrow as pa

from chorusline.campaigns.explain import CampaignNotFound, flagged_members
from chorusline.export.stix import ExportError, infrastructure_indicators, link_indicators

TYPES = {"ip": "ip_address", "prefix": "ip_range", "domain": "domain", "url": "url"}


def indicator_table(store, campaign_ids: list[int] | None = None) -> pa.Table:
    if "campaigns" not in set(store.backend.list_tables()):
        raise ExportError("the store has no campaigns: run `chorusline detect` first")
    if campaign_ids is None:
        camp = store.table("campaigns")
        campaign_ids = camp.filter(camp.above_threshold).campaign_id.execute().tolist()
        if not campaign_ids:
            raise ExportError("no campaign above the threshold to export")
    rows = []
    for cid in campaign_ids:
        try:
            m = flagged_members(store, int(cid))
        except CampaignNotFound as exc:
            raise ExportError(str(exc)) from None
        accounts = m.select("actor").to_pyarrow()["actor"].to_pylist()
        for actor in sorted(accounts):
            platform, account = actor.split(":", 1)
            rows.append({"indicator_type": f"{platform}_account_id", "indicator_value": account,
                         "comment": f"chorusline campaign {cid} member", "ds": None})
        for r in infrastructure_indicators(store, m) + link_indicators(store, m):
            rows.append({"indicator_type": TYPES[r["kind"]], "indicator_value": r["value"],
                         "comment": f"chorusline campaign {cid}: shared by {r['accounts']} accounts",
                         "ds": r["last"].strftime("%Y-%m-%d") if r["last"] else None})
    return pa.Table.from_pylist(rows, schema=pa.schema([("indicator_type", pa.string()), ("indicator_value", pa.string()),
                                                         ("comment", pa.string()), ("ds", pa.string())]))
