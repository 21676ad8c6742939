"""A MISP event per export (PyMISP): the campaigns' indicators as attributes, their accounts as
``user-account`` objects, TLP and DISARM galaxy tags.

MISP's DISARM galaxy is v1.4; chorusline names techniques in v1.6. The crosswalk is explicit
(``V1_6_TO_V1_4``): a v1.6 id that exists in v1.4 maps to itself; the four our rules use that v1.4
lacks map to the v1.4 technique that covered them, and every technique is also tagged with its
v1.6 id (``disarm:technique-v1.6="T0154.001"``) so nothing is lost:
- T0097.101 Local Persona → T0097 Create Personas
- T0144.002 Persona Template → T0097 Create Personas
- T0150.001 Newly Created Asset → T0090 Create Inauthentic Accounts
- T0154.001 AI LLM Platform → (none in v1.4; the v1.6 tag only)"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files

from pymisp import MISPEvent, MISPObject

from chorusline.campaigns.explain import explain
from chorusline.export.shared import (campaigns_to_export, infrastructure_indicators, link_indicators,
                                      members_to_export)
from chorusline.progress import stage

V1_6_TO_V1_4 = {"T0097.101": "T0097", "T0144.002": "T0097", "T0150.001": "T0090", "T0154.001": None}
ATTRIBUTE_TYPES = {"ip": "ip-dst", "prefix": "ip-dst", "domain": "domain", "url": "url"}


@lru_cache(maxsize=1)
def galaxy_v1_4() -> dict:
    return json.loads(files("chorusline.campaigns").joinpath("data/misp_galaxy_disarm_v1_4.json").read_text())


def galaxy_tags(technique_id: str) -> list[str]:
    """The MISP tags for one v1.6 technique: the v1.4 galaxy cluster (if any) and the v1.6 id."""
    g = galaxy_v1_4()
    old = V1_6_TO_V1_4.get(technique_id, technique_id)
    tags = [f'disarm:technique-v1.6="{technique_id}"']
    if old is not None and old in g["values"]:
        tags.insert(0, f'misp-galaxy:{g["galaxy_type"]}="{g["values"][old]["value"]}"')
    return tags


@stage("export: MISP event")
def misp_event(store, campaign_ids: list[int] | None = None, tlp: str = "amber") -> MISPEvent:
    campaign_ids = campaigns_to_export(store, campaign_ids)
    event = MISPEvent()
    event.info = f"chorusline: {len(campaign_ids)} coordinated campaign(s)"
    event.distribution = 0  # your organisation only, until an analyst shares it
    event.threat_level_id = 2
    event.analysis = 1
    event.add_tag(f"tlp:{tlp}")
    for cid in campaign_ids:
        m = members_to_export(store, cid)
        x = explain(store, cid)
        for d in x["disarm"]:
            for tag in galaxy_tags(d["external_id"]):
                event.add_tag(tag)
        for row in infrastructure_indicators(store, m) + link_indicators(store, m):
            event.add_attribute(ATTRIBUTE_TYPES[row["kind"]], row["value"], to_ids=True,
                                comment=f"campaign {cid}: {row['accounts']} accounts",
                                first_seen=row["first"], last_seen=row["last"])
        for actor in sorted(m.select("actor").to_pyarrow()["actor"].to_pylist()):
            platform, account = actor.split(":", 1)
            obj = MISPObject("user-account", standalone=False)
            obj.add_attribute("username", account)
            obj.add_attribute("account-type", platform)
            obj.add_attribute("description", f"member of chorusline campaign {cid}")
            event.add_object(obj)
    return event


def write_misp(event: MISPEvent, path) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write(event.to_json(indent=1))
