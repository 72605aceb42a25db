"""The RabbitMQ protocol binding (AMQP 0-9-1): binary and structured modes, spec 1.0 and 0.3 (sans-I/O).

The mapping is the RabbitMQ Protocol Binding for CloudEvents (knative-extensions/eventing-rabbitmq,
``cloudevents-protocol-spec``), which the official CloudEvents SDK 2.x implements as its ``rabbitmq``
binding; messages made here and there read the same on either side. In binary mode every attribute
but ``datacontenttype`` is a message header named ``ce-NAME`` holding its canonical string, and
``datacontenttype`` is the ``content_type`` property; in structured mode ``content_type`` is the event
format's media type and the body the whole event.

Encoders return a :class:`RabbitMQMessage` (headers, content type, body): with pika, ``basic_publish(
exchange, routing_key, message.body, pika.BasicProperties(content_type=message.content_type,
headers=message.headers))``; with aio-pika, ``aio_pika.Message(message.body, headers=message.headers,
content_type=message.content_type)``. Decoders take what a consumer got: a :class:`RabbitMQMessage`,
pika's ``(method, properties, body)`` (or ``(properties, body)``), an aio-pika ``IncomingMessage``,
the SDK's ``RabbitMQMessage``, a mapping ``{"headers", "content_type", "body"}`` or the headers alone.
No RabbitMQ client is imported here.

>>> from cefmt import CloudEvent, decode, encode
>>> event = CloudEvent(id="1", source="/s", type="t", data={"a": 1})
>>> message = encode(event, "rabbitmq", "binary")
>>> message.headers["ce-id"], message.content_type, decode(message, "rabbitmq") == event
('1', 'application/json', True)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import Decimal
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
    typed_from_json,
    typed_to_json,
)

if TYPE_CHECKING:
    from cefmt.codec import Registry

__all__ = [
    "Received",
    "RabbitMQMessage",
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

# Section 3.1.3.1: "CloudEvent properties in binary mode are prefixed with "ce-" to use in the content
# headers section".
_PREFIX = "ce-"
_RECORD_FIELDS = frozenset({"headers", "content_type", "body"})


def _headers_converter(headers: Any) -> dict[str, Any]:
    return header_dict(headers, "RabbitMQ headers")


def _content_type_converter(content_type: Any) -> str | None:
    if content_type is None or type(content_type) is str:
        return content_type
    if isinstance(content_type, (bytes, bytearray)):
        try:
            return bytes(content_type).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedMessageError(f"a RabbitMQ content_type is not valid UTF-8: {exc.reason}") from exc
    raise MalformedMessageError(f"a RabbitMQ content_type must be text or None, got {type(content_type).__name__}")


def _body_converter(body: Any) -> bytes:
    return as_body(body, "a RabbitMQ body")


@attrs.frozen
class RabbitMQMessage:
    """A RabbitMQ message's CloudEvents part: the headers table, the ``content_type`` property, the body.

    ``headers`` maps names to values (cefmt writes strings; a received table may hold other AMQP 0-9-1
    types). ``body`` is ``bytes``, ``b""`` for an event without data. A field of the wrong shape is a
    :class:`cefmt.MalformedMessageError`.

    >>> RabbitMQMessage({"ce-id": "1"}, None, None)
    RabbitMQMessage(headers={'ce-id': '1'}, content_type=None, body=b'')
    """

    headers: dict[str, Any] = attrs.field(converter=_headers_converter)
    content_type: str | None = attrs.field(default=None, converter=_content_type_converter)
    body: bytes = attrs.field(default=b"", converter=_body_converter)


# -- what a consumer hands over ------------------------------------------------------------------------------


def _from_properties(properties: Any, body: Any) -> tuple[Any, Any, Any]:
    if not (hasattr(properties, "headers") and hasattr(properties, "content_type")):
        raise MalformedMessageError(
            "a (properties, body) pair needs message properties with headers and content_type (pika's "
            f"BasicProperties), got {type(properties).__name__}"
        )
    return properties.headers, properties.content_type, body


def _parts(message: Any) -> tuple[Any, Any, Any]:
    """``(headers, content type, body)`` of any accepted message shape, as they are."""
    if type(message) is RabbitMQMessage:
        return message.headers, message.content_type, message.body
    if isinstance(message, Mapping):
        if message and "headers" in message and _RECORD_FIELDS.issuperset(message):
            return message["headers"], message.get("content_type"), message.get("body")
        return message, None, None
    if type(message) is tuple and len(message) in (2, 3):  # pika: (method, properties, body), (properties, body)
        return _from_properties(*message[-2:])
    if all(hasattr(message, name) for name in _RECORD_FIELDS):  # aio-pika, the SDK's RabbitMQMessage
        return message.headers, message.content_type, message.body
    raise MalformedMessageError(
        "a RabbitMQ message is a RabbitMQMessage, a client's message (headers, content_type, body), pika's "
        f"(method, properties, body) or a mapping, got {type(message).__name__}"
    )


def as_message(message: Any) -> RabbitMQMessage:
    """Turn what a RabbitMQ consumer got into a :class:`RabbitMQMessage` (every header kept).

    >>> class Properties: headers, content_type = {"ce-id": "1"}, "text/plain"
    >>> as_message((None, Properties(), b"hi"))
    RabbitMQMessage(headers={'ce-id': '1'}, content_type='text/plain', body=b'hi')
    """
    if type(message) is RabbitMQMessage:
        return message
    return RabbitMQMessage(*_parts(message))


class Received:
    """What decoding needs from a RabbitMQ message, read once: the ``ce-`` headers as attributes, the
    content type and the body. :func:`read` makes one; the registry hands it to :func:`detect` and to
    the decoder."""

    __slots__ = ("attributes", "body", "content_type")

    def __init__(self, attributes: dict[str, Any], content_type: str | None, body: bytes | None) -> None:
        self.attributes = attributes
        self.content_type = content_type
        self.body = body


def _header_value(value: Any, where: str, limits: Limits) -> Any:
    """A header's value as the record takes it. AMQP 0-9-1 tables are typed: text (which clients hand
    over as ``str``, or as ``bytes`` when it is not UTF-8 or was sent as a byte array) is read as UTF-8;
    booleans and integers keep their type; a timestamp (POSIX seconds, which pika gives as a ``datetime``
    without an offset) is UTC."""
    kind = type(value)
    if kind is str or isinstance(value, (str, bytes, bytearray, memoryview)):
        return text_value(value, where, limits)
    if kind is bool:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, datetime):
        return value if value.utcoffset() is not None else value.replace(tzinfo=timezone.utc)
    shown = "null" if value is None else "decimal" if isinstance(value, Decimal) else kind.__name__
    raise MalformedMessageError(f"{where}: a {shown} value is not a CloudEvents attribute type")


def read(message: Any, *, limits: Limits | None = None) -> Received:
    """Read a RabbitMQ message once: ``ce-`` headers (any letter case) as attributes, the content type,
    the body. A repeated attribute is an error; other headers belong to the application and are counted,
    not read. ``limits`` (:data:`cefmt.DEFAULT_LIMITS` when ``None``) bounds the header count, the length
    of each value read and the body's size, each before it is copied.

    >>> read({"CE-ID": "1", "x-death": [{"count": 1}]}).attributes
    {'id': '1'}
    """
    if type(message) is Received:
        return message
    if limits is None:
        limits = DEFAULT_LIMITS
    headers, content_type, body = _parts(message)
    body = sized_body(body, limits, "body")
    attributes: dict[str, Any] = {}
    for raw_name, value in counted_items(headers, limits, "RabbitMQ headers"):
        if isinstance(raw_name, (bytes, bytearray)):
            name = text_value(raw_name, "a RabbitMQ header name", limits)
        elif isinstance(raw_name, str):
            name = str(raw_name)
        else:
            raise MalformedMessageError(f"a RabbitMQ header name must be text, got {type(raw_name).__name__}")
        if name[:3].lower() != _PREFIX:
            continue
        attribute = name[3:].lower()
        where = f"header {name!r}"
        if attribute in attributes:
            raise MalformedMessageError(f"{where} appears more than once")
        attributes[attribute] = _header_value(value, where, limits)
    if content_type is not None:
        content_type = text_value(content_type, "the content_type property", limits)
    return Received(attributes, content_type, body)


def detect(message: Any) -> tuple[str | None, str]:
    """The mode of a RabbitMQ message by section 3, and its spec version when the headers carry it.

    >>> detect({"headers": {}, "content_type": "application/cloudevents+json"})
    (None, 'structured')
    """
    received = read(message)
    if is_cloudevents_type(received.content_type):
        return (None, "structured")
    specversion = received.attributes.get("specversion")
    if specversion is None:
        raise MalformedMessageError(
            "not a CloudEvents RabbitMQ message: no ce-specversion header, and the content type "
            f"{received.content_type!r} is not a CloudEvents format"
        )
    return (specversion if type(specversion) is str else None, "binary")


# -- binary mode ---------------------------------------------------------------------------------------------


def encode_binary(event: CloudEvent) -> RabbitMQMessage:
    """Binary mode: attributes as ``ce-`` headers holding canonical strings, ``datacontenttype`` as the
    ``content_type`` property, the data as the body.

    >>> from cefmt import CloudEvent
    >>> encode_binary(CloudEvent(id="1", source="/s", type="t", flag=True)).headers["ce-flag"]
    'true'
    """
    attributes = canonical_attributes(event)
    content_type = attributes.pop("datacontenttype", None)
    headers = {_PREFIX + name: value for name, value in attributes.items()}
    return RabbitMQMessage(headers, content_type, data_to_body(event))


def decode_binary(
    message: Any, *, extension_types: Mapping[str, type] | None = None, limits: Limits | None = None
) -> CloudEvent:
    """Binary mode back to an event. String headers give string attributes unless ``extension_types``
    (``{"count": int}``) names their type; headers of other AMQP types keep theirs. ``limits`` as for
    :func:`read`.

    >>> decode_binary({"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"}).id
    '1'
    """
    received = read(message, limits=limits)
    attributes = dict(received.attributes)
    content_type = received.content_type
    declared = attributes.pop("datacontenttype", None)
    if declared is not None:  # not what the binding writes, but unambiguous when it agrees
        if type(declared) is not str or (content_type is not None and declared != content_type):
            raise MalformedMessageError(
                f"header 'ce-datacontenttype' ({declared!r}) disagrees with the content_type property "
                f"({content_type!r}); the binding maps datacontenttype to content_type alone"
            )
        content_type = declared
    return event_from_parts(
        attributes,
        received.body,
        content_type,
        where=lambda attribute: (
            "the content_type property" if attribute == "datacontenttype" else f"header {_PREFIX + attribute!r}"
        ),
        extension_types=extension_types,
        limits=limits,
    )


# -- structured mode -----------------------------------------------------------------------------------------


def encode_structured(event: CloudEvent, *, registry: Registry, format: str = "json") -> RabbitMQMessage:
    """Structured mode: the whole event as the body, in any event format of ``registry`` (``format=``).

    >>> from cefmt import CloudEvent, encode
    >>> encode(CloudEvent(id="1", source="/s", type="t"), "rabbitmq", "structured").content_type
    'application/cloudevents+json'
    """
    content_type, body = encode_in_format(registry, event, format)
    return RabbitMQMessage({}, content_type, body)


def decode_structured(
    message: Any, *, registry: Registry, format: str | None = None, limits: Limits | None = None, **options: Any
) -> CloudEvent:
    """Structured mode back to an event; ``content_type: application/cloudevents+FORMAT`` names the format,
    and a message without a CloudEvents content type is read with ``format`` (JSON unless given).

    >>> from cefmt import CloudEvent, decode, encode
    >>> decode(encode(CloudEvent(id="1", source="/s", type="t"), "rabbitmq", "structured"), "rabbitmq").id
    '1'
    """
    received = read(message, limits=limits)
    name = structured_format(received.content_type, format, "RabbitMQ")
    if not received.body:
        raise MalformedMessageError("a structured-mode RabbitMQ message must have a body")
    return decode_in_format(registry, name, received.body, limits=limits, **options)  # type: ignore[no-any-return]


# -- captures ------------------------------------------------------------------------------------------------


def to_json(message: Any) -> dict[str, Any]:
    """A RabbitMQ message as its captured JSON document (typed header values tagged, the body in Base64).

    >>> to_json(RabbitMQMessage({"ce-id": "1"}, "text/plain", b"hi"))
    {'headers': {'ce-id': '1'}, 'content_type': 'text/plain', 'body_base64': 'aGk='}
    """
    record = as_message(message)
    return {
        "headers": {name: typed_to_json(value, f"header {name!r}") for name, value in record.headers.items()},
        "content_type": record.content_type,
        "body_base64": b64(record.body),
    }


def from_json(doc: dict[str, Any]) -> RabbitMQMessage:
    """A captured JSON document back to a :class:`RabbitMQMessage`.

    >>> from_json({"headers": {"ce-id": "1"}, "body": "hi"}).body
    b'hi'
    """
    doc = document(doc, "RabbitMQ message")
    headers = doc.get("headers", {})
    if type(headers) is not dict:
        raise MalformedMessageError("RabbitMQ message member 'headers' must be an object")
    content_type = doc.get("content_type")
    if content_type is not None and type(content_type) is not str:
        raise MalformedMessageError("RabbitMQ message member 'content_type' must be a string or null")
    typed = {name: typed_from_json(value, f"header {name!r}") for name, value in headers.items()}
    return RabbitMQMessage(typed, content_type, bytes_member(doc, "body", "RabbitMQ message"))


#: How captured RabbitMQ messages sit in a stream: one JSON document per line.
capture = Capture(to_json, from_json)

binary = Codec(encode=encode_binary, decode=decode_binary, detect=detect, prepare=read, capture=capture)
structured = Codec(encode=encode_structured, decode=decode_structured, detect=detect, prepare=read, capture=capture)
