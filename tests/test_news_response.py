"""news_response: an account that posts on every event's topic within an hour stands out from
users who answer later; posts off the topic, or before the event, are not responses."""

from chorusline.schema import NEWS_EVENTS
from chorusline.signals.news_response import news_response_features, responses
from conftest import add_posts, add_rows

HOUR = 3_600
NEWS = [("e1", 10, "trade", "Tariff talks collapse as export quotas stall"),
        ("e2", 40, "elections", "Ballot count delayed in three counties"),
        ("e3", 70, "trade", "New tariff deal signed at dawn"),
        ("e4", 100, "sports", "Home team wins the playoffs")]


def test_fast_responders_rank_first(any_store):
    news = add_rows(any_store, NEWS_EVENTS, [{"event_id": e, "ts": h * HOUR, "topic": topic, "label": label}
                                             for e, h, topic, label in NEWS], "x")
    news = any_store.table("news_events")
    posts = []
    for e, h, topic, _ in NEWS[:3]:
        word = "tariff" if topic == "trade" else "ballot"
        posts.append({"post_id": f"fast-{e}", "account_id": "fast", "ts": h * HOUR + 1200, "text": f"the {word} news is great"})
        for u in range(4):
            posts.append({"post_id": f"u{u}-{e}", "account_id": f"user{u}", "ts": (h + 6 + 3 * u) * HOUR,
                          "text": f"what about the {word} story"})
    posts.append({"post_id": "early", "account_id": "fast", "ts": 5 * HOUR, "text": "tariff thoughts"})  # before e1
    posts.append({"post_id": "off", "account_id": "user0", "ts": 11 * HOUR, "text": "lovely sourdough today"})
    add_posts(any_store, posts)
    got = responses(any_store.table("posts"), news).to_pyarrow().to_pylist()
    assert {(r["actor"], r["event_id"]): r["lag"] for r in got if r["actor"] == "x:fast"} == \
        {("x:fast", "e1"): 1200, ("x:fast", "e2"): 1200, ("x:fast", "e3"): 1200}
    assert len(got) == 15
    feats = news_response_features(any_store.table("posts"), news).to_pyarrow().to_pylist()
    value = {(r["actor"], r["feature"]): r["value"] for r in feats}
    assert value[("x:fast", "news_response:events_answered")] == 3
    assert value[("x:fast", "news_response:lag_rank")] == 0.0
    assert value[("x:fast", "news_response:fast_share")] == 1.0
    assert value[("x:user3", "news_response:median_lag_hours")] == 15
    assert value[("x:user0", "news_response:fast_share")] == 0.0
    assert min(value[(f"x:user{u}", "news_response:lag_rank")] for u in range(4)) > 0.2


def test_lags_are_whole_seconds_alike_on_every_engine(any_store):
    """Times with a fraction of a second: the lag is between whole seconds with the fraction dropped
    (DuckDB's float epoch cast to an integer rounded it, Spark's truncates)."""
    add_rows(any_store, NEWS_EVENTS, [{"event_id": e, "ts": h * HOUR + 0.2, "topic": topic, "label": label}
                                      for e, h, topic, label in NEWS], "x")
    add_posts(any_store, [{"post_id": f"p{e}", "account_id": "a", "ts": h * HOUR + 1200.6,
                           "text": "tariff news" if topic == "trade" else "ballot news"}
                          for e, h, topic, _ in NEWS[:3]])
    got = responses(any_store.table("posts"), any_store.table("news_events")).to_pyarrow().to_pylist()
    assert sorted((r["event_id"], r["lag"]) for r in got) == [("e1", 1200), ("e2", 1200), ("e3", 1200)]
