"""The MQTT binding: MQTT 5 binary (user properties, Content Type) and structured, MQTT 3.1.1 structured
only, sdk-go's ``ce-`` user properties, paho-mqtt's messages, hostile messages, limits, captures, and real
round trips through Mosquitto with paho-mqtt 2.x (MQTT 5 and 3.1.1)."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator
from typing import Any

import paho.mqtt.client as paho
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from cefmt import (
    CloudEvent,
    CloudEventError,
    LimitExceededError,
    Limits,
    MalformedMessageError,
    UsageError,
    decode,
    encode,
)
from cefmt_plugins import mqtt
from cefmt_plugins.mqtt import MQTTMessage
from tests.brokers.fixtures import Broker, unique_name
from tests.hardening.cases import binary_view
from tests.strategies import events, json_view

from .support import CALL_TIMEOUT, broker_events, event, types_of

_SETTINGS = settings(max_examples=150, deadline=None)
_VALID = [("specversion", "1.0"), ("id", "1"), ("source", "/s"), ("type", "t")]


@_SETTINGS
@given(events())
def test_binary_round_trip(sent: CloudEvent) -> None:
    message = encode(sent, "mqtt", "binary")
    assert all(type(name) is str and type(value) is str for name, value in message.user_properties)
    assert message.content_type == sent.datacontenttype
    assert decode(message, "mqtt") == binary_view(sent)
    assert decode(message, "mqtt", extension_types=types_of(sent)) == binary_view(sent).evolve(**sent.extensions)


@_SETTINGS
@given(events(), st.sampled_from(["json", "msgpack"]))
def test_structured_round_trip_in_mqtt_5(sent: CloudEvent, format: str) -> None:
    message = encode(sent, "mqtt", "structured", format=format)
    assert (message.user_properties, message.content_type) == ([], f"application/cloudevents+{format}")
    assert decode(message, "mqtt") == json_view(sent) if format == "json" else sent


@_SETTINGS
@given(events())
def test_structured_round_trip_in_mqtt_3_1_1_is_the_payload_alone(sent: CloudEvent) -> None:
    message = encode(sent, "mqtt", "structured", version=3)
    assert (message.user_properties, message.content_type) == ([], None)
    assert message.payload == encode(sent, "json")
    assert decode(message.payload, "mqtt") == json_view(sent)


def test_binary_mode_follows_the_spec_example() -> None:
    sent = event(time="2018-04-05T03:56:24Z", data={"a": 1}, datacontenttype="application/json; charset=utf-8")
    message = encode(sent, "mqtt", "binary")
    assert message.content_type == "application/json; charset=utf-8"
    assert message.user_properties == [
        ("specversion", "1.0"),
        ("id", "A234-1234-1234"),
        ("source", "/mycontext"),
        ("type", "com.example.someevent"),
        ("time", "2018-04-05T03:56:24Z"),
    ]
    assert message.payload == b'{"a":1}'


def test_mqtt_3_1_1_has_no_binary_mode_and_carries_json_only() -> None:
    with pytest.raises(UsageError, match="no binary mode"):
        encode(event(), "mqtt", "binary", version=3)
    with pytest.raises(UsageError, match="JSON event format only"):
        encode(event(), "mqtt", "structured", version=3, format="msgpack")
    with pytest.raises(UsageError, match="version must be 5"):
        encode(event(), "mqtt", "binary", version=6)
    assert encode(event(), "mqtt", "structured", version=MQTTProtocolVersion.MQTTv311).content_type is None
    assert encode(event(), "mqtt", "binary", version=MQTTProtocolVersion.MQTTv5).user_properties


def test_sdk_go_ce_prefixed_user_properties_decode() -> None:
    message = MQTTMessage([(f"ce-{name}", value) for name, value in _VALID] + [("ce-ext", "x")], "text/plain", b"hi")
    assert decode(message, "mqtt") == CloudEvent(
        id="1", source="/s", type="t", data="hi", datacontenttype="text/plain", ext="x"
    )


def test_a_datacontenttype_user_property_stands_in_for_the_content_type() -> None:
    assert decode(MQTTMessage([*_VALID, ("datacontenttype", "text/plain")], None, b"hi"), "mqtt").data == "hi"
    assert decode(MQTTMessage([*_VALID, ("datacontenttype", "text/plain")], "text/plain", b"hi"), "mqtt").data == "hi"
    with pytest.raises(MalformedMessageError, match="which is meant"):
        decode(MQTTMessage([*_VALID, ("datacontenttype", "text/plain")], "text/csv", b"hi"), "mqtt")


def test_user_properties_that_are_not_attribute_names_belong_to_the_application() -> None:
    message = MQTTMessage([*_VALID, ("X-Trace", "1"), ("app-key", "2"), ("Ümlaut", "3")], None, b"")
    assert decode(message, "mqtt") == CloudEvent(id="1", source="/s", type="t")


def test_the_mode_is_detected_as_section_3_says() -> None:
    sent = event(data="hi", datacontenttype="text/plain")
    for message in (
        encode(sent, "mqtt", "binary"),
        encode(sent, "mqtt", "structured"),
        encode(sent, "mqtt", "structured", version=3),
    ):
        assert decode(message, "mqtt") == sent
    shouted = MQTTMessage([], "Application/CloudEvents+JSON; charset=utf-8", encode(sent, "json"))
    assert decode(shouted, "mqtt") == sent


def test_paho_messages_decode_directly() -> None:
    sent = event(data=b"\x00", ext="x")
    message = encode(sent, "mqtt", "binary")
    received = paho.MQTTMessage(topic=b"t")
    received.payload = message.payload
    received.properties = mqtt.paho_properties(message, Properties)
    assert decode(received, "mqtt") == sent
    assert mqtt.as_message(received) == message
    v311 = paho.MQTTMessage(topic=b"t")
    v311.payload = encode(sent, "mqtt", "structured", version=3).payload
    assert decode(v311, "mqtt") == sent
    assert mqtt.paho_properties(encode(sent, "mqtt", "structured", version=3), Properties) is None


@pytest.mark.parametrize(
    ("message", "match"),
    [
        (MQTTMessage([*_VALID, ("id", "2")], None, b""), "appears more than once"),
        (MQTTMessage([*_VALID, ("ce-id", "2")], None, b""), "appears more than once"),
        (MQTTMessage([*_VALID, ("subject", "a\nb")], None, b""), "subject"),
        (MQTTMessage([*_VALID, ("n", 5)], None, b""), "must be text"),  # type: ignore[list-item]
        (MQTTMessage([*_VALID, (5, "x")], None, b""), "name must be text"),  # type: ignore[list-item]
        (MQTTMessage([("x", "y")], "text/plain", b"data"), "not a CloudEvents MQTT message"),
        (MQTTMessage([], None, b"{"), "JSON"),
        (MQTTMessage([], "application/cloudevents+json", b""), "must have a payload"),
        (MQTTMessage([], "application/cloudevents-batch+json", b"[]"), "no batch mode"),
        (MQTTMessage([("specversion", "0.1")], None, b""), "specversion"),
        ({"topic": "t"}, "keys 'payload'"),
        (42, "MQTTMessage"),
    ],
)
def test_hostile_messages_raise_cefmt_errors(message: Any, match: str) -> None:
    with pytest.raises(CloudEventError, match=match):
        decode(message, "mqtt")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["specversion", "id", "source", "type", "ce-id", "x", "datacontenttype"]),
            st.text(max_size=12),
        ),
        max_size=8,
    ),
    st.none() | st.text(max_size=20),
    st.binary(max_size=40),
)
def test_arbitrary_messages_fail_only_with_cefmt_errors(
    properties: Any, content_type: str | None, payload: bytes
) -> None:
    with contextlib.suppress(CloudEventError):
        decode(MQTTMessage(properties, content_type, payload), "mqtt")


def test_limits_are_checked_before_reading() -> None:
    many = MQTTMessage([*_VALID, *[("x-app", "v")] * 300], None, b"")
    with pytest.raises(LimitExceededError, match="header count 304"):
        decode(many, "mqtt")
    assert decode(many, "mqtt", limits=Limits(max_header_count=304)).id == "1"
    with pytest.raises(LimitExceededError, match="'subject'"):
        decode(MQTTMessage([*_VALID, ("subject", "x" * 9000)], None, b""), "mqtt")
    with pytest.raises(LimitExceededError, match="size of payload 101"):
        decode(b"{" * 101, "mqtt", limits=Limits(max_message_bytes=100))


@_SETTINGS
@given(events(), st.sampled_from(["binary", "structured"]))
def test_captures_round_trip(sent: CloudEvent, mode: str) -> None:
    message = encode(sent, "mqtt", mode)
    assert mqtt.capture.from_json(mqtt.capture.to_json(message)) == message


@pytest.mark.parametrize(
    ("doc", "match"),
    [({"user_properties": {"a": "b"}}, "array"), ({"user_properties": [["a", 1]]}, "pair of strings"), ("x", "object")],
)
def test_a_bad_capture_is_a_cefmt_error(doc: Any, match: str) -> None:
    with pytest.raises(MalformedMessageError, match=match):
        mqtt.capture.from_json(doc)


# -- a real broker: Mosquitto with paho-mqtt 2.x -----------------------------------------------------------------------


class _Session:
    """One connected paho client, its network loop on a thread, and what it received."""

    def __init__(self, broker: Broker, protocol: MQTTProtocolVersion) -> None:
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=unique_name("cefmt"), protocol=protocol, reconnect_on_failure=False
        )
        self.broker = broker
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.inbox: queue.Queue[paho.MQTTMessage] = queue.Queue()
        self.client.on_connect = lambda *_: self.connected.set()
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_message = lambda _client, _userdata, message: self.inbox.put(message)

    def open(self) -> None:
        self.client.connect(self.broker.host, self.broker.port, keepalive=30)
        self.client.loop_start()
        assert self.connected.wait(CALL_TIMEOUT), f"no CONNACK within {CALL_TIMEOUT}s"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@contextlib.contextmanager
def _session(broker: Broker, protocol: MQTTProtocolVersion) -> Iterator[_Session]:
    session = _Session(broker, protocol)
    try:
        session.open()
        yield session
    finally:
        session.close()


def _through_mosquitto(broker: Broker, protocol: MQTTProtocolVersion, messages: list[MQTTMessage]) -> list[Any]:
    topic = unique_name("cefmt/bindings")
    with _session(broker, protocol) as subscriber, _session(broker, protocol) as publisher:
        subscriber.client.subscribe(topic, qos=1)
        assert subscriber.subscribed.wait(CALL_TIMEOUT), f"no SUBACK within {CALL_TIMEOUT}s"
        for message in messages:
            properties = mqtt.paho_properties(message, Properties)
            info = publisher.client.publish(topic, message.payload, qos=1, properties=properties)
            info.wait_for_publish(timeout=CALL_TIMEOUT)
            assert info.is_published()
        received = []
        for _ in messages:
            try:
                received.append(subscriber.inbox.get(timeout=CALL_TIMEOUT))
            except queue.Empty:
                raise AssertionError(f"no message within {CALL_TIMEOUT}s") from None
    return received


@pytest.mark.timeout(60)
def test_round_trip_through_mosquitto_with_mqtt_5(mqtt_broker: Broker) -> None:
    cases = [
        (sent, mode, fmt)
        for sent in broker_events()
        for mode, fmt in [("binary", None), ("structured", "json"), ("structured", "msgpack")]
    ]
    messages = [encode(sent, "mqtt", mode, **({"format": fmt} if fmt else {})) for sent, mode, fmt in cases]
    received = _through_mosquitto(mqtt_broker, MQTTProtocolVersion.MQTTv5, messages)
    for (sent, mode, fmt), message, got in zip(cases, messages, received, strict=True):
        assert mqtt.as_message(got) == message  # the user properties in order, the Content Type, the payload
        expected = binary_view(sent) if mode == "binary" else json_view(sent) if fmt == "json" else sent
        assert decode(got, "mqtt") == expected


@pytest.mark.timeout(60)
def test_round_trip_through_mosquitto_with_mqtt_3_1_1(mqtt_broker: Broker) -> None:
    sent = broker_events()
    messages = [encode(one, "mqtt", "structured", version=3) for one in sent]
    received = _through_mosquitto(mqtt_broker, MQTTProtocolVersion.MQTTv311, messages)
    for one, got in zip(sent, received, strict=True):
        assert getattr(got, "properties", None) is None
        assert decode(got, "mqtt") == json_view(one)


@pytest.mark.timeout(60)
def test_sdk_go_style_properties_through_mosquitto(mqtt_broker: Broker) -> None:
    properties = Properties(PacketTypes.PUBLISH)
    properties.UserProperty = [(f"ce-{name}", value) for name, value in _VALID]
    properties.ContentType = "text/plain"
    message = MQTTMessage(properties.UserProperty, "text/plain", "grüß".encode())
    [got] = _through_mosquitto(mqtt_broker, MQTTProtocolVersion.MQTTv5, [message])
    assert decode(got, "mqtt") == CloudEvent(id="1", source="/s", type="t", data="grüß", datacontenttype="text/plain")
