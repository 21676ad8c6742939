"""infrastructure: API accounts that share how they reach the API — the same IP or /24 (/48)
prefix within a time window, the same rare hosting/VPN ASN, the same client fingerprint or
user-agent string, the same payment fingerprint or e-mail domain.

What is common is worth little: every shared key is weighted by how rare it is among all API
accounts (an inverse document frequency, 0..1), so a big cloud ASN, a popular SDK version or
gmail.com adds next to nothing, and keys shared by more than ``max_accounts`` accounts (a VPN exit
used by thousands, a carrier NAT) make no pairs at all — they are evidence of nothing and their
pairs would be quadratic. Accounts of one declared organisation (``accounts.org_id``) are not
paired: a lab of developers behind one office IP is one customer, not a hidden network.

One edge per (pair, kind): signal ``infrastructure:<kind>``, weight = summed rarity of the keys the
pair shares, n_events = shared keys, evidence = up to 10 of the keys."""

from __future__ import annotations

from dataclasses import dataclass

import ibis

KINDS = ("ip", "prefix", "asn", "client_fingerprint", "user_agent", "payment_fingerprint", "email_domain")


@dataclass(frozen=True)
class InfrastructureParams:
    ip_window: int = 7 * 86_400  # seconds: two accounts' use of one IP or prefix must come this close
    max_accounts: int = 50  # keys shared by more accounts make no pairs
    hosting_classes: tuple[str, ...] = ("hosting", "vpn", "proxy_public", "proxy_residential", "relay", "tor_exit")


def account_keys(calls: ibis.Table, accounts: ibis.Table | None, network: ibis.Table | None,
                 params: InfrastructureParams = InfrastructureParams()) -> ibis.Table:
    """actor, kind, key, first, last (UNIX seconds of the account's first and last use of the key)."""
    c = calls.mutate(actor=calls.platform.concat(":", calls.account_id), _t=calls.ts.epoch_seconds().cast("int64"))
    parts = []

    def use(table, kind, key):
        rows = table.filter(key.notnull() & (key != ""))
        rows = rows.mutate(_key=key)
        grouped = rows.group_by(["actor", "_key"]).aggregate(first=rows._t.min(), last=rows._t.max())
        parts.append(grouped.select("actor", kind=ibis.literal(kind), key=grouped._key, first="first", last="last"))

    use(c, "ip", c.ip)
    use(c, "client_fingerprint", c.client_fingerprint)
    use(c, "user_agent", c.user_agent)
    if network is not None:
        n = network.select(ip=network.ip, _prefix=network.prefix, _asn=network.asn.cast("string"),
                           _class=network.network_class)
        joined = c.join(n, "ip")
        use(joined, "prefix", joined._prefix)
        use(joined, "asn", ibis.ifelse(joined._class.isin(list(params.hosting_classes)), joined._asn, ibis.null("string")))
    if accounts is not None:
        a = accounts.mutate(actor=accounts.platform.concat(":", accounts.account_id), _t=ibis.literal(0, "int64"))
        use(a, "payment_fingerprint", a.payment_fingerprint)
        use(a, "email_domain", a.email_domain.lower())
    out = parts[0]
    for part in parts[1:]:
        out = out.union(part, distinct=False)
    return out


def infrastructure_edges(calls: ibis.Table, accounts: ibis.Table | None = None, network: ibis.Table | None = None,
                         params: InfrastructureParams = InfrastructureParams()) -> ibis.Table:
    """Edges (ARCHITECTURE §4), one per (account pair, kind of shared key)."""
    keys = account_keys(calls, accounts, network, params)
    total = calls.select(actor=calls.platform.concat(":", calls.account_id)).distinct().count()
    per_key = keys.group_by(["kind", "key"]).aggregate(n=keys.actor.nunique())
    # rarity in 0..1: log(N / n) / log(N), 1 for a key only two accounts share out of many
    rarity = ((total.cast("float64") / per_key.n.cast("float64")).ln()
              / ibis.greatest(total.cast("float64"), ibis.literal(2.0)).ln())
    per_key = per_key.filter((per_key.n >= 2) & (per_key.n <= params.max_accounts)).mutate(rarity=rarity)
    k = keys.join(per_key, ["kind", "key"])
    a, b = k.view(), k.view()
    same = [a.kind == b.kind, a.key == b.key, a.actor < b.actor]
    pairs = a.join(b, same).select(kind=a.kind, key=a.key, rarity=a.rarity, a_actor=a.actor, b_actor=b.actor,
                                   first=ibis.least(a.first, b.first), last=ibis.greatest(a.last, b.last),
                                   _gap=ibis.greatest(a.first, b.first) - ibis.least(a.last, b.last))
    # an address or prefix counts only when the two accounts used it within the window of each
    # other (addresses are reassigned; a month apart is two tenants, not one operator)
    pairs = pairs.filter(~pairs.kind.isin(["ip", "prefix"]) | (pairs._gap <= params.ip_window))
    if accounts is not None:  # declared colleagues (one organisation) are not a hidden network
        orgs = accounts.filter(accounts.org_id.notnull()).select(
            actor=accounts.platform.concat(":", accounts.account_id), org=accounts.org_id)
        oa = orgs.select(a_actor=orgs.actor, _org_a=orgs.org)
        ob = orgs.select(b_actor=orgs.actor, _org_b=orgs.org)
        pairs = pairs.left_join(oa, "a_actor").select(pairs, _org_a=oa._org_a)
        pairs = pairs.left_join(ob, "b_actor").select(pairs, _org_b=ob._org_b)
        pairs = pairs.filter(pairs._org_a.isnull() | pairs._org_b.isnull() | (pairs._org_a != pairs._org_b))
    edges = pairs.group_by(["a_actor", "b_actor", "kind"]).aggregate(
        weight=pairs.rarity.sum(), n_events=pairs.count(), first=pairs["first"].min(), last=pairs["last"].max(),
        keys=pairs.key.collect())
    evidence = ibis.literal('["').concat(edges["keys"][:10].map(lambda v: v.replace('"', "'")).join('","'), '"]')
    return edges.select("a_actor", "b_actor", signal=ibis.literal("infrastructure:").concat(edges.kind),
                        weight=edges.weight, n_events=edges.n_events, first_ts=edges["first"].as_timestamp("s"),
                        last_ts=edges["last"].as_timestamp("s"), evidence=evidence)
