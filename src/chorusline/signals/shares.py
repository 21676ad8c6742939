"""The `shares` view: who touched which object when — what every co-action signal reads.

One row per (post, object): a repost's, reply's or quote's target, each URL, its domain, each
hashtag (lower-cased), each mention, each media hash. Times are whole UNIX seconds, as CooRTweet
uses them (sub-second precision is dropped, so results agree with the peers)."""

from __future__ import annotations

import ibis

OBJECT_TYPES = ("repost", "reply", "quote", "url", "domain", "hashtag", "mention", "media")
COLUMNS = ("platform", "account_id", "object_type", "object_id", "content_id", "ts")
_LISTS = {"url": "urls", "hashtag": "hashtags", "mention": "mentions", "media": "media_hashes", "domain": "urls"}
_HOST = r"^[a-zA-Z][a-zA-Z0-9+.-]*://(?:[^@/]*@)?([^/:?#]+)"


def shares_view(posts: ibis.Table, object_types: tuple[str, ...] | list[str] = OBJECT_TYPES) -> ibis.Table:
    unknown = set(object_types) - set(OBJECT_TYPES)
    if unknown or not object_types:
        raise ValueError(f"unknown object type(s) {sorted(unknown)}; known: {', '.join(OBJECT_TYPES)}")
    parts = []
    for kind in object_types:
        if kind in ("repost", "reply", "quote"):
            rows = posts.filter((posts.kind == kind) & posts.target_post_id.notnull())
            parts.append(_share(rows, kind, rows.target_post_id))
            continue
        rows = posts.filter(posts[_LISTS[kind]].length() > 0)
        exploded = rows.mutate(_object=rows[_LISTS[kind]].unnest())
        value = exploded._object
        if kind == "hashtag":
            value = value.lower()
        elif kind == "domain":
            value = value.re_extract(_HOST, 1).lower().re_replace(r"^www\.", "")
        part = _share(exploded, kind, value)
        parts.append(part.filter(part.object_id.notnull() & (part.object_id != "")))
    out = parts[0]
    for part in parts[1:]:
        out = out.union(part, distinct=False)
    return out


def _share(rows: ibis.Table, kind: str, object_id) -> ibis.Table:
    return rows.select(platform=rows.platform, account_id=rows.account_id, object_type=ibis.literal(kind),
                       object_id=object_id, content_id=rows.post_id, ts=rows.ts.epoch_seconds().cast("int64"))
