"""cefmt's RabbitMQ and AMQP 1.0 bindings against the official SDK 2.x ``rabbitmq`` and ``amqp`` bindings
(``cloudevents`` 2.2.0 when this was written), both directions, in the SDK's own venv.

The SDK 1.x line has neither binding. The events are those of ``test_sdk_interop.py``; deviations of the
SDK are the ones recorded in docs/interop.md (D6: the SDK invents a ``time``), plus R1 below.
"""

from __future__ import annotations

import base64
import functools
import json
from pathlib import Path
from typing import Any

import pytest

from cefmt import CloudEvent, InvalidAttributeError, decode, encode
from cefmt_plugins.amqp import AMQPMessage
from cefmt_plugins.common import typed_from_json, typed_to_json
from cefmt_plugins.rabbitmq import RabbitMQMessage

from .conftest import sdk_python
from .test_sdk_interop import EVENTS, _comparable, _drive, _event_spec, _sdk_read, _without_invented_time

ROUTES = [("rabbitmq", "binary"), ("rabbitmq", "structured"), ("amqp", "binary"), ("amqp", "structured")]
CASES = [(name, binding, mode) for name in EVENTS for binding, mode in ROUTES]


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _message_spec(message: Any) -> dict[str, Any]:
    if isinstance(message, RabbitMQMessage):
        return {"headers": message.headers, "content_type": message.content_type, "body": _b64(message.body)}
    properties = {name: typed_to_json(value, name) for name, value in message.application_properties.items()}
    content_type = {} if message.content_type is None else {"content-type": message.content_type}
    return {"properties": content_type, "application_properties": properties, "body": _b64(message.body)}


def _message(binding: str, spec: dict[str, Any]) -> Any:
    body = base64.b64decode(spec["body"])
    if binding == "rabbitmq":
        return RabbitMQMessage(spec["headers"], spec["content_type"], body)
    properties = {name: typed_from_json(value, name) for name, value in spec["application_properties"].items()}
    return AMQPMessage(properties, spec["properties"].get("content-type"), body)


@functools.cache
def _results() -> dict[tuple[str, str, str, str], dict[str, Any]]:
    python: Path = sdk_python("sdk2")
    encode_jobs = [{"op": "encode", "binding": b, "mode": m, "event": _event_spec(EVENTS[n])} for n, b, m in CASES]
    decode_jobs = [
        {"op": "decode", "binding": b, "mode": m, "message": _message_spec(encode(EVENTS[n], b, m))}
        for n, b, m in CASES
    ]
    table = {}
    for (name, binding, mode), made, read in zip(CASES, _drive(python, encode_jobs), _drive(python, decode_jobs),
                                                 strict=True):  # fmt: skip
        table[("sdk-to-cefmt", name, binding, mode)] = made
        table[("cefmt-to-sdk", name, binding, mode)] = read
    return table


def _sdk_amqp_time(binding: str, mode: str, event: CloudEvent) -> CloudEvent:
    # R1: SDK 2.x writes an AMQP binary time as whole milliseconds (a plain long), so digits below the
    # millisecond do not travel. cefmt reads the long as milliseconds since the epoch.
    if binding == "amqp" and mode == "binary" and event.time is not None:
        return event.evolve(time=event.time.replace(microsecond=event.time.microsecond // 1000 * 1000, nanosecond=0))
    return event


@pytest.mark.parametrize(("name", "binding", "mode"), CASES)
def test_sdk_messages_decode_in_cefmt_to_equal_events(name: str, binding: str, mode: str) -> None:
    result = _results()[("sdk-to-cefmt", name, binding, mode)]
    assert result["ok"], result["error"]
    message = _message(binding, result["message"])
    expected = _sdk_amqp_time(binding, mode, EVENTS[name])
    decoded = _without_invented_time(decode(message, binding), expected)
    assert decoded == expected, f"SDK message {result['message']}"
    assert type(decoded.data) is type(expected.data)


@pytest.mark.parametrize(("name", "binding", "mode"), CASES)
def test_cefmt_messages_decode_in_the_sdk(name: str, binding: str, mode: str) -> None:
    result = _results()[("cefmt-to-sdk", name, binding, mode)]
    assert result["ok"], result["error"]
    expected = _sdk_read("sdk2", name, binding, mode, _event_spec(EVENTS[name]))
    assert _comparable(result["event"], EVENTS[name]) == _comparable(expected, EVENTS[name])


def test_sdk_binary_messages_carry_what_cefmt_writes() -> None:
    """Wire compatibility, not only agreement on the event: the same header and property names and values."""
    for name in EVENTS:
        made = _results()[("sdk-to-cefmt", name, "rabbitmq", "binary")]["message"]
        ours = encode(EVENTS[name], "rabbitmq", "binary")
        invented = {"ce-time"} if EVENTS[name].time is None else set()  # D6
        assert {k: v for k, v in made["headers"].items() if k not in invented} == ours.headers
        assert made["content_type"] == ours.content_type
        body = base64.b64decode(made["body"])
        json_body = ours.content_type is not None and ours.content_type.endswith("json")
        assert (json.loads(body) == json.loads(ours.body)) if json_body else (body == ours.body)  # JSON spacing differs
        sdk_amqp = _results()[("sdk-to-cefmt", name, "amqp", "binary")]["message"]
        amqp_names = set(sdk_amqp["application_properties"]) - {"cloudEvents_time"}
        assert amqp_names == set(encode(EVENTS[name], "amqp", "binary").application_properties) - {"cloudEvents_time"}


def test_typed_extensions_from_the_sdk() -> None:
    """R2: SDK 2.x writes a Boolean in a RabbitMQ header as Python spells it (``True``), not as the canonical
    ``true``; cefmt keeps the text and refuses to read it as a Boolean. Its AMQP binding keeps the AMQP types,
    which cefmt reads back exactly."""
    attributes = {"specversion": "1.0", "id": "1", "source": "/s", "type": "t", "flag": True, "count": 3}
    jobs = [
        {
            "op": "encode",
            "binding": binding,
            "mode": "binary",
            "event": {"attributes": attributes, "data": {"kind": "none"}},
        }
        for binding in ("rabbitmq", "amqp")
    ]
    rabbit, amqp_made = _drive(sdk_python("sdk2"), jobs)
    headers = rabbit["message"]["headers"]
    assert (headers["ce-flag"], headers["ce-count"]) == ("True", "3")
    from_rabbit = decode(_message("rabbitmq", rabbit["message"]), "rabbitmq", extension_types={"count": int})
    assert (from_rabbit["flag"], from_rabbit["count"]) == ("True", 3)
    with pytest.raises(InvalidAttributeError, match="canonical Boolean"):
        decode(_message("rabbitmq", rabbit["message"]), "rabbitmq", extension_types={"flag": bool})
    from_amqp = decode(_message("amqp", amqp_made["message"]), "amqp")
    assert (from_amqp["flag"], from_amqp["count"]) == (True, 3)
