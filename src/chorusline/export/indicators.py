"""Indicators as the CSV layout of platform threat-research releases: indicator_type,
indicator_value, comment, ds (the day the indicator was last seen, YYYY-MM-DD)."""

from __future__ import annotations

import pyarrow as pa

from chorusline.export.shared import (campaigns_to_export, infrastructure_indicators, link_indicators,
                                      members_to_export)
from chorusline.progress import stage

TYPES = {"ip": "ip_address", "prefix": "ip_range", "domain": "domain", "url": "url"}


@stage("export: indicators")
def indicator_table(store, campaign_ids: list[int] | None = None) -> pa.Table:
    rows = []
    for cid in campaigns_to_export(store, campaign_ids):
        m = members_to_export(store, cid)
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
