"""The NATS protocol binding (core NATS and JetStream alike): binary and structured modes, spec 1.0 and 0.3.

Encoders return a :class:`NATSMessage` (headers, payload) for the caller's NATS client to publish on a
subject of its choosing: with nats-py, ``await nc.publish(subject, message.payload,
headers=message.headers)``, or ``await js.publish(...)`` the same way for JetStream. Decoders take what a
subscriber got: a :class:`NATSMessage`, a nats-py ``Msg`` (core or JetStream), a mapping ``{"headers",
"payload"}`` or the payload bytes alone (a message without headers). No NATS client is imported here.

NATS Protocol Binding 1.0.3, section 3.1.3.1: "all CloudEvents context attributes, including extensions,
MUST be mapped to NATS headers with the same name as the attribute name but prefixed with ``ce-``" —
``datacontenttype`` too, as ``ce-datacontenttype``. Values are canonical strings, percent-encoded as
section 3.1.3.2 says (NATS headers carry printable ASCII only). Section 3: a message with a
``Content-Type`` header of ``application/cloudevents`` (and one from a server before NATS 2.2, which has
no headers) is structured; otherwise it is binary.

>>> from cefmt import CloudEvent, decode, encode
>>> event = CloudEvent(id="1", source="/s", type="t", subject="Grüße", data={"a": 1})
>>> message = encode(event, "nats", "binary")
>>> message.headers["ce-subject"], message.headers["ce-datacontenttype"], decode(message, "nats") == event
('Gr%C3%BC%C3%9Fe', 'application/json', True)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from cefmt import DEFAULT_LIMITS, CloudEvent, Limits, MalformedMessageError
from cefmt.codec import (
    Capture,
    Codec,
    canonical_attributes,
    data_to_body,
    decode_in_format,
    encode_in_format,
    event_from_parts,
    percent_decode,
    percent_encode,
)
from cefmt_plugins.common import (
    as_body,
    b64,
    bytes_member,
    counted_items,
    document,
    header_dict,
    is_cloudevents_type,
    sized_body,
    structured_format,
    text_value,
)

if TYPE_CHECKING:
    from cefmt.codec import Registry

__all__ = [
    "NATSMessage",
    "Received",
    "as_message",
    "binary",
    "capture",
    "decode_binary",
    "decode_structured",
    "detect",
    "encode_binary",
    "encode_structured",
    "from_json",
    "read",
    "structured",
    "to_json",
]

_PREFIX = "ce-"
_CONTENT_TYPE = "Content-Type"
_RECORD_FIELDS = frozenset({"headers", "payload"})


def _headers_converter(headers: Any) -> dict[str, str]:
    return header_dict(headers, "NATS headers")


def _payload_converter(body: Any) -> bytes:
    return as_body(body, "a NATS payload")


@attrs.frozen
class NATSMessage:
    """A NATS message's CloudEvents part: its headers (names to string values, the shape nats-py takes
    and gives) and its payload (``bytes``). A field of the wrong shape is a
    :class:`cefmt.MalformedMessageError`.

    >>> NATSMessage({"ce-id": "1"}, None)
    NATSMessage(headers={'ce-id': '1'}, payload=b'')
    """

    headers: dict[str, str] = attrs.field(converter=_headers_converter)
    payload: bytes = attrs.field(default=b"", converter=_payload_converter)


# -- what a subscriber hands over ----------------------------------------------------------------------------


def _parts(message: Any) -> tuple[Any, Any]:
    """``(headers, payload)`` of any accepted message shape, as they are."""
    if type(message) is NATSMessage:
        return message.headers, message.payload
    if isinstance(message, (bytes, bytearray, memoryview)):  # a message without headers
        return None, message
    if isinstance(message, Mapping):
        if message and "payload" in message and _RECORD_FIELDS.issuperset(message):
            return message.get("headers"), message["payload"]
        raise MalformedMessageError(
            "a mapping read as a NATS message has the keys 'headers' and 'payload'; "
            f"got {sorted(map(str, message))[:5]}"
        )
    if hasattr(message, "data") and hasattr(message, "headers"):  # nats-py's Msg, core or JetStream
        return message.headers, message.data
    raise MalformedMessageError(
        f"a NATS message is a NATSMessage, a client's message (headers, data), a mapping or bytes, got "
        f"{type(message).__name__}"
    )


def as_message(message: Any) -> NATSMessage:
    """Turn what a NATS subscriber got into a :class:`NATSMessage` (every header kept).

    >>> as_message(b"{}")
    NATSMessage(headers={}, payload=b'{}')
    """
    if type(message) is NATSMessage:
        return message
    return NATSMessage(*_parts(message))


class Received:
    """What decoding needs from a NATS message, read once: the ``ce-`` headers as attributes (decoded),
    the ``Content-Type`` header and the payload. :func:`read` makes one; the registry hands it to
    :func:`detect` and to the decoder."""

    __slots__ = ("attributes", "content_type", "payload")

    def __init__(self, attributes: dict[str, str], content_type: str | None, payload: bytes | None) -> None:
        self.attributes = attributes
        self.content_type = content_type
        self.payload = payload


def read(message: Any, *, limits: Limits | None = None) -> Received:
    """Read a NATS message once: ``ce-`` headers as attributes (names in any letter case, values
    percent-decoded), the ``Content-Type`` header, the payload.

    A header named twice (in any letter case: NATS header names are case-insensitive) is an error; other
    headers belong to the application and are counted, not read. ``limits`` (:data:`cefmt.DEFAULT_LIMITS`
    when ``None``) bounds the header count, the length of each value read and the payload's size, each
    before it is copied.

    >>> read({"headers": {"CE-ID": "a%20b", "Nats-Msg-Id": "7"}, "payload": b""}).attributes
    {'id': 'a b'}
    """
    if type(message) is Received:
        return message
    if limits is None:
        limits = DEFAULT_LIMITS
    headers, payload = _parts(message)
    payload = sized_body(payload, limits, "payload")
    attributes: dict[str, str] = {}
    content_type: str | None = None
    for raw_name, value in counted_items(headers, limits, "NATS headers"):
        if not isinstance(raw_name, str):
            raise MalformedMessageError(f"a NATS header name must be text, got {type(raw_name).__name__}")
        name = str(raw_name)
        folded = name.lower()
        where = f"header {name!r}"
        if folded.startswith(_PREFIX):
            attribute = folded[3:]
            if attribute in attributes:
                raise MalformedMessageError(f"{where} appears more than once")
            attributes[attribute] = percent_decode(text_value(value, where, limits), where)
        elif folded == "content-type":
            if content_type is not None:
                raise MalformedMessageError(f"{where} appears more than once")
            content_type = text_value(value, where, limits)
    return Received(attributes, content_type, payload)


def detect(message: Any) -> tuple[str | None, str]:
    """The mode of a NATS message by section 3, and its spec version when the headers carry it.

    >>> detect(b'{"specversion": "1.0"}')
    (None, 'structured')
    """
    received = read(message)
    if is_cloudevents_type(received.content_type):
        return (None, "structured")
    specversion = received.attributes.get("specversion")
    if specversion is not None:
        return (specversion, "binary")
    # No ce- headers: a structured message from a producer that does not label it (or a server before
    # NATS 2.2, where "the content mode is always structured").
    return (None, "structured")


# -- binary mode ---------------------------------------------------------------------------------------------


def encode_binary(event: CloudEvent) -> NATSMessage:
    """Binary mode: every attribute, ``datacontenttype`` included, as a ``ce-`` header holding its
    percent-encoded canonical string; the data as the payload.

    >>> from cefmt import CloudEvent
    >>> encode_binary(CloudEvent(id="a b", source="/s", type="t")).headers["ce-id"]
    'a%20b'
    """
    headers = {_PREFIX + name: percent_encode(value) for name, value in canonical_attributes(event).items()}
    return NATSMessage(headers, data_to_body(event))


def decode_binary(
    message: Any, *, extension_types: Mapping[str, type] | None = None, limits: Limits | None = None
) -> CloudEvent:
    """Binary mode back to an event; header values arrive as strings, and ``extension_types``
    (``{"count": int}``) restores extension types. ``limits`` as for :func:`read`.

    >>> decode_binary({"headers": {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"},
    ...                "payload": b""}).id
    '1'
    """
    received = read(message, limits=limits)
    attributes: dict[str, Any] = dict(received.attributes)
    content_type = attributes.pop("datacontenttype", None)
    return event_from_parts(
        attributes,
        received.payload,
        content_type,
        where=lambda attribute: f"header {_PREFIX + attribute!r}",
        body_where="payload",
        extension_types=extension_types,
        limits=limits,
    )


# -- structured mode -----------------------------------------------------------------------------------------


def encode_structured(event: CloudEvent, *, registry: Registry, format: str = "json") -> NATSMessage:
    """Structured mode: the whole event as the payload, in any event format of ``registry`` (``format=``),
    with a ``Content-Type`` header naming it.

    >>> from cefmt import CloudEvent, encode
    >>> encode(CloudEvent(id="1", source="/s", type="t"), "nats", "structured").headers
    {'Content-Type': 'application/cloudevents+json'}
    """
    content_type, body = encode_in_format(registry, event, format)
    return NATSMessage({_CONTENT_TYPE: content_type}, body)


def decode_structured(
    message: Any, *, registry: Registry, format: str | None = None, limits: Limits | None = None, **options: Any
) -> CloudEvent:
    """Structured mode back to an event; the ``Content-Type`` header names the format, and a message
    without a CloudEvents one is read as JSON, or with ``format`` when given.

    >>> from cefmt import CloudEvent, decode, encode
    >>> decode(encode(CloudEvent(id="1", source="/s", type="t"), "nats", "structured").payload, "nats").id
    '1'
    """
    received = read(message, limits=limits)
    name = structured_format(received.content_type, format, "NATS")
    if not received.payload:
        raise MalformedMessageError("a structured-mode NATS message must have a payload")
    return decode_in_format(registry, name, received.payload, limits=limits, **options)  # type: ignore[no-any-return]


# -- captures ------------------------------------------------------------------------------------------------


def to_json(message: Any) -> dict[str, Any]:
    """A NATS message as its captured JSON document (the payload in Base64).

    >>> to_json(NATSMessage({"ce-id": "1"}, b"hi"))
    {'headers': {'ce-id': '1'}, 'payload_base64': 'aGk='}
    """
    record = as_message(message)
    return {"headers": dict(record.headers), "payload_base64": b64(record.payload)}


def from_json(doc: dict[str, Any]) -> NATSMessage:
    """A captured JSON document back to a :class:`NATSMessage`.

    >>> from_json({"headers": {"ce-id": "1"}, "payload": "hi"})
    NATSMessage(headers={'ce-id': '1'}, payload=b'hi')
    """
    doc = document(doc, "NATS message")
    headers = doc.get("headers", {})
    if type(headers) is not dict or not all(type(value) is str for value in headers.values()):
        raise MalformedMessageError("NATS message member 'headers' must be an object of header names to strings")
    return NATSMessage(headers, bytes_member(doc, "payload", "NATS message"))


#: How captured NATS messages sit in a stream: one JSON document per line.
capture = Capture(to_json, from_json)

binary = Codec(encode=encode_binary, decode=decode_binary, detect=detect, prepare=read, capture=capture)
structured = Codec(encode=encode_structured, decode=decode_structured, detect=detect, prepare=read, capture=capture)
