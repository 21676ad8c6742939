"""Ingest adapters: one module per input format, each mapping to the canonical tables."""

from __future__ import annotations

from chorusline.ingest.base import Adapter, IngestOptions
from chorusline.ingest.bedrock import BedrockAdapter
from chorusline.ingest.bluesky_jetstream import BlueskyJetstreamAdapter
from chorusline.ingest.canonical import CanonicalAdapter
from chorusline.ingest.cnt import CntAdapter
from chorusline.ingest.coortweet import CoortweetAdapter
from chorusline.ingest.litellm import LiteLLMAdapter
from chorusline.ingest.otel_genai import OtelGenAIAdapter
from chorusline.ingest.readers import FormatError, RecordError
from chorusline.ingest.runner import FileReport, IngestReport, ingest_file, ingest_files
from chorusline.ingest.telegram import TelegramAdapter
from chorusline.ingest.x_archive import XArchiveAdapter
from chorusline.ingest.x_v2 import XV2Adapter

ADAPTERS: dict[str, type[Adapter]] = {
    cls.name: cls
    for cls in (
        CanonicalAdapter, CoortweetAdapter, CntAdapter, XArchiveAdapter, XV2Adapter, BlueskyJetstreamAdapter,
        TelegramAdapter, OtelGenAIAdapter, BedrockAdapter, LiteLLMAdapter,
    )
}


def adapter_for(name: str) -> Adapter:
    try:
        return ADAPTERS[name]()
    except KeyError:
        raise FormatError(f"unknown format {name!r}; one of: {', '.join(ADAPTERS)}") from None


__all__ = ["ADAPTERS", "adapter_for", "IngestOptions", "FormatError", "RecordError", "FileReport", "IngestReport",
           "ingest_file", "ingest_files"]
