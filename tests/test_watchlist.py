"""The watchlist catches a returning operator's new account by what it reuses (card, egress,
prompt template), and weighs down what everybody shares (the default SDK user agent)."""

import pyarrow as pa

from chorusline.act.decisions import record_decision
from chorusline.act.watchlist import build_watchlist, match_accounts, save_watchlist
from chorusline.schema import ACCOUNTS
from conftest import add_calls, add_posts, add_rows

DAY = 86_400
SDK = "OpenAI/Python 1.12.0"
TEMPLATE = "请以{}的身份，用英文写一条关于{}的推文，立场：支持政府。"


def confirmed_operators(store, t0: int = 0) -> None:
    """Two operator API accounts (one card, one egress address, one prompt template) confirmed as
    campaign 0, among eight ordinary customers of the same SDK with their own addresses, cards and
    tasks; calls from ``t0`` (UNIX seconds). Shared with the watcher's per-batch check test."""
    calls, accounts = [], []
    for op in ("op1", "op2"):
        accounts.append({"account_id": op, "payment_fingerprint": "pf_ops"})
        calls += [{"call_id": f"{op}-{i}", "account_id": op, "ts": t0 + i * 3600, "ip": "203.0.113.5",
                   "user_agent": SDK, "prompt": TEMPLATE.format("a nurse from Ohio", f"topic {i}")} for i in range(5)]
    for u in range(8):
        accounts.append({"account_id": f"u{u}", "payment_fingerprint": f"pf_{u}"})
        calls += [{"call_id": f"u{u}-{i}", "account_id": f"u{u}", "ts": t0 + i * 3600, "ip": f"198.51.100.{u}",
                   "user_agent": SDK, "prompt": f"Summarize this article: story {u}-{i}"} for i in range(3)]
    add_rows(store, ACCOUNTS, accounts, "llm-api")
    add_calls(store, calls)
    members = pa.table({"actor": ["llm-api:op1", "llm-api:op2"], "campaign_id": [0, 0], "flagged": [True, True]})
    store.backend.create_table("campaign_members", members)
    record_decision(store, 0, "confirm", "ana")


def test_returning_operator_ranks_first(duck_store):
    confirmed_operators(duck_store)
    watch = {(r["kind"], r["key"]): r["weight"] for r in build_watchlist(duck_store).to_pyarrow().to_pylist()}
    assert watch[("payment_fingerprint", "pf_ops")] > 0.9  # nobody outside the campaign uses that card
    assert watch[("user_agent", SDK)] < 0.05  # everybody uses the SDK
    save_watchlist(duck_store)
    # after the ban: the operator's new account, same card, same egress, same template, a month later
    add_rows(duck_store, ACCOUNTS, [{"account_id": "op3", "payment_fingerprint": "pf_ops"}], "llm-api")
    outputs = [f"the new harbor bridge plan {i} will bring jobs and lower prices for every family in town"
               for i in range(2)]
    add_calls(duck_store, [{"call_id": f"op3-{i}", "account_id": "op3", "ts": 30 * DAY + i * 60, "ip": "203.0.113.5",
                            "user_agent": SDK, "prompt": TEMPLATE.format("a veteran from Florida", f"topic {i}"),
                            "output": outputs[i]} for i in range(2)])
    # its new persona posts that output minutes later; someone posting the same text two days on
    # is no evidence
    add_posts(duck_store, [{"post_id": f"new-{i}", "account_id": "new", "ts": 30 * DAY + i * 60 + 600,
                            "text": outputs[i]} for i in range(2)]
              + [{"post_id": "late", "account_id": "late", "ts": 32 * DAY, "text": outputs[0]}])
    ranking = match_accounts(duck_store).to_pylist()
    by_actor = {r["actor"]: r for r in ranking}
    assert by_actor["x:new"]["kinds"] == ["provenance"] and "x:late" not in by_actor
    assert ranking[0]["actor"] == "llm-api:op3"
    assert set(ranking[0]["kinds"]) >= {"payment_fingerprint", "ip", "template"}
    assert all(r["actor"] not in ("llm-api:op1", "llm-api:op2") for r in ranking)
    assert ranking[0]["score"] > 5 * max(r["score"] for r in ranking[1:] if r["actor"] != "x:new")


def _confirm_with_a_persona(store) -> None:
    """``confirmed_operators``' campaign confirmed again with a persona of its own, x:voice, which
    posted op1's outputs ten minutes after each call for a week: the campaign's usual lag."""
    early = [f"the county fair board {i} deserves our thanks for a season of honest hard work" for i in range(7)]
    add_calls(store, [{"call_id": f"op1-early-{i}", "account_id": "op1", "ts": 20 * DAY + i * DAY, "ip": "203.0.113.5",
                       "user_agent": SDK, "output": early[i],
                       "prompt": TEMPLATE.format("a teacher from Iowa", f"fair {i}")} for i in range(7)])
    add_posts(store, [{"post_id": f"voice-{i}", "account_id": "voice", "ts": 20 * DAY + i * DAY + 600,
                       "text": early[i]} for i in range(7)])
    members = pa.table({"actor": ["llm-api:op1", "llm-api:op2", "x:voice"], "campaign_id": [0, 0, 0],
                        "flagged": [True, True, True]})
    store.backend.create_table("campaign_members", members, overwrite=True)
    record_decision(store, 0, "confirm", "ana")


def test_personas_of_a_confirmed_writer_rank_by_evidence_beyond_chance(duck_store):
    """The ban took the personas, not the API accounts: new personas post what a *confirmed* API
    account writes, minutes after it writes it (as the campaign's own persona did). How much such a
    persona inherits depends on how far its copies are beyond chance, and chance is measured where
    copies are not: ordinary posts that say what an output said hours later. So a new persona with
    one copy among two posts inherits nearly all (ten of them do not make each other look like
    chance); one in-window collision among sixty ordinary posts inherits little; the late ones,
    nothing (the window is the campaign's own usual lag, not one stretched by them)."""
    confirmed_operators(duck_store)
    _confirm_with_a_persona(duck_store)
    save_watchlist(duck_store)
    topics = "harbor bridge jobs prices family county river school clinic tax farm road".split()
    outputs = [" ".join(f"{t}{i}" for t in topics) for i in range(60)]  # sixty outputs, no word in common
    add_calls(duck_store, [{"call_id": f"op1-late-{i}", "account_id": "op1", "ts": 30 * DAY + i * 3600,
                            "ip": "203.0.113.5", "user_agent": SDK, "output": outputs[i],
                            "prompt": TEMPLATE.format("a veteran from Florida", f"topic {i}")} for i in range(60)])
    at = {i: 30 * DAY + i * 3600 for i in range(60)}
    posts = [{"post_id": f"steady-{i}", "account_id": "steady", "ts": at[i] + 600, "text": outputs[i]} for i in range(6)]
    for n in range(10):  # ten new personas, one copy and one post of their own each
        posts += [{"post_id": f"fresh{n}-copy", "account_id": f"fresh{n}", "ts": at[10 + n] + 600, "text": outputs[10 + n]},
                  {"post_id": f"fresh{n}-own", "account_id": f"fresh{n}", "ts": at[10 + n] + 7200,
                   "text": f"lovely sunset over the lake tonight, photo {n}"}]
    # an ordinary account: sixty posts of its own, one of which happens to say what an output said
    posts += [{"post_id": f"chatty-{i}", "account_id": "chatty", "ts": 29 * DAY + i * 1800,
               "text": f"my garden diary day {i}: tomatoes, basil and a stubborn lemon tree"} for i in range(60)]
    posts += [{"post_id": "chatty-hit", "account_id": "chatty", "ts": at[30] + 900, "text": outputs[30]}]
    # forty others say what an output said six hours after it: that is what chance looks like here
    posts += [{"post_id": f"crowd-{u}-{i}", "account_id": f"crowd{u}", "ts": 29 * DAY + u * 600 + i * 60,
               "text": f"weekend plans {u} {i}: hiking, coffee, a book"} for u in range(60) for i in range(5)]
    posts += [{"post_id": f"crowd-{u}-late", "account_id": f"crowd{u}", "ts": at[20 + u] + 6 * 3600,
               "text": outputs[20 + u]} for u in range(40)]
    add_posts(duck_store, posts)
    by_actor = {r["actor"]: r for r in match_accounts(duck_store).to_pylist()}
    steady, chatty = by_actor["x:steady"], by_actor.get("x:chatty")
    assert "provenance" in steady["kinds"] and steady["campaign_id"] == 0
    assert "provenance=llm-api:op1" in steady["evidence"]
    fresh = [by_actor[f"x:fresh{n}"]["score"] for n in range(10)]
    assert min(fresh) > 0.8 * steady["score"]
    assert chatty is None or chatty["score"] < min(fresh) / 3
    assert all("provenance" not in by_actor.get(f"x:crowd{u}", {"kinds": []})["kinds"] for u in range(40))
