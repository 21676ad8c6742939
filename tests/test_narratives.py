"""Narratives inside a campaign: members grouped by what they push (campaigns/narratives.py)."""

import json

import numpy as np
import pyarrow as pa
import pytest
from conftest import add_posts

from chorusline.campaigns.narratives import NarrativeParams, profiles, save_narratives
from chorusline.eval.metrics import adjusted_rand_index

# three repertoires: hashtags, a site, words, an account they repost; every member also uses #news
REPERTOIRES = {
    "energy": (["energy", "pipeline"], "oilnews.com", "drilling jobs refinery", "oilboss"),
    "cats": (["catsofinstagram", "kittens"], "catpics.net", "adorable kitten whiskers", "catlady"),
    "football": (["football", "goal"], "sportsdaily.org", "match striker penalty", "coachbob"),
}


def _posts_of(account: str, repertoire: str, n: int = 4) -> list[dict]:
    tags, site, text, boss = REPERTOIRES[repertoire]
    posts = [{"post_id": f"{account}-{i}", "account_id": account, "ts": 1_700_000_000 + 60 * i,
              "text": f"{text} today number {i} https://{site}/story/{account}/{i} #{tags[i % 2]} #news",
              "hashtags": [tags[i % 2], "news"], "urls": [f"https://{site}/story/{account}/{i}"]}
             for i in range(n)]
    posts.append({"post_id": f"{account}-rt", "account_id": account, "ts": 1_700_000_000, "kind": "repost",
                  "text": f"{text} again", "target_account_id": boss, "target_post_id": f"{boss}-1"})
    return posts


def _members(rows: list[tuple[int, str, bool]]) -> pa.Table:
    return pa.table({"campaign_id": pa.array([r[0] for r in rows], pa.int64()), "actor": [r[1] for r in rows],
                     "flagged": [r[2] for r in rows]})


def test_repertoires_become_narratives(any_store):
    groups = {f"{r[:3]}{i}": r for r in REPERTOIRES for i in range(4)}
    posts = [p for account, r in groups.items() for p in _posts_of(account, r)]
    posts += _posts_of("ene9", "energy")  # an unflagged member of a campaign with flagged ones: left out
    posts.append({"post_id": "cat0-x", "account_id": "cat0", "ts": 1_700_000_000, "text": "pipeline drilling",
                  "hashtags": ["pipeline"]})  # a little cross-talk
    # a small campaign (two repertoires, four members, none flagged): one narrative of all four
    small = {"sma0": "energy", "sma1": "energy", "smc0": "cats", "smc1": "cats"}
    posts += [p for account, r in small.items() for p in _posts_of(account, r)]
    add_posts(any_store, posts)
    rows = [(7, f"x:{a}", True) for a in groups] + [(7, "x:ene9", False), (7, "llm-api:key1", True)]
    rows += [(9, f"x:{a}", False) for a in small]
    any_store.backend.create_table("campaign_members", _members(rows), overwrite=True)

    narratives = save_narratives(any_store, NarrativeParams()).to_pylist()
    assigned = any_store.table("narrative_members").to_pyarrow().to_pylist()
    big = {a["actor"]: a["narrative_id"] for a in assigned if a["campaign_id"] == 7}
    assert set(big) == {f"x:{a}" for a in groups}  # no unflagged member, no account without posts
    truth = [groups[a.split(":")[1]] for a in sorted(big)]
    assert adjusted_rand_index(truth, [big[a] for a in sorted(big)]) == 1.0
    assert {a["narrative_id"] for a in assigned if a["campaign_id"] == 9} == {0}
    assert len([a for a in assigned if a["campaign_id"] == 9]) == 4

    mine = {n["narrative_id"]: n for n in narratives if n["campaign_id"] == 7}
    assert sorted(mine) == [0, 1, 2] and all(n["members"] == 4 for n in mine.values())
    for k, n in mine.items():
        repertoire = groups[next(a for a, g in big.items() if g == k).split(":")[1]]
        tags, site, _, boss = REPERTOIRES[repertoire]
        top = json.loads(n["top_terms"])
        assert {f"#{tags[0]}", f"#{tags[1]}", site, f"RT @{boss}"} <= set(top)
        assert "#news" not in top  # every member uses it: it tells no narrative apart
        texts = json.loads(n["example_texts"])
        assert texts and len(texts) == len(json.loads(n["example_post_ids"])) <= 3
        assert all(REPERTOIRES[repertoire][2].split()[0] in t for t in texts)


def test_same_input_same_narratives(duck_store):
    groups = {f"{r[:3]}{i}": r for r in REPERTOIRES for i in range(3)}
    add_posts(duck_store, [p for account, r in groups.items() for p in _posts_of(account, r)])
    duck_store.backend.create_table("campaign_members", _members([(0, f"x:{a}", True) for a in groups]),
                                    overwrite=True)
    first = save_narratives(duck_store)
    again = save_narratives(duck_store)
    assert first.equals(again)
    assert sorted(first["members"].to_pylist()) == [3, 3, 3]


def test_unknown_family_is_refused(duck_store):
    duck_store.backend.create_table("campaign_members", _members([(0, "x:a", True)]), overwrite=True)
    with pytest.raises(ValueError, match="unknown term family"):
        save_narratives(duck_store, NarrativeParams(families=("hashtag", "emoji")))


def test_profiles_by_hand():
    # members 0..2; terms 0, 1 (family 0) and 2, 3 (family 1); term 3 is used by every member
    row, col = np.array([0, 0, 1, 1, 2, 0, 1, 2]), np.array([0, 2, 0, 2, 1, 3, 3, 3])
    p = profiles(row, col, np.array([1, 1, 3, 1, 1, 5, 5, 5]), (3, 4), np.array([0, 0, 1, 1]))
    dense = np.zeros((3, 4))
    dense[p.row, p.col] = p.weight
    assert np.allclose(np.linalg.norm(dense, axis=1), 1.0) and np.allclose(dense[:, 3], 0.0)
    # members 0 and 1 use the same terms (1 and 3 times): each family's block is normalised on its own
    assert np.allclose(dense[0], dense[1]) and np.allclose(dense[0], [0.5 ** 0.5, 0, 0.5 ** 0.5, 0])
    assert np.allclose(p.similarity(chunk=3), dense @ dense.T)  # summed over slices of terms


def test_campaigns_past_max_members_get_no_narratives(duck_store):
    """The member × member similarity grows with the square: a crowd past max_members is skipped."""
    import pyarrow as pa

    from chorusline.campaigns.narratives import narrative_scope

    duck_store.backend.create_table("m", pa.table({"campaign_id": [0, 0, 0, 1, 1], "actor": list("abcde"),
                                                   "flagged": [True, True, False, False, False]}), overwrite=True)
    scope = narrative_scope(duck_store.table("m"), max_members=2).to_pyarrow().to_pylist()
    assert sorted((r["campaign_id"], r["actor"]) for r in scope) == [(0, "a"), (0, "b"), (1, "d"), (1, "e")]
    assert narrative_scope(duck_store.table("m"), max_members=1).to_pyarrow().num_rows == 0
