"""OpenTelemetry GenAI spans and events as OTLP/JSON (one request per line, as the Collector's file
exporter writes, or one pretty-printed request per file). Ids are hex strings, never base64 (a generic
protobuf JSON parser gets this wrong). Spans that are not GenAI calls are skipped and counted.

Identity, network and client attributes come from the general registries (``user.id``,
``enduser.id``, ``client.address``, ``user_agent.original``) and are present only when the
application or a gateway sets them; without a user id the calling service (``service.name``)
stands in as the account, and attrs say so."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from chorusline.ingest.base import REJECT, SKIP, IngestOptions, RecordAdapter
from chorusline.ingest.fields import as_list, attrs, epoch_time, mapping, text
from chorusline.ingest.llm_text import messages_text
from chorusline.ingest.readers import JsonRecord, RecordError, is_json_lines, json_document, json_lines

_HEX = re.compile(r"^[0-9a-fA-F]+$")
_GENAI_EVENT = "gen_ai.client.inference.operation.details"


def otlp_value(value: Any) -> Any:
    """Decode one OTLP AnyValue ({"stringValue": …} etc.); int64 arrive as decimal strings."""
    if not isinstance(value, dict):
        return value
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        try:
            return int(value["intValue"])
        except (TypeError, ValueError):
            return None
    if "doubleValue" in value:
        return value["doubleValue"]
    if "boolValue" in value:
        return value["boolValue"]
    if "arrayValue" in value:
        return [otlp_value(v) for v in (value["arrayValue"] or {}).get("values") or []]
    if "kvlistValue" in value:
        return {kv.get("key"): otlp_value(kv.get("value")) for kv in (value["kvlistValue"] or {}).get("values") or []}
    if "bytesValue" in value:
        return value["bytesValue"]
    return None


def otlp_attributes(items: Any) -> dict:
    return {kv.get("key"): otlp_value(kv.get("value")) for kv in items or [] if isinstance(kv, dict)}


def _is_request(value: Any) -> bool:
    """An OTLP export request: what each line of a JSON-lines export is."""
    return isinstance(value, dict) and ("resourceSpans" in value or "resourceLogs" in value)


def _hex_id(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value or not _HEX.match(value):
        raise RecordError(f"{what}: not a hex id: {str(value)[:40]!r} (OTLP/JSON ids are hex, not base64)")
    return value.lower()


def _flattened(attributes: dict, prefix: str) -> list[dict]:
    """OpenLLMetry-style gen_ai.prompt.{i}.role/.content into a message list."""
    found: dict[int, dict] = {}
    for key, value in attributes.items():
        if key.startswith(prefix + "."):
            index, _, field = key[len(prefix) + 1:].partition(".")
            if index.isdigit() and field in ("role", "content"):
                found.setdefault(int(index), {})[field] = value
    return [found[i] for i in sorted(found)]


class OtelGenAIAdapter(RecordAdapter):
    name = "otel-genai"
    summary = "OpenTelemetry GenAI spans / events as OTLP JSON (one request per line or per file)"
    tables = ("llm_calls",)
    platform = "otel"

    def records(self, path: Path, options: IngestOptions) -> Iterator[JsonRecord]:
        if is_json_lines(path, _is_request):
            yield from json_lines(path)
        else:
            yield json_document(path)

    def map_record(self, value: Any, options: IngestOptions) -> Iterator[tuple[str, Any]]:
        request = mapping(value, "record")
        if "resourceSpans" not in request and "resourceLogs" not in request:
            raise RecordError("no resourceSpans or resourceLogs (not an OTLP/JSON export request)")
        for key in ("resourceSpans", "resourceLogs"):
            if key in request and not isinstance(request[key], list):
                raise RecordError(f"{key}: expected a JSON array, found {type(request[key]).__name__}")
        for resource in as_list(request.get("resourceSpans")):
            resource_attrs = otlp_attributes(((resource or {}).get("resource") or {}).get("attributes"))
            for scope_spans in as_list((resource or {}).get("scopeSpans")):
                scope = (scope_spans or {}).get("scope") or {}
                for span in as_list((scope_spans or {}).get("spans")):
                    yield from self._call(span, span.get("attributes"), resource_attrs, scope, "span")
        for resource in as_list(request.get("resourceLogs")):
            resource_attrs = otlp_attributes(((resource or {}).get("resource") or {}).get("attributes"))
            for scope_logs in as_list((resource or {}).get("scopeLogs")):
                scope = (scope_logs or {}).get("scope") or {}
                for log in as_list((scope_logs or {}).get("logRecords")):
                    if (log or {}).get("eventName") == _GENAI_EVENT:
                        yield from self._call(log, log.get("attributes"), resource_attrs, scope, "event")
                    else:
                        yield SKIP, "log record that is not a GenAI inference event"

    def _call(self, item, raw_attributes, resource_attrs, scope, source) -> Iterator[tuple[str, Any]]:
        if not isinstance(item, dict):
            yield REJECT, f"{source} is not an object"
            return
        a = otlp_attributes(raw_attributes)
        operation = a.get("gen_ai.operation.name") or a.get("llm.request.type")
        provider = a.get("gen_ai.provider.name") or a.get("gen_ai.system")
        if not (operation or provider):
            yield SKIP, f"{source} without GenAI attributes"
            return
        try:
            span_id = _hex_id(item.get("spanId"), "spanId")
            trace_id = _hex_id(item.get("traceId"), "traceId") if item.get("traceId") else None
            ts = epoch_time(item.get("startTimeUnixNano") or item.get("timeUnixNano"), "startTimeUnixNano", unit="ns")
            end = epoch_time(item.get("endTimeUnixNano"), "endTimeUnixNano", unit="ns")
        except RecordError as exc:
            yield REJECT, str(exc)
            return
        account = text(a.get("user.id")) or text(a.get("enduser.id")) or text(a.get("llm.user"))
        account_source = "user" if account else "service.name"
        account = account or text(resource_attrs.get("service.name"))
        prompt_parts = [messages_text(a.get("gen_ai.system_instructions")), messages_text(a.get("gen_ai.input.messages"))
                        or messages_text(_flattened(a, "gen_ai.prompt")) or text(a.get("gen_ai.prompt"))]
        if isinstance(item.get("body"), dict):
            body = otlp_value(item["body"])
            prompt_parts.append(messages_text(body.get("gen_ai.input.messages")) if isinstance(body, dict) else None)
        output = (messages_text(a.get("gen_ai.output.messages")) or messages_text(_flattened(a, "gen_ai.completion"))
                  or text(a.get("gen_ai.completion")))
        status = (item.get("status") or {}).get("code")
        in_tokens = a.get("gen_ai.usage.input_tokens", a.get("gen_ai.usage.prompt_tokens"))
        out_tokens = a.get("gen_ai.usage.output_tokens", a.get("gen_ai.usage.completion_tokens"))
        yield "llm_calls", {
            "platform": text(provider) or None,
            "call_id": f"{trace_id}:{span_id}" if trace_id else span_id,
            "account_id": account,
            "ts": ts,
            "session_id": text(a.get("gen_ai.conversation.id")) or text(a.get("session.id")),
            "ip": text(a.get("client.address")),
            "user_agent": text(a.get("user_agent.original")),
            "client_fingerprint": text(" ".join(x for x in (scope.get("name"), scope.get("version")) if x)),
            "model": text(a.get("gen_ai.response.model")) or text(a.get("gen_ai.request.model")),
            "operation": text(operation),
            "input_tokens": in_tokens if isinstance(in_tokens, int) else None,
            "output_tokens": out_tokens if isinstance(out_tokens, int) else None,
            "prompt": "\n".join(p for p in prompt_parts if p) or None,
            "output": output,
            "status": "error" if status == 2 or a.get("error.type") else "ok",
            "attrs": attrs(
                trace_id=trace_id, parent_span_id=item.get("parentSpanId"), end=end, source=source,
                account_source=account_source, service=resource_attrs.get("service.name"),
                request_model=a.get("gen_ai.request.model"), temperature=a.get("gen_ai.request.temperature"),
                finish_reasons=a.get("gen_ai.response.finish_reasons"), response_id=a.get("gen_ai.response.id"),
                system_fingerprint=a.get("openai.response.system_fingerprint"), error_type=a.get("error.type"),
                server=a.get("server.address"), output_type=a.get("gen_ai.output.type"),
            ),
        }
