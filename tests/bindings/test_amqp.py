"""The AMQP 1.0 binding: typed properties, both prefixes, both modes and spec versions, the message shapes
of qpid-proton and the SDK, hostile messages, limits, captures, and real round trips through RabbitMQ's
AMQP 1.0 plugin with qpid-proton."""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Any

import proton
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from proton.utils import BlockingConnection

from cefmt import (
    CloudEvent,
    CloudEventError,
    InvalidAttributeError,
    LimitExceededError,
    Limits,
    MalformedMessageError,
    Timestamp,
    UsageError,
    decode,
    encode,
)
from cefmt_plugins import amqp
from cefmt_plugins.amqp import AMQPMessage
from tests.brokers.fixtures import Broker
from tests.hardening.cases import amqp_view
from tests.strategies import events, json_view

from .support import CALL_TIMEOUT, broker_events, event, types_of

_SETTINGS = settings(max_examples=150, deadline=None)
_VALID = {
    "cloudEvents_specversion": "1.0",
    "cloudEvents_id": "1",
    "cloudEvents_source": "/s",
    "cloudEvents_type": "t",
}


# -- round trips ----------------------------------------------------------------------------------------------------


@_SETTINGS
@given(events())
def test_binary_round_trip_keeps_amqp_types(sent: CloudEvent) -> None:
    message = encode(sent, "amqp", "binary")
    assert isinstance(message, AMQPMessage)
    assert all(name.startswith("cloudEvents_") for name in message.application_properties)
    assert message.content_type == sent.datacontenttype
    assert decode(message, "amqp") == amqp_view(sent)
    assert decode(message, "amqp", extension_types=types_of(sent)) == amqp_view(sent).evolve(**sent.extensions)


@_SETTINGS
@given(events(), st.sampled_from(["json", "msgpack"]))
def test_structured_round_trip_in_any_format(sent: CloudEvent, format: str) -> None:
    message = encode(sent, "amqp", "structured", format=format)
    assert message.content_type == f"application/cloudevents+{format}"
    assert message.application_properties == {}
    assert decode(message, "amqp") == json_view(sent) if format == "json" else sent


def test_values_are_typed_as_section_3_1_3_2_says() -> None:
    sent = event(
        data={"a": 1},
        time="2018-04-05T03:56:24Z",
        count=42,
        flag=False,
        blob=b"\x00\x01",
        uri="https://example.com/x",
    )
    properties = encode(sent, "amqp", "binary").application_properties
    assert properties == {
        "cloudEvents_specversion": "1.0",
        "cloudEvents_id": "A234-1234-1234",
        "cloudEvents_source": "/mycontext",
        "cloudEvents_type": "com.example.someevent",
        "cloudEvents_time": Timestamp.parse("2018-04-05T03:56:24Z"),
        "cloudEvents_count": 42,
        "cloudEvents_flag": False,
        "cloudEvents_blob": b"\x00\x01",
        "cloudEvents_uri": "https://example.com/x",
    }
    assert type(properties["cloudEvents_count"]) is int and type(properties["cloudEvents_flag"]) is bool


def test_a_time_an_amqp_timestamp_cannot_hold_exactly_travels_as_its_canonical_string() -> None:
    for text in ("2018-04-05T03:56:24.123456Z", "2018-04-05T03:56:24Z".replace("Z", "+02:00")):
        sent = event(time=text, at=Timestamp.parse(text))
        properties = encode(sent, "amqp", "binary").application_properties
        assert properties["cloudEvents_time"] == text and properties["cloudEvents_at"] == text
        decoded = decode(encode(sent, "amqp", "binary"), "amqp", extension_types={"at": Timestamp})
        assert decoded == sent and str(decoded.time) == text


def test_spec_0_3_uses_schemaurl_and_reads_a_base64_body() -> None:
    sent = event(attributes={"specversion": "0.3", "schemaurl": "/schema"}, data=b"\x00\xff")
    properties = encode(sent, "amqp", "binary").application_properties
    assert properties["cloudEvents_schemaurl"] == "/schema" and "cloudEvents_dataschema" not in properties
    encoded = AMQPMessage({**properties, "cloudEvents_datacontentencoding": "base64"}, None, b"AP8=")
    assert decode(encoded, "amqp") == sent


# -- prefixes (section 3.1.3.1) ------------------------------------------------------------------------------------


def test_the_colon_prefix_on_request_and_both_prefixes_on_decode() -> None:
    sent = event(data=b"x", n=1)
    colon = encode(sent, "amqp", "binary", prefix="cloudEvents:")
    assert set(colon.application_properties) == {
        "cloudEvents:specversion",
        "cloudEvents:id",
        "cloudEvents:source",
        "cloudEvents:type",
        "cloudEvents:n",
    }
    assert decode(colon, "amqp") == sent
    assert decode(encode(sent, "amqp", "binary"), "amqp") == sent
    with pytest.raises(UsageError, match="prefix"):
        encode(sent, "amqp", "binary", prefix="ce_")


def test_one_message_uses_one_separator() -> None:
    mixed = {**_VALID, "cloudEvents:subject": "s"}
    with pytest.raises(MalformedMessageError, match="one prefix for all its attributes"):
        decode(mixed, "amqp")


def test_the_prefix_is_matched_in_any_case_and_other_properties_are_the_applications() -> None:
    properties = {
        "CloudEvents_specversion": "1.0",
        "CloudEvents_id": "1",
        "CloudEvents_source": "/s",
        "CloudEvents_type": "t",
        "x-opt-app": [1.5, None],  # any AMQP type: not ours to read
        "cloudEventsX": "not a prefix",
    }
    assert decode(properties, "amqp") == CloudEvent(id="1", source="/s", type="t")


# -- typed values from other producers ------------------------------------------------------------------------------


def test_integers_of_any_amqp_width_and_symbols_are_read() -> None:
    received = {**_VALID, "cloudEvents_small": proton.short(7), "cloudEvents_sym": proton.symbol("abc")}
    decoded = decode(received, "amqp")
    assert decoded["small"] == 7 and type(decoded["small"]) is int
    assert decoded["sym"] == "abc" and type(decoded["sym"]) is str


def test_a_time_as_a_plain_long_of_milliseconds_is_read_as_the_sdk_writes_it() -> None:
    decoded = decode({**_VALID, "cloudEvents_time": 1311704463521}, "amqp")
    assert decoded.time == Timestamp.parse("2011-07-26T18:21:03.521Z")
    assert decode({**_VALID, "cloudEvents_time": proton.timestamp(0)}, "amqp").time == Timestamp.parse(
        "1970-01-01T00:00:00Z"
    )


def test_a_long_outside_the_integer_range_is_refused_naming_the_property() -> None:
    with pytest.raises(InvalidAttributeError, match=r"cloudEvents_big.*32-bit"):
        decode({**_VALID, "cloudEvents_big": 2**40}, "amqp")


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (1.5, "float"),
        (None, "null"),
        ([1], "list"),
        ({"a": 1}, "dict"),
        (proton.decimal32(1), "decimal32"),
        (proton.decimal128(b"\x00" * 16), "decimal128"),
    ],
)
def test_a_value_of_no_cloudevents_type_is_refused(value: Any, match: str) -> None:
    with pytest.raises(MalformedMessageError, match=f"cloudEvents_x.*{match}"):
        decode({**_VALID, "cloudEvents_x": value}, "amqp")


def test_a_datacontenttype_property_stands_in_for_a_missing_content_type_and_must_agree_with_one() -> None:
    assert (
        decode(AMQPMessage({**_VALID, "cloudEvents_datacontenttype": "text/plain"}, None, b"hi"), "amqp").data == "hi"
    )
    same = AMQPMessage({**_VALID, "cloudEvents_datacontenttype": "text/plain"}, "text/plain", b"hi")
    assert decode(same, "amqp").datacontenttype == "text/plain"
    with pytest.raises(MalformedMessageError, match="which is meant"):
        decode(AMQPMessage({**_VALID, "cloudEvents_datacontenttype": "text/plain"}, "text/csv", b"hi"), "amqp")


# -- message shapes ----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class SdkAMQPMessage:  # the fields of the official SDK 2.x AMQPMessage
    properties: dict[str, Any]
    application_properties: dict[str, Any]
    application_data: bytes


def test_decode_accepts_every_message_shape() -> None:
    sent = event(data={"n": 1}, time="2020-01-01T00:00:00.5Z", flag=True)
    message = encode(sent, "amqp", "binary")
    shapes: list[Any] = [
        message,
        {
            "application_properties": message.application_properties,
            "content_type": "application/json",
            "body": message.body,
        },
        amqp.to_proton(message, proton),
        SdkAMQPMessage({"content-type": "application/json"}, message.application_properties, message.body),
    ]
    for shape in shapes:
        assert decode(shape, "amqp") == sent, shape
    assert amqp.as_message(shapes[2]) == message


def test_a_proton_message_without_content_type_reads_as_none() -> None:
    # qpid-proton reports an unset content-type as the symbol "None".
    unlabelled = proton.Message(body=b"\x00", properties=dict(_VALID), inferred=True)
    assert str(unlabelled.content_type) == "None"
    assert decode(unlabelled, "amqp") == CloudEvent(id="1", source="/s", type="t", data=b"\x00")


def test_a_string_amqp_value_body_is_text() -> None:
    message = proton.Message(body="héllo", properties=dict(_VALID), content_type="text/plain")
    assert decode(message, "amqp").data == "héllo"


def test_to_proton_sends_a_data_section_and_amqp_timestamps() -> None:
    message = encode(event(data=b"\x01", time="2020-01-01T00:00:00.5Z"), "amqp", "binary")
    built = amqp.to_proton(message, proton)
    assert built.inferred is True and built.body == b"\x01"
    assert type(built.properties["cloudEvents_time"]) is proton.timestamp
    assert built.properties["cloudEvents_time"] == 1577836800500
    with pytest.raises(UsageError, match="no exact AMQP timestamp"):
        amqp.to_proton(AMQPMessage({"t": Timestamp.parse("2020-01-01T00:00:00.1234Z")}), proton)


# -- hostile messages ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "match"),
    [
        ({**_VALID, "cloudEvents_subject": "a\nb"}, "subject"),
        ({**_VALID, "cloudEvents_id": 5}, "cloudEvents_id"),
        ({**_VALID, "cloudEvents_time": "noon"}, "cloudEvents_time"),
        ({**_VALID, "cloudEvents_time": 10**20}, "out of range"),
        ({**_VALID, "cloudEvents_Bad": "x"}, "Bad"),
        ({**_VALID, b"\xff": "x"}, "UTF-8"),
        ({**_VALID, 5: "x"}, "property name"),
        ({"x": "y"}, "not a CloudEvents AMQP message"),
        ({"cloudEvents_specversion": "0.1"}, "specversion"),
        (AMQPMessage({**_VALID}, "application/json", b"{"), "JSON"),
        (AMQPMessage({}, "application/cloudevents+json", b""), "must have a body"),
        (AMQPMessage({}, "application/cloudevents-batch+json", b"[]"), "no batch mode"),
        (AMQPMessage({}, "application/cloudevents+nosuch", b"{}"), "nosuch"),
        ({"application_properties": 5, "body": b""}, "mapping"),
        (42, "AMQPMessage"),
    ],
)
def test_hostile_messages_raise_cefmt_errors(message: Any, match: str) -> None:
    with pytest.raises(CloudEventError, match=match):
        decode(message, "amqp")


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*_VALID, "cloudEvents_x", "cloudEvents:y", "content-type"]),
        st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.binary(max_size=8) | st.floats(),
        max_size=6,
    ),
    st.none() | st.text(max_size=20),
    st.binary(max_size=40),
)
def test_arbitrary_messages_fail_only_with_cefmt_errors(
    properties: dict[str, Any], content_type: str | None, body: bytes
) -> None:
    with contextlib.suppress(CloudEventError):
        decode(AMQPMessage(properties, content_type, body), "amqp")


# -- limits ------------------------------------------------------------------------------------------------------


def test_property_count_value_length_and_body_size_are_checked_before_reading() -> None:
    many = {**_VALID, **{f"x-{i}": i for i in range(300)}}
    with pytest.raises(LimitExceededError, match="header count 304"):
        decode(many, "amqp")
    assert decode(many, "amqp", limits=Limits(max_header_count=304)).id == "1"
    with pytest.raises(LimitExceededError, match="cloudEvents_subject"):
        decode({**_VALID, "cloudEvents_subject": b"\xff" * 9000}, "amqp")  # measured before it is decoded
    with pytest.raises(LimitExceededError, match="size of body 101"):
        decode(AMQPMessage(dict(_VALID), "application/json", b"{" * 101), "amqp", limits=Limits(max_message_bytes=100))


# -- captures ------------------------------------------------------------------------------------------------------


@_SETTINGS
@given(events(), st.sampled_from(["binary", "structured"]))
def test_captures_round_trip_through_json_text(sent: CloudEvent, mode: str) -> None:
    from cefmt.codec import dump_json, load_json

    message = encode(sent, "amqp", mode)
    line = dump_json(amqp.capture.to_json(message))
    assert b"\n" not in line
    assert amqp.capture.from_json(load_json(line, "line")) == message


def test_a_capture_of_a_proton_message_tags_its_types() -> None:
    message = proton.Message(
        body=b"hi", properties={"t": proton.timestamp(1000), "b": b"\x01", "s": proton.symbol("x")}, inferred=True
    )
    assert amqp.to_json(message) == {
        "application_properties": {
            "t": {"timestamp": "1970-01-01T00:00:01Z"},
            "b": {"binary_base64": "AQ=="},
            "s": "x",
        },
        "content_type": None,
        "body_base64": "aGk=",
    }


@pytest.mark.parametrize(
    ("doc", "match"),
    [
        ([], "JSON object"),
        ({"application_properties": []}, "must be an object"),
        ({"application_properties": {"a": {"x": 1}}}, "binary_base64"),
        ({"application_properties": {"a": [1]}}, "list"),
        ({"content_type": 5}, "content_type"),
        ({"body_base64": "!!"}, "Base64"),
    ],
)
def test_a_bad_capture_is_a_cefmt_error(doc: Any, match: str) -> None:
    with pytest.raises(MalformedMessageError, match=match):
        amqp.capture.from_json(doc)


# -- a real broker: RabbitMQ's AMQP 1.0 plugin with qpid-proton --------------------------------------------------------


def _through_rabbitmq(broker: Broker, queue: str, messages: list[Any]) -> list[CloudEvent]:
    """Send proton messages to ``queue`` and decode what comes back, while each received message lives."""
    address = f"/amq/queue/{queue}"
    connection = BlockingConnection(broker.url, timeout=CALL_TIMEOUT)
    decoded: list[CloudEvent] = []
    try:
        sender = connection.create_sender(address)
        for message in messages:
            sender.send(message)  # returns once the broker has accepted it
        receiver = connection.create_receiver(address, credit=len(messages))
        for _ in messages:
            received = receiver.receive(timeout=CALL_TIMEOUT)
            receiver.accept()
            decoded.append(decode(received, "amqp", extension_types=None))
    finally:
        connection.close()
    return decoded


@pytest.mark.timeout(60)
def test_round_trip_through_rabbitmq_with_qpid_proton(rabbitmq_broker: Broker, rabbitmq_queue: str) -> None:
    cases = [
        (sent, mode, fmt)
        for sent in broker_events()
        for mode, fmt in [("binary", None), ("structured", "json"), ("structured", "msgpack")]
    ]
    messages = [
        amqp.to_proton(encode(sent, "amqp", mode, **({"format": fmt} if fmt else {})), proton)
        for sent, mode, fmt in cases
    ]
    for (sent, mode, fmt), got in zip(cases, _through_rabbitmq(rabbitmq_broker, rabbitmq_queue, messages), strict=True):
        expected = amqp_view(sent) if mode == "binary" else json_view(sent) if fmt == "json" else sent
        assert got == expected, (mode, fmt, got, expected)


@pytest.mark.timeout(60)
def test_the_colon_prefix_and_typed_values_survive_rabbitmq(rabbitmq_broker: Broker, rabbitmq_queue: str) -> None:
    sent = event(data=b"\x00", count=-(2**31), flag=True, blob=b"", at=Timestamp.parse("2038-01-19T03:14:08.001Z"))
    message = amqp.to_proton(encode(sent, "amqp", "binary", prefix="cloudEvents:"), proton)
    [got] = _through_rabbitmq(rabbitmq_broker, rabbitmq_queue, [message])
    assert got == sent
