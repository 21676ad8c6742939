"""Analyst decisions on campaigns, kept append-only in the store's ``decisions`` table.

A decision names the campaign of the current detection run and keeps a snapshot of its flagged
members (cluster numbers change from run to run; the snapshot is what was confirmed). Nothing is
ever updated or deleted: a later decision on the same campaign supersedes an earlier one when
reading (``current_decisions``), and the history stays."""

from __future__ import annotations

import datetime as dt
import uuid

import ibis
import pyarrow as pa

DECISIONS = pa.schema([("decision_id", pa.string()), ("ts", pa.timestamp("us", tz="UTC")),
                       ("campaign_id", pa.int64()), ("decision", pa.string()), ("analyst", pa.string()),
                       ("note", pa.string()), ("members", pa.list_(pa.string()))])
CHOICES = ("confirm", "dismiss")


class DecisionError(ValueError):
    """An unknown decision, a missing analyst id, or a campaign that does not exist."""


def record_decision(store, campaign_id: int, decision: str, analyst: str, note: str = "") -> dict:
    if decision not in CHOICES:
        raise DecisionError(f"decision must be one of {', '.join(CHOICES)}, got {decision!r}")
    if not analyst.strip():
        raise DecisionError("an analyst id is required (who decided)")
    if "campaign_members" not in store.backend.list_tables():
        raise DecisionError("the store has no campaigns: run `chorusline detect` first")
    m = store.table("campaign_members")
    cluster = m.filter(m.campaign_id == campaign_id)
    members = cluster.filter(cluster.flagged).actor.execute().tolist()
    if not members and decision == "dismiss":  # a cluster below the thresholds can be dismissed too
        members = cluster.actor.execute().tolist()
    if not members:
        raise DecisionError(f"no campaign {campaign_id} with flagged members in the last detection run")
    row = {"decision_id": uuid.uuid4().hex, "ts": dt.datetime.now(dt.UTC), "campaign_id": campaign_id,
           "decision": decision, "analyst": analyst.strip(), "note": note, "members": sorted(members)}
    table = pa.Table.from_pylist([row], schema=DECISIONS)
    if "decisions" in store.backend.list_tables():
        store.backend.insert("decisions", table)
    else:
        store.backend.create_table("decisions", table)
    return row


def current_decisions(store) -> ibis.Table:
    """The latest decision per campaign (the full history stays in ``decisions``)."""
    if "decisions" not in store.backend.list_tables():
        return ibis.memtable(DECISIONS.empty_table())
    d = store.table("decisions")
    latest = ibis.row_number().over(group_by=d.campaign_id, order_by=[ibis.desc(d.ts), ibis.desc(d.decision_id)])
    return d.mutate(_r=latest).filter(lambda t: t._r == 0).drop("_r")


def confirmed_members(store) -> ibis.Table:
    """campaign_id, actor: the members of every currently confirmed campaign (from the snapshots)."""
    d = current_decisions(store)
    d = d.filter(d.decision == "confirm")
    return d.select("campaign_id", actor=d.members.unnest())
