"""The WebSockets protocol binding: structured mode only, spec 1.0 and 0.3 (sans-I/O).

WebSockets Protocol Binding 1.0.2: client and server agree on one event format in the opening handshake,
through the ``Sec-WebSocket-Protocol`` header, and every WebSocket message of the connection is then one
event in that format. Section 1.5 names the subprotocols: ``cloudevents.json`` (the JSON format, text
frames), ``cloudevents.avro`` and ``cloudevents.proto`` (binary frames). cefmt offers one subprotocol per
installed event format, ``cloudevents.NAME`` (``cloudevents.proto`` for the ``protobuf`` format): see
:func:`subprotocols` and :func:`negotiate`.

Encoders return a :class:`WebSocketMessage`: the subprotocol and the payload, a ``str`` for a text frame
(JSON) or ``bytes`` for a binary frame, ready for ``await websocket.send(message.payload)``. Decoders
take a :class:`WebSocketMessage`, or a received frame (``str`` or ``bytes``) with ``subprotocol=`` (the
connection's) or ``format=``; a frame alone is read as JSON. No WebSocket library is imported here.

>>> from cefmt import CloudEvent, decode, encode
>>> event = CloudEvent(id="1", source="/s", type="t")
>>> message = encode(event, "websocket", "structured", subprotocol="cloudevents.json")
>>> type(message.payload).__name__, decode(message.payload, "websocket", subprotocol="cloudevents.json") == event
('str', True)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from cefmt import (
    DEFAULT_LIMITS,
    CloudEvent,
    CloudEventError,
    EncodeError,
    Limits,
    MalformedMessageError,
    UsageError,
    default_registry,
)
from cefmt.codec import Capture, Codec, decode_in_format, encode_in_format
from cefmt_plugins.common import b64, bytes_member, document, sized_body

if TYPE_CHECKING:
    from cefmt.codec import Registry

__all__ = [
    "PREFIX",
    "WebSocketMessage",
    "as_message",
    "capture",
    "decode_structured",
    "detect",
    "encode_structured",
    "format_of_subprotocol",
    "from_json",
    "negotiate",
    "structured",
    "subprotocol_of",
    "subprotocols",
    "to_json",
]

#: What every CloudEvents subprotocol name starts with (section 1.5).
PREFIX = "cloudevents."

# Section 1.5 names the Protobuf format's subprotocol "cloudevents.proto"; every other one is the format's name.
_SPEC_NAMES = {"proto": "protobuf"}
_FORMAT_NAMES = {format: name for name, format in _SPEC_NAMES.items()}
# "For each subprotocol, senders MUST use the specified WebSocket frame type": text for JSON, binary otherwise.
_TEXT_FORMATS = frozenset({"json"})


def format_of_subprotocol(subprotocol: str) -> str:
    """The event format a CloudEvents subprotocol names; another subprotocol is a
    :class:`cefmt.MalformedMessageError`.

    >>> format_of_subprotocol("cloudevents.json"), format_of_subprotocol("cloudevents.proto")
    ('json', 'protobuf')
    """
    if type(subprotocol) is not str or not subprotocol.startswith(PREFIX) or len(subprotocol) == len(PREFIX):
        raise MalformedMessageError(f"{subprotocol!r} is not a CloudEvents subprotocol ({PREFIX}FORMAT)")
    name = subprotocol[len(PREFIX) :]
    return _SPEC_NAMES.get(name, name)


def subprotocol_of(format: str) -> str:
    """The subprotocol of an event format.

    >>> subprotocol_of("json"), subprotocol_of("protobuf")
    ('cloudevents.json', 'cloudevents.proto')
    """
    return PREFIX + _FORMAT_NAMES.get(format, format)


def _installed_formats(registry: Registry) -> list[str]:
    """The event formats of ``registry`` with a structured codec that loads: codecs that say their media type."""
    found: list[str] = []
    for version, name, mode in registry.keys():  # noqa: SIM118 - a Registry is not a dict
        if mode != "structured" or name in found:
            continue
        try:
            codec = registry.lookup(version, name, mode)
        except CloudEventError:  # a plugin that does not load offers nothing
            continue
        if codec.media_type is not None:
            found.append(name)
    return found


def subprotocols(registry: Registry | None = None) -> list[str]:
    """The CloudEvents subprotocols of every event format installed in ``registry`` (the default one
    when ``None``), JSON first: what a client offers, or a server accepts.

    >>> subprotocols()[0]
    'cloudevents.json'
    """
    formats = _installed_formats(default_registry if registry is None else registry)
    formats.sort(key=lambda name: (name != "json", name))
    return [subprotocol_of(name) for name in formats]


def negotiate(offered: Iterable[str], *, registry: Registry | None = None) -> str | None:
    """The first subprotocol of the client's ``offered`` ones whose event format is installed, or ``None``
    (section 1.4: "If the server doesn't support any of the subprotocols included in the opening
    handshake, the server response SHOULD NOT contain any Sec-WebSocket-Protocol header").

    With the websockets library: ``serve(handler, host, port, select_subprotocol=lambda connection,
    offered: negotiate(offered))``.

    >>> negotiate(["cloudevents.thrift", "chat", "cloudevents.json"])
    'cloudevents.json'
    """
    installed = set(subprotocols(registry))
    return next((name for name in offered if name in installed), None)


def _payload_converter(payload: Any) -> str | bytes:
    if type(payload) is str or type(payload) is bytes:
        return payload
    if isinstance(payload, (bytearray, memoryview)):
        return bytes(payload)
    if isinstance(payload, str):
        return str(payload)
    raise MalformedMessageError(f"a WebSocket payload is str (a text frame) or bytes, got {type(payload).__name__}")


def _subprotocol_converter(subprotocol: Any) -> str | None:
    if subprotocol is None or type(subprotocol) is str:
        return subprotocol
    if isinstance(subprotocol, str):  # websockets' Subprotocol is a NewType of str; other libraries subclass
        return str(subprotocol)
    raise MalformedMessageError(f"a WebSocket subprotocol must be text or None, got {type(subprotocol).__name__}")


@attrs.frozen
class WebSocketMessage:
    """One WebSocket message of a CloudEvents connection: the connection's subprotocol and the payload,
    ``str`` for a text frame or ``bytes`` for a binary frame.

    >>> WebSocketMessage("cloudevents.json", '{"specversion": "1.0"}').payload
    '{"specversion": "1.0"}'
    """

    subprotocol: str | None = attrs.field(converter=_subprotocol_converter)
    payload: str | bytes = attrs.field(converter=_payload_converter)


def _parts(message: Any) -> tuple[Any, Any]:
    if type(message) is WebSocketMessage:
        return message.subprotocol, message.payload
    if isinstance(message, (str, bytes, bytearray, memoryview)):
        return None, message
    if isinstance(message, Mapping) and "payload" in message and {"subprotocol", "payload"}.issuperset(message):
        return message.get("subprotocol"), message["payload"]
    raise MalformedMessageError(
        f"a WebSocket message is a WebSocketMessage or a frame (str or bytes), got {type(message).__name__}"
    )


def as_message(message: Any, *, subprotocol: str | None = None) -> WebSocketMessage:
    """A received frame (or :class:`WebSocketMessage`) as a :class:`WebSocketMessage`, with ``subprotocol``
    when the frame does not say it.

    >>> as_message(b"{}", subprotocol="cloudevents.json")
    WebSocketMessage(subprotocol='cloudevents.json', payload=b'{}')
    """
    found, payload = _parts(message)
    return WebSocketMessage(found if found is not None else subprotocol, payload)


def detect(message: Any) -> tuple[str | None, str]:
    """Every CloudEvents WebSocket message is structured (section 1.3); the format names the spec version.

    >>> detect("{}")
    (None, 'structured')
    """
    _parts(message)
    return (None, "structured")


def _format_for(subprotocol: str | None, format: str | None) -> str:
    if format is not None and subprotocol is not None and format != format_of_subprotocol(subprotocol):
        raise UsageError(f"format {format!r} and subprotocol {subprotocol!r} name different event formats")
    if format is not None:
        return format
    return "json" if subprotocol is None else format_of_subprotocol(subprotocol)


def encode_structured(
    event: CloudEvent, *, registry: Registry, subprotocol: str | None = None, format: str | None = None
) -> WebSocketMessage:
    """The event in the connection's event format: ``subprotocol=`` (what the handshake agreed) or
    ``format=`` names it, JSON when neither does. JSON goes in a text frame (``str``), any other format
    in a binary frame (``bytes``).

    >>> from cefmt import CloudEvent, encode
    >>> encode(CloudEvent(id="1", source="/s", type="t"), "websocket", "structured", format="msgpack").subprotocol
    'cloudevents.msgpack'
    """
    name = _format_for(subprotocol, format)
    _, body = encode_in_format(registry, event, name)
    if name in _TEXT_FORMATS:
        try:
            return WebSocketMessage(subprotocol_of(name), body.decode("utf-8"))
        except UnicodeDecodeError as exc:  # a JSON format that wrote something other than UTF-8
            raise EncodeError(f"the {name} format wrote bytes that are not UTF-8 text for a text frame") from exc
    return WebSocketMessage(subprotocol_of(name), body)


def decode_structured(
    message: Any,
    *,
    registry: Registry,
    subprotocol: str | None = None,
    format: str | None = None,
    limits: Limits | None = None,
    **options: Any,
) -> CloudEvent:
    """A WebSocket message back to an event, in the format its subprotocol (or ``subprotocol=``, or
    ``format=``) names; a bare frame is JSON. A text frame is read as UTF-8. ``limits``
    (:data:`cefmt.DEFAULT_LIMITS` when ``None``) bounds the payload's size before it is copied, and goes
    on to the format's decoder when that takes them.

    >>> from cefmt import decode
    >>> decode('{"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}', "websocket").id
    '1'
    """
    found, payload = _parts(message)
    if not isinstance(payload, (str, bytes, bytearray, memoryview)):
        raise MalformedMessageError(f"a WebSocket payload is str (a text frame) or bytes, got {type(payload).__name__}")
    name = _format_for(found if found is not None else subprotocol, format)
    body = sized_body(payload, DEFAULT_LIMITS if limits is None else limits, "payload")
    if not body:
        raise MalformedMessageError("a WebSocket message must have a payload")
    return decode_in_format(registry, name, body, limits=limits, **options)  # type: ignore[no-any-return]


# -- captures ------------------------------------------------------------------------------------------------


def to_json(message: Any) -> dict[str, Any]:
    """A WebSocket message as its captured JSON document: a text frame as ``payload``, a binary frame as
    ``payload_base64``.

    >>> to_json(WebSocketMessage("cloudevents.json", "{}")), to_json(WebSocketMessage(None, b"\\x80"))
    ({'subprotocol': 'cloudevents.json', 'payload': '{}'}, {'subprotocol': None, 'payload_base64': 'gA=='})
    """
    record = as_message(message)
    if isinstance(record.payload, str):
        return {"subprotocol": record.subprotocol, "payload": record.payload}
    return {"subprotocol": record.subprotocol, "payload_base64": b64(record.payload)}


def from_json(doc: dict[str, Any]) -> WebSocketMessage:
    """A captured JSON document back to a :class:`WebSocketMessage` (``payload``: a text frame;
    ``payload_base64``: a binary frame).

    >>> from_json({"subprotocol": "cloudevents.json", "payload": "{}"})
    WebSocketMessage(subprotocol='cloudevents.json', payload='{}')
    """
    doc = document(doc, "WebSocket message")
    subprotocol = doc.get("subprotocol")
    if subprotocol is not None and type(subprotocol) is not str:
        raise MalformedMessageError("WebSocket message member 'subprotocol' must be a string or null")
    text = doc.get("payload")
    if doc.get("payload_base64") is None and type(text) is str:
        return WebSocketMessage(subprotocol, text)
    binary = bytes_member(doc, "payload", "WebSocket message")
    if binary is None:
        raise MalformedMessageError("a captured WebSocket message has 'payload' (text) or 'payload_base64' (binary)")
    return WebSocketMessage(subprotocol, binary)


#: How captured WebSocket messages sit in a stream: one JSON document per line.
capture = Capture(to_json, from_json)

structured = Codec(encode=encode_structured, decode=decode_structured, detect=detect, capture=capture)
