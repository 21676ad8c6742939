"""AWS Bedrock model-invocation log records (``schemaType: ModelInvocationLog``): CloudWatch exports
(JSON lines) or the gzipped S3 objects. The account is the IAM principal (``identity.arn``); the AWS
account id is its organisation. These logs carry no caller IP or user agent (CloudTrail has them)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chorusline.ingest.base import IngestOptions, RecordAdapter
from chorusline.ingest.fields import attrs, dig, ident, integer, iso_time, mapping, text
from chorusline.ingest.llm_text import content_text, messages_text
from chorusline.ingest.readers import RecordError


class BedrockAdapter(RecordAdapter):
    name = "bedrock"
    summary = "AWS Bedrock model-invocation logs (JSON lines, optionally gzipped)"
    tables = ("llm_calls", "accounts")
    platform = "aws.bedrock"

    def map_record(self, value: Any, options: IngestOptions) -> Iterator[tuple[str, Any]]:
        record = mapping(value, "record")
        if record.get("schemaType") != "ModelInvocationLog":
            raise RecordError(f"schemaType is {record.get('schemaType')!r}, not 'ModelInvocationLog'")
        arn = ident(dig(record, "identity", "arn"), "identity.arn")
        body_in = dig(record, "input", "inputBodyJson")
        body_out = dig(record, "output", "outputBodyJson")
        yield "llm_calls", {
            "call_id": ident(record.get("requestId"), "requestId"),
            "account_id": arn,
            "ts": iso_time(record.get("timestamp"), "timestamp"),
            "api_key_id": None,
            "model": text(record.get("modelId")),
            "operation": text(record.get("operation")),
            "input_tokens": integer(dig(record, "input", "inputTokenCount"), "input.inputTokenCount"),
            "output_tokens": integer(dig(record, "output", "outputTokenCount"), "output.outputTokenCount"),
            "prompt": _prompt(body_in),
            "output": _output(body_out),
            "status": text(record.get("errorCode")) or "success",
            "attrs": attrs(aws_account=record.get("accountId"), region=record.get("region"),
                           inference_region=record.get("inferenceRegion"), request_metadata=record.get("requestMetadata"),
                           input_s3=dig(record, "input", "inputBodyS3Path"), output_s3=dig(record, "output", "outputBodyS3Path"),
                           inference_config=dig(body_in, "inferenceConfig"), stop_reason=dig(body_out, "stopReason")),
        }
        yield "accounts", {"account_id": arn, "org_id": text(record.get("accountId"))}


def _prompt(body: Any) -> str | None:
    if not isinstance(body, dict):
        return messages_text(body)
    system = body.get("system")
    parts = [f"system: {content_text(system)}" if system else None, messages_text(body.get("messages"))]
    for key in ("prompt", "inputText"):  # native bodies of other model families
        if isinstance(body.get(key), str):
            parts.append(body[key])
    return "\n".join(p for p in parts if p) or None


def _output(body: Any) -> str | None:
    if not isinstance(body, dict):
        return messages_text(body)
    message = dig(body, "output", "message")
    if message:
        return content_text(message.get("content")) or None
    if isinstance(body.get("content"), list):  # Anthropic native
        return content_text(body["content"]) or None
    for key in ("completion", "outputText", "generation"):
        if isinstance(body.get(key), str):
            return body[key]
    results = body.get("results")
    if isinstance(results, list):
        return "\n".join(content_text(r.get("outputText")) for r in results if isinstance(r, dict)) or None
    return None
