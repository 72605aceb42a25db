"""The AMQP 1.0 protocol binding: binary and structured modes, spec 1.0 and 0.3 (sans-I/O).

Encoders return an :class:`AMQPMessage` (application properties, content type, body) for the caller's
AMQP 1.0 client to send (:func:`to_proton` makes a qpid-proton ``Message`` of it); decoders take what a
receiver got: an :class:`AMQPMessage`, a qpid-proton ``Message``, the official SDK 2.x ``AMQPMessage``,
a mapping ``{"application_properties": ..., "content_type": ..., "body": ...}`` or a mapping of
application properties alone. No AMQP client is imported here.

AMQP Protocol Binding 1.0.3, section 3: "The receiver of the event can distinguish between the two modes
by inspecting the ``content-type`` message property field. If the value is prefixed with the CloudEvents
media type ``application/cloudevents`` ..., the receiver uses structured mode, otherwise it defaults to
binary mode." In binary mode attributes keep their AMQP types (section 3.1.3.2): Boolean as boolean,
Integer as long, Binary as binary, Timestamp as timestamp, the rest as strings.

>>> from cefmt import CloudEvent, decode, encode
>>> event = CloudEvent(id="1", source="/s", type="t", data=b"\\x00", count=3, flag=True)
>>> message = encode(event, "amqp", "binary")
>>> message.application_properties["cloudEvents_count"], decode(message, "amqp") == event
(3, True)
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from cefmt import DEFAULT_LIMITS, CloudEvent, Limits, MalformedMessageError, UsageError
from cefmt.codec import (
    Capture,
    Codec,
    data_to_body,
    decode_in_format,
    encode_in_format,
    event_from_parts,
    typed_attributes,
)
from cefmt_plugins.common import (
    as_body,
    as_optional_text,
    b64,
    bytes_member,
    counted_items,
    document,
    is_cloudevents_type,
    millis_to_timestamp,
    sized_body,
    structured_format,
    text_value,
    timestamp_to_millis,
    typed_from_json,
    typed_to_json,
)

if TYPE_CHECKING:
    from cefmt.codec import Registry

__all__ = [
    "PREFIXES",
    "AMQPMessage",
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
    "to_proton",
]

#: The two property-name prefixes of section 3.1.3.1, the preferred one first: "CloudEvent attributes MUST
#: be prefixed with either "cloudEvents_" or "cloudEvents:" ... The '_' separator character SHOULD be
#: preferred in the interest of compatibility with JMS 2.0 clients".
PREFIXES = ("cloudEvents_", "cloudEvents:")
_PREFIX_LENGTH = len("cloudEvents_")
_PREFIX_FOLDED = "cloudevents"
_RECORD_FIELDS = frozenset({"application_properties", "content_type", "body"})


def _properties_converter(properties: Any) -> dict[str, Any]:
    if properties is None:
        return {}
    if isinstance(properties, Mapping):
        return dict(properties)
    raise MalformedMessageError(
        f"AMQP application properties must be a mapping of names to values, got {type(properties).__name__}"
    )


def _content_type_converter(content_type: Any) -> str | None:
    return as_optional_text(content_type, "an AMQP content-type")


def _body_converter(body: Any) -> bytes:
    return as_body(body, "an AMQP body (a data section)")


@attrs.frozen
class AMQPMessage:
    """An AMQP 1.0 message's CloudEvents part: application properties, the ``content-type`` property and
    the application data (one data section).

    ``application_properties`` hold typed values as AMQP carries them: ``str``, ``int`` (an AMQP long),
    ``bool``, ``bytes`` (binary) and :class:`cefmt.Timestamp` (an AMQP timestamp, milliseconds since the
    epoch). ``body`` is ``bytes`` (``b""`` when the event has no data; ``bytearray`` and ``memoryview``
    are copied). A field of the wrong shape is a :class:`cefmt.MalformedMessageError`.

    >>> AMQPMessage({"cloudEvents_id": "1"}, None, None).body
    b''
    """

    application_properties: dict[str, Any] = attrs.field(converter=_properties_converter)
    content_type: str | None = attrs.field(default=None, converter=_content_type_converter)
    body: bytes = attrs.field(default=b"", converter=_body_converter)


# -- what a receiver hands over ------------------------------------------------------------------------------


def _client_content_type(value: Any) -> Any:
    # qpid-proton reports an unset content-type as the symbol "None" (the text of Python's None); no
    # media type is spelled that way, so it means none.
    return None if value is None or value == "None" else value


def _parts(message: Any) -> tuple[Any, Any, Any]:
    """``(application properties, content type, body)`` of any accepted message shape, as they are."""
    if type(message) is AMQPMessage:
        return message.application_properties, message.content_type, message.body
    if isinstance(message, Mapping):
        if message and "application_properties" in message and _RECORD_FIELDS.issuperset(message):
            return message["application_properties"], message.get("content_type"), message.get("body")
        return message, None, None
    if hasattr(message, "application_properties"):  # the SDK 2.x AMQPMessage and clients named after the spec
        properties = getattr(message, "properties", None)
        content_type = getattr(message, "content_type", None)
        if content_type is None and isinstance(properties, Mapping):
            content_type = properties.get("content-type", properties.get("content_type"))
        body = getattr(message, "application_data", None) if hasattr(message, "application_data") else message.body
        return message.application_properties, _client_content_type(content_type), body
    if all(hasattr(message, name) for name in ("properties", "content_type", "body")):  # qpid-proton's Message
        return message.properties, _client_content_type(message.content_type), message.body
    raise MalformedMessageError(
        "an AMQP message is an AMQPMessage, a client's message (application properties, content type, body) "
        f"or a mapping, got {type(message).__name__}"
    )


def as_message(message: Any) -> AMQPMessage:
    """Turn what an AMQP receiver got into an :class:`AMQPMessage` (all application properties kept).

    >>> as_message({"cloudEvents_id": "1"})
    AMQPMessage(application_properties={'cloudEvents_id': '1'}, content_type=None, body=b'')
    """
    if type(message) is AMQPMessage:
        return message
    properties, content_type, body = _parts(message)
    if isinstance(body, str):  # an amqp-value section holding a string
        body = body.encode("utf-8")
    if isinstance(properties, Mapping):
        properties = {_neutral(name): _neutral(value) for name, value in properties.items()}
    return AMQPMessage(properties, content_type, body)


def _neutral(value: Any) -> Any:
    """A client's typed value as the record holds it: an AMQP timestamp as a :class:`cefmt.Timestamp`,
    binary as ``bytes``, a client's subclass of ``str`` or ``int`` as the plain type; others as they are."""
    kind = type(value)
    if kind in (str, int, bool, bytes) or kind.__name__.startswith("decimal"):
        return value
    if isinstance(value, int) and kind.__name__ == "timestamp":
        return millis_to_timestamp(value, "an AMQP timestamp")
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, (str, int)):
        return str(value) if isinstance(value, str) else int(value)
    return value


class Received:
    """What decoding needs from an AMQP message, read once: the attributes (typed, by name), the content
    type, the body, and the prefix the attributes came with. :func:`read` makes one; the registry hands
    it to :func:`detect` and to the decoder."""

    __slots__ = ("attributes", "body", "content_type", "prefix")

    def __init__(
        self, attributes: dict[str, Any], content_type: str | None, body: bytes | None, prefix: str = PREFIXES[0]
    ) -> None:
        self.attributes = attributes
        self.content_type = content_type
        self.body = body
        self.prefix = prefix


def _property_name(name: Any) -> str:
    if isinstance(name, str):
        return name if type(name) is str else str(name)
    if isinstance(name, (bytes, bytearray)):
        try:
            return bytes(name).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedMessageError(f"an AMQP application property name is not valid UTF-8: {exc.reason}") from exc
    raise MalformedMessageError(f"an AMQP application property name must be a string, got {type(name).__name__}")


def _attribute_value(attribute: str, value: Any, where: str, limits: Limits) -> Any:
    """An application property's value as the record takes it: the AMQP type kept (section 3.1.3.2)."""
    kind = type(value)
    if kind.__name__.startswith("decimal"):
        # qpid-proton's decimal32/64 subclass int and decimal128 bytes, but hold decimal floating-point bits
        raise MalformedMessageError(f"{where}: an AMQP {kind.__name__} is not a CloudEvents attribute type")
    if kind is str or kind is bool:
        if kind is str and len(value) > limits.max_header_value_length:
            limits.check_header_value(value, where)
        return value
    if isinstance(value, str):  # an AMQP symbol or char, as a client's subclass of str
        return text_value(value, where, limits)
    if isinstance(value, int):
        if kind.__name__ == "timestamp" or attribute == "time":
            # qpid-proton's AMQP timestamp; and a time sent as a plain long of milliseconds, which is how
            # the official SDK 2.x writes it ("MAY further relax the requirements for incoming messages").
            return millis_to_timestamp(value, where)
        return int(value)  # long, int, short, byte and the unsigned kinds: Integer checks the range
    if isinstance(value, (bytes, bytearray, memoryview)):
        if len(value) > limits.max_header_value_length:
            limits.check_header_value(value, where)
        return bytes(value)
    if isinstance(value, datetime):
        return value  # the record checks that it names its UTC offset
    if isinstance(value, uuid.UUID):
        return str(value)
    shown = "null" if value is None else type(value).__name__
    raise MalformedMessageError(f"{where}: an AMQP {shown} is not a CloudEvents attribute type")


def read(message: Any, *, limits: Limits | None = None) -> Received:
    """Read an AMQP message once: the ``cloudEvents_`` (or ``cloudEvents:``) application properties as
    attributes, the content-type property, the body.

    The prefix is matched in any letter case; one message uses one separator (section 3.1.3.1: "Any
    single message MUST use the same separator for all CloudEvents attributes"), so a mix, or one
    attribute twice, is an error. Other properties belong to the application: counted, not read.
    ``limits`` (:data:`cefmt.DEFAULT_LIMITS` when ``None``) bounds the property count, the length of
    each string or binary value read and the body's size, each before it is copied.

    >>> read({"cloudEvents:id": "1", "cloudEvents:specversion": "1.0", "x-app": 7.5}).attributes
    {'id': '1', 'specversion': '1.0'}
    """
    if type(message) is Received:
        return message
    if limits is None:
        limits = DEFAULT_LIMITS
    properties, content_type, body = _parts(message)
    body = sized_body(body, limits, "body")
    attributes: dict[str, Any] = {}
    prefix: str | None = None
    for raw_name, value in counted_items(properties, limits, "AMQP application properties"):
        name = _property_name(raw_name)
        head, separator = name[: _PREFIX_LENGTH - 1], name[_PREFIX_LENGTH - 1 : _PREFIX_LENGTH]
        if separator not in ("_", ":") or head.lower() != _PREFIX_FOLDED:
            continue  # the application's own property
        where = f"application property {name!r}"
        if prefix is None:
            prefix = name[:_PREFIX_LENGTH]
        elif name[:_PREFIX_LENGTH] != prefix:
            raise MalformedMessageError(
                f"{where}: one message uses one prefix for all its attributes, and this one also has {prefix!r}"
            )
        attribute = name[_PREFIX_LENGTH:]
        if attribute in attributes:
            raise MalformedMessageError(f"{where} appears more than once")
        attributes[attribute] = _attribute_value(attribute, value, where, limits)
    if content_type is not None:
        content_type = text_value(content_type, "the content-type property", limits)
    return Received(attributes, content_type, body, prefix or PREFIXES[0])


def detect(message: Any) -> tuple[str | None, str]:
    """The mode of an AMQP message by section 3, and its spec version when the properties carry it.

    >>> detect({"application_properties": {}, "content_type": "application/cloudevents+json"})
    (None, 'structured')
    """
    received = read(message)
    if is_cloudevents_type(received.content_type):
        return (None, "structured")
    specversion = received.attributes.get("specversion")
    if specversion is None:
        raise MalformedMessageError(
            "not a CloudEvents AMQP message: no cloudEvents_specversion application property, and the "
            f"content type {received.content_type!r} is not a CloudEvents format"
        )
    return (specversion if type(specversion) is str else None, "binary")


# -- binary mode ---------------------------------------------------------------------------------------------


def _amqp_value(value: Any) -> Any:
    # Timestamp -> timestamp when that keeps it exactly (UTC, whole milliseconds); otherwise its canonical
    # string, which section 3.1.3.2 allows ("MAY forward values as canonical strings") and which keeps
    # every digit and the UTC offset.
    if isinstance(value, datetime) and timestamp_to_millis(value) is None:
        return str(value)
    return value


def encode_binary(event: CloudEvent, *, prefix: str = PREFIXES[0]) -> AMQPMessage:
    """Binary mode: attributes as typed application properties named ``cloudEvents_NAME`` (``prefix=
    "cloudEvents:"`` for receivers that know only that one), ``datacontenttype`` as the content-type
    property, the data as the body.

    >>> from cefmt import CloudEvent
    >>> encode_binary(CloudEvent(id="1", source="/s", type="t"), prefix="cloudEvents:").application_properties
    {'cloudEvents:specversion': '1.0', 'cloudEvents:id': '1', 'cloudEvents:source': '/s', 'cloudEvents:type': 't'}
    """
    if prefix not in PREFIXES:
        raise UsageError(f"prefix must be one of {', '.join(map(repr, PREFIXES))}, got {prefix!r}")
    attributes = typed_attributes(event)
    content_type = attributes.pop("datacontenttype", None)
    properties = {prefix + name: _amqp_value(value) for name, value in attributes.items()}
    return AMQPMessage(properties, content_type, data_to_body(event))


def decode_binary(
    message: Any, *, extension_types: Mapping[str, type] | None = None, limits: Limits | None = None
) -> CloudEvent:
    """Binary mode back to an event. Typed properties keep their type; a string property is a string
    unless ``extension_types`` (``{"count": int}``) names its type. ``limits`` as for :func:`read`.

    >>> decode_binary({"cloudEvents_specversion": "1.0", "cloudEvents_id": "1", "cloudEvents_source": "/s",
    ...                "cloudEvents_type": "t", "cloudEvents_n": 5})["n"]
    5
    """
    received = read(message, limits=limits)
    attributes = dict(received.attributes)  # the received message stays as it was read
    prefix = received.prefix
    content_type = _content_type(received, attributes.pop("datacontenttype", None), prefix)
    return event_from_parts(
        attributes,
        received.body,
        content_type,
        where=lambda attribute: (
            "the content-type property"
            if attribute == "datacontenttype"
            else f"application property {prefix + attribute!r}"
        ),
        extension_types=extension_types,
        limits=limits,
    )


def _content_type(received: Received, declared: Any, prefix: str) -> str | None:
    # Section 3.1.1 maps datacontenttype to the content-type property. Some producers also (or only) send a
    # cloudEvents_datacontenttype property: it is read when the content-type property is absent, and must
    # agree with it when both are there.
    if declared is None:
        return received.content_type
    where = f"application property {prefix + 'datacontenttype'!r}"
    if type(declared) is not str:
        raise MalformedMessageError(f"{where} must be a string, got {type(declared).__name__}")
    if received.content_type is not None and declared != received.content_type:
        raise MalformedMessageError(
            f"{where} says {declared!r} and the content-type property {received.content_type!r}: which is meant?"
        )
    return declared


# -- structured mode -----------------------------------------------------------------------------------------


def encode_structured(event: CloudEvent, *, registry: Registry, format: str = "json") -> AMQPMessage:
    """Structured mode: the whole event as the body, in any event format of ``registry`` (``format=``).

    >>> from cefmt import CloudEvent, encode
    >>> encode(CloudEvent(id="1", source="/s", type="t"), "amqp", "structured").content_type
    'application/cloudevents+json'
    """
    content_type, body = encode_in_format(registry, event, format)
    return AMQPMessage({}, content_type, body)


def decode_structured(
    message: Any, *, registry: Registry, format: str | None = None, limits: Limits | None = None, **options: Any
) -> CloudEvent:
    """Structured mode back to an event; ``content-type: application/cloudevents+FORMAT`` names the format,
    and a message without a CloudEvents content type is read with ``format`` (JSON unless given).
    ``options`` go to the format's decoder, ``limits`` too when it takes them.

    >>> from cefmt import CloudEvent, decode, encode
    >>> decode(encode(CloudEvent(id="1", source="/s", type="t"), "amqp", "structured"), "amqp").id
    '1'
    """
    received = read(message, limits=limits)
    name = structured_format(received.content_type, format, "AMQP")
    if not received.body:
        raise MalformedMessageError("a structured-mode AMQP message must have a body")
    return decode_in_format(registry, name, received.body, limits=limits, **options)  # type: ignore[no-any-return]


# -- clients and captures ------------------------------------------------------------------------------------


def to_proton(message: AMQPMessage, proton: Any) -> Any:
    """The qpid-proton ``Message`` that sends ``message``: the body as one data section, timestamps as
    AMQP timestamps. ``proton`` is the ``proton`` module (passed in: this plugin imports no client).

    >>> import types
    >>> from cefmt import Timestamp
    >>> fake = types.SimpleNamespace(Message=lambda **fields: fields, timestamp=lambda ms: ("timestamp", ms))
    >>> to_proton(AMQPMessage({"cloudEvents_time": Timestamp.parse("1970-01-01T00:00:01Z")}), fake)
    {'body': b'', 'properties': {'cloudEvents_time': ('timestamp', 1000)}, 'inferred': True}
    """
    properties: dict[str, Any] = {}
    for name, value in message.application_properties.items():
        if isinstance(value, datetime):
            millis = timestamp_to_millis(value)
            if millis is None:
                raise UsageError(f"application property {name!r}: {value} has no exact AMQP timestamp")
            properties[name] = proton.timestamp(millis)
        else:
            properties[name] = value
    fields: dict[str, Any] = {"body": message.body, "properties": properties, "inferred": True}
    if message.content_type is not None:
        fields["content_type"] = message.content_type
    return proton.Message(**fields)


def to_json(message: Any) -> dict[str, Any]:
    """An AMQP message as its captured JSON document (typed values tagged, bytes in Base64).

    >>> to_json(AMQPMessage({"cloudEvents_id": "1", "cloudEvents_raw": b"\\x01"}, "text/plain", b"hi"))
    {'application_properties': {'cloudEvents_id': '1', 'cloudEvents_raw': {'binary_base64': 'AQ=='}}, \
'content_type': 'text/plain', 'body_base64': 'aGk='}
    """
    record = as_message(message)
    return {
        "application_properties": {
            name: typed_to_json(value, f"application property {name!r}")
            for name, value in record.application_properties.items()
        },
        "content_type": record.content_type,
        "body_base64": b64(record.body),
    }


def from_json(doc: dict[str, Any]) -> AMQPMessage:
    """A captured JSON document back to an :class:`AMQPMessage`.

    >>> from_json({"application_properties": {"cloudEvents_id": "1"}, "body": "hi"}).body
    b'hi'
    """
    doc = document(doc, "AMQP message")
    properties = doc.get("application_properties", {})
    if type(properties) is not dict:
        raise MalformedMessageError("AMQP message member 'application_properties' must be an object")
    content_type = doc.get("content_type")
    if content_type is not None and type(content_type) is not str:
        raise MalformedMessageError("AMQP message member 'content_type' must be a string or null")
    typed = {name: typed_from_json(value, f"application property {name!r}") for name, value in properties.items()}
    return AMQPMessage(typed, content_type, bytes_member(doc, "body", "AMQP message"))


#: How captured AMQP messages sit in a stream: one JSON document per line.
capture = Capture(to_json, from_json)

binary = Codec(encode=encode_binary, decode=decode_binary, detect=detect, prepare=read, capture=capture)
structured = Codec(encode=encode_structured, decode=decode_structured, detect=detect, prepare=read, capture=capture)
