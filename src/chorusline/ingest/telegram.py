"""Telegram Desktop JSON export (``result.json``): one chat, or a full-account export with
``chats.list``. Streamed with ijson, so exports larger than memory load. Times come from
``date_unixtime`` (``date`` is the exporting machine's local time, with no offset). Post ids are
``<chat id>/<message id>`` because message ids are unique only within a chat. The ``line`` of a
quarantined message is its position in the export (messages are not one per line)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from chorusline.ingest.base import SKIP, IngestOptions, RecordAdapter
from chorusline.ingest.fields import attrs, epoch_time, ident, mapping, str_list, text
from chorusline.ingest.readers import FormatError, JsonRecord, RecordError, json_items, open_binary

_URL_ENTITIES = ("link", "text_link")
_MENTIONS = ("mention", "mention_name")


class TelegramAdapter(RecordAdapter):
    name = "telegram"
    summary = "Telegram Desktop JSON export (one chat, or full export with chats.list)"
    tables = ("posts", "accounts")
    platform = "telegram"

    def records(self, path: Path, options: IngestOptions) -> Iterator[JsonRecord]:
        layout, chat = _layout(path)
        # Messages are streamed one by one in both layouts (a full export's chat is not read whole),
        # so damage in one message or a truncated export costs only what it touches.
        if layout == "chat":
            items = json_items(path, "messages.item")
        else:
            items = json_items(path, "chats.list.item.messages.item", context="chats.list.item")
        for record in items:
            if record.error is None and isinstance(record.value, dict):
                info = chat if record.scope is None else {k: record.scope.get(k) for k in ("id", "name", "type")}
                record.value = {"__chat": info, **record.value}
            yield record

    def map_record(self, value: Any, options: IngestOptions) -> Iterator[tuple[str, Any]]:
        message = mapping(value, "message")
        chat = message.get("__chat") or {}
        chat_id = ident(chat.get("id"), "chat id")
        if message.get("type") != "message":
            yield SKIP, f"{message.get('type')} message"
            return
        msg_id = ident(message.get("id"), "id")
        sender = text(message.get("from_id")) or f"channel{chat_id}"
        entities = [e for e in message.get("text_entities") or [] if isinstance(e, dict)]
        if not entities and isinstance(message.get("text"), list):
            entities = [e for e in message["text"] if isinstance(e, dict)]
        urls = [e.get("href") or e.get("text") for e in entities if e.get("type") in _URL_ENTITIES]
        hashtags = [(e.get("text") or "").lstrip("#") for e in entities if e.get("type") == "hashtag"]
        mentions = [e.get("user_id") or e.get("text") for e in entities if e.get("type") in _MENTIONS]
        reply_to = text(message.get("reply_to_message_id"))
        forwarded = text(message.get("forwarded_from"))
        kind = "reply" if reply_to else ("repost" if forwarded else "post")
        media = message.get("photo") or message.get("file")
        yield "posts", {
            "post_id": f"{chat_id}/{msg_id}",
            "account_id": sender,
            "ts": _time(message),
            "kind": kind,
            "text": _flatten_text(message.get("text")),
            "target_post_id": f"{chat_id}/{reply_to}" if reply_to else None,
            "target_account_id": text(message.get("forwarded_from_id")) if kind == "repost" else None,
            "urls": str_list(urls),
            "hashtags": str_list(hashtags),
            "mentions": str_list(mentions),
            "media_hashes": str_list([media] if media and not str(media).startswith("(File not included") else []),
            "client": text(message.get("via_bot")),
            "attrs": attrs(chat_id=chat_id, chat_name=chat.get("name"), chat_type=chat.get("type"),
                           forwarded_from=forwarded, author=message.get("author"), media_type=message.get("media_type"),
                           edited_unixtime=message.get("edited_unixtime"), saved_from=message.get("saved_from")),
        }
        if message.get("from_id"):
            yield "accounts", {"account_id": sender, "display_name": text(message.get("from"))}


def _time(message: dict):
    if message.get("date_unixtime") is None:
        raise RecordError("missing date_unixtime (the local 'date' has no offset and is not used)")
    return epoch_time(message.get("date_unixtime"), "date_unixtime")


def _flatten_text(value) -> str | None:
    if isinstance(value, list):
        return text("".join(part if isinstance(part, str) else str((part or {}).get("text", "")) for part in value))
    return text(value)


def _layout(path: Path) -> tuple[str, dict]:
    """'chat' (with the chat's id, name, type) or 'account', from the top-level keys."""
    import ijson

    chat: dict = {}
    with open_binary(path, progress=False) as fh:
        try:
            for prefix, event, value in ijson.parse(fh):
                if prefix == "" and event not in ("start_map", "map_key", "end_map"):
                    break
                if prefix in ("id", "name", "type") and event in ("string", "number"):
                    chat[prefix] = value
                if event == "map_key" and prefix == "" and value in ("messages", "chats"):
                    return ("chat" if value == "messages" else "account"), chat
        except ijson.JSONError as exc:
            raise FormatError(f"{path}: line 1: not a Telegram export: invalid JSON ({exc})") from None
    raise FormatError(f"{path}: line 1: not a Telegram export: no top-level 'messages' or 'chats'")
