"""Analyst decisions on campaigns, kept append-only in the store's ``decisions`` table.

A decision names the campaign of the current detection run and keeps a snapshot of its flagged
members (cluster numbers change from run to run; the snapshot is what was confirmed). Nothing is
ever updated or deleted: a later decision on the same campaign supersedes an earlier one when
reading (``current_decisions``), and the history stays.

``needs-more`` parks a campaign: it is recorded like the others and, being the latest decision,
takes the campaign out of the confirmed set until someone confirms it again. Decisions on single
accounts go to ``account_decisions`` (append-only too): an account whose latest decision is
``dismiss`` leaves the confirmed members (so the enforcement list and the watchlist), whatever its
campaign's decision; ``confirm`` and ``needs-more`` on an account are kept as the analyst's record."""

from __future__ import annotations

import datetime as dt
import uuid

import ibis
import pyarrow as pa

DECISIONS = pa.schema([("decision_id", pa.string()), ("ts", pa.timestamp("us", tz="UTC")),
                       ("campaign_id", pa.int64()), ("decision", pa.string()), ("analyst", pa.string()),
                       ("note", pa.string()), ("members", pa.list_(pa.string()))])
ACCOUNT_DECISIONS = pa.schema([("decision_id", pa.string()), ("ts", pa.timestamp("us", tz="UTC")),
                               ("actor", pa.string()), ("campaign_id", pa.int64()), ("decision", pa.string()),
                               ("analyst", pa.string()), ("note", pa.string())])
CHOICES = ("confirm", "dismiss", "needs-more")


class DecisionError(ValueError):
    """An unknown decision, a missing analyst id, or a campaign that does not exist."""


def _check(store, decision: str, analyst: str) -> None:
    if decision not in CHOICES:
        raise DecisionError(f"decision must be one of {', '.join(CHOICES)}, got {decision!r}")
    if not analyst.strip():
        raise DecisionError("an analyst id is required (who decided)")
    if "campaign_members" not in store.backend.list_tables():
        raise DecisionError("the store has no campaigns: run `chorusline detect` first")


def record_decision(store, campaign_id: int, decision: str, analyst: str, note: str = "") -> dict:
    _check(store, decision, analyst)
    m = store.table("campaign_members")
    cluster = m.filter(m.campaign_id == campaign_id)
    members = cluster.filter(cluster.flagged).actor.execute().tolist()
    if not members and decision != "confirm":  # a cluster below the thresholds can be dismissed or parked too
        members = cluster.actor.execute().tolist()
    if not members:
        raise DecisionError(f"no campaign {campaign_id} with flagged members in the last detection run")
    row = {"decision_id": uuid.uuid4().hex, "ts": dt.datetime.now(dt.UTC), "campaign_id": campaign_id,
           "decision": decision, "analyst": analyst.strip(), "note": note, "members": sorted(members)}
    _append(store, "decisions", pa.Table.from_pylist([row], schema=DECISIONS))
    return row


def _append(store, name: str, table: pa.Table) -> None:
    if name in store.backend.list_tables():
        store.backend.insert(name, table)
    else:
        store.backend.create_table(name, table)


def record_account_decision(store, actor: str, decision: str, analyst: str, note: str = "") -> dict:
    """One decision on one account (``platform:account_id``), with the campaign it belongs to in
    the last detection run (null when it is in none)."""
    _check(store, decision, analyst)
    m = store.table("campaign_members")
    found = m.filter(m.actor == actor).campaign_id.execute().tolist()
    if not found:
        raise DecisionError(f"account {actor!r} is in no campaign of the last detection run")
    row = {"decision_id": uuid.uuid4().hex, "ts": dt.datetime.now(dt.UTC), "actor": actor,
           "campaign_id": int(found[0]), "decision": decision, "analyst": analyst.strip(), "note": note}
    _append(store, "account_decisions", pa.Table.from_pylist([row], schema=ACCOUNT_DECISIONS))
    return row


def current_account_decisions(store) -> ibis.Table:
    """The latest decision per account (the full history stays in ``account_decisions``)."""
    return _latest(store, "account_decisions", ACCOUNT_DECISIONS, "actor")


def current_decisions(store) -> ibis.Table:
    """The latest decision per campaign (the full history stays in ``decisions``)."""
    return _latest(store, "decisions", DECISIONS, "campaign_id")


def _latest(store, name: str, schema: pa.Schema, key: str) -> ibis.Table:
    """The newest row per ``key`` of an append-only decisions table (empty when there is none)."""
    if name not in store.backend.list_tables():
        return ibis.memtable(schema.empty_table())
    d = store.table(name)
    latest = ibis.row_number().over(group_by=d[key], order_by=[ibis.desc(d.ts), ibis.desc(d.decision_id)])
    return d.mutate(_r=latest).filter(lambda t: t._r == 0).drop("_r")


def confirmed_members(store) -> ibis.Table:
    """campaign_id, actor: the members of every currently confirmed campaign (from the snapshots),
    less the accounts whose own latest decision is a dismissal."""
    d = current_decisions(store)
    d = d.filter(d.decision == "confirm")
    members = d.select("campaign_id", actor=d.members.unnest())
    if "account_decisions" not in store.backend.list_tables():
        return members
    a = current_account_decisions(store)
    return members.anti_join(a.filter(a.decision == "dismiss").select("actor"), "actor")
