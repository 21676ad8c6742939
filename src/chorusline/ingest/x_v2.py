"""X/Twitter API v2 tweet JSON as twarc2 writes it: one response page per line (``data`` +
``includes``), or one flattened tweet per line (``author`` inline). Users from ``includes.users``
become accounts; referenced tweets from ``includes.tweets`` become posts too."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chorusline.ingest.base import REJECT, IngestOptions, RecordAdapter
from chorusline.ingest.fields import attrs, lenient, dig, ident, integer, iso_time, mapping, str_list, text
from chorusline.ingest.readers import RecordError

_KIND = {"retweeted": "repost", "replied_to": "reply", "quoted": "quote"}
_KIND_ORDER = ("retweeted", "replied_to", "quoted")


class XV2Adapter(RecordAdapter):
    name = "x-v2"
    summary = "X/Twitter API v2 JSON lines (twarc2 pages with includes, or flattened tweets)"
    tables = ("posts", "accounts")
    platform = "twitter"

    def map_record(self, value: Any, options: IngestOptions) -> Iterator[tuple[str, Any]]:
        page = mapping(value, "record")
        if "data" in page:
            tweets = page["data"] if isinstance(page["data"], list) else [page["data"]]
            includes = page.get("includes") or {}
        elif "id" in page and ("author_id" in page or "author" in page):
            tweets, includes = [page], {}
        else:
            raise RecordError("neither a v2 response page (data) nor a tweet (id, author_id)")
        authors = {t.get("id"): t.get("author_id") for t in includes.get("tweets") or [] if isinstance(t, dict)}
        for user in includes.get("users") or []:
            if isinstance(user, dict) and user.get("id"):
                yield "accounts", _account(user)
        for tweet in tweets:
            if not isinstance(tweet, dict):
                yield REJECT, f"tweet is {type(tweet).__name__}, not an object"
                continue
            try:
                yield "posts", _post(tweet, authors)
            except RecordError as exc:
                yield REJECT, f"tweet {tweet.get('id')}: {exc}"
            if isinstance(tweet.get("author"), dict):  # flattened form
                yield "accounts", _account(tweet["author"])
        for tweet in includes.get("tweets") or []:
            if isinstance(tweet, dict) and tweet.get("id") and tweet.get("author_id") and tweet.get("created_at"):
                try:
                    yield "posts", _post(tweet, authors)
                except RecordError as exc:
                    yield REJECT, f"included tweet {tweet.get('id')}: {exc}"


def _post(tweet: dict, authors: dict) -> dict:
    refs = {r.get("type"): r.get("id") for r in tweet.get("referenced_tweets") or [] if isinstance(r, dict)}
    ref_type = next((t for t in _KIND_ORDER if refs.get(t)), None)
    target = text(refs.get(ref_type)) if ref_type else None
    target_account = text(tweet.get("in_reply_to_user_id")) if ref_type == "replied_to" else None
    if ref_type and not target_account:
        target_account = text(authors.get(refs.get(ref_type)))
    entities = tweet.get("entities") or {}
    urls = [u.get("unwound_url") or u.get("expanded_url") or u.get("url") for u in entities.get("urls") or []
            if isinstance(u, dict)]
    return {
        "post_id": ident(tweet.get("id"), "id"),
        "account_id": text(tweet.get("author_id")) or text(dig(tweet, "author", "id")),
        "ts": iso_time(tweet.get("created_at"), "created_at"),
        "kind": _KIND.get(ref_type, "post"),
        "text": text(tweet.get("text")),
        "lang": text(tweet.get("lang")),
        "target_post_id": target,
        "target_account_id": target_account,
        "urls": str_list(urls),
        "hashtags": str_list([h.get("tag") for h in entities.get("hashtags") or [] if isinstance(h, dict)]),
        "mentions": str_list([m.get("id") or m.get("username") for m in entities.get("mentions") or []
                              if isinstance(m, dict)]),
        "media_hashes": str_list(dig(tweet, "attachments", "media_keys")),
        "client": text(tweet.get("source")),
        "attrs": attrs(conversation_id=tweet.get("conversation_id"), public_metrics=tweet.get("public_metrics"),
                       possibly_sensitive=tweet.get("possibly_sensitive"), referenced_tweets=tweet.get("referenced_tweets")),
    }


def _account(user: dict) -> dict:
    metrics = user.get("public_metrics") or {}
    return {
        "account_id": text(user.get("id")),
        "created_at": lenient(iso_time, user.get("created_at"), "created_at"),
        "handle": text(user.get("username")),
        "display_name": text(user.get("name")),
        "bio": text(user.get("description")),
        "claimed_location": text(user.get("location")),
        "followers": lenient(integer, metrics.get("followers_count"), "followers_count"),
        "following": lenient(integer, metrics.get("following_count"), "following_count"),
        "attrs": attrs(verified=user.get("verified"), verified_type=user.get("verified_type"),
                       protected=user.get("protected"), url=user.get("url"),
                       profile_image_url=user.get("profile_image_url"), tweet_count=metrics.get("tweet_count")),
    }

