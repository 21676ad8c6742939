"""Broker URLs and the two things the live shell needs from a broker: a source (read a batch,
acknowledge it once it is durable) and a sink (publish payloads: replay's events, alerts).

``redis://HOST:PORT/STREAM`` — Redis Streams with a consumer group (``redis_source``);
``kafka://HOST:PORT/TOPIC`` — the Kafka protocol through confluent-kafka (``kafka_source``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from chorusline.live.events import Event

SCHEMES = ("redis", "kafka")


class BrokerError(ValueError):
    """A URL that names no broker chorusline speaks, or a broker that cannot be reached."""


@dataclass(frozen=True)
class BrokerUrl:
    scheme: str
    host: str
    port: int
    name: str  # the stream or topic

    @property
    def text(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}/{self.name}"

    def with_name(self, name: str) -> BrokerUrl:
        return BrokerUrl(self.scheme, self.host, self.port, name)


def parse_url(url: str) -> BrokerUrl:
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise BrokerError(f"{url!r}: expected redis://HOST:PORT/STREAM or kafka://HOST:PORT/TOPIC")
    name = parts.path.lstrip("/")
    if not name or "/" in name:
        raise BrokerError(f"{url!r}: name one stream or topic after the host and port")
    try:
        port = parts.port or (6379 if parts.scheme == "redis" else 9092)
    except ValueError:
        raise BrokerError(f"{url!r}: the port is not a number") from None
    return BrokerUrl(parts.scheme, parts.hostname or "127.0.0.1", port, name)


class Source(Protocol):
    url: BrokerUrl

    def read(self, count: int, block_ms: int) -> list[Event]: ...
    def ack(self, events: list[Event]) -> None: ...
    def close(self) -> None: ...


class Sink(Protocol):
    def publish(self, payloads: list[bytes]) -> None: ...
    def publish_once(self, key: str, payload: bytes) -> bool: ...
    def close(self) -> None: ...


def open_source(url: str, group: str, consumer: str) -> Source:
    parsed = parse_url(url)
    if parsed.scheme == "redis":
        from chorusline.live.redis_source import RedisSource

        return RedisSource(parsed, group, consumer)
    from chorusline.live.kafka_source import KafkaSource

    return KafkaSource(parsed, group)


def open_sink(url: str | BrokerUrl) -> Sink:
    parsed = url if isinstance(url, BrokerUrl) else parse_url(url)
    if parsed.scheme == "redis":
        from chorusline.live.redis_source import RedisSink

        return RedisSink(parsed)
    from chorusline.live.kafka_source import KafkaSink

    return KafkaSink(parsed)
