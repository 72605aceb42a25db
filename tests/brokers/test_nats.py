"""NATS through nats-server with nats-py: core publish/subscribe with headers, and a JetStream publish + consume."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import StorageType

from tests.brokers.fixtures import Broker, unique_name
from tests.brokers.payloads import RAW_BODY, TEXT_HEADERS

pytestmark = pytest.mark.timeout(60)

#: Seconds any one client operation may take.
CALL_TIMEOUT = 10

#: NATS header values are strings; a binding puts the content type in one like any other attribute.
HEADERS = {**TEXT_HEADERS, "content-type": "application/octet-stream"}


async def _connect(broker: Broker) -> Client:
    return await nats.connect(broker.url, connect_timeout=CALL_TIMEOUT, allow_reconnect=False)


def _run(coroutine: Awaitable[Msg]) -> Msg:
    async def bounded() -> Msg:
        return await asyncio.wait_for(coroutine, timeout=3 * CALL_TIMEOUT)

    return asyncio.run(bounded())


async def _core_round_trip(broker: Broker) -> Msg:
    client = await _connect(broker)
    try:
        subject = unique_name("cefmt.smoke.core")
        subscription = await client.subscribe(subject)
        await client.publish(subject, RAW_BODY, headers=HEADERS)
        await client.flush(timeout=CALL_TIMEOUT)
        message = await subscription.next_msg(timeout=CALL_TIMEOUT)
        await subscription.unsubscribe()
        return message
    finally:
        await client.close()


def test_core_publish_and_subscribe_with_headers(nats_broker: Broker) -> None:
    message = _run(_core_round_trip(nats_broker))
    assert message.data == RAW_BODY
    assert message.headers == HEADERS


async def _jetstream_round_trip(broker: Broker) -> Msg:
    client = await _connect(broker)
    stream = unique_name("cefmt-smoke").upper()
    subject = f"{stream.lower()}.events"
    try:
        jetstream = client.jetstream(timeout=CALL_TIMEOUT)
        await jetstream.add_stream(name=stream, subjects=[subject], storage=StorageType.MEMORY)
        try:
            ack = await jetstream.publish(subject, RAW_BODY, headers=HEADERS)
            assert (ack.stream, ack.seq) == (stream, 1)
            consumer = await jetstream.pull_subscribe(subject, durable="smoke", stream=stream)
            [message] = await consumer.fetch(1, timeout=CALL_TIMEOUT)
            await message.ack()
            return message
        finally:
            await jetstream.delete_stream(stream)
    finally:
        await client.close()


def test_jetstream_publish_and_consume_with_headers(nats_broker: Broker) -> None:
    message = _run(_jetstream_round_trip(nats_broker))
    assert message.data == RAW_BODY
    assert message.headers == HEADERS
    assert message.metadata.sequence.stream == 1
    assert message.metadata.num_delivered == 1
