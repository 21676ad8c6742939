"""The watcher's per-batch check of new accounts on their fingerprints (``act.watchlist.match_fingerprints``
through ``live.alerts.returning_by_fingerprints``): a returning operator's new API account is alerted
within the micro-batch that brought it, an unrelated new account is not, and the full watchlist
match that runs later raises nothing twice."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from chorusline.act.watchlist import match_accounts, match_fingerprints, save_watchlist
from chorusline.live import alerts as news
from chorusline.live.broker import parse_url
from chorusline.live.events import Event, encode
from chorusline.live.watcher import Watcher, WatchOptions
from test_watchlist import SDK, TEMPLATE, confirmed_operators

T0 = 1_735_689_600  # 2025-01-01, UNIX seconds
DAY = 86_400
OUTPUTS = [f"the new harbor bridge plan {i} will bring jobs and lower prices for every family in town" for i in range(2)]


@pytest.fixture
def watchlisted(duck_store):
    """Two operator API accounts confirmed as campaign 0 and watchlisted (a card, an egress address,
    a prompt template), among eight ordinary customers of the same SDK."""
    confirmed_operators(duck_store, T0)
    save_watchlist(duck_store)
    return duck_store


def iso(seconds: int) -> str:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat()


def returner() -> list[tuple[str, dict]]:
    """The operation's new API account a month later: the same card, egress and template."""
    return [("accounts", {"platform": "llm-api", "account_id": "op3", "payment_fingerprint": "pf_ops"})] + [
        ("llm_calls", {"platform": "llm-api", "call_id": f"op3-{i}", "account_id": "op3", "ts": iso(T0 + 30 * DAY + i * 60),
                       "ip": "203.0.113.5", "user_agent": SDK, "prompt": TEMPLATE.format("a veteran", f"topic {i}"),
                       "output": OUTPUTS[i]}) for i in range(2)]


def stranger() -> list[tuple[str, dict]]:
    """A new ordinary customer the same day: the SDK everybody uses, its own address and card."""
    return [("accounts", {"platform": "llm-api", "account_id": "u9", "payment_fingerprint": "pf_9"})] + [
        ("llm_calls", {"platform": "llm-api", "call_id": f"u9-{i}", "account_id": "u9", "ts": iso(T0 + 30 * DAY + i * 90),
                       "ip": "198.51.100.99", "user_agent": SDK, "prompt": f"Translate this: {i}"}) for i in range(3)]


def persona() -> list[tuple[str, dict]]:
    """A persona posting the returner's outputs minutes later (provenance: the full match's evidence)."""
    return [("posts", {"platform": "x", "post_id": f"new-{i}", "account_id": "new", "ts": iso(T0 + 30 * DAY + i * 60 + 600),
                       "kind": "post", "text": OUTPUTS[i]}) for i in range(2)]


class ListSource:
    """A broker in a list: each read hands out the next micro-batch; acknowledgements are counted."""

    def __init__(self, batches: list[list[tuple[str, dict]]]):
        self.url = parse_url("redis://127.0.0.1:1/test")
        self.batches, self.acked, self.served = batches, 0, 0

    def read(self, count: int, block_ms: int) -> list[Event]:
        if self.served == len(self.batches):
            time.sleep(block_ms / 1000)
            return []
        batch = self.batches[self.served]
        self.served += 1
        ms = 1_750_000_000_000 + self.served * 1000  # this batch's arrival
        return [Event(f"{ms}-{i}", ms * 1_000_000 + i, encode(table, row), ms) for i, (table, row) in enumerate(batch)]

    def ack(self, events: list[Event]) -> None:
        self.acked += 1

    def close(self) -> None:
        pass


def test_match_fingerprints_is_the_full_match_on_fingerprints_for_the_accounts_given(watchlisted):
    from chorusline.live.batches import append_batch

    source = ListSource([returner() + stranger() + persona()])
    append_batch(watchlisted, source.url.text, source.read(100, 0))
    full = {r["actor"]: r for r in match_accounts(watchlisted).to_pylist()}
    actors = ["llm-api:op3", "llm-api:u9", "x:new", "llm-api:op1"]
    found = {r["actor"]: r for r in match_fingerprints(watchlisted, actors).to_pylist()}
    # the returner's evidence is all fingerprints: the same row as the full match's
    assert set(full["llm-api:op3"]["kinds"]) >= {"payment_fingerprint", "ip", "template"}
    assert found["llm-api:op3"] == full["llm-api:op3"]
    assert found["llm-api:u9"] == full["llm-api:u9"] and found["llm-api:u9"]["score"] < 0.5
    assert "x:new" not in found and full["x:new"]["kinds"] == ["provenance"]  # the full match's alone
    assert "llm-api:op1" not in found  # a confirmed member is not matched against its own campaign
    # each account's keys are its own rows': alone, the same row
    assert match_fingerprints(watchlisted, ["llm-api:op3"]).to_pylist() == [found["llm-api:op3"]]
    assert match_fingerprints(watchlisted, []).num_rows == 0


def test_a_returner_is_alerted_within_the_batch_that_brought_it_and_once(watchlisted):
    source = ListSource([stranger() + returner(), persona()])
    raised = []

    def on_alert(alert):
        raised.append((source.acked, alert))  # acknowledged batches when it was raised

    options = WatchOptions(batch=100, block_ms=50, match_every=1000.0, detect_every=None, detect_on_idle=False,
                           until_idle=True)
    watcher = Watcher(watchlisted, source, options, on_alert=on_alert)
    baseline = watcher.baseline
    summary = watcher.run()
    assert summary.events == 9 and summary.fingerprint_checks >= 1
    assert summary.matches >= 1  # the full match ran when the stream was drained

    (acked, alert), = [(n, a) for n, a in raised if a["subject"] == "llm-api:op3"]
    assert acked == 0  # raised before the batch that brought the account was acknowledged
    evidence = news.json.loads(alert["evidence"])
    assert evidence["basis"] == "fingerprints" and evidence["score"] >= options.match_threshold
    assert set(evidence["kinds"]) >= {"payment_fingerprint", "ip", "template"}
    assert "ip=203.0.113.5" in evidence["matched"]
    assert alert["arrived_at"] == dt.datetime.fromtimestamp(1_750_000_001, dt.UTC)  # the first batch's arrival
    assert "llm-api:u9" not in {a["subject"] for _, a in raised}

    # the full match finds the returner too, with the same id: recorded once
    again = news.returning_actors(watchlisted, baseline, options.match_threshold, None, {})
    assert "llm-api:op3" in {a["subject"] for a in again}
    assert news.record(watchlisted, again) == []
    stored = news.list_alerts(watchlisted, "returning_actor")
    assert [a["subject"] for a in stored].count("llm-api:op3") == 1
    # the returner joined its campaign, so the persona posting its fresh outputs joined it from the
    # sliding window (live.window) without waiting for the full match or a detection
    grew, = news.list_alerts(watchlisted, "campaign_grew")
    assert grew["evidence"]["actor"] == "x:new" and grew["evidence"]["basis"] == "provenance"
    assert grew["evidence"]["sources"] == ["llm-api:op3"]
    assert len(stored) + 1 == len(raised) == summary.alerts
