"""API account ↔ persona links on hand-built calls and posts: verbatim and soon after the call, across
a split campaign, personas recruited by what they post, chance matches left out."""

import pyarrow as pa

from chorusline.campaigns.links import campaign_links, member_links, recruit_personas, recruit_writers
from conftest import add_calls, add_posts

T0 = 1_735_689_600  # 2025-01-01
WORDS = ("harbor lantern orchid velvet quarry meadow falcon ember glacier saffron tundra violet "
         "cobalt prairie thistle juniper canyon marble willow sparrow").split()


def sentence(i: int) -> str:
    """A distinct twelve-word text per i (no two share a word bigram by accident)."""
    return " ".join(f"{WORDS[(i * 7 + k * 3) % len(WORDS)]}{i}x{k}" for k in range(12))


def members_table(rows):
    """campaign_members as scoring leaves it: (actor, campaign_id, flagged); scores fixed."""
    n = len(rows)
    return pa.table({
        "actor": [r[0] for r in rows], "campaign_id": pa.array([r[1] for r in rows], pa.int64()),
        "degree": pa.array([3] * n, pa.int64()), "strength": [3.0] * n,
        "core": [True] * n, "active_days": pa.array([20] * n, pa.int64()),
        **{k: [0.5] * n for k in ("clock", "creation", "persona_prompts", "language", "pivot", "news", "suspicion")},
        "measured": [True] * n, "tie": [0.9] * n, "platform": [r[0].split(":")[0] for r in rows],
        "coordination": [0.9] * n, "coverage": [1.0] * n, "inauthenticity": [0.6] * n, "sustained": [1.0] * n,
        "signature": [0.0] * n, "signature_of": [""] * n, "campaign_score": [0.54] * n, "tier": ["inauthentic"] * n, "member_score": [0.4] * n,
        "flagged": [r[2] for r in rows]})


def test_links_recruits_and_chance(any_store):
    duck_store = any_store
    calls, posts = [], []
    def call(cid, account, i, ts):
        calls.append({"call_id": cid, "account_id": account, "ts": ts, "operation": "chat", "output": sentence(i)})
    def post(pid, account, text, ts):
        posts.append({"post_id": pid, "account_id": account, "ts": ts, "text": text})

    # campaign 0: op1 writes for p1, 10 minutes before each post
    for k in range(4):
        call(f"c1-{k}", "op1", k, T0 + k * 3600)
        post(f"p1-{k}", "p1", sentence(k), T0 + k * 3600 + 600)
    # the operation was split: op2 (campaign 1) writes for p2 (campaign 0)
    for k in range(4, 7):
        call(f"c2-{k}", "op2", k, T0 + k * 3600)
        post(f"p2-{k}", "p2", sentence(k), T0 + k * 3600 + 600)
    # r, in no cluster: three of its four posts are op1's output
    for k in range(7, 10):
        call(f"c1-{k}", "op1", k, T0 + k * 3600)
        post(f"r-{k}", "r", sentence(k), T0 + k * 3600 + 900)
    post("r-own", "r", sentence(50), T0 + 20 * 3600)
    # b, an ordinary persona: two of its twenty posts happen to equal op1 outputs
    for k in (10, 12):
        call(f"c1-{k}", "op1", k, T0 + k * 3 * 3600)
        post(f"b-{k}", "b", sentence(k), T0 + k * 3 * 3600 + 300)
    for k in range(18):
        post(f"b-own{k}", "b", sentence(60 + k), T0 + 40 * 3600 + k)
    # p1 posts op2's text two days after the call: far beyond the campaign's usual lag
    call("c2-11", "op2", 11, T0 + 50 * 3600)
    post("p1-late", "p1", sentence(11), T0 + 50 * 3600 + 2 * 86_400)
    add_calls(duck_store, calls)
    add_posts(duck_store, posts)
    duck_store.backend.create_table("m", members_table([
        ("llm-api:op1", 0, True), ("x:p1", 0, True), ("x:p2", 0, True), ("llm-api:op2", 1, True),
        ("x:b", 2, False)]), overwrite=True)
    members = duck_store.table("m")

    links = campaign_links(duck_store.table("llm_calls"), duck_store.table("posts"), members)
    got = {(r["api_actor"], r["persona_actor"]): r for r in links.to_pyarrow().to_pylist()}
    assert ("llm-api:op2", "x:p1") not in got  # the late match is chance
    assert got[("llm-api:op1", "x:p1")]["posts"] == 4
    split = got[("llm-api:op2", "x:p2")]
    assert (split["campaign_id"], split["api_campaign_id"], split["posts"]) == (0, 1, 3)
    assert got[("llm-api:op1", "x:r")]["posts"] == 3 and got[("llm-api:op1", "x:b")]["posts"] == 2

    # r has a clock feature of its own: a recruit from outside every cluster is scored from it
    duck_store.backend.create_table("ind", pa.table({
        "actor": ["x:r"], **{k: pa.array([None], pa.float64()) for k in ("creation", "persona_prompts", "language",
                                                                         "pivot", "news")},
        "clock": [0.8], "suspicion": [0.8], "measured": [True]}).select(
            ["actor", "clock", "creation", "persona_prompts", "language", "pivot", "news", "suspicion", "measured"]),
        overwrite=True)
    recruited = recruit_personas(members, links, duck_store.table("posts"),
                                 duck_store.table("ind")).to_pyarrow().to_pylist()
    by_actor = {r["actor"]: r for r in recruited}
    # every column a consumer reads is measured, never a NULL it must guess about
    for col in ("suspicion", "measured", "tie", "degree", "strength", "core", "active_days", "member_score",
                "campaign_score", "coverage", "tier"):
        assert all(r[col] is not None for r in recruited), col
    assert by_actor["x:r"]["suspicion"] == 0.8 and by_actor["x:r"]["clock"] == 0.8
    assert by_actor["x:r"]["degree"] == 0 and by_actor["x:r"]["creation"] is None
    assert by_actor["x:r"]["flagged"] and by_actor["x:r"]["recruited"] and by_actor["x:r"]["campaign_id"] == 0
    assert by_actor["x:r"]["member_score"] > 0.5  # 0.54 × (1 − e^−3)
    assert not by_actor["x:b"]["flagged"] and not by_actor["x:b"]["recruited"]  # 2 of 20 posts
    assert not by_actor["x:p1"]["recruited"] and by_actor["x:p1"]["flagged"]
    assert len(recruited) == 6

    duck_store.backend.create_table("after", pa.Table.from_pylist(recruited), overwrite=True)
    kept = member_links(links, duck_store.table("after")).to_pyarrow()
    assert set(kept["persona_actor"].to_pylist()) == {"x:p1", "x:p2", "x:r"}


def test_writers_join_the_campaign_whose_personas_post_their_text(any_store):
    """An API account whose text a campaign's flagged personas post soon after generation joins it
    (``writer_pairs`` from signals.ghostwriting); one writing mostly for others does not."""
    duck_store = any_store
    duck_store.backend.create_table("m", members_table([
        ("x:p1", 0, True), ("x:p2", 0, True), ("x:p3", 0, True), ("x:p4", 1, True), ("x:q1", 2, False),
        ("llm-api:w1", 2, False), ("llm-api:w3", 1, True)]), overwrite=True)
    duck_store.backend.create_table("w", pa.table({
        "api_actor": ["llm-api:w1", "llm-api:w1", "llm-api:w2", "llm-api:w2", "llm-api:w2", "llm-api:w2",
                      "llm-api:w3", "llm-api:w4"],
        "persona_actor": ["x:p1", "x:p2", "x:p4", "x:q1", "x:q2", "x:q3", "x:p1", "x:p3"],
        "posts": pa.array([3, 4, 3, 3, 3, 3, 5, 2], pa.int64())}), overwrite=True)
    duck_store.backend.create_table("ind", pa.table({
        "actor": ["llm-api:w4"], **{k: pa.array([None], pa.float64()) for k in ("clock", "creation", "language",
                                                                                "pivot", "news")},
        "persona_prompts": [0.9], "suspicion": [0.9], "measured": [True]}).select(
            ["actor", "clock", "creation", "persona_prompts", "language", "pivot", "news", "suspicion", "measured"]),
        overwrite=True)
    got = recruit_writers(duck_store.table("m"), duck_store.table("w"), duck_store.table("ind")).to_pyarrow().to_pylist()
    by = {r["actor"]: r for r in got}
    # w1 (in a cluster, unflagged) writes for two of campaign 0's personas: a member of campaign 0
    assert by["llm-api:w1"]["flagged"] and by["llm-api:w1"]["recruited"] and by["llm-api:w1"]["campaign_id"] == 0
    assert abs(by["llm-api:w1"]["member_score"] - 0.54 * (1 - 2.718281828 ** -7)) < 1e-6
    # w4, in no cluster, writes for p3 alone: a new row, scored from its own indicators
    assert by["llm-api:w4"]["flagged"] and by["llm-api:w4"]["campaign_id"] == 0 and by["llm-api:w4"]["degree"] == 0
    assert by["llm-api:w4"]["persona_prompts"] == 0.9
    # w2 writes for one flagged persona of four: mostly for others, not recruited; w3 keeps its own campaign
    assert "llm-api:w2" not in by
    assert by["llm-api:w3"]["campaign_id"] == 1 and not by["llm-api:w3"]["recruited"]
    assert not by["x:q1"]["flagged"] and len(got) == 8


def test_one_paraphrase_names_a_writer_only_for_a_persona_known_to_take_text_from_several(any_store):
    """A link resting on one paraphrased post is mostly a template's look-alike, so it needs two
    posts — unless its persona already takes text from two or more of the operation's API accounts
    (a pool, or an account replaced after a ban): p does (op1, op2), so its one post from op3 links;
    q has one writer, so its one post from op3 does not."""
    import ibis

    rows = []
    def match(k, api, persona, lag=600):
        rows.append({"call_id": f"c{k}", "post_id": f"{persona}-{k}", "api_actor": f"llm-api:{api}",
                     "persona_actor": f"x:{persona}", "call_ts": T0 + k * 7200, "post_ts": T0 + k * 7200 + lag,
                     "lag": lag, "jaccard": None, "similarity": 0.9, "api_campaign_id": 0, "campaign_id": 0,
                     "_persona_flagged": True})
    for k, api in ((0, "op1"), (1, "op1"), (2, "op1"), (3, "op2"), (4, "op2"), (5, "op3")):
        match(k, api, "p")
    for k, api in ((10, "op1"), (11, "op1"), (12, "op1"), (13, "op3")):
        match(k, api, "q")
    schema = {"call_id": "string", "post_id": "string", "api_actor": "string", "persona_actor": "string",
              "call_ts": "int64", "post_ts": "int64", "lag": "int64", "jaccard": "float64", "similarity": "float64",
              "api_campaign_id": "int64", "campaign_id": "int64", "_persona_flagged": "boolean"}
    any_store.backend.create_table("cand", pa.Table.from_pylist(rows, ibis.schema(schema).to_pyarrow()), overwrite=True)
    from chorusline.campaigns.links import LinkParams, links_from
    got = lambda params: {(r["api_actor"], r["persona_actor"]): r["posts"]  # noqa: E731
                          for r in links_from(any_store.table("cand"), params).to_pyarrow().to_pylist()}
    links = got(LinkParams())
    assert links == {("llm-api:op1", "x:p"): 3, ("llm-api:op2", "x:p"): 2, ("llm-api:op3", "x:p"): 1,
                     ("llm-api:op1", "x:q"): 3}
    assert ("llm-api:op3", "x:p") not in got(LinkParams(paraphrase_pool_writers=3))
