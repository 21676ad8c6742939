"""The real labelled sets of ``../shared/data/real/`` as canonical tables plus a truth folder in the
simulator's layout, so `detect` and `eval` run on them unchanged.

- ``ira_vs_organic``: IRA #GOPDebate tweets (every author is an IRA account: campaign "ira") and
  organic #GOPDebate tweets (CrowdFlower's set: campaign null). Retweets keep no ids in either file;
  a retweet's target is the retweeted text (normalised), so IRA and organic retweets of one tweet
  share an object. Both files give times to the minute.
- ``ira_trolls``: the English-language IRA troll tweets of Sept–Nov 2016, every author a troll;
  the truth's campaign is the hand-coded ``account_category`` (RightTroll, LeftTroll, NewsFeed, …),
  which asks how the trolls group, not whether they are found.
- ``cresci2015``: profiles only (no tweets) of humans and bought fake followers: accounts, and a
  truth whose campaign is the vendor group (INT, FSF, TWT) for fake followers, null for humans.
These are loaders for evaluation, not ingest formats: the columns are those of these files. Rows
whose time does not parse are kept with a null time, so loading them (`ingest`) quarantines them
with file, line and reason instead of losing them here."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from chorusline.schema import ACCOUNTS, POSTS

PLATFORM = "x"


def _read(path: Path) -> pa.Table:
    text = ("tweet_id", "id", "publish_date", "harvested_date", "tweet_created", "created_at", "region", "retweet")
    opts = pcsv.ConvertOptions(strings_can_be_null=False, column_types={c: pa.string() for c in text})
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as handle:
            return pcsv.read_csv(handle, convert_options=opts)
    return pcsv.read_csv(path, convert_options=opts)


# one SQL pass (embedded DuckDB) over the raw rows: kinds, retweet targets, hashtags, URLs, mentions.
# A retweet's target is the retweeted text, normalised (case, spaces, the truncation ellipsis).
_POSTS_SQL = f"""
select '{PLATFORM}' as platform, tag || ':' || cast(row_number() over () as varchar) as post_id,
       account_id, ts, case when repost then 'repost' else 'post' end as kind, text, 'en' as lang,
       case when repost then 'text:' || left(rtrim(trim(regexp_replace(lower(regexp_replace(text, '^RT @\\w+:\\s*', '')),
            '\\s+', ' ', 'g')), '… '), 100) end as target_post_id,
       case when repost then regexp_extract(text, '^RT @(\\w+):', 1) end as target_account_id,
       regexp_extract_all(text, 'https?://\\S+') as urls,
       list_sort(list_distinct(list_transform(regexp_extract_all(text, '#(\\w+)', 1), h -> lower(h)))) as hashtags,
       regexp_extract_all(regexp_replace(text, '^RT @\\w+:', ''), '@(\\w+)', 1) as mentions,
       []::varchar[] as media_hashes, null::varchar as client, '{{}}' as attrs
from raw
"""


def _posts(raw: pa.Table) -> pa.Table:
    """raw: tag, account_id, ts, text, repost → canonical posts."""
    import duckdb

    con = duckdb.connect()
    con.register("raw", raw)
    got = con.sql(_POSTS_SQL).to_arrow_table()
    got = got.set_column(got.schema.get_field_index("target_account_id"), "target_account_id",
                         pc.if_else(pc.equal(got["target_account_id"], ""), None, got["target_account_id"]))
    return got.select(POSTS.column_names).cast(POSTS.arrow_schema)


def _accounts(ids: pa.Array, places: pa.Array) -> pa.Table:
    n = len(ids)
    table = pa.table({"platform": pa.array([PLATFORM] * n), "account_id": ids, "handle": ids,
                      "claimed_location": pc.if_else(pc.equal(places, ""), None, places)})
    return _with_columns(table, ACCOUNTS)


def _with_columns(table: pa.Table, spec) -> pa.Table:
    """The table with the spec's missing columns as nulls, in the spec's order and types."""
    for name, typ in zip(spec.arrow_schema.names, spec.arrow_schema.types):
        if name not in table.column_names:
            table = table.append_column(name, pa.nulls(table.num_rows, typ))
    return table.select(spec.column_names).cast(spec.arrow_schema)


def _truth(ids: pa.Array, campaign: pa.Array) -> pa.Table:
    return pa.table({"platform": pa.array([PLATFORM] * len(ids)), "account_id": ids, "campaign": campaign})


def _ira(path: Path, tag: str) -> tuple[pa.Table, pa.Table]:
    """IRA tweets → (raw rows for _posts, first region per author)."""
    t = _read(path)
    ts = pc.strptime(t["publish_date"], "%Y-%m-%d %H:%M:%S", "us", error_is_null=True)
    ts = pc.coalesce(ts, pc.strptime(t["publish_date"], "%Y-%m-%d %H:%M", "us", error_is_null=True))
    raw = pa.table({"tag": pa.array([tag] * t.num_rows), "account_id": t["author_id"],
                    "ts": pc.assume_timezone(ts, "UTC"), "text": t["content"],
                    "repost": pc.equal(pc.cast(t["retweet"], pa.string()), "1")})
    regions = t.select(["author_id", "region"]).group_by("author_id", use_threads=False).aggregate([("region", "first")])
    return raw, regions


def ira_vs_organic(folder: Path) -> dict[str, pa.Table]:
    ira, regions = _ira(folder / "ira_gopdebate_tweets_dev.csv.gz", "ira")
    org = _read(folder / "organic_gopdebate_tweets_2015-08_dev.csv")
    ts = pc.assume_timezone(pc.strptime(org["tweet_created"], "%d-%m-%Y %H:%M", "us", error_is_null=True), "UTC")
    raw = pa.table({"tag": pa.array(["organic"] * org.num_rows), "account_id": org["name"], "ts": ts,
                    "text": org["text"], "repost": pc.match_substring_regex(org["text"], r"^RT @\w+:")})
    posts = _posts(pa.concat_tables([ira, raw]))
    places = org.select(["name", "tweet_location"]).group_by("name", use_threads=False).aggregate(
        [("tweet_location", "first")])
    organic_only = pc.invert(pc.is_in(places["name"], regions["author_id"]))
    places = places.filter(organic_only)
    accounts = pa.concat_tables([_accounts(regions["author_id"], regions["region_first"]),
                                 _accounts(places["name"], places["tweet_location_first"])])
    truth = pa.concat_tables([_truth(regions["author_id"], pa.array(["ira"] * regions.num_rows)),
                              _truth(places["name"], pa.nulls(places.num_rows, pa.string()))])
    return {"posts": posts, "accounts": accounts, "truth": truth}


def ira_trolls(folder: Path) -> dict[str, pa.Table]:
    raw, regions = _ira(folder / "ira_en_trolls_2016-09_to_11_tweets_dev.csv.gz", "troll")
    authors = _read(folder / "ira_authors_dev.csv")
    category = regions.join(authors.select(["author_id", "account_category"]), "author_id", join_type="left outer")
    return {"posts": _posts(raw), "accounts": _accounts(regions["author_id"], regions["region_first"]),
            "truth": _truth(category["author_id"], pc.fill_null(category["account_category"], "Unknown"))}


def cresci2015(folder: Path) -> dict[str, pa.Table]:
    t = _read(folder / "cresci2015_bas_users_dev.csv")
    created = pc.strptime(t["created_at"], "%a %b %d %H:%M:%S %z %Y", "us", error_is_null=True)
    ids = pc.cast(t["id"], pa.string())
    accounts = pa.table({
        "platform": pa.array([PLATFORM] * t.num_rows), "account_id": ids,
        "created_at": pc.cast(created, pa.timestamp("us", tz="UTC")), "handle": t["screen_name"],
        "display_name": t["name"], "bio": t["description"], "claimed_location": t["location"],
        "claimed_language": t["lang"], "followers": pc.cast(t["followers_count"], pa.int64()),
        "following": pc.cast(t["friends_count"], pa.int64())})
    accounts = _with_columns(accounts, ACCOUNTS)
    fake = pc.equal(t["label"], "fake_follower")
    campaign = pc.if_else(fake, t["dataset"], pa.scalar(None, pa.string()))
    truth = pa.table({"platform": pa.array([PLATFORM] * t.num_rows), "account_id": ids, "campaign": campaign})
    return {"accounts": accounts, "truth": truth}
