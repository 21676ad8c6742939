"""LiteLLM spend logs (``LiteLLM_SpendLogs`` rows exported as CSV, a JSON array or JSON lines) and
the ``StandardLoggingPayload`` objects its callbacks write. ``""`` means missing, as LiteLLM writes
it. The account is the end user when the request named one, else the key's user, else the key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from chorusline.ingest.base import IngestOptions, RecordAdapter
from chorusline.ingest.fields import attrs, epoch_time, ident, integer, iso_time, mapping, text
from chorusline.ingest.llm_text import content_text, messages_text
from chorusline.ingest.readers import JsonRecord, RecordError, csv_records, first_char, json_items, json_lines


class LiteLLMAdapter(RecordAdapter):
    name = "litellm"
    summary = "LiteLLM spend-log rows (CSV, JSON array or JSON lines) / StandardLoggingPayload"
    tables = ("llm_calls", "accounts")
    platform = "litellm"

    def records(self, path: Path, options: IngestOptions) -> Iterator[JsonRecord]:
        head = first_char(path)
        if head == "[":
            yield from json_items(path, "item")
        elif head == "{":
            yield from json_lines(path)
        else:
            yield from _csv_records(path)

    def map_record(self, value: Any, options: IngestOptions) -> Iterator[tuple[str, Any]]:
        row = mapping(value, "row")
        meta = _json(row.get("metadata")) or {}
        if not isinstance(meta, dict):
            meta = {}
        call_id = text(row.get("request_id")) or text(row.get("id"))
        if call_id is None:
            raise RecordError("missing request_id")
        key_hash = text(row.get("api_key")) or text(meta.get("user_api_key_hash"))
        account = (text(row.get("end_user")) or text(meta.get("user_api_key_end_user_id")) or text(row.get("user"))
                   or text(meta.get("user_api_key_user_id")) or key_hash)
        start = row.get("startTime")
        ts = epoch_time(start, "startTime") if isinstance(start, (int, float)) else iso_time(start, "startTime")
        yield "llm_calls", {
            "call_id": ident(call_id, "request_id"),
            "account_id": account,
            "ts": ts,
            "api_key_id": key_hash,
            "session_id": text(row.get("session_id")) or text(row.get("trace_id")),
            "ip": text(row.get("requester_ip_address")) or text(meta.get("requester_ip_address")),
            "user_agent": text(row.get("user_agent")) or text(meta.get("user_agent")),
            "model": text(row.get("model")),
            "operation": text(row.get("call_type")),
            "input_tokens": integer(row.get("prompt_tokens"), "prompt_tokens"),
            "output_tokens": integer(row.get("completion_tokens"), "completion_tokens"),
            "prompt": messages_text(_json(row.get("messages"))),
            "output": _response_text(_json(row.get("response"))),
            "status": text(row.get("status")),
            "attrs": attrs(spend=row.get("spend"), model_group=row.get("model_group"), provider=row.get("custom_llm_provider"),
                           api_base=row.get("api_base"), team_id=row.get("team_id"), user=row.get("user"),
                           organization_id=row.get("organization_id"), key_alias=meta.get("user_api_key_alias"),
                           request_tags=_json(row.get("request_tags")), end_time=row.get("endTime"),
                           cache_hit=row.get("cache_hit")),
        }
        if account:
            yield "accounts", {"account_id": account,
                               "org_id": text(row.get("organization_id")) or text(row.get("team_id"))
                               or text(meta.get("user_api_key_team_id"))}


def _json(value: Any) -> Any:
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _response_text(response: Any) -> str | None:
    if response in (None, "", {}, []):
        return None
    if isinstance(response, dict) and isinstance(response.get("choices"), list):
        texts = [content_text((c or {}).get("message") or (c or {}).get("text")) for c in response["choices"]]
        return "\n".join(t for t in texts if t) or None
    return messages_text(response)


def _csv_records(path: Path) -> Iterator[JsonRecord]:
    records = csv_records(path)
    _, header, _ = next(records, (None, None, None))
    for line, record, problem in records:
        if problem is not None:
            reason, raw = problem
            yield JsonRecord(line, raw, None, reason)
        else:
            yield JsonRecord(line, ",".join(record), dict(zip(header, record)))
