"""Consolidation on hand-built scored members and fused ties: reported campaigns tied by agreeing
families, or by ties of any family far denser than chance, merge (one family's weak tail, or an
unreported cluster, never does), and suspicious accounts tied mostly into reported campaigns join
the one they are most tied to — most of all their ties, or of those where families agree (ties to
other suspects are neutral; the unsuspicious and the elsewhere-tied stay out)."""

import math

import pyarrow as pa

from chorusline.campaigns.consolidate import consolidate, merge_reported
from chorusline.campaigns.suspicion import INDICATORS

SCORES = {0: 0.5, 1: 0.45, 2: 0.5, 3: 0.1, 4: 0.5}  # campaign 3 is not reported


def members_table(rows):
    """(actor, campaign_id, flagged, suspicion) → campaign_members as scoring leaves it."""
    n = len(rows)
    score = [SCORES[r[1]] for r in rows]
    return pa.table({
        "actor": [r[0] for r in rows], "degree": pa.array([2] * n, pa.int64()), "strength": [2.4] * n,
        "core": [True] * n, "active_days": pa.array([10] * n, pa.int64()), "part": pa.array([0] * n, pa.int64()),
        **{k: pa.array([None] * n, pa.float64()) for k in INDICATORS if k != "clock"},
        "clock": [r[3] for r in rows], "suspicion": [r[3] for r in rows], "measured": [True] * n,
        "tie": [1 - math.exp(-2.4)] * n, "platform": [r[0].split(":")[0] for r in rows],
        "coordination": [0.9] * n, "coverage": [1.0] * n, "inauthenticity": [s / 0.9 for s in score],
        "signature": [0.0] * n, "signature_of": [""] * n, "sustained": [1.0] * n, "campaign_score": score,
        "tier": ["not reported" if r[1] == 3 else "inauthentic" for r in rows],
        "member_score": [s * 0.8 for s in score], "flagged": [r[2] for r in rows],
        "campaign_id": pa.array([r[1] for r in rows], pa.int64())})


def indicators_table(suspicion: dict[str, float]):
    n = len(suspicion)
    return pa.table({"actor": list(suspicion), **{k: pa.array([None] * n, pa.float64()) for k in INDICATORS if k != "clock"},
                     "clock": list(suspicion.values()), "suspicion": list(suspicion.values()), "measured": [True] * n})


def fused_table(edges):
    """(a, b, weight, n_families) → fused_edges (the columns consolidation reads)."""
    return pa.table({"a_actor": [e[0] for e in edges], "b_actor": [e[1] for e in edges],
                     "weight": [float(e[2]) for e in edges], "probability": [1 - math.exp(-e[2]) for e in edges],
                     "n_families": pa.array([e[3] for e in edges], pa.int64())})


def triangle(names, weight=1.2):
    return [(names[0], names[1], weight, 1), (names[1], names[2], weight, 1), (names[0], names[2], weight, 1)]


def build(store):
    a, b, c, d = ([f"x:{k}{i}" for i in range(3)] for k in "abcd")
    rows = ([(n, 0, True, 0.6) for n in a] + [(n, 1, True, 0.5) for n in b] + [(n, 2, True, 0.6) for n in c]
            + [(n, 3, False, 0.1) for n in d])
    # q0: a member of campaign 0 scoring left unflagged (a quiet knot); e0: a suspicious member of
    # the unreported cluster 3; g0: the one flagged member of reported campaign 4
    rows += [("x:q0", 0, False, 0.6), ("x:e0", 3, False, 0.6), ("x:g0", 4, True, 0.6), ("x:g1", 4, False, 0.0),
             ("x:g2", 4, False, 0.0)]
    edges = triangle(a) + triangle(b) + triangle(c) + triangle(d) + triangle(["x:g0", "x:g1", "x:g2"])
    edges += [("x:q0", n, 1.0, 1) for n in a] + [("x:e0", n, 1.0, 1) for n in a] + [("x:e0", "x:d0", 0.2, 1)]
    edges += [("x:g0", a[0], 0.05, 2)]  # a faint agreeing tie: not enough to merge a one-flag campaign
    # an API account and the one persona it writes for (strong tie), each weakly tied into campaign 0:
    # 0.7 each is short of min_strength alone, 1.4 together is not; own 0.45 passes only with the core floor
    edges += [("llm-api:w", "x:p", 2.0, 2), ("llm-api:w", a[0], 0.7, 1), ("x:p", a[1], 0.7, 1)]
    edges += [(a[0], b[0], 0.69, 2), (a[1], b[1], 0.69, 2)]  # 1.38 ≥ 0.25 × 3.6, two families agreeing: merge
    edges += [(a[2], n, 0.5, 1) for n in c]  # 1.5, but one family's weak tail: no merge
    edges += [(a[k], d[k], 1.0, 2) for k in range(3)]  # tied to an unreported cluster: never merged
    # s1: 1.5 into campaign 0 and a 0.3 chance tie → joins; s2 the same ties but unsuspicious → stays out
    for s in ("x:s1", "x:s2"):
        edges += [(s, n, 0.5, 1) for n in a] + [(s, "x:o1", 0.3, 1)]
    edges += [("x:s3", n, 0.5, 1) for n in a] + [("x:s3", f"x:o{k}", 1.0, 1) for k in range(2, 5)]  # mostly elsewhere
    # s4: 1.5 into campaign 0 and 3.0 to s5, another suspect (neutral); s5 is tied to s4 alone → joins next round
    edges += [("x:s4", n, 0.5, 1) for n in a] + [("x:s4", "x:s5", 3.0, 1)]
    # s6: two-family ties into campaign 0 (1.5) under a weak one-family tail (10 × 0.3, chance text
    # matches) → joins on the agreeing ties' share; s7: the same tail, its ties into campaign 0
    # one-family → stays out; s8: two-family ties going mostly elsewhere → stays out
    tail = lambda s: [(s, f"x:t{k}", 0.3, 1) for k in range(10)]  # noqa: E731
    edges += [("x:s6", n, 0.5, 2) for n in a] + tail("x:s6")
    edges += [("x:s7", n, 0.5, 1) for n in a] + tail("x:s7")
    edges += [("x:s8", n, 0.5, 2) for n in a] + [("x:s8", f"x:o{k}", 1.0, 2) for k in range(2, 5)]
    suspicion = {n: r[3] for n, r in zip([r[0] for r in rows], rows)}
    suspicion.update({"llm-api:w": 0.45, "x:p": 0.45, "x:s1": 0.6, "x:s2": 0.1, "x:s3": 0.6, "x:s4": 0.6, "x:s5": 0.7, "x:o1": 0.0,
                      "x:o2": 0.0, "x:o3": 0.0, "x:o4": 0.0, "x:s6": 0.6, "x:s7": 0.6, "x:s8": 0.6,
                      **{f"x:t{k}": 0.0 for k in range(10)}})
    store.backend.create_table("m", members_table(rows), overwrite=True)
    store.backend.create_table("f", fused_table(edges), overwrite=True)
    store.backend.create_table("ind", indicators_table(suspicion), overwrite=True)
    return store.table("m"), store.table("f"), store.table("ind")


def test_reported_campaigns_tied_by_agreeing_families_merge(any_store):
    members, fused, _ = build(any_store)
    got = {r["actor"]: r for r in merge_reported(members, fused).to_pyarrow().to_pylist()}
    assert {got[f"x:b{i}"]["campaign_id"] for i in range(3)} == {0}
    assert {got[f"x:c{i}"]["campaign_id"] for i in range(3)} == {2}
    assert {got[f"x:d{i}"]["campaign_id"] for i in range(3)} == {3}
    merged = [r for r in got.values() if r["campaign_id"] == 0]
    # the merged campaign's figures, recomputed over its seven core members (q0, unflagged, is one)
    assert len({r["campaign_score"] for r in merged}) == 1 and merged[0]["tier"] == "inauthentic"
    assert abs(merged[0]["inauthenticity"] - (4 * 0.6 + 3 * 0.5) / 7) < 1e-9
    assert got["x:c0"]["campaign_score"] == 0.5 and got["x:d0"]["tier"] == "not reported"
    assert got["x:g0"]["campaign_id"] == 4
    assert len(got) == 17


def test_suspicious_accounts_tied_mostly_into_a_campaign_join_it(any_store):
    members, fused, indicators = build(any_store)
    got = {r["actor"]: r for r in consolidate(members, fused, indicators).to_pyarrow().to_pylist()}
    for name in ("x:s1", "x:s4", "x:s5", "x:s6"):
        assert got[name]["flagged"] and got[name]["recruited"] and got[name]["campaign_id"] == 0, name
    # its score rests on its own suspicion: campaign score × tie × own
    s1 = got["x:s1"]
    assert abs(s1["member_score"] - s1["campaign_score"] * (1 - math.exp(-1.5)) * 0.6) < 1e-9
    assert s1["degree"] == 0 and s1["clock"] == 0.6
    for name in ("x:s2", "x:s3", "x:o1", "x:s7", "x:s8"):
        assert name not in got, name
    # the pair joins as one, each scored like a core member: campaign score × tie × (0.2 + 0.8 × own)
    for name in ("llm-api:w", "x:p"):
        r = got[name]
        assert r["flagged"] and r["recruited"] and r["campaign_id"] == 0, name
        assert abs(r["member_score"] - r["campaign_score"] * (1 - math.exp(-1.4)) * (0.2 + 0.8 * 0.45)) < 1e-9
    # a quiet member stays unflagged where scoring left it; an unreported cluster's member that is
    # attached leaves that cluster's standing behind
    assert not got["x:q0"]["flagged"] and not got["x:q0"]["recruited"]
    e0 = got["x:e0"]
    assert e0["flagged"] and e0["campaign_id"] == 0 and not e0["core"] and e0["part"] == -1 and e0["degree"] == 0
    assert abs(e0["tie"] - (1 - math.exp(-3.0))) < 1e-9
    assert not any(got[f"x:d{i}"]["flagged"] for i in range(3))
    assert not any(r["recruited"] for n, r in got.items() if n not in ("x:s1", "x:s4", "x:s5", "x:s6", "llm-api:w", "x:p", "x:e0"))


def test_an_account_tied_into_an_operation_in_fragments_joins_the_one_it_is_most_tied_to(any_store):
    """An operation reported as fragments that did not merge shares its unclustered accounts' ties
    out among them: f's 0.8 into campaign 2 is short of ``min_strength`` (1.2); with its 0.6 into
    campaign 0, where two families agree, it is 1.4 of its 1.7 → f joins campaign 2, the one it is
    most tied to, its tie 1.4. g: the same ties, unsuspicious → out; h: the same ties and 3.0 of
    agreeing ties elsewhere → out; k: the same ties, all of one family (the trending posts several
    operations amplify) → out."""
    a, c = [f"x:a{i}" for i in range(3)], [f"x:c{i}" for i in range(3)]
    rows = [(n, 0, True, 0.6) for n in a] + [(n, 2, True, 0.6) for n in c]
    edges = triangle(a) + triangle(c)
    for s in ("x:f", "x:g", "x:h", "x:k"):
        agreeing = 1 if s == "x:k" else 2
        edges += [(s, a[0], 0.6, agreeing), (s, c[0], 0.4, 1), (s, c[1], 0.4, 1), (s, "x:o1", 0.3, 1)]
    edges += [("x:h", f"x:o{k}", 1.0, 2) for k in range(2, 5)]
    suspicion = ({n: 0.6 for n in a + c} | {"x:f": 0.6, "x:g": 0.1, "x:h": 0.6, "x:k": 0.6}
                 | {f"x:o{k}": 0.0 for k in range(1, 5)})
    any_store.backend.create_table("m", members_table(rows), overwrite=True)
    any_store.backend.create_table("f", fused_table(edges), overwrite=True)
    any_store.backend.create_table("ind", indicators_table(suspicion), overwrite=True)
    got = {r["actor"]: r for r in consolidate(any_store.table("m"), any_store.table("f"),
                                              any_store.table("ind")).to_pyarrow().to_pylist()}
    f = got["x:f"]
    assert f["flagged"] and f["recruited"] and f["campaign_id"] == 2
    assert abs(f["tie"] - (1 - math.exp(-1.4))) < 1e-9
    assert abs(f["member_score"] - f["campaign_score"] * (1 - math.exp(-1.4)) * 0.6) < 1e-9
    assert not {"x:g", "x:h", "x:k"} & set(got)


def dense_pair(store, tie: float, a_chance: int = 2):
    """Campaigns 0 (a) and 1 (b), each a triangle, tied by nine one-family ties of ``tie`` each;
    each member of b, and of a, has 2 (``a_chance``) chance ties of 0.2 to the population."""
    a, b = [f"x:a{i}" for i in range(3)], [f"x:b{i}" for i in range(3)]
    rows = [(n, 0, True, 0.6) for n in a] + [(n, 1, True, 0.5) for n in b]
    edges = triangle(a) + triangle(b) + [(x, y, tie, 1) for x in a for y in b]
    edges += [(n, f"x:o{k}", 0.2, 1) for n in b for k in range(2)] + [(n, f"x:o{k}", 0.2, 1) for n in a
                                                                       for k in range(a_chance)]
    store.backend.create_table("m", members_table(rows), overwrite=True)
    store.backend.create_table("f", fused_table(edges), overwrite=True)
    return store.table("m"), store.table("f")


def test_campaigns_tied_far_beyond_chance_merge_whatever_the_families(any_store):
    """Nine one-family ties (3.6) between two three-member campaigns: three quarters of each one's
    leaving weight (1.2 leaves each to the population) goes to three accounts. Lift = 0.75 over
    3 / (population − 3): 6.25 in a population of 28 (one campaign), 5.5 in one of 25 (two; it
    would be 6.25 over the whole population, not the rest of it). When a's ties leave mostly
    elsewhere (30 chance ties each), b's side still says 6.25 and a's 3.4: two — both sides must
    say so. Nine ties of 0.3 (2.7, under ``merge_lift_strength``) never merge on density alone."""
    def campaigns(tie, population, a_chance=2):
        members, fused = dense_pair(any_store, tie, a_chance)
        rows = merge_reported(members, fused, population=population).to_pyarrow().to_pylist()
        return {r["actor"]: r["campaign_id"] for r in rows}

    merged = campaigns(0.4, 28)
    assert set(merged.values()) == {0} and len(merged) == 6
    assert set(campaigns(0.4, 25).values()) == {0, 1}
    assert set(campaigns(0.4, 28, a_chance=30).values()) == {0, 1}
    assert set(campaigns(0.3, 1000).values()) == {0, 1}


def test_consolidate_counts_the_population_for_the_density_rule(any_store):
    """Through ``consolidate``: the population is the accounts with features (here 26 given
    indicators, lift 0.75 × 23 / 3 = 5.75: apart; with 300 more accounts measured: one campaign)."""
    members, fused = dense_pair(any_store, 0.4)
    base = {m: 0.6 for m in [f"x:a{i}" for i in range(3)] + [f"x:b{i}" for i in range(3)]}

    def campaigns(extra: int):
        suspicion = {**base, **{f"x:o{k}": 0.0 for k in range(extra + 20)}}
        any_store.backend.create_table("ind", indicators_table(suspicion), overwrite=True)
        rows = consolidate(members, fused, any_store.table("ind")).to_pyarrow().to_pylist()
        return {r["campaign_id"] for r in rows if r["actor"].startswith(("x:a", "x:b"))}

    assert campaigns(0) == {0, 1}
    assert campaigns(300) == {0}
