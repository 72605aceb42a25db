"""The RabbitMQ (AMQP 0-9-1) binding: the ``ce-`` header mapping, both modes and spec versions, the shapes
pika and aio-pika hand over, typed header values, hostile messages, limits, captures, and real round trips
through RabbitMQ with pika and aio-pika."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from decimal import Decimal
from typing import Any

import aio_pika
import pika
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cefmt import (
    CloudEvent,
    CloudEventError,
    LimitExceededError,
    Limits,
    MalformedMessageError,
    Timestamp,
    decode,
    encode,
)
from cefmt_plugins import rabbitmq
from cefmt_plugins.rabbitmq import RabbitMQMessage
from tests.brokers.fixtures import Broker
from tests.hardening.cases import binary_view
from tests.strategies import events, json_view

from .support import CALL_TIMEOUT, broker_events, event, types_of

_SETTINGS = settings(max_examples=150, deadline=None)
_VALID = {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"}


@_SETTINGS
@given(events())
def test_binary_round_trip(sent: CloudEvent) -> None:
    message = encode(sent, "rabbitmq", "binary")
    assert all(name.startswith("ce-") and type(value) is str for name, value in message.headers.items())
    assert message.content_type == sent.datacontenttype
    assert decode(message, "rabbitmq") == binary_view(sent)
    restored = decode(message, "rabbitmq", extension_types=types_of(sent))
    assert restored == binary_view(sent).evolve(**sent.extensions)


@_SETTINGS
@given(events(), st.sampled_from(["json", "msgpack"]))
def test_structured_round_trip_in_any_format(sent: CloudEvent, format: str) -> None:
    message = encode(sent, "rabbitmq", "structured", format=format)
    assert (message.headers, message.content_type) == ({}, f"application/cloudevents+{format}")
    assert decode(message, "rabbitmq") == json_view(sent) if format == "json" else sent


def test_binary_headers_follow_the_spec_example() -> None:
    sent = event(time="2018-04-05T03:56:24Z", datacontenttype="application/avro", data=b"\x01", flag=True)
    message = encode(sent, "rabbitmq", "binary")
    assert message.headers == {
        "ce-specversion": "1.0",
        "ce-id": "A234-1234-1234",
        "ce-source": "/mycontext",
        "ce-type": "com.example.someevent",
        "ce-time": "2018-04-05T03:56:24Z",
        "ce-flag": "true",
    }
    assert (message.content_type, message.body) == ("application/avro", b"\x01")


def test_header_values_are_unicode_text_not_percent_encoded() -> None:
    sent = event(subject='Grüße 100% "q"')
    assert encode(sent, "rabbitmq", "binary").headers["ce-subject"] == 'Grüße 100% "q"'
    assert decode(encode(sent, "rabbitmq", "binary"), "rabbitmq") == sent


def test_spec_0_3_uses_schemaurl() -> None:
    sent = event(attributes={"specversion": "0.3", "schemaurl": "/schema"}, data=b"\x00")
    assert encode(sent, "rabbitmq", "binary").headers["ce-schemaurl"] == "/schema"
    assert decode(encode(sent, "rabbitmq", "binary"), "rabbitmq") == sent


# -- what consumers hand over ------------------------------------------------------------------------------------


def test_decode_accepts_every_message_shape() -> None:
    sent = event(data={"n": 1}, ext="x")
    message = encode(sent, "rabbitmq", "binary")
    properties = pika.BasicProperties(content_type=message.content_type, headers=message.headers)
    shapes: list[Any] = [
        message,
        (pika.spec.Basic.Deliver(), properties, message.body),  # pika's channel.consume / basic_get
        (properties, message.body),
        {"headers": message.headers, "content_type": message.content_type, "body": message.body},
    ]
    for shape in shapes:
        assert decode(shape, "rabbitmq") == sent, shape
    assert rabbitmq.as_message(shapes[1]) == message


def test_typed_header_values_of_other_producers_are_read() -> None:
    headers = {
        **_VALID,
        "CE-Count": 7,  # any letter case
        "ce-flag": True,
        "ce-raw": b"bytes that are UTF-8 text",
        "ce-time": datetime(2020, 1, 2, 3, 4, 5),  # pika: an AMQP timestamp, POSIX seconds, no offset
    }
    decoded = decode(headers, "rabbitmq")
    assert (decoded["count"], decoded["flag"], decoded["raw"]) == (7, True, "bytes that are UTF-8 text")
    assert decoded.time == Timestamp.parse("2020-01-02T03:04:05Z")


@pytest.mark.parametrize(
    ("message", "match"),
    [
        ({**_VALID, "ce-id": "1", "CE-ID": "2"}, "more than once"),
        ({**_VALID, "ce-x": Decimal("1.5")}, "decimal"),
        ({**_VALID, "ce-x": 1.5}, "float"),
        ({**_VALID, "ce-x": None}, "null"),
        ({**_VALID, "ce-x": [1]}, "list"),
        ({**_VALID, "ce-x": b"\xff"}, "UTF-8"),
        ({**_VALID, "ce-subject": "a\nb"}, "subject"),
        ({**_VALID, "ce-x": 2**40}, "32-bit"),
        ({"x": "y"}, "not a CloudEvents RabbitMQ message"),
        ({"headers": {}, "content_type": "application/cloudevents+json", "body": b""}, "must have a body"),
        ({"headers": {}, "content_type": "application/cloudevents-batch+json", "body": b"[]"}, "no batch mode"),
        (
            {"headers": {**_VALID, "ce-datacontenttype": "text/plain"}, "content_type": "text/csv", "body": b""},
            "disagrees",
        ),
        ((object(), b""), "BasicProperties"),
        (("a", "b", "c", "d"), "RabbitMQMessage"),
        ({"headers": 5, "body": b""}, "pairs"),
    ],
)
def test_hostile_messages_raise_cefmt_errors(message: Any, match: str) -> None:
    with pytest.raises(CloudEventError, match=match):
        decode(message, "rabbitmq")


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*_VALID, "ce-x", "CE-X", "other"]),
        st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.binary(max_size=8) | st.floats(),
        max_size=6,
    ),
    st.none() | st.text(max_size=20),
    st.binary(max_size=40),
)
def test_arbitrary_messages_fail_only_with_cefmt_errors(
    headers: dict[str, Any], content_type: str | None, body: bytes
) -> None:
    with contextlib.suppress(CloudEventError):
        decode(RabbitMQMessage(headers, content_type, body), "rabbitmq")


def test_limits_are_checked_before_reading() -> None:
    many = {**_VALID, **{f"x-{i}": "v" for i in range(300)}}
    with pytest.raises(LimitExceededError, match="header count 304"):
        decode(many, "rabbitmq")
    with pytest.raises(LimitExceededError, match="ce-subject"):
        decode({**_VALID, "ce-subject": b"\xff" * 9000}, "rabbitmq")
    with pytest.raises(LimitExceededError, match="size of body 101"):
        decode((pika.BasicProperties(headers=_VALID), b"x" * 101), "rabbitmq", limits=Limits(max_message_bytes=100))


@_SETTINGS
@given(events(), st.sampled_from(["binary", "structured"]))
def test_captures_round_trip(sent: CloudEvent, mode: str) -> None:
    message = encode(sent, "rabbitmq", mode)
    assert rabbitmq.capture.from_json(rabbitmq.capture.to_json(message)) == message


def test_a_capture_keeps_typed_headers() -> None:
    message = RabbitMQMessage({"ce-n": 5, "ce-b": b"\x00", "ce-t": Timestamp.parse("2020-01-01T00:00:00Z")}, None, b"")
    doc = rabbitmq.capture.to_json(message)
    assert doc["headers"] == {
        "ce-n": 5,
        "ce-b": {"binary_base64": "AA=="},
        "ce-t": {"timestamp": "2020-01-01T00:00:00Z"},
    }
    assert rabbitmq.capture.from_json(doc) == message
    with pytest.raises(MalformedMessageError, match="headers"):
        rabbitmq.capture.from_json({"headers": [["ce-id", "1"]]})


# -- a real broker ---------------------------------------------------------------------------------------------------

_ROUTES = [("binary", None), ("structured", "json"), ("structured", "msgpack")]


def _expected(sent: CloudEvent, mode: str, fmt: str | None) -> CloudEvent:
    return binary_view(sent) if mode == "binary" else json_view(sent) if fmt == "json" else sent


def _messages() -> list[tuple[CloudEvent, str, str | None, RabbitMQMessage]]:
    return [
        (sent, mode, fmt, encode(sent, "rabbitmq", mode, **({"format": fmt} if fmt else {})))
        for sent in broker_events()
        for mode, fmt in _ROUTES
    ]


@pytest.mark.timeout(60)
def test_round_trip_through_rabbitmq_with_pika(rabbitmq_broker: Broker, rabbitmq_queue: str) -> None:
    params = pika.URLParameters(f"{rabbitmq_broker.url}/%2F?connection_attempts=1&socket_timeout={CALL_TIMEOUT}")
    cases = _messages()
    with pika.BlockingConnection(params) as connection:
        channel = connection.channel()
        channel.confirm_delivery()
        for _, _, _, message in cases:
            properties = pika.BasicProperties(content_type=message.content_type, headers=message.headers)
            channel.basic_publish("", rabbitmq_queue, message.body, properties, mandatory=True)
        received = []
        for delivery in channel.consume(rabbitmq_queue, inactivity_timeout=CALL_TIMEOUT):
            assert delivery[0] is not None, f"no message within {CALL_TIMEOUT}s"
            channel.basic_ack(delivery[0].delivery_tag)
            received.append(delivery)
            if len(received) == len(cases):
                break
        channel.cancel()
    for (sent, mode, fmt, _), delivery in zip(cases, received, strict=True):
        assert decode(delivery, "rabbitmq") == _expected(sent, mode, fmt)


async def _aio_pika_round_trip(url: str, queue_name: str, messages: list[RabbitMQMessage]) -> list[CloudEvent]:
    connection = await aio_pika.connect(url, timeout=CALL_TIMEOUT)
    decoded: list[CloudEvent] = []
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(queue_name, ensure=True)
        for message in messages:
            await channel.default_exchange.publish(
                aio_pika.Message(message.body, headers=message.headers, content_type=message.content_type),
                routing_key=queue_name,
                mandatory=True,
                timeout=CALL_TIMEOUT,
            )
        async with queue.iterator() as incoming:
            async for received in incoming:
                async with received.process():
                    decoded.append(decode(received, "rabbitmq"))  # aio-pika's IncomingMessage itself
                if len(decoded) == len(messages):
                    break
    return decoded


@pytest.mark.timeout(60)
def test_round_trip_through_rabbitmq_with_aio_pika(rabbitmq_broker: Broker, rabbitmq_queue: str) -> None:
    cases = _messages()
    decoded = asyncio.run(
        asyncio.wait_for(
            _aio_pika_round_trip(rabbitmq_broker.url, rabbitmq_queue, [message for *_, message in cases]),
            timeout=5 * CALL_TIMEOUT,
        )
    )
    for (sent, mode, fmt, _), got in zip(cases, decoded, strict=True):
        assert got == _expected(sent, mode, fmt)
