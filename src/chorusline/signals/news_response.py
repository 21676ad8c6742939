"""news_response (features): how fast an account answers the news, against everyone else.

An operation tasked with reacting to events posts on an event's topic within hours of it, every
time; ordinary users answer some events, later and more spread out. A post is on an event's topic
when it uses a word of that topic's own vocabulary (``topics.topic_keywords``: words the
``news_events`` labels of exactly one topic use). For each (account, event) the response is the
account's first authored post on the topic within ``max_lag`` after the event; each post answers
only the latest event of its topic before it.

Features: ``news_response:events_answered``, ``news_response:median_lag_hours``,
``news_response:lag_rank`` (the median over the account's responses of their rank among all
responses, 0 = fastest of everyone, 0.5 = typical) and ``news_response:fast_share`` (responses
faster than the population's lower quartile). Evidence: up to five event ids."""

from __future__ import annotations

from dataclasses import dataclass

import ibis

from chorusline.signals.topics import topic_keywords, words


@dataclass(frozen=True)
class NewsResponseParams:
    max_lag: int = 48 * 3_600  # seconds after the event
    min_responses: int = 2  # fewer responses give no features


def _seconds(ts: ibis.TimestampValue) -> ibis.IntegerValue:
    """Whole UNIX seconds, the fraction dropped on both engines: DuckDB's epoch is a float that a cast
    to int64 rounds (half the smoke posts a second up), Spark's unix_timestamp truncates."""
    return ts.epoch_seconds().floor().cast("int64")


def responses(posts: ibis.Table, news: ibis.Table, params: NewsResponseParams = NewsResponseParams()) -> ibis.Table:
    """actor, event_id, lag (seconds): each account's first post on an event's topic after it."""
    authored = posts.filter((posts.kind != "repost") & posts.text.notnull())
    p = authored.select(actor=authored.platform.concat(":", authored.account_id), post_id=authored.post_id,
                        t=_seconds(authored.ts), text=authored.text)
    keywords = topic_keywords(news)
    on_topic = words(p, "text").join(keywords, "word")
    on_topic = on_topic.select("actor", "post_id", "t", "topic").distinct()
    events = news.filter(news.topic.notnull()).select(event_id=news.event_id, topic=news.topic,
                                                      te=_seconds(news.ts))
    j = on_topic.join(events, [on_topic.topic == events.topic, on_topic.t >= events.te,
                               on_topic.t <= events.te + params.max_lag])
    j = j.select(actor=j.actor, post_id=j.post_id, event_id=j.event_id, lag=j.t - j.te)
    latest = ibis.row_number().over(group_by=[j.actor, j.post_id], order_by=[j.lag, j.event_id])
    j = j.mutate(_r=latest).filter(lambda t: t._r == 0)
    return j.group_by(["actor", "event_id"]).aggregate(lag=j.lag.min())


def news_response_features(posts: ibis.Table, news: ibis.Table,
                           params: NewsResponseParams = NewsResponseParams()) -> ibis.Table:
    r = responses(posts, news, params)
    r = r.mutate(rank=ibis.percent_rank().over(order_by=r.lag))
    quartile = r.aggregate(q1=r.lag.quantile(0.25))
    r = r.cross_join(quartile)
    per = r.group_by("actor").aggregate(
        n=r.count(), median_lag=r.lag.median(), lag_rank=r["rank"].median(),
        fast=(r.lag < r.q1).cast("float64").mean(), some=r.event_id.collect().sort()[:5])
    per = per.filter(per.n >= params.min_responses)
    evidence = ibis.literal('["').concat(per.some.join('","'), '"]')
    values = {"events_answered": per.n, "median_lag_hours": per.median_lag / 3600.0, "lag_rank": per.lag_rank,
              "fast_share": per.fast}
    parts = [per.select("actor", feature=ibis.literal(f"news_response:{name}"), value=value.cast("float64"),
                        evidence=evidence) for name, value in values.items()]
    out = parts[0]
    for part in parts[1:]:
        out = out.union(part, distinct=False)
    return out
