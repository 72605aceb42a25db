"""KafkaMessage.headers handed to real Kafka clients as they are: confluent-kafka's ``produce`` and
kafka-python's ``send`` take them without conversion, through a real broker, and what the consumer
receives decodes to the event that was sent."""

from __future__ import annotations

from typing import Any

import pytest

from cefmt import CloudEvent, decode_event
from cefmt.kafka import KafkaHeaders, to_binary, to_structured

from .test_kafka import _consume, _fresh_topic

# kafka-python reads its protocol schemas with importlib.resources calls Python deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:(read|open)_text is deprecated:DeprecationWarning")


def _events() -> list[CloudEvent]:
    return [
        CloudEvent({"type": "com.example.order", "source": "/shop", "id": "1", "partitionkey": "user-9"}, {"n": 1}),
        CloudEvent(
            {"type": "com.example.order", "source": "/shop", "id": "2"}, "naïve ✓", datacontenttype="text/plain"
        ),
        CloudEvent({"type": "com.example.order", "source": "/shop", "id": "3", "subject": "Grüße"}, b"\x00\xff"),
    ]


def _check(received: list[Any], sent: list[tuple[CloudEvent, Any]]) -> None:
    for record, (event, message) in zip(received, sent, strict=True):
        assert record.key() == message.key
        assert decode_event(record, "kafka") == event


def test_confluent_kafka_produce_takes_the_headers_as_they_are(kafka_bootstrap: str) -> None:
    from confluent_kafka import Producer

    topic = _fresh_topic(kafka_bootstrap)
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    sent = []
    for index, event in enumerate(_events()):
        message = to_binary(event) if index % 2 == 0 else to_structured(event)
        assert type(message.headers) is KafkaHeaders
        producer.produce(topic, key=message.key, value=message.value, headers=message.headers, partition=0)
        sent.append((event, message))
    assert producer.flush(15) == 0
    _check(_consume(kafka_bootstrap, topic, len(sent)), sent)


def test_kafka_python_send_takes_the_headers_as_they_are(kafka_bootstrap: str) -> None:
    from kafka import KafkaProducer

    topic = _fresh_topic(kafka_bootstrap)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap, request_timeout_ms=15_000, max_block_ms=15_000)
    sent = []
    try:
        for index, event in enumerate(_events()):
            message = to_binary(event) if index % 2 == 0 else to_structured(event)
            producer.send(topic, key=message.key, value=message.value, headers=message.headers, partition=0)
            sent.append((event, message))
        producer.flush(15)
    finally:
        producer.close(5)
    _check(_consume(kafka_bootstrap, topic, len(sent)), sent)
