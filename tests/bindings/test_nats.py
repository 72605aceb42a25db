"""The NATS binding: ``ce-`` headers with percent-encoded values (``ce-datacontenttype`` included), structured
mode by ``Content-Type``, nats-py's messages, hostile messages, limits, captures, and real round trips
through nats-server with nats-py, core NATS and JetStream."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import Any, TypeVar

import nats as nats_client
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nats.aio.msg import Msg
from nats.js.api import StorageType

from cefmt import CloudEvent, CloudEventError, LimitExceededError, Limits, MalformedMessageError, decode, encode
from cefmt.codec import percent_encode
from cefmt_plugins import nats
from cefmt_plugins.nats import NATSMessage
from tests.brokers.fixtures import Broker, unique_name
from tests.hardening.cases import binary_view
from tests.strategies import events, json_view

from .support import CALL_TIMEOUT, broker_events, event, types_of

_SETTINGS = settings(max_examples=150, deadline=None)
_VALID = {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"}


@_SETTINGS
@given(events())
def test_binary_round_trip(sent: CloudEvent) -> None:
    message = encode(sent, "nats", "binary")
    # NATS headers carry printable US-ASCII only (section 3.1.3.2): every value is percent-encoded to it.
    assert all(
        name.startswith("ce-") and value.isascii() and value.isprintable() and " " not in value
        for name, value in message.headers.items()
    )
    content_type = sent.datacontenttype
    assert message.headers.get("ce-datacontenttype") == (None if content_type is None else percent_encode(content_type))
    assert decode(message, "nats") == binary_view(sent)
    assert decode(message, "nats", extension_types=types_of(sent)) == binary_view(sent).evolve(**sent.extensions)


@_SETTINGS
@given(events(), st.sampled_from(["json", "msgpack"]))
def test_structured_round_trip_in_any_format(sent: CloudEvent, format: str) -> None:
    message = encode(sent, "nats", "structured", format=format)
    assert message.headers == {"Content-Type": f"application/cloudevents+{format}"}
    assert decode(message, "nats") == json_view(sent) if format == "json" else sent


def test_binary_headers_follow_the_spec_example() -> None:
    sent = event(time="2018-04-05T03:56:24Z", data={"a": 1})
    assert encode(sent, "nats", "binary").headers == {
        "ce-specversion": "1.0",
        "ce-id": "A234-1234-1234",
        "ce-source": "/mycontext",
        "ce-type": "com.example.someevent",
        "ce-datacontenttype": "application/json",
        "ce-time": "2018-04-05T03:56:24Z",
    }


def test_values_are_percent_encoded_as_section_3_1_3_2_shows() -> None:
    sent = event(subject="Euro \u20ac \U0001f600", ext='say "100%"')
    headers = encode(sent, "nats", "binary").headers
    assert headers["ce-subject"] == "Euro%20%E2%82%AC%20%F0%9F%98%80"
    assert headers["ce-ext"] == "say%20%22100%25%22"
    assert decode(encode(sent, "nats", "binary"), "nats") == sent


def test_decoding_unquotes_a_quoted_string_and_accepts_lower_case_hex() -> None:
    message = NATSMessage({**_VALID, "ce-subject": '"a \\"b\\""', "CE-Ext": "%e2%82%ac"}, b"")
    decoded = decode(message, "nats")
    assert (decoded.subject, decoded["ext"]) == ('a "b"', "€")


def test_a_message_without_headers_is_structured_json() -> None:
    sent = event(data=[1])
    assert decode(encode(sent, "json"), "nats") == sent  # a server before NATS 2.2: the payload alone
    assert decode(NATSMessage({"Nats-Msg-Id": "7"}, encode(sent, "msgpack")), "nats", format="msgpack") == sent


def test_spec_0_3_uses_schemaurl() -> None:
    sent = event(attributes={"specversion": "0.3", "schemaurl": "/schema"}, data=b"\x00")
    assert encode(sent, "nats", "binary").headers["ce-schemaurl"] == "/schema"
    assert decode(encode(sent, "nats", "binary"), "nats") == sent


def test_nats_py_messages_decode_directly() -> None:
    sent = event(data={"n": 1})
    message = encode(sent, "nats", "binary")
    received = Msg(None, subject="s", data=message.payload, headers=message.headers)  # type: ignore[arg-type]
    assert decode(received, "nats") == sent
    assert nats.as_message(received) == message
    assert decode(Msg(None, subject="s", data=encode(sent, "json")), "nats") == sent  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("message", "match"),
    [
        (NATSMessage({**_VALID, "CE-ID": "2"}, b""), "more than once"),
        (NATSMessage({**_VALID, "ce-subject": "a%0"}, b""), "two hex digits"),
        (NATSMessage({**_VALID, "ce-subject": "%C0%A0"}, b""), "not valid UTF-8"),
        (NATSMessage({**_VALID, "ce-subject": '"open'}, b""), "unterminated"),
        (NATSMessage({**_VALID, "ce-subject": "a%0Ab"}, b""), "subject"),
        (NATSMessage({**_VALID, "ce-x": 5}, b""), "must be text"),  # type: ignore[dict-item]
        (NATSMessage({**_VALID, "ce-my-ext": "x"}, b""), "my-ext"),
        (NATSMessage({**_VALID, "ce-datacontenttype": "application/json"}, b"{"), "JSON"),
        (NATSMessage({"Content-Type": "application/cloudevents+json"}, b""), "must have a payload"),
        (NATSMessage({"Content-Type": "application/cloudevents-batch+json"}, b"[]"), "no batch mode"),
        (NATSMessage({"content-type": "a", "Content-Type": "b"}, b"{}"), "more than once"),
        (NATSMessage({"ce-specversion": "0.1"}, b""), "specversion"),
        ({"subject": "x"}, "keys 'headers' and 'payload'"),
        (None, "NATSMessage"),
    ],
)
def test_hostile_messages_raise_cefmt_errors(message: Any, match: str) -> None:
    with pytest.raises(CloudEventError, match=match):
        decode(message, "nats")


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*_VALID, "ce-x", "CE-X", "Content-Type", "other"]), st.text(max_size=12), max_size=6
    ),
    st.binary(max_size=40),
)
def test_arbitrary_messages_fail_only_with_cefmt_errors(headers: dict[str, str], payload: bytes) -> None:
    with contextlib.suppress(CloudEventError):
        decode(NATSMessage(headers, payload), "nats")


def test_limits_are_checked_before_reading() -> None:
    many = NATSMessage({**_VALID, **{f"x-{i}": "v" for i in range(300)}}, b"")
    with pytest.raises(LimitExceededError, match="header count 304"):
        decode(many, "nats")
    with pytest.raises(LimitExceededError, match="ce-subject"):
        decode(NATSMessage({**_VALID, "ce-subject": "%" * 9000}, b""), "nats")  # measured before it is decoded
    with pytest.raises(LimitExceededError, match="size of payload 101"):
        decode(b"{" * 101, "nats", limits=Limits(max_message_bytes=100))


@_SETTINGS
@given(events(), st.sampled_from(["binary", "structured"]))
def test_captures_round_trip(sent: CloudEvent, mode: str) -> None:
    message = encode(sent, "nats", mode)
    assert nats.capture.from_json(nats.capture.to_json(message)) == message
    with pytest.raises(MalformedMessageError, match="strings"):
        nats.capture.from_json({"headers": {"ce-id": 1}})


# -- a real broker: nats-server with nats-py -------------------------------------------------------------------------

_T = TypeVar("_T")


def _run(coroutine: Awaitable[_T]) -> _T:
    async def bounded() -> _T:
        return await asyncio.wait_for(coroutine, timeout=5 * CALL_TIMEOUT)

    return asyncio.run(bounded())


def _cases() -> list[tuple[CloudEvent, str, str | None, NATSMessage]]:
    return [
        (sent, mode, fmt, encode(sent, "nats", mode, **({"format": fmt} if fmt else {})))
        for sent in broker_events()
        for mode, fmt in [("binary", None), ("structured", "json"), ("structured", "msgpack")]
    ]


def _check(cases: list[tuple[CloudEvent, str, str | None, NATSMessage]], received: list[Msg]) -> None:
    for (sent, mode, fmt, message), got in zip(cases, received, strict=True):
        assert nats.as_message(got) == message
        expected = binary_view(sent) if mode == "binary" else json_view(sent) if fmt == "json" else sent
        assert decode(got, "nats") == expected


async def _core(broker: Broker, messages: list[NATSMessage]) -> list[Msg]:
    client = await nats_client.connect(broker.url, connect_timeout=CALL_TIMEOUT, allow_reconnect=False)
    try:
        subject = unique_name("cefmt.bindings.core")
        subscription = await client.subscribe(subject)
        for message in messages:
            await client.publish(subject, message.payload, headers=message.headers)
        await client.flush(timeout=CALL_TIMEOUT)
        received = [await subscription.next_msg(timeout=CALL_TIMEOUT) for _ in messages]
        await subscription.unsubscribe()
        return received
    finally:
        await client.close()


@pytest.mark.timeout(60)
def test_round_trip_through_core_nats(nats_broker: Broker) -> None:
    cases = _cases()
    _check(cases, _run(_core(nats_broker, [message for *_, message in cases])))


async def _jetstream(broker: Broker, messages: list[NATSMessage]) -> list[Msg]:
    client = await nats_client.connect(broker.url, connect_timeout=CALL_TIMEOUT, allow_reconnect=False)
    stream = unique_name("cefmt-bindings").upper()
    subject = f"{stream.lower()}.events"
    try:
        jetstream = client.jetstream(timeout=CALL_TIMEOUT)
        await jetstream.add_stream(name=stream, subjects=[subject], storage=StorageType.MEMORY)
        try:
            for message in messages:
                await jetstream.publish(subject, message.payload, headers=message.headers)
            consumer = await jetstream.pull_subscribe(subject, durable="bindings", stream=stream)
            received = await consumer.fetch(len(messages), timeout=CALL_TIMEOUT)
            for one in received:
                await one.ack()
            return received
        finally:
            await jetstream.delete_stream(stream)
    finally:
        await client.close()


@pytest.mark.timeout(60)
def test_round_trip_through_jetstream(nats_broker: Broker) -> None:
    cases = _cases()
    received = _run(_jetstream(nats_broker, [message for *_, message in cases]))
    assert [one.metadata.sequence.stream for one in received] == list(range(1, len(cases) + 1))
    _check(cases, received)
