"""infrastructure: shared IPs, prefixes, hosting ASNs, clients, payment and mail, weighted by
rarity — with the false-positive traps (one company's colleagues, a VPN exit shared by many)."""

import json

from chorusline.enrich.network import enrich_store
from chorusline.schema import ACCOUNTS, LLM_CALLS
from conftest import add_rows
from chorusline.signals.infrastructure import InfrastructureParams, infrastructure_edges


def build(store):
    calls, accounts = [], []
    day = 86_400
    # the operation: three accounts behind DigitalOcean Singapore, one client build, one card
    for i, ip in enumerate(["103.253.147.10", "103.253.147.10", "103.253.147.77"]):
        calls.append({"call_id": f"op{i}", "account_id": f"op{i}", "ts": i * 3600, "ip": ip,
                      "client_fingerprint": "fp-rare", "user_agent": "OpenAI/Python 1.12.0"})
        accounts.append({"account_id": f"op{i}", "email_domain": "gmail.com", "payment_fingerprint": "card-9"})
    # a lab: 5 colleagues of one organisation behind one office IP
    for i in range(5):
        calls.append({"call_id": f"lab{i}", "account_id": f"lab{i}", "ts": i * 60, "ip": "8.8.8.8",
                      "client_fingerprint": f"fp-lab{i}", "user_agent": "OpenAI/Python 1.12.0"})
        accounts.append({"account_id": f"lab{i}", "org_id": "org-acme", "email_domain": "acme.com",
                         "payment_fingerprint": "card-acme"})
    # a VPN exit used by 60 ordinary people: more than max_accounts share it
    for i in range(60):
        calls.append({"call_id": f"u{i}", "account_id": f"u{i}", "ts": i * 600, "ip": "5.157.13.3",
                      "client_fingerprint": f"fp-u{i}", "user_agent": "OpenAI/Python 1.12.0"})
        accounts.append({"account_id": f"u{i}", "email_domain": "gmail.com", "payment_fingerprint": f"card-u{i}"})
    # two strangers on one IP, a month apart: outside the IP window
    calls.append({"call_id": "s1", "account_id": "s1", "ts": 0, "ip": "1.1.1.1", "client_fingerprint": "fp-s1"})
    calls.append({"call_id": "s2", "account_id": "s2", "ts": 30 * day, "ip": "1.1.1.1", "client_fingerprint": "fp-s2"})
    add_rows(store, LLM_CALLS, calls, "api")
    add_rows(store, ACCOUNTS, accounts, "api")
    enrich_store(store)


def test_shared_infrastructure_ties_the_operation_not_the_traps(any_store):
    build(any_store)
    edges = infrastructure_edges(any_store.table("llm_calls"), any_store.table("accounts"),
                                 any_store.table("network_info"), InfrastructureParams(max_accounts=50)).to_pandas()
    pairs = {(r.a_actor, r.b_actor) for r in edges.itertuples()}
    assert pairs == {("api:op0", "api:op1"), ("api:op0", "api:op2"), ("api:op1", "api:op2")}
    kinds = edges[(edges.a_actor == "api:op0") & (edges.b_actor == "api:op1")].set_index("signal")
    assert set(kinds.index) == {"infrastructure:ip", "infrastructure:prefix", "infrastructure:asn",
                                "infrastructure:client_fingerprint", "infrastructure:payment_fingerprint"}
    assert json.loads(kinds.loc["infrastructure:ip", "evidence"]) == ["103.253.147.10"]
    assert json.loads(kinds.loc["infrastructure:asn", "evidence"]) == ["14061"]
    # op0 and op2 share the /24 but not the IP
    assert "infrastructure:ip" not in set(edges[(edges.a_actor == "api:op0") & (edges.b_actor == "api:op2")].signal)
    # gmail.com is shared by 63 accounts and the SDK by 68: too common to pair anyone
    assert not edges.signal.isin(["infrastructure:email_domain", "infrastructure:user_agent"]).any()


def test_rarity_weights_common_keys_down(duck_store):
    build(duck_store)
    params = InfrastructureParams(max_accounts=1000)
    edges = infrastructure_edges(duck_store.table("llm_calls"), duck_store.table("accounts"),
                                 duck_store.table("network_info"), params).to_pandas()
    by = edges.set_index(["a_actor", "b_actor", "signal"]).weight
    rare = by[("api:op0", "api:op1", "infrastructure:client_fingerprint")]  # 3 accounts share it
    common = by[("api:u0", "api:u1", "infrastructure:ip")]  # 60 accounts share the VPN exit
    assert 0 < common < rare <= 1
    assert ("api:lab0", "api:lab1", "infrastructure:ip") not in by.index  # colleagues are not paired
