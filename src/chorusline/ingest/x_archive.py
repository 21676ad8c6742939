"""X/Twitter transparency ("information operations") archive CSVs, tweets or users files.

Parsed by header name (column order differs between releases). List columns come as ``[a, b]`` or
``['a', 'b']``. Tweet times are minute-precision in the file; the exact UTC millisecond is taken from
the snowflake tweet id where the id is one. Hashed accounts (64 hex characters) are flagged in attrs.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa
import pyarrow.compute as pc

from chorusline.ingest.base import IngestOptions, Piece, TabularAdapter, require_columns
from chorusline.ingest.conform import parse_timestamps
from chorusline.ingest.tabular import column_or_null, json_objects, present

TWITTER_EPOCH_MS = 1288834974657
SNOWFLAKE_MIN = 29_700_859_247_000_000  # ids below this predate snowflake time stamps (Nov 2010)
_HASHED = r"^[0-9a-fA-F]{64}$"
_ACCOUNT_ATTRS = ["user_profile_url"]
_POST_ATTRS = ["quote_count", "reply_count", "like_count", "retweet_count", "latitude", "longitude",
               "poll_choices", "tweet_time"]


def snowflake_time(ids: pa.Array) -> pa.Array:
    digits = pc.fill_null(pc.match_substring_regex(ids, r"^\d{1,19}$"), False)
    numbers = pc.if_else(digits, ids, pa.scalar(None, pa.string())).cast(pa.uint64()).cast(pa.int64(), safe=False)
    valid = pc.fill_null(pc.greater_equal(numbers, SNOWFLAKE_MIN), False)
    ms = pc.add(pc.shift_right(numbers, 22), TWITTER_EPOCH_MS)
    micros = pc.multiply(pc.if_else(valid, ms, pa.scalar(None, pa.int64())), 1000)
    return micros.cast(pa.timestamp("us", tz="UTC"))


class XArchiveAdapter(TabularAdapter):
    name = "x-archive"
    summary = "X/Twitter transparency archive CSV (tweets or users file; parsed by header)"
    tables = ("posts", "accounts")
    platform = "twitter"

    def check_header(self, path, header, options) -> None:
        # A tweets file is told by any tweet column, so one whose tweetid is damaged fails loudly
        # instead of loading as a users file (its tweets silently lost).
        tweets = any(c in header for c in ("tweetid", "tweet_time", "tweet_text"))
        needed = ("tweetid", "userid", "tweet_time") if tweets else ("userid", "user_screen_name")
        require_columns(path, header, needed, self.name)

    def map_batch(self, table: pa.Table, lines: pa.Array, options: IngestOptions) -> Iterable[Piece]:
        platform = {"platform": self.platform_for(options)}
        col = lambda name: column_or_null(table, name)  # noqa: E731
        userid = col("userid")
        hashed = pc.fill_null(pc.match_substring_regex(userid, _HASHED), False)
        flags = table.append_column("id_is_hashed", pc.if_else(hashed, "true", pa.scalar(None, pa.string())))
        accounts = {
            "account_id": userid,
            "handle": col("user_screen_name"),
            "display_name": col("user_display_name"),
            "bio": col("user_profile_description"),
            "claimed_location": col("user_reported_location"),
            "claimed_language": col("account_language"),
            "followers": col("follower_count"),
            "following": col("following_count"),
            "created_at": col("account_creation_date"),
            "attrs": json_objects(flags, ["id_is_hashed", *_ACCOUNT_ATTRS]),
        }
        yield Piece("accounts", pa.table(accounts), lines, defaults=platform)
        if "tweetid" not in table.column_names:  # a users file (check_header)
            return
        tweetid = col("tweetid")
        is_retweet = pc.fill_null(pc.is_in(pc.utf8_lower(col("is_retweet")), pa.array(["true", "1", "t", "yes"])), False)
        reply_to, quoted = col("in_reply_to_tweetid"), col("quoted_tweet_tweetid")
        is_reply, is_quote = present(reply_to), present(quoted)
        kind = pc.if_else(is_retweet, "repost", pc.if_else(is_reply, "reply", pc.if_else(is_quote, "quote", "post")))
        target = pc.if_else(is_retweet, col("retweet_tweetid"), pc.if_else(is_reply, reply_to, quoted))
        target_account = pc.if_else(is_retweet, col("retweet_userid"), col("in_reply_to_userid"))
        written = col("tweet_time")
        ts = pc.coalesce(snowflake_time(tweetid), parse_timestamps(written))
        # Keep the file's time where it does not parse, so conform reports it.
        ts_or_text = pc.if_else(pc.is_valid(ts), ts.cast(pa.string()), written)
        posts = {
            "post_id": tweetid,
            "account_id": userid,
            "ts": ts_or_text,
            "kind": kind,
            "text": col("tweet_text"),
            "lang": col("tweet_language"),
            "target_post_id": target,
            "target_account_id": target_account,
            "urls": col("urls"),
            "hashtags": col("hashtags"),
            "mentions": col("user_mentions"),
            "client": col("tweet_client_name"),
            "attrs": json_objects(table, _POST_ATTRS),
        }
        yield Piece("posts", pa.table(posts), lines, defaults=platform)

