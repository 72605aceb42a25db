"""MQTT through Mosquitto with paho-mqtt 2.x: version 5 with user properties and a content type, and 3.1.1."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from tests.brokers.fixtures import Broker, unique_name
from tests.brokers.payloads import CONTENT_TYPE, RAW_BODY, TEXT_HEADERS

pytestmark = pytest.mark.timeout(60)

#: Seconds to wait for any one acknowledgement (CONNACK, SUBACK, PUBACK) or message.
CALL_TIMEOUT = 10


class Session:
    """One connected paho client (its network loop on a thread) and what it has received."""

    def __init__(self, broker: Broker, protocol: MQTTProtocolVersion) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=unique_name("cefmt"),
            protocol=protocol,
            reconnect_on_failure=False,
        )
        self.broker = broker
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.connect_result: Any = None
        self.subscribe_results: list[Any] = []
        self.inbox: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = lambda _client, _userdata, message: self.inbox.put(message)

    def _on_connect(self, _client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        self.connect_result = reason
        self.connected.set()

    def _on_subscribe(self, _client: mqtt.Client, _userdata: Any, _mid: int, reasons: Any, _props: Any) -> None:
        self.subscribe_results = list(reasons)
        self.subscribed.set()

    def connect(self) -> None:
        self.client.connect(self.broker.host, self.broker.port, keepalive=30)
        self.client.loop_start()
        assert self.connected.wait(CALL_TIMEOUT), f"no CONNACK within {CALL_TIMEOUT}s"
        assert not self.connect_result.is_failure, f"connection refused: {self.connect_result}"

    def subscribe(self, topic: str) -> None:
        self.client.subscribe(topic, qos=1)
        assert self.subscribed.wait(CALL_TIMEOUT), f"no SUBACK within {CALL_TIMEOUT}s"
        refused = [reason for reason in self.subscribe_results if reason.is_failure]
        assert not refused, f"subscription to {topic!r} refused: {refused}"

    def publish(self, topic: str, payload: bytes, properties: Properties | None = None) -> None:
        info = self.client.publish(topic, payload, qos=1, properties=properties)
        info.wait_for_publish(timeout=CALL_TIMEOUT)
        assert info.is_published(), f"no PUBACK within {CALL_TIMEOUT}s"

    def receive(self) -> mqtt.MQTTMessage:
        try:
            return self.inbox.get(timeout=CALL_TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"no message within {CALL_TIMEOUT}s") from None

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@contextmanager
def session(broker: Broker, protocol: MQTTProtocolVersion) -> Iterator[Session]:
    opened = Session(broker, protocol)
    try:
        opened.connect()
        yield opened
    finally:
        opened.close()


def test_mqtt5_user_properties_and_content_type(mqtt_broker: Broker) -> None:
    topic = unique_name("cefmt/smoke/v5")
    # MQTT 5 user properties are an ordered list of pairs in which a name may repeat.
    user_properties = [*TEXT_HEADERS.items(), ("ce_repeated", "first"), ("ce_repeated", "second")]
    properties = Properties(PacketTypes.PUBLISH)
    properties.ContentType = CONTENT_TYPE
    properties.UserProperty = user_properties
    with (
        session(mqtt_broker, MQTTProtocolVersion.MQTTv5) as subscriber,
        session(mqtt_broker, MQTTProtocolVersion.MQTTv5) as publisher,
    ):
        subscriber.subscribe(topic)
        publisher.publish(topic, RAW_BODY, properties)
        message = subscriber.receive()

    assert message.topic == topic
    assert message.payload == RAW_BODY
    assert message.properties is not None
    assert message.properties.ContentType == CONTENT_TYPE
    assert message.properties.UserProperty == user_properties


def test_mqtt311_publish_and_subscribe(mqtt_broker: Broker) -> None:
    topic = unique_name("cefmt/smoke/v311")
    with (
        session(mqtt_broker, MQTTProtocolVersion.MQTTv311) as subscriber,
        session(mqtt_broker, MQTTProtocolVersion.MQTTv311) as publisher,
    ):
        subscriber.subscribe(topic)
        publisher.publish(topic, RAW_BODY)
        message = subscriber.receive()

    assert message.topic == topic
    assert message.payload == RAW_BODY
    assert message.qos == 1
    # MQTT 3.1.1 has no properties: the body is all a message carries.
    assert getattr(message, "properties", None) is None
