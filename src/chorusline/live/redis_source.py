"""Redis Streams: a consumer group reads, XACK after the batch is durable in the store.

A restarted watcher first re-reads the entries it had been given but not acknowledged (its pending
list, id ``0``), then new ones (``>``); entries a dead consumer of another name left pending are
claimed once they have been idle for ``CLAIM_IDLE_MS``. Alerts are published exactly once per id:
a Lua script adds the id to a set and the entry to the stream in one atomic step."""

from __future__ import annotations

import redis

from chorusline.live.broker import BrokerError, BrokerUrl
from chorusline.live.events import Event

CLAIM_IDLE_MS = 60_000
_PAYLOAD = b"e"  # the one field of an entry
_PUBLISH_ONCE = """
if redis.call('SADD', KEYS[2], ARGV[1]) == 1 then
  redis.call('XADD', KEYS[1], '*', 'e', ARGV[2])
  return 1
end
return 0
"""


def _client(url: BrokerUrl) -> redis.Redis:
    client = redis.Redis(host=url.host, port=url.port, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        raise BrokerError(f"cannot reach Redis at {url.host}:{url.port}: {exc}") from None
    return client


def _entries(reply, **options) -> list:
    """One stream's entries from an XREADGROUP reply (RESP3: {stream: entries}; RESP2: [[stream,
    entries]]; none: None)."""
    if not reply:
        return []
    if isinstance(reply, dict):
        return next(iter(reply.values()))
    return reply[0][1]


def _payload(fields) -> bytes:
    """The entry's field ``e``. A pending entry trimmed from the stream comes back without fields:
    nothing to store (an empty payload is quarantined as not JSON), acknowledged with the batch."""
    if not fields:
        return b""
    if len(fields) == 2 and fields[0] == _PAYLOAD:
        return fields[1]
    pairs = dict(zip(fields[::2], fields[1::2])) if isinstance(fields, list) else fields
    return pairs.get(_PAYLOAD, b"")


class RedisSource:
    def __init__(self, url: BrokerUrl, group: str, consumer: str):
        self.url, self.group, self.consumer = url, group, consumer
        self.client = _client(url)
        # entries as Redis sends them ([id, [field, value]]): redis-py's reply parsing would make a
        # dict of each, a Python call per event the batch does not need
        self.client.set_response_callback("XREADGROUP", _entries)
        try:
            self.client.xgroup_create(url.name, group, id="0", mkstream=True)
        except redis.exceptions.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._pending = True  # first drain what this consumer was given before a restart
        self._claimed = False

    def read(self, count: int, block_ms: int) -> list[Event]:
        if not self._claimed:
            self._claimed = True
            self.client.xautoclaim(self.url.name, self.group, self.consumer, CLAIM_IDLE_MS, count=count * 10)
        if self._pending:
            entries = self.client.xreadgroup(self.group, self.consumer, {self.url.name: "0"}, count=count)
            if entries:
                return self._events(entries)
            self._pending = False
        entries = self.client.xreadgroup(self.group, self.consumer, {self.url.name: ">"}, count=count,
                                         block=block_ms or None)
        return self._events(entries)

    @staticmethod
    def _events(entries) -> list[Event]:
        out = []
        for raw_id, fields in entries:
            stream_id = raw_id.decode()
            ms, _, seq = stream_id.partition("-")  # position: MS-SEQ as one ordered int64 (the quarantine's line)
            out.append(Event(stream_id, int(ms) * 1_000_000 + int(seq or 0), _payload(fields), int(ms)))
        return out

    def ack(self, events: list[Event]) -> None:
        if events:
            self.client.xack(self.url.name, self.group, *[e.id for e in events])

    def close(self) -> None:
        self.client.close()


class RedisSink:
    def __init__(self, url: BrokerUrl):
        self.url = url
        self.client = _client(url)
        self._once = self.client.register_script(_PUBLISH_ONCE)

    def publish(self, payloads: list[bytes]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for payload in payloads:
            pipe.xadd(self.url.name, {_PAYLOAD: payload})
        pipe.execute()

    def publish_once(self, key: str, payload: bytes) -> bool:
        """XADD unless ``key`` was published to this stream before (atomic, survives our restarts)."""
        return bool(self._once(keys=[self.url.name, f"{self.url.name}:published"], args=[key, payload]))

    def close(self) -> None:
        self.client.close()
