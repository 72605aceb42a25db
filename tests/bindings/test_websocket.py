"""The WebSockets binding: subprotocols from the installed formats, negotiation, text frames for JSON and
binary frames otherwise, hostile frames, limits, captures, and real connections with the websockets library
(a server in the test process)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

import cefmt
from cefmt import (
    CloudEvent,
    CloudEventError,
    Codec,
    LimitExceededError,
    Limits,
    MalformedMessageError,
    Registry,
    UsageError,
    decode,
    encode,
)
from cefmt_plugins import websocket
from cefmt_plugins.websocket import WebSocketMessage
from tests.strategies import events, json_view

from .support import CALL_TIMEOUT, broker_events

_SETTINGS = settings(max_examples=150, deadline=None)


@_SETTINGS
@given(events(), st.sampled_from(["json", "msgpack"]))
def test_round_trip_in_any_format(sent: CloudEvent, format: str) -> None:
    message = encode(sent, "websocket", "structured", format=format)
    assert message.subprotocol == f"cloudevents.{format}"
    assert isinstance(message.payload, str if format == "json" else bytes)  # text frame for JSON (section 1.5)
    expected = json_view(sent) if format == "json" else sent
    assert decode(message, "websocket") == expected
    assert decode(message.payload, "websocket", subprotocol=message.subprotocol) == expected


def test_the_subprotocol_or_the_format_names_the_format() -> None:
    sent = CloudEvent(id="1", source="/s", type="t", data=b"\x00")
    assert encode(sent, "websocket", "structured").subprotocol == "cloudevents.json"
    by_subprotocol = encode(sent, "websocket", "structured", subprotocol="cloudevents.msgpack")
    assert by_subprotocol == encode(sent, "websocket", "structured", format="msgpack")
    assert decode(by_subprotocol.payload, "websocket", format="msgpack") == sent
    with pytest.raises(UsageError, match="different event formats"):
        encode(sent, "websocket", "structured", subprotocol="cloudevents.json", format="msgpack")
    with pytest.raises(MalformedMessageError, match="not a CloudEvents subprotocol"):
        encode(sent, "websocket", "structured", subprotocol="chat")


def test_a_json_frame_may_arrive_as_bytes() -> None:
    sent = CloudEvent(id="1", source="/s", type="t")
    assert decode(encode(sent, "json"), "websocket") == sent


def test_subprotocols_are_those_of_the_installed_formats_json_first() -> None:
    offered = websocket.subprotocols()
    assert offered[0] == "cloudevents.json"
    assert set(offered) >= {"cloudevents.json", "cloudevents.msgpack"}
    assert not {"cloudevents.http", "cloudevents.kafka", "cloudevents.websocket"} & set(
        offered
    )  # bindings are not formats


def test_negotiation_picks_the_clients_first_installed_choice() -> None:
    assert (
        websocket.negotiate(["cloudevents.thrift", "cloudevents.msgpack", "cloudevents.json"]) == "cloudevents.msgpack"
    )
    # the avro plugin is installed
    assert websocket.negotiate(["cloudevents.avro", "cloudevents.json"]) == "cloudevents.avro"
    assert websocket.negotiate(["chat", "cloudevents.json"]) == "cloudevents.json"
    assert websocket.negotiate(["chat", "cloudevents.http"]) is None


def test_negotiation_asks_the_given_registry() -> None:
    registry = Registry(group="cefmt.none")
    assert websocket.negotiate(["cloudevents.json"], registry=registry) is None
    registry.register("1.0", "json", "structured", cefmt.default_registry.lookup("1.0", "json", "structured"))
    registry.register("1.0", "broken", "structured", Codec(encode=lambda e: b"", decode=lambda m: m))
    assert websocket.subprotocols(registry) == ["cloudevents.json"]  # a codec without a media type is no format


def test_the_protobuf_format_is_cloudevents_proto() -> None:
    assert websocket.subprotocol_of("protobuf") == "cloudevents.proto"
    assert websocket.format_of_subprotocol("cloudevents.proto") == "protobuf"
    assert websocket.format_of_subprotocol("cloudevents.avro") == "avro"


@pytest.mark.parametrize(
    ("message", "options", "match"),
    [
        ("", {}, "must have a payload"),
        ("{", {}, "JSON"),
        (b"\xff", {}, "UTF-8"),
        ("[]", {}, "JSON object"),
        (b"\x00", {"subprotocol": "cloudevents.msgpack"}, "msgpack"),
        ("{}", {"subprotocol": "cloudevents.nosuch"}, "nosuch"),
        ("{}", {"subprotocol": "mqtt"}, "not a CloudEvents subprotocol"),
        (WebSocketMessage("cloudevents.", "{}"), {}, "not a CloudEvents subprotocol"),
        (12, {}, "WebSocketMessage"),
        ({"payload": 5}, {}, "str"),
    ],
)
def test_hostile_frames_raise_cefmt_errors(message: Any, options: dict[str, Any], match: str) -> None:
    with pytest.raises(CloudEventError, match=match):
        decode(message, "websocket", **options)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=60) | st.text(max_size=60), st.sampled_from(["cloudevents.json", "cloudevents.msgpack"]))
def test_arbitrary_frames_fail_only_with_cefmt_errors(frame: str | bytes, subprotocol: str) -> None:
    with contextlib.suppress(CloudEventError):
        decode(frame, "websocket", subprotocol=subprotocol)


def test_the_payload_size_is_checked_before_it_is_read() -> None:
    with pytest.raises(LimitExceededError, match="size of payload 101"):
        decode("\udcff" * 101, "websocket", limits=Limits(max_message_bytes=100))  # not even valid Unicode


@_SETTINGS
@given(events(), st.sampled_from(["json", "msgpack"]))
def test_captures_round_trip_and_keep_the_frame_type(sent: CloudEvent, format: str) -> None:
    message = encode(sent, "websocket", "structured", format=format)
    doc = websocket.capture.to_json(message)
    assert ("payload" in doc) == (format == "json") and ("payload_base64" in doc) == (format != "json")
    assert websocket.capture.from_json(doc) == message


def test_a_bad_capture_is_a_cefmt_error() -> None:
    for doc, match in [({"subprotocol": 5, "payload": "{}"}, "subprotocol"), ({"subprotocol": None}, "payload")]:
        with pytest.raises(MalformedMessageError, match=match):
            websocket.capture.from_json(doc)


# -- real connections: the websockets library, the server in this process -------------------------------------------


async def _echo_events(connection: ServerConnection) -> None:
    """Decode each message in the negotiated format and send the event back in it."""
    async for frame in connection:
        event = decode(frame, "websocket", subprotocol=connection.subprotocol)
        await connection.send(encode(event, "websocket", "structured", subprotocol=connection.subprotocol).payload)


async def _session(offered: list[str], sent: list[CloudEvent]) -> tuple[str | None, list[CloudEvent], list[type]]:
    async with serve(
        _echo_events,
        "127.0.0.1",
        0,
        select_subprotocol=lambda _connection, offered: websocket.negotiate(offered),  # type: ignore[arg-type,return-value]
        open_timeout=CALL_TIMEOUT,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        async with connect(
            f"ws://127.0.0.1:{port}", subprotocols=[Subprotocol(name) for name in offered], open_timeout=CALL_TIMEOUT
        ) as client:
            chosen = client.subprotocol
            received, frame_types = [], []
            for event in sent:
                await client.send(encode(event, "websocket", "structured", subprotocol=chosen).payload)
                frame = await client.recv()
                frame_types.append(type(frame))
                received.append(decode(frame, "websocket", subprotocol=chosen))
            return chosen, received, frame_types


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("offered", "chosen"),
    [
        (["cloudevents.thrift", "cloudevents.json"], "cloudevents.json"),
        (["cloudevents.msgpack", "cloudevents.json"], "cloudevents.msgpack"),
    ],
)
def test_events_both_ways_over_a_negotiated_connection(offered: list[str], chosen: str) -> None:
    sent = broker_events()
    negotiated, received, frame_types = asyncio.run(asyncio.wait_for(_session(offered, sent), timeout=5 * CALL_TIMEOUT))
    assert negotiated == chosen
    assert set(frame_types) == {str if chosen == "cloudevents.json" else bytes}
    for one, got in zip(sent, received, strict=True):
        assert got == json_view(one) if chosen == "cloudevents.json" else one
