"""AMQP 0-9-1 through RabbitMQ: publish and consume raw bytes with headers, with pika (sync) and aio-pika (async)."""

from __future__ import annotations

import asyncio

import aio_pika
import pika
import pytest

from tests.brokers.fixtures import Broker
from tests.brokers.payloads import CONTENT_TYPE, RAW_BODY, TEXT_HEADERS

pytestmark = pytest.mark.timeout(60)

#: Seconds any one client operation may take.
CALL_TIMEOUT = 10

#: Field-table values of other AMQP types beside the strings: the table keeps their type.
TYPED_HEADERS = {"ce_count": 42, "ce_flag": True}


def test_pika_publish_and_consume_with_headers(rabbitmq_broker: Broker, rabbitmq_queue: str) -> None:
    params = pika.URLParameters(
        f"{rabbitmq_broker.url}/%2F?connection_attempts=1&socket_timeout={CALL_TIMEOUT}"
        f"&blocked_connection_timeout={CALL_TIMEOUT}"
    )
    headers = {**TEXT_HEADERS, **TYPED_HEADERS}
    with pika.BlockingConnection(params) as connection:
        channel = connection.channel()
        channel.confirm_delivery()  # basic_publish raises unless the broker confirms the message
        channel.basic_publish(
            exchange="",
            routing_key=rabbitmq_queue,
            body=RAW_BODY,
            properties=pika.BasicProperties(content_type=CONTENT_TYPE, headers=headers),
            mandatory=True,
        )
        method, properties, body = next(channel.consume(rabbitmq_queue, inactivity_timeout=CALL_TIMEOUT))
        assert method is not None, f"no message within {CALL_TIMEOUT}s"
        channel.basic_ack(method.delivery_tag)
        channel.cancel()

    assert body == RAW_BODY
    assert properties.content_type == CONTENT_TYPE
    assert properties.headers == headers
    assert properties.headers["ce_flag"] is True  # a boolean, not the integer 1


async def _aio_pika_round_trip(url: str, queue_name: str) -> aio_pika.abc.AbstractIncomingMessage:
    connection = await aio_pika.connect(url, timeout=CALL_TIMEOUT)
    async with connection:
        channel = await connection.channel()  # publisher confirms are on by default
        queue = await channel.get_queue(queue_name, ensure=True)
        await channel.default_exchange.publish(
            aio_pika.Message(RAW_BODY, content_type=CONTENT_TYPE, headers={**TEXT_HEADERS, **TYPED_HEADERS}),
            routing_key=queue_name,
            mandatory=True,
            timeout=CALL_TIMEOUT,
        )
        async with queue.iterator() as messages:
            async for message in messages:
                async with message.process():  # acks on leaving the block
                    return message
    raise AssertionError("the consumer stopped before any message arrived")


def test_aio_pika_publish_and_consume_with_headers(rabbitmq_broker: Broker, rabbitmq_queue: str) -> None:
    message = asyncio.run(
        asyncio.wait_for(_aio_pika_round_trip(rabbitmq_broker.url, rabbitmq_queue), timeout=3 * CALL_TIMEOUT)
    )
    assert message.body == RAW_BODY
    assert message.content_type == CONTENT_TYPE
    assert message.headers == {**TEXT_HEADERS, **TYPED_HEADERS}
    assert message.headers["ce_flag"] is True  # a boolean, not the integer 1
