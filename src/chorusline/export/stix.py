"""A STIX 2.1 bundle of detected campaigns, in the conventions of threat-intelligence sharing.

Per campaign: a ``campaign`` (first/last seen, the evidence summary as description); the DISARM
techniques it shows as ``attack-pattern`` objects that reuse DISARM's own STIX ids and
``external_id``s (so partners' DISARM bundles deduplicate them) linked by ``uses``; indicators with
STIX patterns for its shared infrastructure (IPs, /24 and /48 prefixes used by at least two of its
API accounts) and for the domains and URLs its personas pushed (at least two members, mostly
members), each ``indicates`` the campaign; ``user-account`` observables for its flagged accounts
inside one ``observed-data`` (first/last observed, number of actions); a ``sighting`` per
indicator with its count and time span; an optional ``threat-actor`` when the analyst asserts one
(``attributed-to``); and a ``report`` tying it together. Everything is created by one producer
``identity`` and carries a TLP marking (default TLP:AMBER)."""

from __future__ import annotations

import datetime as dt
import ipaddress

import stix2

from chorusline.campaigns.disarm import techniques
from chorusline.campaigns.explain import explain
from chorusline.export.shared import (ExportError, campaigns_to_export, infrastructure_indicators, link_indicators,
                                      members_to_export)
from chorusline.progress import stage

TLP = {"clear": stix2.TLP_WHITE, "white": stix2.TLP_WHITE, "green": stix2.TLP_GREEN, "amber": stix2.TLP_AMBER,
       "red": stix2.TLP_RED}
DISARM_KILL_CHAIN = "mitre-attack"  # what DISARM's own STIX bundle uses for its tactics


def _pattern_for_ip(value: str) -> str:
    kind = "ipv6-addr" if ":" in value else "ipv4-addr"
    if "/" in value:
        return f"[{kind}:value ISSUBSET '{value}']"
    return f"[{kind}:value = '{value}']"


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _pattern(row: dict) -> str:
    if row["kind"] in ("ip", "prefix"):
        return _pattern_for_ip(str(ipaddress.ip_network(row["value"], strict=False)) if row["kind"] == "prefix"
                               else row["value"])
    if row["kind"] == "domain":
        return f"[domain-name:value = '{_quote(row['value'])}']"
    return f"[url:value = '{_quote(row['value'])}']"


def campaign_objects(store, campaign_id: int, producer, marking, threat_actor: str | None = None) -> list:
    m = members_to_export(store, campaign_id)
    x = explain(store, campaign_id)
    c = x["campaign"]
    days = [d["day"] for d in x["timeline"]]
    first = dt.datetime.fromisoformat(days[0]).replace(tzinfo=dt.UTC) if days else None
    last = dt.datetime.fromisoformat(days[-1]).replace(tzinfo=dt.UTC) + dt.timedelta(days=1) if days else None
    common = {"created_by_ref": producer.id, "object_marking_refs": [marking.id]}
    summary = (f"{c['flagged']} accounts ({c['api_accounts']} LLM API accounts, {c['social_accounts']} social accounts), "
               f"score {c['score']:.2f}, {c['verdict']}. Tied by: " + ", ".join(f"{s['signal']} ({s['edges']} pairs)" for s in x["signals"][:6])
               + ".")
    if x["clock"]["operator_offset"] is not None:
        summary += f" Operator clock UTC{x['clock']['operator_offset']:+.0f}."
    campaign = stix2.Campaign(name=f"chorusline campaign {campaign_id}", description=summary, first_seen=first,
                              last_seen=last, **common)
    objects = [campaign]
    known = techniques()
    for d in x["disarm"]:
        t = known[d["external_id"]]
        pattern = stix2.AttackPattern(
            id=t["stix_id"], name=t["name"], created=t["created"], modified=t["modified"],
            external_references=[{"source_name": "DISARM", "external_id": t["external_id"], "url": t["url"]}],
            kill_chain_phases=[{"kill_chain_name": t["kill_chain_name"] or DISARM_KILL_CHAIN, "phase_name": p}
                               for p in t["tactics"]],
            allow_custom=False)
        objects += [pattern, stix2.Relationship(campaign, "uses", pattern, description=d["evidence"], **common)]
    accounts = m.select("actor").to_pyarrow()["actor"].to_pylist()
    observables = [stix2.UserAccount(user_id=a.split(":", 1)[1], account_type=a.split(":", 1)[0],
                                     account_login=a.split(":", 1)[1]) for a in sorted(accounts)]
    actions = sum(d["posts"] + d["calls"] for d in x["timeline"])
    observed = stix2.ObservedData(first_observed=first, last_observed=last, number_observed=max(actions, 1),
                                  object_refs=[o.id for o in observables], **common)
    objects += observables + [observed]
    for row in infrastructure_indicators(store, m) + link_indicators(store, m):
        seen_first, seen_last = row["first"], row["last"]
        indicator = stix2.Indicator(
            name=f"{row['kind']} {row['value']} ({row['accounts']} accounts of campaign {campaign_id})",
            description=f"Shared by {row['accounts']} accounts of chorusline campaign {campaign_id}.",
            pattern=_pattern(row), pattern_type="stix", valid_from=seen_first, indicator_types=["malicious-activity"],
            **common)
        count = row.get("calls", row.get("posts", 1))
        sighting = stix2.Sighting(sighting_of_ref=indicator.id, count=count, first_seen=seen_first,
                                  last_seen=max(seen_last, seen_first + dt.timedelta(seconds=1)),
                                  observed_data_refs=[observed.id], where_sighted_refs=[producer.id], **common)
        objects += [indicator, stix2.Relationship(indicator, "indicates", campaign, **common), sighting]
    if threat_actor:
        actor = stix2.ThreatActor(name=threat_actor, threat_actor_types=["nation-state"], **common)
        objects += [actor, stix2.Relationship(campaign, "attributed-to", actor, **common)]
    return objects


@stage("export: STIX bundle")
def stix_bundle(store, campaign_ids: list[int] | None = None, producer_name: str = "chorusline",
                tlp: str = "amber", threat_actor: str | None = None) -> stix2.Bundle:
    if tlp not in TLP:
        raise ExportError(f"unknown TLP {tlp!r}; one of {', '.join(TLP)}")
    campaign_ids = campaigns_to_export(store, campaign_ids)
    marking = TLP[tlp]
    producer = stix2.Identity(name=producer_name, identity_class="organization",
                              object_marking_refs=[marking.id])
    objects = [producer, marking]
    for cid in campaign_ids:
        objects += campaign_objects(store, cid, producer, marking, threat_actor)
    refs = [o.id for o in objects if o.type not in ("marking-definition", "identity")]
    report = stix2.Report(name=f"chorusline: {len(campaign_ids)} coordinated campaign(s)",
                          report_types=["campaign", "threat-actor" if threat_actor else "attack-pattern"],
                          published=dt.datetime.now(dt.UTC), object_refs=refs, created_by_ref=producer.id,
                          object_marking_refs=[marking.id])
    unique = {o.id: o for o in objects + [report]}  # one attack-pattern per technique across campaigns
    return stix2.Bundle(objects=list(unique.values()), allow_custom=False)


def write_stix(bundle: stix2.Bundle, path) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write(bundle.serialize(pretty=True))


