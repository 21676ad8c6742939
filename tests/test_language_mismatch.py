"""language_mismatch: prompting in one language for text in another, and posting in a language the
persona does not claim; an ordinary bilingual user translating now and then is a small share."""

import json

from chorusline.schema import ACCOUNTS
from chorusline.signals.language_mismatch import identify, language_features
from conftest import add_calls, add_posts, add_rows

ZH = "请以一位退休的美国教师的身份，用英文写一条关于选举的推文，立场：支持政府，不超过50字。"
EN_OUT = "Honestly, the new voting rules are exactly what we needed. Finally some common sense here."
EN_PROMPT = "Summarize this article about the farmers market in two short sentences please."
FR_POST = "Franchement, le nouveau marché du samedi est une vraie réussite pour tout le quartier."


def test_identifier_ships_its_model():
    assert identify([ZH, EN_OUT, FR_POST]) == ["zh", "en", "fr"]


def test_operator_prompting_in_chinese_and_a_persona_posting_off_claim(any_store):
    calls = [{"call_id": f"op{i}", "account_id": "op", "ts": i, "prompt": ZH + f"#{i}", "output": EN_OUT + f" {i}"}
             for i in range(10)]
    # an ordinary user: English tasks, one translation request out of ten
    calls += [{"call_id": f"u{i}", "account_id": "user", "ts": i, "prompt": EN_PROMPT + f" {i}",
               "output": EN_OUT + f" {i}"} for i in range(9)]
    calls += [{"call_id": "u9", "account_id": "user", "ts": 9, "prompt": "Translate into French: " + EN_OUT,
               "output": FR_POST}]
    calls = add_calls(any_store, calls)
    posts = add_posts(any_store, [{"post_id": f"p{i}", "account_id": "persona", "ts": i, "text": FR_POST + f" {i}",
                                   "lang": "en"} for i in range(4)]
                      + [{"post_id": "ok", "account_id": "local", "ts": 1, "text": EN_OUT, "lang": "en"},
                         {"post_id": "short", "account_id": "local", "ts": 2, "text": "so true!", "lang": "en"}])
    accounts = add_rows(any_store, ACCOUNTS, [{"account_id": "persona", "claimed_language": "en"},
                                              {"account_id": "local", "claimed_language": "en-US"}], "x")
    got = language_features(calls, posts, accounts).to_pylist()
    value = {(r["actor"], r["feature"]): r["value"] for r in got}
    assert value[("llm-api:op", "language_mismatch:prompt_output")] == 1.0
    assert value[("llm-api:user", "language_mismatch:prompt_output")] == 0.1
    assert value[("x:persona", "language_mismatch:post_claimed")] == 1.0
    assert value[("x:persona", "language_mismatch:post_declared")] == 1.0
    assert value[("x:local", "language_mismatch:post_claimed")] == 0.0  # "so true!" is too short to judge
    evidence = next(r["evidence"] for r in got if r["actor"] == "llm-api:op")
    assert json.loads(evidence) == ["zh>en=10"]
