"""The REST API and the pages on the detected smoke store: one schema with the CLI's --json,
decisions with reasons, the enforcement list in full, the watchlist, exports, filters."""

from __future__ import annotations

import csv
import io
import json

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from web_support import page_csrf, signed_in, store_copy

ACTOR = "x:1876603769898202600"  # a flagged persona of the smoke scenario's campaign 0


@pytest.fixture(scope="module")
def web(request, tmp_path_factory):
    from chorusline.web.app import create_app

    db, tokens = store_copy(request, tmp_path_factory.mktemp("web-api"))
    app = create_app(db)

    def as_user(name: str) -> TestClient:
        return TestClient(app, base_url="https://testserver", headers={"Authorization": f"Bearer {tokens[name]}"})

    return app, db, as_user


def cli_json(db: str, *args: str):
    from chorusline.cli import app

    answer = CliRunner().invoke(app, [*args, "--db", db, "--json"])
    assert answer.exit_code == 0, answer.output
    return json.loads(answer.stdout)


def unordered(value):
    """Lists as sorted lists: the explanation breaks ties between equal counts in no fixed order."""
    if isinstance(value, dict):
        return {k: unordered(v) for k, v in value.items()}
    if isinstance(value, list):
        return sorted((unordered(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return value


def test_campaigns_share_the_cli_schema(web):
    app, db, as_user = web
    vic = as_user("vic")
    listed = vic.get("/api/v1/campaigns")
    assert listed.status_code == 200 and listed.headers["cache-control"] == "no-store"
    with app.state.web.lock:  # the CLI opens the same file: let no request use it meanwhile
        assert listed.json() == cli_json(db, "campaigns")
    one = vic.get("/api/v1/campaigns/0").json()
    with app.state.web.lock:
        assert unordered(one) == unordered(cli_json(db, "campaigns", "--campaign", "0"))
    assert vic.get("/api/v1/campaigns/999").status_code == 404
    assert "999" in vic.get("/api/v1/campaigns/999").json()["detail"]


def test_openapi_document_lists_the_api(web):
    _, _, as_user = web
    doc = as_user("vic").get("/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    for path in ("/api/v1/campaigns", "/api/v1/campaigns/{campaign_id}/decisions", "/api/v1/enforcement",
                 "/api/v1/watchlist/matches", "/api/v1/accounts/{actor}"):
        assert path in doc["paths"]
    assert not any(p.startswith(("/taxii2", "/campaigns", "/login")) for p in doc["paths"])


def test_members_page_through_the_campaign(web):
    _, _, as_user = web
    vic = as_user("vic")
    first = vic.get("/api/v1/campaigns/0/members", params={"limit": 10}).json()
    rest = vic.get("/api/v1/campaigns/0/members", params={"offset": 10, "limit": 5000}).json()
    actors = [r["actor"] for r in first["rows"] + rest["rows"]]
    assert first["total"] == len(actors) == len(set(actors))
    sizes = {c["campaign_id"]: c["size"] for c in vic.get("/api/v1/campaigns").json()}
    assert first["total"] == sizes[0]
    assert [r["flagged"] for r in first["rows"]] == sorted([r["flagged"] for r in first["rows"]], reverse=True)


def test_network_filters_by_family_weight_and_role(web):
    _, _, as_user = web
    vic = as_user("vic")
    everything = vic.get("/api/v1/campaigns/0/network").json()
    assert everything["edges"] and len(everything["families_present"]) > 1
    family = everything["families_present"][0]
    one = vic.get("/api/v1/campaigns/0/network", params={"family": family}).json()
    assert 0 < one["edges_total"] < everything["edges_total"]
    assert all(family in e["families"] for e in one["edges"])
    heavy = vic.get("/api/v1/campaigns/0/network", params={"min_weight": 1.0}).json()
    assert 0 < heavy["edges_total"] < everything["edges_total"] and all(e["weight"] >= 1.0 for e in heavy["edges"])
    api_only = vic.get("/api/v1/campaigns/0/network", params={"role": "api"}).json()
    assert api_only["nodes"] and all(n["platform"] == "llm-api" for n in api_only["nodes"])
    ids = {n["actor"] for n in api_only["nodes"]}
    assert all(e["source"] in ids and e["target"] in ids for e in api_only["edges"])
    capped = vic.get("/api/v1/campaigns/0/network", params={"max_edges": 3}).json()
    assert len(capped["edges"]) == 3 and capped["truncated"]
    assert vic.get("/api/v1/campaigns/0/network", params={"role": "boss"}).status_code == 422


def test_account_has_posts_calls_ties_and_time_line(web):
    _, _, as_user = web
    vic = as_user("vic")
    a = vic.get(f"/api/v1/accounts/{ACTOR}").json()
    assert a["posts"] and a["ties"] and a["timeline"] and a["campaigns"][0]["campaign_id"] == 0
    assert sum(d["posts"] for d in a["timeline"]) >= len(a["posts"])
    assert {"other", "signal", "weight", "evidence"} <= set(a["ties"][0])
    api_actor = "llm-api:acct_2a2a107dd85b85df"
    assert vic.get(f"/api/v1/accounts/{api_actor}").json()["calls"]
    assert vic.get("/api/v1/accounts/x:nobody-at-all").status_code == 404


def test_decisions_need_a_reason_and_feed_the_enforcement_list(web):
    app, db, as_user = web
    ana, vic = as_user("ana"), as_user("vic")
    assert ana.post("/api/v1/campaigns/0/decisions", json={"decision": "confirm", "reason": ""}).status_code == 422
    assert ana.post("/api/v1/campaigns/0/decisions", json={"decision": "confirm"}).status_code == 422
    assert ana.post("/api/v1/campaigns/0/decisions", json={"decision": "ban", "reason": "x"}).status_code == 422
    assert ana.post("/api/v1/campaigns/999/decisions", json={"decision": "confirm", "reason": "x"}).status_code == 422
    assert vic.get("/api/v1/enforcement").json()["total"] == 0
    made = ana.post("/api/v1/campaigns/0/decisions",
                    json={"decision": "confirm", "reason": "one operator, shared template"})
    assert made.status_code == 201
    row = made.json()
    assert row["analyst"] == "ana" and row["note"] == "one operator, shared template" and ACTOR in row["members"]
    listed = vic.get("/api/v1/enforcement").json()
    assert listed["total"] == len(row["members"]) and {r["campaign_id"] for r in listed["rows"]} == {0}
    page = vic.get("/api/v1/enforcement", params={"offset": 1, "limit": 1}).json()
    assert page["rows"] == listed["rows"][1:2]
    download = vic.get("/api/v1/enforcement.csv")
    assert download.headers["content-disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert len(rows) == listed["total"] and {"platform", "account_id", "reasons"} <= set(rows[0])
    history = vic.get("/api/v1/decisions").json()
    assert history[0]["analyst"] == "ana" and history[0]["note"] == "one operator, shared template"
    assert history[0]["target"] == "campaign" and history[0]["members"] == len(row["members"])
    audit = as_user("adam").get("/api/v1/audit").json()
    assert any(r["action"] == "decision.confirm" and r["target"] == "campaign 0" and r["actor"] == "ana" for r in audit)

    # one account dismissed leaves the list; the campaign stays confirmed
    dismissed = ana.post(f"/api/v1/accounts/{ACTOR}/decisions", json={"decision": "dismiss", "reason": "a real person"})
    assert dismissed.status_code == 201 and dismissed.json()["campaign_id"] == 0
    after = vic.get("/api/v1/enforcement").json()
    assert after["total"] == listed["total"] - 1
    assert ACTOR not in {f"{r['platform']}:{r['account_id']}" for r in after["rows"]}
    members = vic.get("/api/v1/campaigns/0/members").json()["rows"]
    assert next(m for m in members if m["actor"] == ACTOR)["account_decision"] == "dismiss"
    nobody = ana.post("/api/v1/accounts/x:nobody/decisions", json={"decision": "dismiss", "reason": "x"})
    assert nobody.status_code == 422

    # needs-more parks the campaign: off the list until confirmed again; the CLI reads the same table
    assert ana.post("/api/v1/campaigns/0/decisions", json={"decision": "needs-more", "reason": "ask platform"}
                    ).status_code == 201
    assert vic.get("/api/v1/enforcement").json()["total"] == 0
    from chorusline.cli import app as cli

    with app.state.web.lock:  # in one process DuckDB shares the open database with the CLI's connection
        answer = CliRunner().invoke(cli, ["decide", "confirm", "--campaign", "0", "--analyst", "cli", "--db", db])
        assert answer.exit_code == 0, answer.output
    assert vic.get("/api/v1/enforcement").json()["total"] == after["total"]


def test_watchlist_matches_after_a_rebuild(web):
    _, _, as_user = web
    ana, vic = as_user("ana"), as_user("vic")
    if vic.get("/api/v1/enforcement").json()["total"] == 0:
        ana.post("/api/v1/campaigns/0/decisions", json={"decision": "confirm", "reason": "tied by a template"})
    assert vic.post("/api/v1/watchlist").status_code == 403
    built = ana.post("/api/v1/watchlist")
    assert built.status_code == 201 and built.json()["fingerprints"] > 0
    matches = vic.get("/api/v1/watchlist/matches", params={"top": 5}).json()
    assert 0 < len(matches) <= 5 and {"actor", "campaign_id", "score", "evidence"} <= set(matches[0])
    assert [m["score"] for m in matches] == sorted((m["score"] for m in matches), reverse=True)


def test_exports_per_campaign(web):
    import networkx as nx
    import stix2

    _, _, as_user = web
    vic = as_user("vic")
    stix = vic.get("/api/v1/campaigns/0/export/stix", params={"tlp": "green"})
    assert stix.status_code == 200 and "attachment" in stix.headers["content-disposition"]
    bundle = stix2.parse(stix.text, allow_custom=False)
    kinds = {o.type for o in bundle.objects}
    assert {"campaign", "identity", "report", "user-account"} <= kinds
    assert any(o.type == "marking-definition" and o.id == stix2.TLP_GREEN.id for o in bundle.objects)
    misp = vic.get("/api/v1/campaigns/0/export/misp").json()
    assert misp["info"] and (misp.get("Attribute") or misp.get("Object"))
    indicators = list(csv.DictReader(io.StringIO(vic.get("/api/v1/campaigns/0/export/indicators").text)))
    assert any(r["indicator_value"] == ACTOR.split(":", 1)[1] for r in indicators)
    graph = nx.read_gexf(io.BytesIO(vic.get("/api/v1/campaigns/0/export/gexf").content))
    assert ACTOR in graph.nodes
    assert vic.get("/api/v1/campaigns/0/export/pdf").status_code == 422
    assert vic.get("/api/v1/campaigns/1/export/stix").status_code == 409  # no flagged member to export


def test_pages_filter_and_show_the_evidence(web):
    app, _, _ = web
    vic = signed_in(TestClient(app, base_url="https://testserver"), "vic")
    everything = vic.get("/campaigns").text
    assert "campaign 0" in everything and "campaign 2" in everything
    reported = vic.get("/campaigns", params={"reported": "true"}).text
    assert "campaign 0" in reported and ">campaign 2<" not in reported
    tiers = vic.get("/campaigns", params={"tier": "inauthentic"}).text
    assert ">campaign 2<" not in tiers
    page = vic.get("/campaigns/0").text
    for part in ('id="network-filters"', 'name="family"', 'id="min-weight"', 'id="role"', 'id="search"',
                 "/api/v1/campaigns/0/export/stix", "DISARM", f"/accounts/{ACTOR}"):
        assert part in page
    assert 'id="decide-form"' not in page  # a viewer reads only
    account = vic.get(f"/accounts/{ACTOR}").text
    assert 'id="ties"' in account and 'id="posts"' in account and "<svg" in account
    enforcement = vic.get("/enforcement", params={"per_page": 10}).text
    assert "enforcement.csv" in enforcement


def test_analyst_decides_through_the_page(web):
    app, _, _ = web
    ana = signed_in(TestClient(app, base_url="https://testserver"), "ana")
    assert 'id="decide-form"' in ana.get("/campaigns/2").text
    csrf = page_csrf(ana, "/campaigns/2")
    empty = ana.post("/campaigns/2/decide", data={"decision": "dismiss", "reason": " ", "csrf_token": csrf})
    assert empty.status_code == 422 and "reason is required" in empty.text
    done = ana.post("/campaigns/2/decide", data={"decision": "dismiss", "reason": "news audience", "csrf_token": csrf},
                    follow_redirects=False)
    assert done.status_code == 303
    assert "news audience" in ana.get("/decisions").text
    assert "dismiss" in ana.get("/campaigns", params={"status": "dismiss"}).text


def test_campaign_page_shows_the_reports_sections_and_charts(web):
    from markupsafe import escape

    from chorusline.export.report import SECTION_TITLES
    from chorusline.web.report_view import SECTIONS

    app, _, as_user = web
    vic = signed_in(TestClient(app, base_url="https://testserver"), "vic")
    page = vic.get("/campaigns/0").text
    for name in SECTIONS:
        assert f'<h2 id="report-{name}-title">{escape(SECTION_TITLES[name])}</h2>' in page
    assert "id='chart-clock-0'" in page and "id='chart-timeline-0'" in page and "id='chart-network-0'" not in page
    assert "/static/report/plotly.min.js" in page and "/static/report/render.js" in page
    assert " style=" not in page  # the CSP refuses style attributes but two fixed ones plotly.js writes
    below = vic.get("/campaigns/1").text  # no flagged member: no report sections, and says why
    assert "No report sections" in below and "/static/report/plotly.min.js" not in below

    anyone = TestClient(app, base_url="https://testserver")  # public, like the rest of /static/
    plotly = anyone.get("/static/report/plotly.min.js", headers={"Accept-Encoding": "gzip"})
    assert plotly.status_code == 200 and plotly.headers["content-encoding"] == "gzip"
    assert plotly.headers["content-type"].startswith("text/javascript")
    assert b"plotly.js (cartesian" in plotly.content[:200]  # the client unpacked it
    plain = anyone.get("/static/report/plotly.min.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == plotly.content
    render = anyone.get("/static/report/render.js")
    assert render.headers["content-type"].startswith("text/javascript") and b"data-height" in render.content
    css = anyone.get("/static/report/report.css")
    assert css.headers["content-type"].startswith("text/css") and ".report .chart{" in css.text
    assert "\nbody{" not in css.text and "{box-sizing" in css.text  # every rule under .report
