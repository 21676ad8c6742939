"""machine_text: the AI-text detector pooled per account as a feature, and its indicator — enough
posts, and a floor that rises with the data's own population."""

import ibis
import pyarrow as pa
import pytest

from chorusline.campaigns.suspicion import SuspicionParams, account_indicators
from chorusline.signals.machine_text import MachineTextParams, machine_text_features
from conftest import add_posts


def test_each_account_gets_a_pooled_score_over_a_bounded_sample(duck_store):
    posts = [{"post_id": f"a{i}", "account_id": "writer", "ts": i * 60,
              "text": f"In conclusion, it is important to note that policy number {i} offers several key benefits."}
             for i in range(30)]
    posts += [{"post_id": f"b{i}", "account_id": "short", "ts": i * 60, "text": "lol ok"} for i in range(5)]
    posts += [{"post_id": "r1", "account_id": "sharer", "ts": 0, "kind": "repost",
               "text": "a repost copies someone else's text and is not the account's writing"}]
    add_posts(duck_store, posts)
    f = machine_text_features(duck_store.table("posts"), MachineTextParams(per_account=25)).to_pandas()
    assert set(f.actor) == {"x:writer"}  # too-short texts and reposts are not scored
    by = f.set_index("feature").value
    assert by["machine_text:posts"] == 25
    assert 0.0 < by["machine_text:pooled_probability"] < 1.0 and 0.0 <= by["machine_text:machine_share"] <= 1.0
    assert f.evidence.iloc[0].startswith('["posts=25"')


def _features(values: dict[str, tuple[float, float]]) -> ibis.Table:
    rows = [(a, "machine_text:pooled_probability", p) for a, (p, _) in values.items()]
    rows += [(a, "machine_text:posts", n) for a, (_, n) in values.items()]
    return ibis.memtable(pa.table({"actor": [r[0] for r in rows], "feature": [r[1] for r in rows],
                                   "value": [float(r[2]) for r in rows], "evidence": ["[]"] * len(rows)}))


def _indicator(values: dict, **params) -> dict:
    got = account_indicators(_features(values), SuspicionParams(**params)).to_pyarrow()
    return dict(zip(got.column("actor").to_pylist(), got.column("machine_text").to_pylist()))


def test_the_indicator_needs_enough_posts_and_counts_above_the_detectors_threshold():
    humans = {f"h{i}": (0.1 + 0.01 * i, 40) for i in range(20)}
    got = _indicator({**humans, "bot": (0.8, 40), "halfway": (0.675, 40), "few": (0.95, 5)})
    assert got["bot"] == pytest.approx(1.0)
    assert got["halfway"] == pytest.approx(0.5)
    assert got["few"] is None  # 5 posts: not measured, not "human"
    assert all(got[h] == 0.0 for h in humans)


def test_where_everyone_reads_machine_like_the_floor_rises_with_the_population():
    # a platform of formal writing (or generated text throughout): 0.7 is typical there, not evidence
    crowd = {f"c{i}": (0.6 + 0.01 * i, 40) for i in range(20)}
    got = _indicator({**crowd, "outlier": (0.95, 40)})
    typical = sorted(p for p, _ in crowd.values())
    assert got["c0"] == 0.0 and got["c10"] == 0.0
    assert 0.0 < got["outlier"] == pytest.approx((0.95 - typical[17]) / 0.25, abs=0.05)


def test_the_sample_is_the_same_rows_on_every_engine(any_store):
    """The sample is the rows with the smallest MD5 of their key, in that order: a digest both engines
    compute alike (their own hash() functions differ, and with them the posts scored)."""
    import hashlib

    from chorusline.signals.sample import account_sample

    ids = [f"p{i}" for i in range(30)]
    add_posts(any_store, [{"post_id": p, "account_id": "a", "ts": i, "text": f"text {p}"} for i, p in enumerate(ids)]
              + [{"post_id": "q0", "account_id": "b", "ts": 0, "text": "text q0"}])
    posts = any_store.table("posts")
    got = account_sample(posts, "post_id", {"text": posts.text}, 7).to_pylist()
    expected = sorted(ids, key=lambda p: hashlib.md5(p.encode()).hexdigest())[:7]
    assert [r["text"] for r in got] == [f"text {p}" for p in expected] + ["text q0"]
    assert [r["actor"] for r in got] == ["x:a"] * 7 + ["x:b"]
