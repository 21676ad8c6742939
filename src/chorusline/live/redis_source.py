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


def position(stream_id: str) -> int:
    """A stream id ``MS-SEQ`` as one ordered int64 (the quarantine's line)."""
    ms, _, seq = stream_id.partition("-")
    return int(ms) * 1_000_000 + int(seq or 0)


class RedisSource:
    def __init__(self, url: BrokerUrl, group: str, consumer: str):
        self.url, self.group, self.consumer = url, group, consumer
        self.client = _client(url)
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
            reply = self.client.xreadgroup(self.group, self.consumer, {self.url.name: "0"}, count=count)
            entries = reply[0][1] if reply else []
            if entries:
                return self._events(entries, redelivered=True)
            self._pending = False
        reply = self.client.xreadgroup(self.group, self.consumer, {self.url.name: ">"}, count=count,
                                       block=block_ms or None)
        return self._events(reply[0][1] if reply else [], redelivered=False)

    def _events(self, entries, redelivered: bool) -> list[Event]:
        out = []
        for raw_id, fields in entries:
            stream_id = raw_id.decode()
            # a pending entry trimmed from the stream comes back without fields: nothing to store,
            # acknowledged with the batch
            payload = (fields or {}).get(_PAYLOAD, b"")
            out.append(Event(stream_id, position(stream_id), payload, int(stream_id.partition("-")[0])))
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
