"""Exports: the STIX bundle parses with stix2 and every pattern validates, DISARM objects reuse
DISARM's own ids, the MISP event loads with PyMISP, GEXF/GraphML open with networkx, and what
cannot be exported says so and exits 2."""

import json

import networkx as nx
import pyarrow.csv as pcsv
import stix2
from pymisp import MISPEvent
from stix2patterns.validator import run_validator
from typer.testing import CliRunner

from chorusline.cli import app
from conftest import SHARED, needs_shared

run = CliRunner().invoke


def test_stix_bundle_round_trips_and_validates(smoke_run, tmp_path):
    _, db, _ = smoke_run
    out = run(app, ["export", "stix", "--db", db, "--out", str(tmp_path / "b.json"), "--threat-actor", "Example Actor"])
    assert out.exit_code == 0, out.output
    bundle = stix2.parse((tmp_path / "b.json").read_text(), allow_custom=False)
    kinds = {o.type for o in bundle.objects}
    assert {"identity", "campaign", "attack-pattern", "indicator", "relationship", "observed-data", "sighting",
            "report", "threat-actor", "marking-definition", "user-account"} <= kinds
    indicators = [o for o in bundle.objects if o.type == "indicator"]
    assert indicators and all(run_validator(o.pattern) == [] for o in indicators)
    amber = stix2.TLP_AMBER.id
    assert all(amber in o.object_marking_refs for o in bundle.objects
               if o.type not in ("marking-definition", "user-account", "attack-pattern"))  # DISARM's own objects
    report = next(o for o in bundle.objects if o.type == "report")
    ids = {o.id for o in bundle.objects}
    assert set(report.object_refs) <= ids
    patterns = {o.external_references[0].external_id: o.id for o in bundle.objects if o.type == "attack-pattern"}
    assert "T0085.001" in patterns and "T0128.002" in patterns
    sightings = [o for o in bundle.objects if o.type == "sighting"]
    assert all(s.count >= 1 and s.first_seen <= s.last_seen for s in sightings)


@needs_shared
def test_attack_patterns_reuse_disarm_stix_ids(smoke_run, tmp_path):
    _, db, _ = smoke_run
    assert run(app, ["export", "stix", "--db", db, "--out", str(tmp_path / "b.json")]).exit_code == 0
    official = {ref["external_id"]: o["id"] for o in json.loads((SHARED / "formats/disarm/DISARM.json").read_text())["objects"]
                if o["type"] == "attack-pattern" for ref in o["external_references"] if ref.get("external_id")}
    ours = {o["external_references"][0]["external_id"]: o["id"] for o in json.loads((tmp_path / "b.json").read_text())["objects"]
            if o["type"] == "attack-pattern"}
    assert ours and all(official[k] == v for k, v in ours.items())


def test_misp_event_loads_with_pymisp(smoke_run, tmp_path):
    _, db, _ = smoke_run
    assert run(app, ["export", "misp", "--db", db, "--out", str(tmp_path / "e.json")]).exit_code == 0
    event = MISPEvent()
    event.load_file(str(tmp_path / "e.json"))
    tags = {t.name for t in event.tags}
    assert "tlp:amber" in tags
    assert 'misp-galaxy:disarm-techniques="Develop AI-Generated Text"' in tags
    assert 'disarm:technique-v1.6="T0154.001"' in tags  # no v1.4 cluster: kept as its v1.6 id
    assert 'misp-galaxy:disarm-techniques="Create Personas"' in tags  # T0097.101 through the crosswalk
    assert {a.type for a in event.attributes} >= {"ip-dst"}
    assert event.objects and all(o.name == "user-account" for o in event.objects)


def test_indicators_and_graph_files(smoke_run, tmp_path):
    _, db, _ = smoke_run
    assert run(app, ["export", "indicators", "--db", db, "--out", str(tmp_path / "i.csv")]).exit_code == 0
    rows = pcsv.read_csv(tmp_path / "i.csv").to_pylist()
    assert list(rows[0]) == ["indicator_type", "indicator_value", "comment", "ds"]
    assert {"ip_address", "ip_range"} <= {r["indicator_type"] for r in rows}
    for fmt, read in (("gexf", nx.read_gexf), ("graphml", nx.read_graphml)):
        assert run(app, ["export", fmt, "--db", db, "--out", str(tmp_path / f"g.{fmt}")]).exit_code == 0
        g = read(tmp_path / f"g.{fmt}")
        assert g.number_of_nodes() >= 10 and g.number_of_edges() > 0
        node = next(iter(g.nodes(data=True)))[1]
        assert {"platform", "campaign", "member_score"} <= set(node)
    assert run(app, ["export", "tables", "--db", db, "--out", str(tmp_path / "t"), "--format", "csv"]).exit_code == 0
    assert (tmp_path / "t" / "campaign_members.csv").exists()


def test_nothing_to_export_is_a_clear_error(smoke_run, tmp_path):
    _, db, _ = smoke_run
    empty = str(tmp_path / "empty.duckdb")
    for verb in ("stix", "misp", "indicators", "gexf", "graphml", "tables"):
        out = run(app, ["export", verb, "--db", empty, "--out", str(tmp_path / f"x.{verb}")])
        assert out.exit_code == 2 and "error: " in out.output and "Traceback" not in out.output, (verb, out.output)
    unknown = run(app, ["export", "stix", "--db", db, "--campaign", "999", "--out", str(tmp_path / "x.json")])
    assert unknown.exit_code == 2 and "no campaign 999" in unknown.output
    tlp = run(app, ["export", "stix", "--db", db, "--tlp", "purple", "--out", str(tmp_path / "x.json")])
    assert tlp.exit_code == 2 and "'purple' is not one of" in tlp.output
