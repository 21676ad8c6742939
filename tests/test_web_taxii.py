"""TAXII 2.1 at /taxii2/ read by a real client (taxii2-client) from a uvicorn server on loopback:
discovery, the API root, a collection per TLP level, confirmed campaigns only, added_after,
paging, the media types, credentials."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import requests
from taxii2client.exceptions import TAXIIServiceException
from taxii2client.v21 import ApiRoot, Server, as_pages

from web_support import running, store_copy

TAXII = "application/taxii+json;version=2.1"


class Bearer(requests.auth.AuthBase):
    def __init__(self, token: str):
        self.token = token

    def __call__(self, r):
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


@pytest.fixture(scope="module")
def served(request, tmp_path_factory):
    from chorusline.web.app import create_app

    db, tokens = store_copy(request, tmp_path_factory.mktemp("web-taxii"))
    app = create_app(db)
    with running(app) as base:
        yield app, base, tokens


def confirm(app, campaign_id: int, tlp: str, who: str = "ana") -> dict:
    from chorusline import api

    with app.state.web.using_store() as store:
        row = api.decide(store, "confirm", who, "shared with partners", campaign_id=campaign_id)
    app.state.users.set_tlp(row["decision_id"], campaign_id, tlp, who)
    return row


def collections_by_title(root: ApiRoot) -> dict:
    return {c.title.rsplit(":", 1)[1].lower(): c for c in root.collections}


def test_discovery_root_and_a_collection_per_tlp(served):
    _, base, tokens = served
    server = Server(f"{base}/taxii2/", user="pat", password=tokens["pat"])  # Basic: user name and API token
    assert server.title == "chorusline"
    root = server.default
    assert root.url == f"{base}/taxii2/api/" and TAXII in root.versions
    by_tlp = collections_by_title(root)
    assert set(by_tlp) == {"clear", "green", "amber"}  # a partner reads up to amber by default
    assert all(c.can_read and not c.can_write for c in by_tlp.values())
    assert by_tlp["amber"].get_objects().get("objects") is None  # nothing confirmed yet


def test_confirmed_campaigns_in_their_collection_with_added_after_and_paging(served):
    app, base, tokens = served
    root = ApiRoot(f"{base}/taxii2/api/", auth=Bearer(tokens["pat"]))
    by_tlp = collections_by_title(root)
    row = confirm(app, 0, "green")
    green = by_tlp["green"].get_objects()
    objects = green["objects"]
    kinds = {o["type"] for o in objects}
    assert {"campaign", "identity", "marking-definition", "report", "user-account"} <= kinds
    assert any(o["type"] == "user-account" and o["user_id"] == "1876603769898202600" for o in objects)
    assert by_tlp["amber"].get_objects().get("objects") is None  # a campaign is shared at one level
    assert not green["more"]

    # paging: limit and the next cursor walk the same objects once each, in date_added order
    pages = list(as_pages(by_tlp["green"].get_objects, per_request=7))
    assert len(pages) == -(-len(objects) // 7)
    walked = [o["id"] for p in pages for o in p.get("objects", [])]
    assert walked == [o["id"] for o in objects] and len(set(walked)) == len(walked)
    manifest = by_tlp["green"].get_manifest()
    assert [m["id"] for m in manifest["objects"]] == walked
    assert all(m["media_type"] == "application/stix+json;version=2.1" for m in manifest["objects"])

    # added_after: only what was confirmed since
    confirmed_at = row["ts"]
    assert by_tlp["green"].get_objects(added_after=confirmed_at - dt.timedelta(seconds=1))["objects"]
    assert by_tlp["green"].get_objects(added_after=confirmed_at + dt.timedelta(seconds=1)).get("objects") is None
    campaign = next(o for o in objects if o["type"] == "campaign")
    one = by_tlp["green"].get_object(campaign["id"])
    assert one["objects"] == [campaign]
    typed = by_tlp["green"].get_objects(type="campaign")["objects"]
    assert [o["id"] for o in typed] == [campaign["id"]]

    # a dismissal takes it out again
    from chorusline import api

    time.sleep(0.01)
    with app.state.web.using_store() as store:
        api.decide(store, "dismiss", "ana", "false positive", campaign_id=0)
    assert by_tlp["green"].get_objects().get("objects") is None


def test_media_types_and_errors(served):
    _, base, tokens = served
    auth = {"Authorization": f"Bearer {tokens['pat']}"}
    answer = requests.get(f"{base}/taxii2/", headers={**auth, "Accept": TAXII}, timeout=10)
    assert answer.status_code == 200 and answer.headers["content-type"] == TAXII
    assert answer.headers["cache-control"] == "no-store"
    assert requests.get(f"{base}/taxii2/", headers={**auth, "Accept": "text/csv"}, timeout=10).status_code == 406
    missing = requests.get(f"{base}/taxii2/api/collections/nope/objects/", headers={**auth, "Accept": TAXII},
                           timeout=10)
    assert missing.status_code == 404 and missing.json()["http_status"] == "404"
    assert missing.headers["content-type"] == TAXII
    anonymous = requests.get(f"{base}/taxii2/", headers={"Accept": TAXII}, timeout=10)
    assert anonymous.status_code == 401 and anonymous.headers["content-type"] == TAXII
    with pytest.raises((TAXIIServiceException, requests.HTTPError)):
        Server(f"{base}/taxii2/", user="pat", password="not-the-token").title


def test_partner_reads_taxii_only(served):
    _, base, tokens = served
    auth = {"Authorization": f"Bearer {tokens['pat']}", "Accept": "application/json"}
    assert requests.get(f"{base}/api/v1/campaigns", headers=auth, timeout=10).status_code == 403
    assert requests.get(f"{base}/campaigns", headers=auth, timeout=10).status_code == 403
    viewer = {"Authorization": f"Bearer {tokens['vic']}", "Accept": TAXII}
    assert requests.get(f"{base}/taxii2/api/collections/", headers=viewer, timeout=10).status_code == 200


def test_a_partner_reads_up_to_its_tlp_ceiling(served):
    from chorusline.web.taxii import COLLECTIONS

    app, base, tokens = served
    token = app.state.users.add_user("green-only", "partner", None, by="test", tlp="green")
    root = ApiRoot(f"{base}/taxii2/api/", auth=Bearer(token))
    assert set(collections_by_title(root)) == {"clear", "green"}
    amber = next(cid for cid, tlp in COLLECTIONS.items() if tlp == "amber")
    hidden = requests.get(f"{base}/taxii2/api/collections/{amber}/objects/",
                          headers={"Authorization": f"Bearer {token}", "Accept": TAXII}, timeout=10)
    assert hidden.status_code == 404
    staff = ApiRoot(f"{base}/taxii2/api/", auth=Bearer(tokens["vic"]))
    assert set(collections_by_title(staff)) == {"clear", "green", "amber", "red"}
