"""Bluesky Jetstream v1 events (JSON lines). Time is the server's ``time_us`` (clients can back-date
``createdAt``, which is kept in attrs). Posts, reposts, likes and follows become posts (their kind
says which); profiles and identity events become accounts; deletes and other lexicons are skipped
and counted. Delivery is at-least-once: the key (the record's AT-URI) makes repeats harmless."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chorusline.ingest.base import SKIP, IngestOptions, RecordAdapter
from chorusline.ingest.fields import attrs, lenient, dig, epoch_time, ident, iso_time, mapping, str_list, text
from chorusline.ingest.readers import RecordError

POST = "app.bsky.feed.post"
_ACTIONS = {"app.bsky.feed.repost": "repost", "app.bsky.feed.like": "like", "app.bsky.graph.follow": "follow"}


def did_of(uri: str | None) -> str | None:
    """at://did:plc:x/app.bsky.feed.post/rkey -> did:plc:x"""
    if not uri or not uri.startswith("at://"):
        return None
    return uri[5:].split("/", 1)[0] or None


class BlueskyJetstreamAdapter(RecordAdapter):
    name = "bluesky-jetstream"
    summary = "Bluesky Jetstream v1 events (JSON lines: commit / identity / account)"
    tables = ("posts", "accounts")
    platform = "bluesky"

    def map_record(self, value: Any, options: IngestOptions) -> Iterator[tuple[str, Any]]:
        event = mapping(value, "event")
        did = ident(event.get("did"), "did")
        kind = event.get("kind")
        ts = epoch_time(event.get("time_us"), "time_us", unit="us")
        if ts is None:
            raise RecordError("missing time_us")
        if kind == "identity":
            yield "accounts", {"account_id": did, "handle": text(dig(event, "identity", "handle")),
                               "attrs": attrs(identity_time=dig(event, "identity", "time"))}
            return
        if kind == "account":
            yield SKIP, "account status event"
            return
        if kind != "commit":
            raise RecordError(f"unknown event kind {kind!r}")
        commit = mapping(event.get("commit"), "commit")
        collection, operation = commit.get("collection"), commit.get("operation")
        if operation == "delete":
            yield SKIP, f"delete ({collection})"
            return
        record = commit.get("record")
        if not isinstance(record, dict):
            raise RecordError(f"{operation} of {collection} without a record")
        uri = f"at://{did}/{collection}/{ident(commit.get('rkey'), 'commit.rkey')}"
        provenance = dict(createdAt=record.get("createdAt"), cid=commit.get("cid"), rev=commit.get("rev"),
                          operation=operation)
        if collection == POST:
            yield "posts", _post(did, uri, ts, record, provenance)
        elif collection in _ACTIONS:
            subject = record.get("subject")
            target_uri = subject.get("uri") if isinstance(subject, dict) else None
            target_did = did_of(target_uri) if target_uri else text(subject)
            yield "posts", {
                "post_id": uri, "account_id": did, "ts": ts, "kind": _ACTIONS[collection],
                "target_post_id": text(target_uri), "target_account_id": target_did,
                "attrs": attrs(**provenance, via=dig(record, "via", "uri")),
            }
        elif collection == "app.bsky.actor.profile":
            yield "accounts", {
                "account_id": did, "display_name": text(record.get("displayName")),
                "bio": text(record.get("description")), "created_at": lenient(iso_time, record.get("createdAt"), "createdAt"),
                "attrs": attrs(avatar=dig(record, "avatar", "ref", "$link"), banner=dig(record, "banner", "ref", "$link"),
                               pinned_post=dig(record, "pinnedPost", "uri")),
            }
        else:
            yield SKIP, f"collection {collection}"


def _post(did: str, uri: str, ts, record: dict, provenance: dict) -> dict:
    urls, tags, mentions = [], list(record.get("tags") or []), []
    for facet in record.get("facets") or []:
        for feature in (facet or {}).get("features") or []:
            ftype = (feature or {}).get("$type", "")
            if ftype.endswith("#link"):
                urls.append(feature.get("uri"))
            elif ftype.endswith("#tag"):
                tags.append(feature.get("tag"))
            elif ftype.endswith("#mention"):
                mentions.append(feature.get("did"))
    embed = record.get("embed") or {}
    media = embed.get("media") if isinstance(embed.get("media"), dict) else embed
    images = [dig(i, "image", "ref", "$link") for i in media.get("images") or [] if isinstance(i, dict)]
    if dig(media, "video", "ref", "$link"):
        images.append(dig(media, "video", "ref", "$link"))
    external = dig(embed, "external", "uri") or dig(embed, "media", "external", "uri")
    if external:
        urls.append(external)
    quoted = dig(embed, "record", "uri") or dig(embed, "record", "record", "uri")
    parent = dig(record, "reply", "parent", "uri")
    kind, target = ("reply", parent) if parent else (("quote", quoted) if quoted else ("post", None))
    langs = record.get("langs") or []
    return {
        "post_id": uri, "account_id": did, "ts": ts, "kind": kind,
        "text": text(record.get("text")), "lang": text(langs[0]) if langs else None,
        "target_post_id": text(target), "target_account_id": did_of(target),
        "urls": str_list(urls), "hashtags": str_list(tags), "mentions": str_list(mentions),
        "media_hashes": str_list(images),
        "attrs": attrs(**provenance, langs=langs if len(langs) > 1 else None, quote=quoted if parent else None,
                       reply_root=dig(record, "reply", "root", "uri")),
    }

