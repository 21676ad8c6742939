"""provenance: an API output posted by personas links the API account to them and them to each
other; order, similarity and attribution to the closest output."""

import json

from chorusline.signals.provenance import provenance_edges, provenance_links
from conftest import add_calls, add_posts

OUT1 = "our veterans deserve better than empty promises from career politicians who never served a day"
OUT2 = "local farmers say the new trade rules will cost them dearly this harvest season across the state"


def test_outputs_link_api_accounts_to_the_personas_that_post_them(any_store):
    calls = add_calls(any_store, [
        {"call_id": "c1", "account_id": "op", "ts": 0, "output": OUT1},
        {"call_id": "c2", "account_id": "op", "ts": 10, "output": OUT2},
        {"call_id": "c3", "account_id": "other", "ts": 20, "output": OUT1.replace("veterans", "teachers")},
    ])
    posts = add_posts(any_store, [
        {"post_id": "p1", "account_id": "persona_a", "ts": 600, "text": OUT1 + " #truth"},
        {"post_id": "p2", "account_id": "persona_b", "ts": 900, "text": OUT1},
        {"post_id": "p3", "account_id": "persona_b", "ts": 1200, "text": OUT2},
        # posted before the call existed: not from it
        {"post_id": "p0", "account_id": "persona_c", "ts": -100, "text": OUT2},
        # a reply in other words entirely
        {"post_id": "p4", "account_id": "persona_d", "ts": 700, "text": "totally unrelated thoughts about football"},
    ])
    links = provenance_links(calls, posts).to_pandas().sort_values("post_id")
    # p1 and p2 are closest to c1 (c3 differs by one word), p3 comes from c2
    assert list(zip(links.post_id, links.call_id)) == [("p1", "c1"), ("p2", "c1"), ("p3", "c2")]
    assert list(links.lag) == [600, 900, 1190]
    edges = provenance_edges(calls, posts).to_pandas().set_index(["a_actor", "b_actor", "signal"])
    assert set(edges.index) == {("llm-api:op", "x:persona_a", "provenance"), ("llm-api:op", "x:persona_b", "provenance"),
                                ("x:persona_a", "x:persona_b", "provenance:shared_call")}
    assert edges.loc[("llm-api:op", "x:persona_b", "provenance"), "n_events"] == 2
    assert json.loads(edges.loc[("x:persona_a", "x:persona_b", "provenance:shared_call"), "evidence"]) == ["c1"]
