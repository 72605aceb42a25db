"""The MQTT protocol binding: MQTT 5 (binary and structured) and MQTT 3.1.1 (structured), spec 1.0 and 0.3.

Encoders return an :class:`MQTTMessage` (user properties, Content Type, payload): the PUBLISH packet's
CloudEvents part, for the caller's MQTT client to publish on a topic of its choosing
(:func:`paho_properties` makes paho-mqtt's ``Properties`` of it). ``version=5`` (the default) or
``version=3`` picks the protocol: MQTT 3.1.1 has no properties, so its messages are structured only,
in the JSON event format. Decoders take what a subscriber got: an :class:`MQTTMessage`, a paho-mqtt
(or aiomqtt) message, a mapping ``{"user_properties", "content_type", "payload"}`` or, for MQTT 3.1.1,
the payload bytes alone. No MQTT client is imported here.

MQTT Protocol Binding 1.0.2, section 3: "If the value of the ``Content Type`` property is prefixed with
the CloudEvents media type ``application/cloudevents``, ... the receiver uses structured mode, otherwise
it defaults to binary mode"; "With MQTT 3.1.1, the content mode is always structured and the message
payload MUST use the JSON event format". A message without a Content Type and without a
``specversion`` user property is therefore read as structured JSON.

>>> from cefmt import CloudEvent, decode, encode
>>> event = CloudEvent(id="1", source="/s", type="t", data="hi", datacontenttype="text/plain")
>>> message = encode(event, "mqtt", "binary")
>>> message.content_type, message.user_properties[:2], decode(message, "mqtt") == event
('text/plain', [('specversion', '1.0'), ('id', '1')], True)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import attrs

from cefmt import DEFAULT_LIMITS, CloudEvent, Limits, MalformedMessageError, UsageError
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
    as_optional_text,
    b64,
    bytes_member,
    counted_items,
    document,
    is_cloudevents_type,
    sized_body,
    structured_format,
    text_value,
)

if TYPE_CHECKING:
    from cefmt.codec import Registry

__all__ = [
    "MQTTMessage",
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
    "paho_properties",
    "read",
    "structured",
    "to_json",
]

#: The MQTT control packet type of PUBLISH (MQTT 5.0, section 2.1.2), which paho's ``Properties`` takes.
PUBLISH = 3

# A user property is a CloudEvents attribute when its name is one: "CloudEvents attribute names MUST be
# used unchanged in each mapped User Property" (section 3.1.3.1). sdk-go writes them with a "ce-" prefix,
# which is not what the binding says but is read too. Other user properties belong to the application.
_ATTRIBUTE_NAME = re.compile(r"(?:ce-)?([a-z0-9]+)")
_RECORD_FIELDS = frozenset({"user_properties", "content_type", "payload"})


def _user_properties_converter(properties: Any) -> list[tuple[str, str]]:
    if properties is None:
        return []
    if isinstance(properties, (str, bytes, bytearray, memoryview)):
        raise MalformedMessageError(
            f"MQTT user properties must be (name, value) pairs, got {type(properties).__name__}"
        )
    try:
        return list(properties.items() if isinstance(properties, Mapping) else properties)
    except TypeError as exc:
        raise MalformedMessageError(
            f"MQTT user properties must be (name, value) pairs, got {type(properties).__name__}"
        ) from exc


def _content_type_converter(content_type: Any) -> str | None:
    return as_optional_text(content_type, "an MQTT Content Type")


def _payload_converter(body: Any) -> bytes:
    return as_body(body, "an MQTT payload")


@attrs.frozen
class MQTTMessage:
    """An MQTT PUBLISH packet's CloudEvents part: the User Property pairs, the Content Type property and
    the payload. An MQTT 3.1.1 message has neither property (``[]`` and ``None``).

    ``user_properties`` is a list of ``(name, value)`` string pairs in the order they are sent (MQTT lets a
    name repeat; a mapping is accepted and turned into pairs). ``payload`` is ``bytes``. A field of the
    wrong shape is a :class:`cefmt.MalformedMessageError`.

    >>> MQTTMessage({"id": "1"}, None, None)
    MQTTMessage(user_properties=[('id', '1')], content_type=None, payload=b'')
    """

    user_properties: list[tuple[str, str]] = attrs.field(converter=_user_properties_converter)
    content_type: str | None = attrs.field(default=None, converter=_content_type_converter)
    payload: bytes = attrs.field(default=b"", converter=_payload_converter)


# -- what a subscriber hands over ----------------------------------------------------------------------------


def _parts(message: Any) -> tuple[Any, Any, Any]:
    """``(user properties, content type, payload)`` of any accepted message shape, as they are."""
    if type(message) is MQTTMessage:
        return message.user_properties, message.content_type, message.payload
    if isinstance(message, (bytes, bytearray, memoryview)):  # an MQTT 3.1.1 payload: nothing else travels
        return None, None, message
    if isinstance(message, Mapping):
        if message and "payload" in message and _RECORD_FIELDS.issuperset(message):
            return message.get("user_properties"), message.get("content_type"), message["payload"]
        raise MalformedMessageError(
            "a mapping read as an MQTT message has the keys 'payload' and, for MQTT 5, 'user_properties' "
            f"and 'content_type'; got {sorted(map(str, message))[:5]}"
        )
    if hasattr(message, "payload"):  # paho-mqtt's MQTTMessage, aiomqtt's Message: properties or none
        properties = getattr(message, "properties", None)
        if properties is None:
            return None, None, message.payload
        return getattr(properties, "UserProperty", None), getattr(properties, "ContentType", None), message.payload
    raise MalformedMessageError(
        "an MQTT message is an MQTTMessage, a client's message (payload and properties), a mapping or the "
        f"payload bytes, got {type(message).__name__}"
    )


def as_message(message: Any) -> MQTTMessage:
    """Turn what an MQTT subscriber got into an :class:`MQTTMessage` (every user property kept).

    >>> as_message(b'{"specversion": "1.0"}')
    MQTTMessage(user_properties=[], content_type=None, payload=b'{"specversion": "1.0"}')
    """
    if type(message) is MQTTMessage:
        return message
    return MQTTMessage(*_parts(message))


class Received:
    """What decoding needs from an MQTT message, read once: the attributes from the user properties, the
    Content Type and the payload. :func:`read` makes one; the registry hands it to :func:`detect` and to
    the decoder."""

    __slots__ = ("attributes", "content_type", "names", "payload")

    def __init__(
        self, attributes: dict[str, str], content_type: str | None, payload: bytes | None, names: dict[str, str]
    ) -> None:
        self.attributes = attributes
        self.content_type = content_type
        self.payload = payload
        self.names = names


def read(message: Any, *, limits: Limits | None = None) -> Received:
    """Read an MQTT message once: user properties named as attributes (``id``, or sdk-go's ``ce-id``)
    as attributes, the Content Type, the payload.

    An attribute named twice (MQTT lets a user property repeat) is an error; user properties whose names
    are not attribute names belong to the application and are counted, not read. ``limits``
    (:data:`cefmt.DEFAULT_LIMITS` when ``None``) bounds the property count, the length of each value read
    and the payload's size, each before it is copied.

    >>> read({"user_properties": [("id", "1"), ("X-App", "y")], "payload": b""}).attributes
    {'id': '1'}
    """
    if type(message) is Received:
        return message
    if limits is None:
        limits = DEFAULT_LIMITS
    properties, content_type, payload = _parts(message)
    payload = sized_body(payload, limits, "payload")
    attributes: dict[str, str] = {}
    names: dict[str, str] = {}
    for raw_name, value in counted_items(properties, limits, "MQTT user properties"):
        if not isinstance(raw_name, str):
            raise MalformedMessageError(f"an MQTT user property name must be text, got {type(raw_name).__name__}")
        name = raw_name if type(raw_name) is str else str(raw_name)
        matched = _ATTRIBUTE_NAME.fullmatch(name)
        if matched is None:
            continue
        attribute = matched.group(1)
        where = f"user property {name!r}"
        if attribute in attributes:
            raise MalformedMessageError(f"{where} names the attribute {attribute!r}, which appears more than once")
        attributes[attribute] = text_value(value, where, limits)
        names[attribute] = name
    if content_type is not None:
        content_type = text_value(content_type, "the Content Type property", limits)
    return Received(attributes, content_type, payload, names)


def detect(message: Any) -> tuple[str | None, str]:
    """The mode of an MQTT message by section 3, and its spec version when the user properties carry it.

    >>> detect(b'{"specversion": "1.0"}'), detect({"user_properties": {"specversion": "1.0"}, "payload": b""})
    ((None, 'structured'), ('1.0', 'binary'))
    """
    received = read(message)
    if is_cloudevents_type(received.content_type):
        return (None, "structured")
    specversion = received.attributes.get("specversion")
    if specversion is not None:
        return (specversion, "binary")
    if received.content_type is None:  # MQTT 3.1.1, or MQTT 5 without a Content Type: JSON is implied
        return (None, "structured")
    raise MalformedMessageError(
        "not a CloudEvents MQTT message: no specversion user property, and the Content Type "
        f"{received.content_type!r} is not a CloudEvents format"
    )


# -- versions ------------------------------------------------------------------------------------------------


def _is_v5(version: Any) -> bool:
    # 5 is MQTT 5.0; 3 and 4 (the protocol level of 3.1.1, paho's MQTTv311) the versions without properties.
    if version == 5 and type(version) is not bool:
        return True
    if version in (3, 4) and type(version) is not bool:
        return False
    raise UsageError(f"version must be 5 (MQTT 5.0) or 3 (MQTT 3.1.1), got {version!r}")


# -- binary mode (MQTT 5 only) -------------------------------------------------------------------------------


def encode_binary(event: CloudEvent, *, version: int = 5) -> MQTTMessage:
    """Binary mode (MQTT 5): attributes as user properties named as the attributes, holding canonical
    strings; ``datacontenttype`` as the Content Type property; the data as the payload.

    "The binary mode only applies to MQTT 5.0, because of MQTT 3.1.1's lack of support for custom
    metadata" (section 1.3): ``version=3`` is a :class:`cefmt.UsageError`.

    >>> from cefmt import CloudEvent
    >>> encode_binary(CloudEvent(id="1", source="/s", type="t", n=7)).user_properties[-1]
    ('n', '7')
    """
    if not _is_v5(version):
        raise UsageError(
            "MQTT 3.1.1 has no user properties, so it has no binary mode (section 1.3 of the binding): "
            "send structured mode, or publish with MQTT 5 (version=5)"
        )
    attributes = canonical_attributes(event)
    content_type = attributes.pop("datacontenttype", None)
    return MQTTMessage(list(attributes.items()), content_type, data_to_body(event))


def decode_binary(
    message: Any, *, extension_types: Mapping[str, type] | None = None, limits: Limits | None = None
) -> CloudEvent:
    """Binary mode back to an event; user property values arrive as strings, and ``extension_types``
    (``{"count": int}``) restores extension types. ``limits`` as for :func:`read`.

    >>> decode_binary({"user_properties": [("specversion", "1.0"), ("id", "1"), ("source", "/s"),
    ...                                    ("type", "t")], "payload": b""}).id
    '1'
    """
    received = read(message, limits=limits)
    attributes: dict[str, Any] = dict(received.attributes)
    content_type = received.content_type
    declared = attributes.pop("datacontenttype", None)
    if declared is not None:
        # The binding's own example also lists datacontenttype among the user properties; it must agree
        # with the Content Type, which it stands in for when that is absent.
        if content_type is not None and declared != content_type:
            raise MalformedMessageError(
                f"user property {received.names['datacontenttype']!r} says {declared!r} and the Content Type "
                f"{content_type!r}: which is meant?"
            )
        content_type = declared
    names = received.names
    return event_from_parts(
        attributes,
        received.payload,
        content_type,
        where=lambda attribute: (
            "the Content Type property"
            if attribute == "datacontenttype" and "datacontenttype" not in names
            else f"user property {names.get(attribute, attribute)!r}"
        ),
        body_where="payload",
        extension_types=extension_types,
        limits=limits,
    )


# -- structured mode -----------------------------------------------------------------------------------------


def encode_structured(event: CloudEvent, *, registry: Registry, format: str = "json", version: int = 5) -> MQTTMessage:
    """Structured mode: the whole event as the payload, in any event format of ``registry`` (``format=``),
    named by the Content Type property. With ``version=3`` (MQTT 3.1.1) there is no Content Type and the
    format must be JSON (section 3: the payload "MUST use the JSON event format").

    >>> from cefmt import CloudEvent, encode
    >>> encode(CloudEvent(id="1", source="/s", type="t"), "mqtt", "structured", version=3).content_type is None
    True
    """
    v5 = _is_v5(version)
    if not v5 and format != "json":
        raise UsageError(f"MQTT 3.1.1 carries the JSON event format only (section 3), not {format!r}")
    content_type, body = encode_in_format(registry, event, format)
    return MQTTMessage([], content_type if v5 else None, body)


def decode_structured(
    message: Any, *, registry: Registry, format: str | None = None, limits: Limits | None = None, **options: Any
) -> CloudEvent:
    """Structured mode back to an event; the Content Type names the format, and a message without one
    (MQTT 3.1.1) is read as JSON, or with ``format`` when given.

    >>> from cefmt import CloudEvent, decode, encode
    >>> decode(encode(CloudEvent(id="1", source="/s", type="t"), "mqtt", "structured", version=3).payload, "mqtt").id
    '1'
    """
    received = read(message, limits=limits)
    name = structured_format(received.content_type, format, "MQTT")
    if not received.payload:
        raise MalformedMessageError("a structured-mode MQTT message must have a payload")
    return decode_in_format(registry, name, received.payload, limits=limits, **options)  # type: ignore[no-any-return]


# -- clients and captures ------------------------------------------------------------------------------------


def paho_properties(message: MQTTMessage, properties_class: Any) -> Any:
    """The paho-mqtt ``Properties`` of the PUBLISH that sends ``message`` (``None`` when it has none, as
    every MQTT 3.1.1 message). ``properties_class`` is ``paho.mqtt.properties.Properties`` (passed in:
    this plugin imports no client).

    >>> class Properties:
    ...     def __init__(self, packet_type): self.packet_type = packet_type
    >>> vars(paho_properties(MQTTMessage([("id", "1")], "text/plain"), Properties))
    {'packet_type': 3, 'ContentType': 'text/plain', 'UserProperty': [('id', '1')]}
    """
    if message.content_type is None and not message.user_properties:
        return None
    properties = properties_class(PUBLISH)
    if message.content_type is not None:
        properties.ContentType = message.content_type
    if message.user_properties:
        properties.UserProperty = list(message.user_properties)
    return properties


def to_json(message: Any) -> dict[str, Any]:
    """An MQTT message as its captured JSON document (the payload in Base64).

    >>> to_json(MQTTMessage([("id", "1")], "text/plain", b"hi"))
    {'user_properties': [['id', '1']], 'content_type': 'text/plain', 'payload_base64': 'aGk='}
    """
    record = as_message(message)
    return {
        "user_properties": [[name, value] for name, value in record.user_properties],
        "content_type": record.content_type,
        "payload_base64": b64(record.payload),
    }


def from_json(doc: dict[str, Any]) -> MQTTMessage:
    """A captured JSON document back to an :class:`MQTTMessage`.

    >>> from_json({"user_properties": [["id", "1"]], "payload": "hi"})
    MQTTMessage(user_properties=[('id', '1')], content_type=None, payload=b'hi')
    """
    doc = document(doc, "MQTT message")
    pairs = doc.get("user_properties", [])
    if type(pairs) is not list:
        raise MalformedMessageError("MQTT message member 'user_properties' must be an array of [name, value] pairs")
    properties: list[tuple[str, str]] = []
    for index, pair in enumerate(pairs):
        if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str or type(pair[1]) is not str:
            raise MalformedMessageError(f"MQTT message user property {index} must be a [name, value] pair of strings")
        properties.append((pair[0], pair[1]))
    content_type = doc.get("content_type")
    if content_type is not None and type(content_type) is not str:
        raise MalformedMessageError("MQTT message member 'content_type' must be a string or null")
    return MQTTMessage(properties, content_type, bytes_member(doc, "payload", "MQTT message"))


#: How captured MQTT messages sit in a stream: one JSON document per line.
capture = Capture(to_json, from_json)

binary = Codec(encode=encode_binary, decode=decode_binary, detect=detect, prepare=read, capture=capture)
structured = Codec(encode=encode_structured, decode=decode_structured, detect=detect, prepare=read, capture=capture)
