"""The watcher's sliding-window signals: co-action of new posts with the window's, and the provenance
of new posts against recent API outputs — each found once, bounded by the window."""

import datetime as dt
import json

import ibis
import pytest

from chorusline.live.window import (COACTION, LINKS, OUTPUT_BANDS, SHARES, WindowParams, prune, repeated_pairs,
                                    update_window)
from conftest import add_calls, add_posts
from test_ghostwriting import sentence

T0 = 1_750_000_000


def _batch(store, table: str, key: str, ids: list[str]):
    t = store.table(table)
    return t.filter(t[key].isin(ids)).to_pyarrow()


def _when(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(T0 + seconds, dt.UTC)


def _count(store, spec) -> int:
    return store.count(spec.name)


@pytest.fixture
def store(duck_store):
    return duck_store


def test_new_posts_are_linked_to_the_recent_outputs_they_carry(store):
    add_calls(store, [{"call_id": f"c{i}", "account_id": "writer", "ts": T0 + i * 100, "output": sentence(i)}
                      for i in range(3)])
    first = update_window(store, None, _batch(store, "llm_calls", "call_id", ["c0", "c1", "c2"]))
    assert first.links == 0 and _count(store, OUTPUT_BANDS) == 3 * WindowParams().bands.bands
    add_posts(store, [
        {"post_id": "copy", "account_id": "persona", "ts": T0 + 900, "text": sentence(0) + " #vote"},
        {"post_id": "own", "account_id": "someone", "ts": T0 + 950, "text": sentence(7)},
        # the output of c1 posted four days later: past the provenance lag, no link
        {"post_id": "late", "account_id": "persona2", "ts": T0 + 4 * 86_400, "text": sentence(1)},
    ])
    batch = _batch(store, "posts", "post_id", ["copy", "own", "late"])
    got = update_window(store, batch, None)
    assert (got.links, got.linked_personas) == (1, ["x:persona"])
    link = store.table(LINKS.name).to_pyarrow().to_pylist()[0]
    assert (link["call_id"], link["post_id"], link["api_actor"], link["lag"]) == ("c0", "copy", "llm-api:writer", 900)
    assert 0.8 < link["jaccard"] < 1.0
    # redelivered after a crash: nothing new
    again = update_window(store, batch, None)
    assert again.links == 0 and _count(store, LINKS) == 1


def test_coaction_pairs_within_the_window_once_each_and_not_on_crowded_objects(store):
    posts = [
        {"post_id": "a1", "account_id": "a", "ts": T0, "urls": ["https://news.example/x"], "hashtags": ["Tag"]},
        {"post_id": "b1", "account_id": "b", "ts": T0 + 30, "urls": ["https://news.example/x"], "hashtags": ["tag"]},
        # too late for the window of 60 s
        {"post_id": "c1", "account_id": "c", "ts": T0 + 200, "urls": ["https://news.example/x"]},
        # four accounts on one hashtag inside the window: a crowd at max_object_accounts = 3
        {"post_id": "d1", "account_id": "d", "ts": T0 + 10, "hashtags": ["tag"]},
        {"post_id": "e1", "account_id": "e", "ts": T0 + 20, "hashtags": ["TAG"]},
    ]
    add_posts(store, posts)
    params = WindowParams(max_object_accounts=3)
    first = update_window(store, _batch(store, "posts", "post_id", ["a1"]), None, params)
    assert first.pairs == 0
    got = update_window(store, _batch(store, "posts", "post_id", ["b1", "c1", "d1", "e1"]), None, params)
    pairs = store.table(COACTION.name).to_pyarrow().to_pylist()
    kinds = sorted((p["a_actor"], p["b_actor"], p["object_type"]) for p in pairs)
    assert kinds == [("x:a", "x:b", "domain"), ("x:a", "x:b", "url")]
    assert got.pairs == 2 and got.coacting == ["x:a", "x:b"]
    assert update_window(store, _batch(store, "posts", "post_id", ["b1"]), None, params).pairs == 0
    rep = repeated_pairs(store).to_pyarrow().to_pylist()
    assert rep == [{"a_actor": "x:a", "b_actor": "x:b", "objects": 2}]
    assert repeated_pairs(store, 3).count().execute() == 0


def test_state_older_than_the_window_is_dropped(store):
    add_calls(store, [{"call_id": "c0", "account_id": "writer", "ts": T0, "output": sentence(0)}])
    add_posts(store, [{"post_id": "p0", "account_id": "persona", "ts": T0 + 60, "text": sentence(0),
                       "urls": ["https://a.example/1"]},
                      {"post_id": "p1", "account_id": "other", "ts": T0 + 70, "urls": ["https://a.example/1"]}])
    update_window(store, _batch(store, "posts", "post_id", ["p0", "p1"]),
                  _batch(store, "llm_calls", "call_id", ["c0"]))
    prune(store, _when(100))
    assert [_count(store, s) for s in (SHARES, COACTION, OUTPUT_BANDS, LINKS)] == [4, 2, 4, 1]
    params = WindowParams()
    prune(store, _when(params.coaction_window + params.lateness + 100))
    assert [_count(store, s) for s in (SHARES, COACTION, OUTPUT_BANDS, LINKS)] == [0, 2, 4, 1]
    prune(store, _when(params.horizon + 100))
    assert [_count(store, s) for s in (SHARES, COACTION, OUTPUT_BANDS, LINKS)] == [0, 0, 0, 0]


def test_the_watcher_alerts_when_new_accounts_join_a_known_campaign_between_detections(duck_store):
    """A known campaign (its writer API account and two personas); a new persona posting the
    writer's fresh outputs and an amplifier co-sharing with both personas are alerted as the
    campaign's growth from the window alone (no detection runs); an account with one copy among
    many posts, or co-acting once, is not."""
    from chorusline.live import alerts as news
    from chorusline.live.state import LIVE_CAMPAIGNS, append, ensure_live_tables
    from chorusline.live.watcher import Watcher, WatchOptions
    from test_live_fingerprints import ListSource, iso

    ensure_live_tables(duck_store)
    append(duck_store, LIVE_CAMPAIGNS, [{"campaign_key": "cK", "actor": a} for a in ("llm-api:writer", "x:p1", "x:p2")])
    # the same operation known under a second key too (reported, then confirmed): one alert per account
    append(duck_store, LIVE_CAMPAIGNS, [{"campaign_key": "cL", "actor": "llm-api:writer"}])
    calls = [("llm_calls", {"platform": "llm-api", "call_id": f"c{i}", "account_id": "writer", "ts": iso(T0 + i * 600),
                            "output": sentence(i)}) for i in range(4)]
    copies = [("posts", {"platform": "x", "post_id": f"n{i}", "account_id": "newp", "ts": iso(T0 + i * 600 + 120),
                         "kind": "post", "text": sentence(i)}) for i in range(2)]
    copies.append(("posts", {"platform": "x", "post_id": "n9", "account_id": "newp", "ts": iso(T0 + 1500),
                             "kind": "post", "text": sentence(30)}))
    # one copy among many posts of its own: chance, not membership
    copies += [("posts", {"platform": "x", "post_id": f"o{i}", "account_id": "reader", "ts": iso(T0 + 1900 + i),
                          "kind": "post", "text": sentence(3) if i == 0 else sentence(40 + i)}) for i in range(6)]
    shares = []
    for k in range(3):  # three links posted by both personas and the amplifier within a minute
        url = f"https://site{k}.example/story"
        shares += [("posts", {"platform": "x", "post_id": f"{who}{k}", "account_id": who, "ts": iso(T0 + 3000 + k * 900 + j * 20),
                              "kind": "post", "urls": [url]}) for j, who in enumerate(("p1", "p2", "amp"))]
    # one post on the same link (a URL and a domain) and hashtag as both members: three objects, one post
    shares.append(("posts", {"platform": "x", "post_id": "once0", "account_id": "once", "ts": iso(T0 + 3010),
                             "kind": "post", "urls": ["https://site0.example/story"], "hashtags": ["vote"]}))
    shares += [("posts", {"platform": "x", "post_id": f"h{who}", "account_id": who, "ts": iso(T0 + 3015),
                          "kind": "post", "hashtags": ["vote"]}) for who in ("p1", "p2")]
    source = ListSource([calls, copies, shares])
    options = WatchOptions(batch=100, block_ms=50, match_every=0.0, detect_every=None, detect_on_idle=False,
                           until_idle=True)
    summary = Watcher(duck_store, source, options).run()
    assert summary.window_links == 3 and summary.window_pairs > 0
    grew = news.list_alerts(duck_store, "campaign_grew")
    basis = {a["evidence"]["actor"]: a["evidence"]["basis"] for a in grew}
    assert basis == {"x:newp": "provenance", "x:amp": "co-action"}
    newp = next(a for a in grew if a["evidence"]["actor"] == "x:newp")["evidence"]
    assert (newp["copies"], newp["wrote"], newp["sources"]) == (2, 3, ["llm-api:writer"])
    assert all(a["subject"] == "cK" for a in grew)
    known = duck_store.table(LIVE_CAMPAIGNS.name)
    assert {"x:newp", "x:amp"} <= set(known.actor.to_pyarrow().to_pylist())

    # the same stream again (a restart that re-reads it): nothing twice
    again = Watcher(duck_store, ListSource([calls, copies, shares]), options).run()
    assert again.alerts == 0 and len(news.list_alerts(duck_store, "campaign_grew")) == 2


def test_a_restarted_watcher_hands_the_window_what_was_stored_after_its_last_update(duck_store):
    from chorusline.live.state import ensure_live_tables
    from chorusline.live.watcher import _mark_window, _unwindowed

    ensure_live_tables(duck_store)
    add_posts(duck_store, [{"post_id": f"p{i}", "account_id": "a", "ts": T0 + i * 3000, "text": sentence(i)}
                           for i in range(4)])
    add_calls(duck_store, [{"call_id": "c0", "account_id": "w", "ts": T0 + 2500, "output": sentence(9)}])

    def ids(rows, table="posts"):
        return sorted(rows[table][0].column(f"{'post' if table == 'posts' else 'call'}_id").to_pylist()) \
            if table in rows else []

    now = _when(9000)
    # before the window's first update: what came after the watcher's baseline (all of it without one),
    # never more than the window's horizon back
    assert ids(_unwindowed(duck_store, _when(4000), now)) == ["p2", "p3"]
    assert len(ids(_unwindowed(duck_store, None, now))) == 4
    horizon = WindowParams().horizon
    assert ids(_unwindowed(duck_store, None, _when(horizon + 5000))) == ["p2", "p3"]
    _mark_window(duck_store, _when(5000))
    _mark_window(duck_store, _when(8000))  # the latest mark counts, and only one is kept
    # after it, less the lateness the window allows (an hour): a late event acknowledged before the
    # crash may be older than the mark
    rows = _unwindowed(duck_store, _when(0), now)
    assert ids(rows) == ["p2", "p3"] and ids(rows, "llm_calls") == []
    assert duck_store.table("live_state").filter(ibis._.name == "window").count().execute() == 1


def test_a_window_alert_for_an_account_a_detection_has_meanwhile_made_known_is_dropped(duck_store):
    from chorusline.live import alerts as news
    from chorusline.live.state import LIVE_CAMPAIGNS, append, ensure_live_tables

    ensure_live_tables(duck_store)
    append(duck_store, LIVE_CAMPAIGNS, [{"campaign_key": "cK", "actor": "x:new"}])
    found = [news._alert("campaign_grew", key, None, None, "", {"actor": "x:new"}, None, None, key, "x:new")
             for key in ("cK", "cOther")]
    assert [a["subject"] for a in news.still_news(duck_store, found)] == ["cOther"]


def test_two_known_campaigns_detected_as_one_bring_nobody_new(duck_store):
    """campaigns.consolidate merges an operation's fragments: the known keys' accounts were alerted
    then, so the merged campaign raises no campaign_grew for them; a truly new account still does."""
    import pyarrow as pa

    from chorusline.live import alerts as news
    from chorusline.live.state import LIVE_CAMPAIGNS, append, ensure_live_tables

    ensure_live_tables(duck_store)
    append(duck_store, LIVE_CAMPAIGNS, [{"campaign_key": k, "actor": f"x:{k}{i}"} for k in ("a", "b") for i in range(3)])
    merged = [f"x:{k}{i}" for k in ("a", "b") for i in range(3)]
    duck_store.backend.create_table("campaigns", pa.table({
        "campaign_id": pa.array([0], pa.int64()), "score": [0.5], "above_threshold": [True], "tier": ["inauthentic"]}),
        overwrite=True)
    duck_store.backend.create_table("campaign_members", pa.table({
        "campaign_id": pa.array([0] * 6, pa.int64()), "actor": merged, "flagged": [True] * 6}), overwrite=True)
    assert news.campaign_changes(duck_store, None) == []
    duck_store.backend.create_table("campaign_members", pa.table({
        "campaign_id": pa.array([0] * 7, pa.int64()), "actor": merged + ["x:c0"], "flagged": [True] * 7}),
        overwrite=True)
    grew, = news.campaign_changes(duck_store, None)
    assert grew["kind"] == "campaign_grew" and json.loads(grew["evidence"])["new_members"] == ["x:c0"]


def test_enough_change_in_the_window_starts_a_detection(tmp_path):
    """``detect_after``: the window's new pairs and links since the last detection start one (no
    schedule, no idle detection here); without it, none runs."""
    from chorusline.live.watcher import Watcher, WatchOptions
    from test_live_fingerprints import ListSource, iso

    def stream():
        posts = []
        for k in range(4):  # two accounts on the same links within seconds: co-action pairs
            posts += [("posts", {"platform": "x", "post_id": f"{who}{k}", "account_id": who,
                                 "ts": iso(T0 + k * 600 + j * 5), "kind": "post", "urls": [f"https://s{k}.example/a"]})
                      for j, who in enumerate(("a", "b"))]
        return [posts[:4], posts[4:]]

    def run(name, **options):
        from chorusline.store import Store

        base = dict(batch=100, block_ms=50, match_every=0.0, detect_every=None, detect_on_idle=False, until_idle=True)
        store = Store.open(str(tmp_path / f"{name}.duckdb"))
        return Watcher(store, ListSource(stream()), WatchOptions(**base, **options)).run()

    quiet = run("quiet")
    assert quiet.window_pairs > 0 and quiet.detections == 0
    assert run("eager", detect_after=1).detections >= 1
