"""The simulator: deterministic, its truth consistent with its data, its traps present."""

import hashlib
import ipaddress
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pytest

from chorusline.sim import ScenarioError, load_scenario, simulate
from chorusline.sim.network import pools
from chorusline.sim.text import NEUTRAL_TOPICS, ORGANIC_PERSONAS, POLITICAL_TOPICS


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    out = tmp_path_factory.mktemp("smoke")
    simulate(load_scenario("smoke"), out)
    return out


@pytest.fixture(scope="module")
def seed_case(tmp_path_factory):
    out = tmp_path_factory.mktemp("seed")
    simulate(load_scenario("seed-case", scale=0.5), out)
    return out


def sql(folder, query):
    con = duckdb.connect()
    for name in ("accounts", "llm_calls", "posts", "news_events"):
        con.execute(f"create view {name} as select * from '{folder}/{name}.parquet'")
    for name in ("accounts", "links", "provenance"):
        con.execute(f"create view truth_{name} as select * from '{folder}/truth/{name}.parquet'")
    return con.sql(query).fetchall()


def digest(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_scenario_and_seed_give_identical_bytes(smoke, tmp_path):
    simulate(load_scenario("smoke"), tmp_path / "again")
    assert digest(tmp_path / "again") == digest(smoke)
    simulate(load_scenario("smoke", seed=8), tmp_path / "other")
    assert digest(tmp_path / "other")["posts.parquet"] != digest(smoke)["posts.parquet"]


def test_truth_covers_every_account_and_nothing_else(smoke):
    assert sql(smoke, "select count(*) from accounts a full join truth_accounts t using (platform, account_id) "
                      "where a.account_id is null or t.account_id is null") == [(0,)]
    assert sql(smoke, "select count(*) from posts p anti join accounts a using (platform, account_id)") == [(0,)]
    assert sql(smoke, "select count(*) from llm_calls c anti join accounts a using (platform, account_id)") == [(0,)]


def test_persona_posts_fit_their_life_phase_and_clock(seed_case):
    # every persona post falls inside the persona's active life (nothing after a suspension)
    assert sql(seed_case, """select count(*) from posts p join truth_accounts t using (platform, account_id)
                             where t.campaign is not null and (p.ts < t.active_from - interval 4 day or p.ts >= t.active_to + interval 1 day)""") == [(0,)]
    # credibility first: written posts in a persona's first days are about neutral topics only
    rows = sql(seed_case, """select c.prompt, date_diff('day', t.active_from, p.ts) from truth_provenance v
                             join posts p using (post_id) join llm_calls c using (call_id)
                             join truth_accounts t on t.account_id = p.account_id
                             where t.role = 'persona'""")
    early = [prompt for prompt, age in rows if age < 14]
    late = [prompt for prompt, age in rows if age >= 19]
    assert early and late
    assert all(any(t in prompt for t in NEUTRAL_TOPICS) for prompt in early)
    assert all(not any(t in prompt for t in POLITICAL_TOPICS) for prompt in early)
    assert sum(any(t in prompt for t in ("trade", "elections")) for prompt in late) / len(late) > 0.95
    # the operators' clock: written posts' calls happen in Shanghai office hours on weekdays
    times = sql(seed_case, """select c.ts from llm_calls c join truth_accounts t using (platform, account_id)
                              where t.campaign is not null and c.operation = 'chat'""")
    local = [ts.astimezone(ZoneInfo("Asia/Shanghai")) for (ts,) in times]
    in_hours = [9 <= t.hour < 18 and t.hour != 12 for t in local]
    assert sum(in_hours) / len(local) > 0.8  # the rest: replies to the news, amplification at any hour
    assert sum(t.weekday() < 5 for t in local) / len(local) > 0.9


def test_provenance_links_calls_to_posts(seed_case):
    rows = sql(seed_case, """select p.text, c.output, v.paraphrased, p.ts > c.ts, c.account_id, p.account_id
                             from truth_provenance v join posts p using (post_id) join llm_calls c using (call_id)""")
    assert rows and all(after for _, _, _, after, _, _ in rows)
    exact = [(post, out) for post, out, para, *_ in rows if not para]
    assert all(post == out for post, out in exact)
    para = [(post, out) for post, out, p, *_ in rows if p]
    assert 0.2 < len(para) / len(rows) < 0.4  # paraphrase_rate 0.3
    assert sum(post != out for post, out in para) / len(para) > 0.8
    links = set(sql(seed_case, "select api_account_id, persona_account_id from truth_links where campaign is not null"))
    campaign_personas = {a for (a,) in sql(seed_case, "select account_id from truth_accounts where campaign is not null")}
    provenance_pairs = {(api, persona) for *_, api, persona in rows if persona in campaign_personas}
    assert provenance_pairs and provenance_pairs == links  # every link is evidenced, every pair is a link


def test_returning_accounts_reuse_their_predecessors_infrastructure(seed_case):
    pairs = sql(seed_case, """select t.account_id, t.predecessor from truth_accounts t where t.role = 'returning_api'""")
    assert pairs
    ips = dict(sql(seed_case, "select account_id, list(distinct ip) from llm_calls group by 1"))
    agents = dict(sql(seed_case, "select account_id, any_value(user_agent) from llm_calls group by 1"))
    cards = dict(sql(seed_case, "select account_id, payment_fingerprint from accounts"))
    pool = {ip for (ip,) in sql(seed_case, """select distinct ip from llm_calls c join truth_accounts t using (account_id)
                                             where t.role = 'operator_api'""")}
    shared = 0
    for new, old in pairs:
        assert set(ips[new]) <= pool and agents[new] == agents[old]
        shared += bool(set(ips[new]) & set(ips[old]))
    assert shared / len(pairs) > 0.8
    all_cards = {cards[old] for _, old in pairs}
    assert all(cards[new] in {cards[a] for (a,) in sql(seed_case, "select account_id from truth_accounts where role='operator_api'")}
               for new, _ in pairs) and all_cards


def test_campaign_ips_fall_in_real_hosting_and_vpn_prefixes(seed_case):
    nets = [ipaddress.ip_network(p["cidr"]) for key in ("hosting:SG", "hosting:MY", "vpn:any") for p in pools()[key]]
    ips = sql(seed_case, """select distinct ip from llm_calls c join truth_accounts t using (account_id)
                            where t.campaign is not null""")
    assert ips and all(any(ipaddress.ip_address(ip) in n for n in nets) for (ip,) in ips)


def test_the_traps_are_there(seed_case):
    # viral cascades: organic posts reposted by 100+ organic accounts within 30 minutes
    viral = sql(seed_case, """select p.target_post_id, count(distinct p.account_id) n from posts p
                              join posts o on o.post_id = p.target_post_id
                              join truth_accounts t on t.account_id = p.account_id
                              where p.kind = 'repost' and t.campaign is null and p.ts - o.ts < interval 30 minute
                              group by 1 having n >= 50""")
    assert len(viral) >= 3
    # batch jobs from cloud hosting, labs behind one office IP, VPN exits shared by unrelated users
    roles = dict(sql(seed_case, """select t.role, count(distinct c.account_id) from llm_calls c
                                   join truth_accounts t using (account_id) where t.campaign is null group by 1"""))
    assert roles["batch_job"] >= 10 and roles["vpn_user"] >= 5 and roles["lab_developer"] >= 8
    shared_office = sql(seed_case, """select ip, count(distinct account_id) n from llm_calls c join truth_accounts t using (account_id)
                                      where t.role = 'lab_developer' group by 1 having n >= 8""")
    assert len(shared_office) >= 3
    # benign communities sharing the same links within minutes
    links = sql(seed_case, """select u, count(distinct account_id) from (select unnest(urls) u, account_id from posts p
                              join truth_accounts t using (account_id) where t.role in ('community_member','news_syndication'))
                              group by 1 having count(distinct account_id) >= 8""")
    assert len(links) >= 20
    # persona-style prompts from organic customers (marketing voices), same languages as campaigns
    assert sql(seed_case, """select count(*) from llm_calls c join truth_accounts t using (account_id)
                             where t.campaign is null and (c.prompt like '%as a %' or c.prompt like '%的身份%')""")[0][0] > 20


@pytest.fixture(scope="module")
def five_cells(tmp_path_factory):
    out = tmp_path_factory.mktemp("cells")
    simulate(load_scenario("five-cells"), out)
    return out


def test_cells_share_nothing_but_the_operation(five_cells):
    cells = sql(five_cells, """select campaign, cell, count(*) filter (where role in ('persona', 'returning_persona')),
                              count(distinct operator) from truth_accounts where campaign is not null
                              group by all order by all""")
    # the operation's name is the campaign; its personas are dealt out to the cells (35 to 12, 12, 11 and 22 to
    # 11, 11; with the returning ones after the ban), each cell with an operator of its own
    assert [(c, k) for c, k, *_ in cells] == [("op-east", 0), ("op-east", 1), ("op-east", 2), ("op-west", 0),
                                               ("op-west", 1)]
    assert all(n == 1 for *_, n in cells)
    assert [p for c, _, p, _ in cells if c == "op-west"] == [11, 11]
    assert all(p >= 11 for c, _, p, _ in cells if c == "op-east")
    assert sql(five_cells, "select count(*) from truth_accounts where campaign is null and cell is not null") == [(0,)]
    # no address, payment card, API account or prompt template is used by two cells
    for what in ("c.ip", "a.payment_fingerprint", "c.account_id", "regexp_replace(c.prompt, '[^的你写以用模]', '', 'g')"):
        shared = sql(five_cells, f"""select {what}, count(distinct t.campaign || t.cell) from llm_calls c
                                    join accounts a using (platform, account_id) join truth_accounts t using (account_id)
                                    where t.campaign = 'op-east' and c.operation = 'chat' group by 1 having count(distinct t.cell) > 1""")
        assert shared == [], what
    # every link stays inside its cell; each cell works its own clock (Bangkok is an hour behind Shanghai)
    assert sql(five_cells, """select count(*) from truth_links l join truth_accounts a on a.account_id = l.api_account_id
                             join truth_accounts p on p.account_id = l.persona_account_id
                             where l.campaign is not null and (a.cell != p.cell or a.campaign != p.campaign)""") == [(0,)]
    # Shanghai's 9 o'clock is Bangkok's 8 (before its cell starts), Shanghai's 18 Bangkok's 17 (still at work)
    by_hour = dict(((cell, hour), n) for cell, hour, n in sql(five_cells, """
        select t.cell, hour(p.ts at time zone 'Asia/Shanghai') h, count(*) from posts p
        join truth_accounts t using (account_id) where t.campaign = 'op-east' and p.kind = 'post' group by all"""))
    assert by_hour[(0, 9)] > 5 * by_hour.get((0, 18), 0) and by_hour[(2, 18)] > 5 * by_hour.get((2, 9), 0), by_hour


def test_loud_benign_traps_are_there(tmp_path):
    out = tmp_path / "loud"
    simulate(load_scenario("small-op-loud-benign", scale=0.3), out)
    # syndication services post a feed's items and repost each other within minutes
    repost_lag = sql(out, """select count(*), median(epoch(p.ts - o.ts)) from posts p join posts o on o.post_id = p.target_post_id
                            join truth_accounts t on t.account_id = p.account_id
                            join truth_accounts u on u.account_id = o.account_id
                            where t.role = 'syndication_service' and u.role = 'syndication_service'""")[0]
    assert repost_lag[0] > 100 and repost_lag[1] < 300
    same_item = sql(out, """select u, count(distinct account_id) n from (select unnest(urls) u, account_id from posts
                           join truth_accounts using (account_id) where role = 'syndication_service') group by 1""")
    assert len(same_item) >= 100 and sum(n >= 5 for _, n in same_item) > 0.9 * len(same_item)
    # community sizes spread between community_size and community_size_max
    sizes = [n for _, n in sql(out, """select hashtags[1], count(distinct account_id) from posts where hashtags[1] like 'group%'
                                      group by 1""")]
    assert len(sizes) == 2 and len(set(sizes)) == 2 and all(60 <= n <= 300 for n in sizes)
    # a share of batch jobs (batch_persona_share 0.5) write persona-voice copy on every call, from the campaigns' bank
    voices = " or ".join(f"c.prompt like '%{persona}%'" for persona in ORGANIC_PERSONAS)
    jobs = sql(out, f"""select bool_and({voices}) from llm_calls c join truth_accounts t using (account_id)
                       where t.role = 'batch_job' group by c.account_id""")
    assert 0.25 < sum(all_persona for (all_persona,) in jobs) / len(jobs) < 0.75


def test_every_builtin_scenario_loads():
    for name in ("seed-case", "smoke", "benign-heavy", "multi-campaign", "large", "small-op-loud-benign", "five-cells",
                 "slow-paraphrase"):
        scenario = load_scenario(name)
        assert scenario.name == name and scenario.campaigns
    assert load_scenario("seed-case").campaigns[0].personas == 300  # all defaults = the seed case
    assert load_scenario("seed-case", scale=0.5).campaigns[0].personas == 150


@pytest.mark.parametrize("body,message", [
    ("campaigns:\n  - operatr_tz: UTC\n", "campaigns[0].operatr_tz: unknown setting"),
    ("campaigns:\n  - personas: many\n", "campaigns[0].personas: expected a whole number"),
    ("campaigns:\n  - personas: 0\n", "campaigns[0].personas: 0 is out of range"),
    ("campaigns:\n  - operator_tz: Mars/Base\n", "operator_tz: unknown time zone"),
    ("campaigns:\n  - egress_countries: [ZZ]\n", "egress_countries: no IP ranges for 'ZZ'"),
    ("days: 10\n", "ban_wave.day: 40 is not before the end"),
    ("campaigns:\n  - output_language: fr\n", "writes English outputs only"),
    ("organic: [1, 2]\n", "organic: expected a mapping"),
    ("start: 2025-02-30\n", "day is out of range for month"),
    ("start: someday\n", "start: not a date"),
    ("a: [\n", "not valid YAML"),
    ("campaigns:\n  - personas: 3\n    cells: 4\n", "cells: 4 cells need at least as many API accounts and personas"),
    ("campaigns:\n  - cell_zones: [Mars/Base]\n", "cell_zones: unknown time zone"),
    ("organic:\n  community_size: 50\n  community_size_max: 20\n", "community_size_max: 20 is below community_size"),
    ("campaigns:\n  - network_types: [mobile]\n    egress_countries: [CN]\n", "network_types: no IP ranges for mobile"),
])
def test_bad_scenarios_are_named_precisely(tmp_path, body, message):
    path = tmp_path / "s.yaml"
    path.write_text(body)
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")):
        load_scenario(path)


def test_unknown_builtin_is_a_clear_error():
    with pytest.raises(ScenarioError, match="built-in ones are"):
        load_scenario("nope")


def test_scenarios_doc_names_every_setting():
    import dataclasses
    import re
    from pathlib import Path

    from chorusline.sim.scenario import BanWave, Campaign, Evasion, Organic, Scenario

    doc = (Path(__file__).resolve().parents[1] / "docs" / "SCENARIOS.md").read_text()
    missing = [f.name for cls in (Scenario, Organic, Campaign, BanWave, Evasion) for f in dataclasses.fields(cls)
               if not re.search(rf"\b{f.name}\b", doc)]
    assert missing == []
