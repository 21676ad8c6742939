"""Campaigns: metrics by hand, scores that keep an authentic community out, and the whole run on
the smoke scenario — the operation found with its evidence, the eval JSON, clear errors."""

import json

import numpy as np
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from chorusline.campaigns.score import ScoreParams, campaign_table, score_members
from chorusline.cli import app
from chorusline.eval.metrics import adjusted_rand_index, precision_at_recall, precision_recall_f1, roc_auc


def test_metrics_by_hand():
    assert adjusted_rand_index([0, 0, 1, 1], [0, 0, 1, 2]) == pytest.approx(4 / 7)
    assert adjusted_rand_index(["a", "a", "b"], ["x", "x", "y"]) == 1.0
    assert roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75
    assert precision_recall_f1(np.array([1, 1, 0, 0]), np.array([1, 0, 1, 0])) == (0.5, 0.5, 0.5)
    assert precision_at_recall([0.9, 0.8, 0.7, 0.6], [1, 0, 1, 0], 1.0) == pytest.approx(2 / 3)
    assert precision_at_recall([0.9, 0.8, 0.7, 0.6], [1, 0, 1, 0], 0.5) == 1.0


def _features(store, rows):
    table = pa.table({"actor": [r[0] for r in rows], "feature": [r[1] for r in rows],
                      "value": [float(r[2]) for r in rows], "evidence": ["[]"] * len(rows)})
    store.backend.create_table("account_features", table, overwrite=True)
    return store.table("account_features")


def test_an_authentic_community_scores_low_and_an_operation_high(any_store):
    any_store.backend.create_table("clusters", pa.table({
        "actor": ["x:f1", "x:f2", "x:f3", "x:p1", "x:p2", "x:p3"], "cluster": pa.array([1, 1, 1, 0, 0, 0], pa.int64()),
        "degree": pa.array([2] * 6, pa.int64()), "strength": [6.0] * 6, "core": [True] * 6,
        "active_days": pa.array([30] * 6, pa.int64()), "part": pa.array([0] * 6, pa.int64())}), overwrite=True)
    members = any_store.table("clusters")
    fans = [(f"x:f{i}", f, v) for i in (1, 2, 3) for f, v in
            (("circadian:office_clock", 0), ("creation_burst:burst_ratio", 1.5), ("lifecycle:pivot_gain", 0.1))]
    personas = [(f"x:p{i}", f, v) for i in (1, 2, 3) for f, v in
                (("circadian:office_clock", 1), ("circadian:offset_conflict", 9), ("creation_burst:burst_ratio", 5),
                 ("lifecycle:pivot_gain", 0.9), ("language_mismatch:post_claimed", 0.0))]
    personas.append(("x:p3", "news_response:fast_share", 1.0))
    scored = score_members(members, _features(any_store, fans + personas))
    got = {r["actor"]: r for r in scored.to_pyarrow().to_pylist()}
    # registration bursts count against the population's usual ratio (the median of 1.5 and 5: 3.25)
    assert got["x:p1"]["clock"] == 1.0 and got["x:p1"]["creation"] == pytest.approx(np.log10(5 / 3.25))
    assert got["x:f1"]["creation"] == 0.0
    assert got["x:p1"]["pivot"] == pytest.approx(0.7 / 0.8) and got["x:f1"]["pivot"] == 0.0
    assert got["x:p3"]["news"] == 1.0 and got["x:p1"]["news"] is None  # no responses: not counted
    assert got["x:p1"]["flagged"] and not got["x:f1"]["flagged"]
    assert got["x:p3"]["member_score"] > got["x:p1"]["member_score"]  # more of it looks inauthentic
    campaigns = campaign_table(scored).to_pyarrow().to_pylist()
    assert [c["campaign_id"] for c in campaigns] == [0, 1]
    assert campaigns[0]["above_threshold"] and not campaigns[1]["above_threshold"]
    assert campaigns[1]["coordination"] == campaigns[0]["coordination"]  # equally tight; only one is fake
    assert (campaigns[0]["tier"], campaigns[1]["tier"]) == ("inauthentic", "not reported")
    assert campaigns[0]["coverage"] == campaigns[1]["coverage"] == 1.0


def _clusters(store, rows):
    """clusters rows (actor, cluster, strength, core, active_days[, part]), degree 2."""
    store.backend.create_table("clusters", pa.table({
        "actor": [r[0] for r in rows], "cluster": pa.array([r[1] for r in rows], pa.int64()),
        "degree": pa.array([2] * len(rows), pa.int64()), "strength": [float(r[2]) for r in rows],
        "core": [r[3] for r in rows], "active_days": pa.array([r[4] for r in rows], pa.int64()),
        "part": pa.array([r[5] if len(r) > 5 else (0 if r[3] else -1) for r in rows], pa.int64())}), overwrite=True)
    return store.table("clusters")


def test_a_tight_cell_inside_a_loud_benign_cluster_is_reported_on_its_own(duck_store):
    """Twenty authentic members and a knot of six inauthentic ones in one cluster: the cluster as a
    whole is not reported (mean suspicion 6/26), the knot is — as its own campaign — and the
    authentic knot stays unreported; a knot under min_part_size never stands on its own."""
    rows = [(f"x:fan{i}", 0, 4.0, True, 30, 0) for i in range(20)] + [(f"x:op{i}", 0, 4.0, True, 30, 1)
                                                                       for i in range(6)]
    rows += [(f"x:f{i}", 1, 4.0, True, 30, 0) for i in range(20)] + [(f"x:s{i}", 1, 4.0, True, 30, 1)
                                                                     for i in range(4)]
    features = _features(duck_store, [(a, "creation_burst:burst_ratio", 10.0 if ":op" in a or ":s" in a else 0.5)
                                      for a, *_ in rows])
    got = {r["actor"]: r for r in score_members(_clusters(duck_store, rows), features).to_pyarrow().to_pylist()}
    assert all(got[f"x:op{i}"]["flagged"] for i in range(6)) and not any(got[f"x:fan{i}"]["flagged"] for i in range(20))
    op, fans = got["x:op0"]["campaign_id"], got["x:fan0"]["campaign_id"]
    assert op != fans and got["x:op0"]["tier"] == "inauthentic" and got["x:fan0"]["tier"] == "not reported"
    # the knot has its own figures; the rest keeps the whole cluster's (and its "not reported")
    assert got["x:op0"]["inauthenticity"] == 1.0 and got["x:fan0"]["inauthenticity"] == pytest.approx(6 / 26)
    assert not any(got[f"x:s{i}"]["flagged"] for i in range(4))  # four: too few to stand alone
    assert len({r["campaign_id"] for r in got.values()}) == 3


def test_a_split_never_turns_a_measured_crowd_into_an_unmeasured_campaign(duck_store):
    """A measured cluster that is authentic as a whole: its unmeasured knot does not become a
    "coordinated" campaign, and its periphery stays in campaign_members when its knot leaves."""
    rows = [(f"x:b{i}", 0, 4.0, True, 30, 0) for i in range(14)] + [(f"x:op{i}", 0, 4.0, True, 30, 1)
                                                                     for i in range(6)]
    rows += [("x:per", 0, 1.5, False, 30, -1)]
    measured = [f"x:b{i}" for i in range(6)]  # 6 of the 14 measured authentic, 8 unmeasured
    # the platform's ordinary accounts, in no cluster, set the usual burst ratio (1) the operation's 3 is read against
    background = [(f"x:bg{i}", "creation_burst:burst_ratio", 1.0) for i in range(20)]
    features = _features(duck_store, [(a, "circadian:office_clock", 0) for a in measured] + background
                         + [(f"x:op{i}", "creation_burst:burst_ratio", 3.0) for i in range(6)])
    got = {r["actor"]: r for r in score_members(_clusters(duck_store, rows), features).to_pyarrow().to_pylist()}
    assert len(got) == 21  # nobody lost
    assert got["x:op0"]["tier"] == "inauthentic" and got["x:op0"]["flagged"]
    assert {got[f"x:b{i}"]["tier"] for i in range(14)} == {"not reported"}
    assert not any(got[f"x:b{i}"]["flagged"] for i in range(14)) and got["x:per"]["tier"] == "not reported"


def test_a_campaign_that_flags_nobody_is_not_reported(duck_store):
    """Just over the line as a cluster, every member's own score under the flag line: nothing to
    act on, so not reported (the exports would have nothing to export). With the default
    flag_fraction the same members, as suspicious as their campaign, are flagged."""
    rows = [(f"x:c{i}", 0, 1.6, True, 30, 0) for i in range(10)]  # tie 0.8
    features = _features(duck_store, [(a, "circadian:office_clock", 1) for a, *_ in rows])  # suspicion 0.5
    members = _clusters(duck_store, rows)
    (near_line,) = campaign_table(score_members(members, features)).to_pyarrow().to_pylist()
    assert near_line["flagged"] == 10 and near_line["tier"] == "inauthentic"  # 0.19 ≥ 0.4 × 0.4
    strict = ScoreParams(flag_fraction=1.0)  # the flag line is flag_threshold (0.2) alone
    scored = score_members(members, features, strict)
    (campaign,) = campaign_table(scored, strict).to_pyarrow().to_pylist()
    assert campaign["score"] >= 0.35 and campaign["flagged"] == 0
    assert campaign["tier"] == "not reported" and not campaign["above_threshold"]
    assert campaign["verdict"].startswith("not reported, no member flagged: scores as inauthentic")


def test_tiers_when_authenticity_cannot_be_measured(duck_store):
    """Social data without clocks or profiles: a cluster whose ties fire day after day is reported in
    the coordinated tier, every tied member flagged on its ties; one evening's burst is not reported;
    in the inauthentic tier a measured account is scored on what it shows, and the periphery needs
    its own evidence."""
    members = _clusters(duck_store, [
        *[(f"x:o{i}", 0, 4.0, True, 12) for i in range(4)],  # an operation, unmeasured, 12 days
        *[(f"x:b{i}", 1, 4.0, True, 1) for i in range(4)],   # a live event's burst, one evening
        ("x:m", 2, 4.0, True, 9), ("x:n", 2, 4.0, True, 9), ("x:q", 2, 4.0, True, 9),  # measured, mixed
        ("x:per", 2, 1.5, False, 9), ("x:per2", 2, 1.5, False, 9)])
    features = _features(duck_store, [
        ("x:m", "circadian:office_clock", 1), ("x:m", "circadian:offset_conflict", 8),
        ("x:n", "circadian:office_clock", 1), ("x:n", "circadian:offset_conflict", 8),
        ("x:q", "circadian:office_clock", 0), ("x:per", "circadian:office_clock", 0),
        ("x:per2", "circadian:office_clock", 1), ("x:per2", "circadian:offset_conflict", 8),
        # registration dates unknown everywhere: the creation indicator is missing, never a 0
        ("x:o0", "lifecycle:political_share", 0.5)])
    got = {r["actor"]: r for r in score_members(members, features).to_pyarrow().to_pylist()}
    campaigns = {c["campaign_id"]: c for c in campaign_table(score_members(members, features)).to_pyarrow().to_pylist()}
    assert got["x:o0"]["creation"] is None and not got["x:o0"]["measured"]
    assert campaigns[0]["tier"] == "coordinated" and campaigns[0]["coverage"] == 0.0 and campaigns[0]["flagged"] == 4
    assert campaigns[1]["tier"] == "not reported" and campaigns[1]["flagged"] == 0  # one day: one episode
    assert campaigns[2]["tier"] == "inauthentic" and campaigns[2]["inauthenticity"] == pytest.approx(2 / 3)
    assert got["x:m"]["flagged"] and not got["x:q"]["flagged"]  # q's own clock is authentic
    assert got["x:per2"]["flagged"] and not got["x:per"]["flagged"]  # the periphery stands on its own evidence
    assert got["x:per"]["member_score"] == 0.0


def test_smoke_operation_is_found_with_its_evidence(smoke_run):
    tmp, db, output = smoke_run
    assert "campaign(s) above the threshold" in output
    run = CliRunner().invoke
    listed = run(app, ["campaigns", "--db", db]).output
    assert "* campaign   0" in listed  # the largest cluster is the operation, and it is reported
    got = json.loads(run(app, ["eval", "--db", db, "--truth", str(tmp / "sim" / "truth"), "--json"]).output)
    for key in ("account_precision", "account_recall", "account_f1", "account_auc", "campaign_ari",
                "link_precision", "link_recall", "link_f1"):
        assert key in got
    assert got["account_precision"] >= 0.95 and got["account_recall"] >= 0.8 and got["campaign_ari"] >= 0.8
    assert got["benign_campaigns_reported"] == 0 and got["benign_flagged_share"] <= 0.01
    x = json.loads(run(app, ["campaigns", "--db", db, "--campaign", "0", "--json"]).output)
    assert x["clock"]["operator_offset"] == 8  # Asia/Shanghai
    assert x["clock"]["mean_offset_conflict_hours"] >= 5
    assert {"hosting", "vpn"} >= {r["value"] for r in x["infrastructure"]["network_classes"]}
    assert any(t["skeleton"].startswith(("请", "你", "用", "模", "写", "以")) for t in x["templates"])
    assert x["links"]["links"] > 0
    ids = {d["external_id"] for d in x["disarm"]}
    assert {"T0154.001", "T0085.001", "T0097.101", "T0128.002"} <= ids
    assert all(d["stix_id"].startswith("attack-pattern--") for d in x["disarm"])
    assert x["breakout"]["category"] in (1, 2, 3)
    text = run(app, ["campaigns", "--db", db, "--campaign", "0"]).output
    assert "operator clock: UTC+8" in text and "DISARM" in text


def test_clear_errors(smoke_run, tmp_path):
    from chorusline.store import Store

    tmp, db, _ = smoke_run
    run = CliRunner().invoke
    bad = run(app, ["campaigns", "--db", db, "--campaign", "999"])
    assert bad.exit_code == 2 and "no campaign 999" in bad.output and "Traceback" not in bad.output
    missing = run(app, ["campaigns", "--db", str(tmp_path / "missing.duckdb")])
    assert missing.exit_code == 2 and "no store at" in missing.output and not (tmp_path / "missing.duckdb").exists()
    empty = str(tmp_path / "empty.duckdb")
    Store.open(empty).backend.disconnect()
    assert "run `chorusline detect --db" in run(app, ["campaigns", "--db", empty]).output
    nothing = run(app, ["detect", "--db", empty, "--signals-out", str(tmp_path / "s")])
    assert nothing.exit_code == 2 and "no posts and no API calls" in nothing.output and empty in nothing.output
    missing = run(app, ["eval", "--db", db, "--truth", str(tmp_path)])
    assert missing.exit_code == 2 and "accounts.parquet" in missing.output
    (tmp_path / "bad.toml").write_text("[cluster]\nresolutoin = 2\n")
    config = run(app, ["detect", "--db", db, "--config", str(tmp_path / "bad.toml")])
    assert config.exit_code == 2 and "has no setting 'resolutoin'" in config.output


def test_decisions_enforcement_watchlist_and_match(smoke_run, tmp_path):
    import shutil

    import pyarrow.csv as pcsv

    from chorusline.act.decisions import current_decisions
    from chorusline.store import Store

    tmp, db, _ = smoke_run
    mine = str(tmp_path / "act.duckdb")
    shutil.copy(db, mine)
    run = CliRunner().invoke
    no_list = run(app, ["enforce", "--db", mine, "--out", str(tmp_path / "e.csv")])
    assert no_list.exit_code == 2 and "no confirmed campaign" in no_list.output
    assert run(app, ["decide", "maybe", "--campaign", "0", "--analyst", "ana", "--db", mine]).exit_code == 2
    assert run(app, ["decide", "confirm", "--campaign", "0", "--db", mine]).exit_code == 2  # who decided is required
    assert run(app, ["decide", "0", "dismiss", "--analyst", "ana", "--db", mine]).exit_code == 0  # the old order
    held = run(app, ["decide", "needs-more", "--campaign", "0", "--analyst", "cy", "--db", mine])
    assert held.exit_code == 0 and "marked as needing more evidence: campaign 0" in held.output
    out = run(app, ["decide", "confirm", "--campaign", "0", "--analyst", "bob", "--note", "hosting egress + UTC+8",
                    "--db", mine])
    assert out.exit_code == 0 and "confirmed campaign 0" in out.output
    store = Store.open(mine)
    assert store.table("decisions").count().execute() == 3  # append-only: the dismissal stays in the history
    latest = current_decisions(store).to_pyarrow().to_pylist()
    assert [(d["campaign_id"], d["decision"], d["analyst"]) for d in latest] == [(0, "confirm", "bob")]
    flagged = store.table("campaign_members").filter(lambda t: (t.campaign_id == 0) & t.flagged).count().execute()
    store.backend.disconnect()
    assert run(app, ["enforce", "--db", mine, "--out", str(tmp_path / "e.csv")]).exit_code == 0
    listed = pcsv.read_csv(tmp_path / "e.csv").to_pylist()
    assert len(listed) == flagged and all(r["campaign_id"] == 0 for r in listed)
    assert {r["latest_tier"] for r in listed} == {"inauthentic"}  # the smoke operation: measured and inauthentic
    assert all(r["reasons"].startswith("ties: ") and "looks inauthentic: " in r["reasons"] for r in listed)
    assert any("clock" in r["reasons"] for r in listed)
    assert run(app, ["watchlist", "--db", mine]).exit_code == 0
    ranked = run(app, ["match", "--db", mine, "--out", str(tmp_path / "m.csv")])
    assert ranked.exit_code == 0 and "accounts matching the watchlist" in ranked.output
    rows = pcsv.read_csv(tmp_path / "m.csv").to_pylist()
    confirmed = {f"{r['platform']}:{r['account_id']}" for r in listed}
    assert rows and not confirmed & {r["actor"] for r in rows}  # members are not candidates
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)


def test_a_quiet_knot_of_a_reported_cluster_is_not_flagged(duck_store):
    """A reported cluster: its operation's knot is flagged; a knot of colleagues tied into it, whose
    own figures would stay below the line, is not — though their ties and middling suspicion would
    have carried them over the flag line on the cluster's score."""
    rows = [(f"x:op{i}", 0, 4.0, True, 30, 1) for i in range(10)] + [(f"x:lab{i}", 0, 4.0, True, 30, 0)
                                                                      for i in range(6)]
    background = [(f"x:bg{i}", "creation_burst:burst_ratio", 1.0) for i in range(30)]
    ops = [(f"x:op{i}", f, v) for i in range(10) for f, v in (("circadian:office_clock", 1),
                                                             ("circadian:offset_conflict", 9))]
    labs = [(f"x:lab{i}", f, v) for i in range(6) for f, v in (("circadian:office_clock", 0.6),
                                                              ("circadian:offset_conflict", 2))]  # 0.3
    members = _clusters(duck_store, rows)
    features = _features(duck_store, background + ops + labs)
    got = {r["actor"]: r for r in score_members(members, features).to_pyarrow().to_pylist()}
    assert got["x:op0"]["tier"] == "inauthentic" and all(got[f"x:op{i}"]["flagged"] for i in range(10))
    assert got["x:lab0"]["campaign_id"] == got["x:op0"]["campaign_id"]  # still members of the campaign
    assert not any(got[f"x:lab{i}"]["flagged"] for i in range(6))
    loud = {r["actor"]: r for r in score_members(members, features, ScoreParams(quiet_knots=False))
            .to_pyarrow().to_pylist()}
    assert all(loud[f"x:lab{i}"]["flagged"] for i in range(6))  # what the rule prevents


def test_the_accounts_an_operation_writes_for_are_one_knot(duck_store):
    """Inside a benign cluster the co-activity knots mix an operation's personas with the crowd they
    amplify; the members tied to API accounts that write for several personas (ghostwriting) form
    their own knot and stand on their own."""
    rows = [(f"x:fan{i}", 0, 4.0, True, 30, i % 2) for i in range(30)] + [
        (f"x:p{i}", 0, 4.0, True, 30, i % 2) for i in range(8)]
    features = _features(duck_store, [(f"x:fan{i}", "lifecycle:pivot_gain", 0.1) for i in range(30)]
                         + [(f"x:p{i}", f, v) for i in range(8) for f, v in (("ghostwriting:source_personas", 8),
                                                                             ("lifecycle:pivot_gain", 0.6))])
    got = {r["actor"]: r for r in score_members(_clusters(duck_store, rows), features).to_pyarrow().to_pylist()}
    assert all(got[f"x:p{i}"]["flagged"] for i in range(8)) and not any(got[f"x:fan{i}"]["flagged"] for i in range(30))
    assert len({got[f"x:p{i}"]["campaign_id"] for i in range(8)}) == 1
    assert got["x:p0"]["campaign_id"] != got["x:fan0"]["campaign_id"] and got["x:fan0"]["tier"] == "not reported"


def test_an_operation_that_shares_one_trait_is_reported_on_its_signature(duck_store):
    """An operation whose members each show one or two of its shared traits (one registration burst,
    one supply of text) and look ordinary on the rest: the mean of every member's mean dilutes
    it under the line; its signature (the mean of its two strongest indicators) does not. A benign
    crowd of the same size, whose odd accounts show scattered traits, stays unreported, and a
    member of the operation with nothing of its own is not flagged for being there."""
    background = [(f"x:bg{i}", "creation_burst:burst_ratio", 1.0) for i in range(40)]
    rows = [(f"x:op{i}", 0, 4.0, True, 30, 0) for i in range(10)] + [(f"x:b{i}", 1, 4.0, True, 30, 0)
                                                                      for i in range(10)]
    ops = []
    for i in range(10):
        ops += [(f"x:op{i}", "creation_burst:burst_ratio", 10.0 if i < 9 else 1.0),
                (f"x:op{i}", "ghostwriting:source_personas", 3.0 if i < 9 else 1.0),
                (f"x:op{i}", "circadian:office_clock", 0.0), (f"x:op{i}", "lifecycle:pivot_gain", 0.0),
                (f"x:op{i}", "news_response:fast_share", 0.0), (f"x:op{i}", "language_mismatch:post_claimed", 0.0),
                (f"x:op{i}", "prompt_template:persona_instruction_share", 0.0)]
    # the benign crowd: each odd account odd in its own way (one a bursty sign-up, one a night owl, ...)
    crowd = [(f"x:b{i}", f, 0.0) for i in range(10) for f in ("circadian:office_clock", "lifecycle:pivot_gain",
                                                              "news_response:fast_share")]
    crowd += [(f"x:b{i}", "creation_burst:burst_ratio", 10.0 if i == 0 else 1.0) for i in range(10)]
    crowd += [("x:b1", "circadian:office_clock", 1.0), ("x:b2", "news_response:fast_share", 1.0)]
    features = _features(duck_store, background + ops + crowd)
    members = _clusters(duck_store, rows)
    diluted = campaign_table(score_members(members, features, ScoreParams(signature_min_core=1000))).to_pyarrow()
    assert not any(diluted["above_threshold"].to_pylist())  # each member's mean: 2/7 at most
    scored = score_members(members, features)
    got = {r["actor"]: r for r in scored.to_pyarrow().to_pylist()}
    assert got["x:op0"]["tier"] == "inauthentic" and got["x:op0"]["signature"] == pytest.approx(0.9)
    assert got["x:op0"]["signature_of"] == "creation 0.9, ghostwriting 0.9"
    assert all(got[f"x:op{i}"]["flagged"] for i in range(9)) and not got["x:op9"]["flagged"]
    assert got["x:b0"]["tier"] == "not reported" and not any(got[f"x:b{i}"]["flagged"] for i in range(10))
    campaigns = {c["campaign_id"]: c for c in campaign_table(scored).to_pyarrow().to_pylist()}
    op = campaigns[got["x:op0"]["campaign_id"]]
    assert op["inauthenticity"] < 0.3 < op["score"]
    assert "signature 0.9 (traits its core shares: creation 0.9, ghostwriting 0.9" in op["verdict"]
