"""AMQP 1.0 through RabbitMQ's amqp1_0 plugin with qpid-proton: raw bytes, a content type, application properties."""

from __future__ import annotations

import pytest
from proton import Message
from proton.utils import BlockingConnection

from tests.brokers.fixtures import Broker
from tests.brokers.payloads import CONTENT_TYPE, RAW_BODY, TEXT_HEADERS

pytestmark = pytest.mark.timeout(60)

#: Seconds any one blocking proton call (connect, send, receive) may take.
CALL_TIMEOUT = 10


def test_send_and_receive_with_application_properties(rabbitmq_broker: Broker, rabbitmq_queue: str) -> None:
    # RabbitMQ's AMQP 1.0 address of a queue that already exists (the fixture declared it over 0-9-1).
    address = f"/amq/queue/{rabbitmq_queue}"
    properties = {**TEXT_HEADERS, "cloudEvents_count": 42, "cloudEvents_flag": True}
    connection = BlockingConnection(rabbitmq_broker.url, timeout=CALL_TIMEOUT)
    try:
        sender = connection.create_sender(address)
        # BlockingSender.send returns once the broker has settled the delivery (accepted it).
        sender.send(Message(body=RAW_BODY, content_type=CONTENT_TYPE, properties=properties, durable=False))
        receiver = connection.create_receiver(address, credit=1)
        received = receiver.receive(timeout=CALL_TIMEOUT)
        receiver.accept()
    finally:
        connection.close()

    # A binary body travels in a Data section; proton hands it back as a memoryview.
    assert isinstance(received.body, memoryview)
    assert bytes(received.body) == RAW_BODY
    assert received.content_type == CONTENT_TYPE
    assert received.properties == properties
    assert isinstance(received.properties["cloudEvents_count"], int)
    assert received.properties["cloudEvents_flag"] is True
