"""WebSocket with the websockets library: a negotiated subprotocol, then binary and text frames both ways.

No broker: the server runs inside the test process, on an ephemeral port of 127.0.0.1.
"""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

from tests.brokers.payloads import RAW_BODY

pytestmark = pytest.mark.timeout(60)

#: Seconds any one handshake or frame may take.
CALL_TIMEOUT = 10

#: The CloudEvents WebSockets binding names one subprotocol per event format.
SERVER_SUBPROTOCOLS = [Subprotocol("cloudevents.json")]
CLIENT_SUBPROTOCOLS = [Subprotocol("cloudevents.thrift"), Subprotocol("cloudevents.json")]  # in order of preference
TEXT_FRAME = '{"specversion":"1.0","id":"smoke-1","subject":"naïve/☃"}'


async def _echo(connection: ServerConnection) -> None:
    """Send each frame back as it came (bytes as a binary frame, str as a text frame), after the subprotocol."""
    await connection.send(connection.subprotocol or "")
    async for frame in connection:
        await connection.send(frame)


async def _round_trip() -> tuple[str | None, str | bytes, bytes | str, str | bytes]:
    async with serve(_echo, "127.0.0.1", 0, subprotocols=SERVER_SUBPROTOCOLS, open_timeout=CALL_TIMEOUT) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(
            f"ws://127.0.0.1:{port}", subprotocols=CLIENT_SUBPROTOCOLS, open_timeout=CALL_TIMEOUT
        ) as client:
            server_saw = await client.recv()
            await client.send(RAW_BODY)
            binary = await client.recv()
            await client.send(TEXT_FRAME)
            text = await client.recv()
            return client.subprotocol, server_saw, binary, text


def test_subprotocol_negotiated_and_frames_round_trip() -> None:
    negotiated, server_saw, binary, text = asyncio.run(asyncio.wait_for(_round_trip(), timeout=3 * CALL_TIMEOUT))
    # The only subprotocol both sides speak, agreed on by client and server alike.
    assert negotiated == "cloudevents.json"
    assert server_saw == "cloudevents.json"
    assert binary == RAW_BODY
    assert isinstance(binary, bytes)
    assert text == TEXT_FRAME
    assert isinstance(text, str)
