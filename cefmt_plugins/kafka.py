"""The Kafka protocol binding: binary and structured modes, spec 1.0 and 0.3 (sans-I/O).

Encoders return a :class:`KafkaMessage` (key, headers, value) for the caller's Kafka client to
produce; decoders take the record a consumer handed over, from whichever client: a
:class:`KafkaMessage`, a confluent-kafka ``Message``, a kafka-python or aiokafka ``ConsumerRecord``,
a mapping ``{"key": ..., "headers": ..., "value": ...}``, or a bare mapping of headers. No Kafka client
is imported here.

Kafka Protocol Binding 1.0, section 3: "The receiver of the event can distinguish between the two
content modes by inspecting the ``content-type`` Header of the Kafka message. If the header is present
and its value is prefixed with the CloudEvents media type ``application/cloudevents`` ..., the receiver
uses structured mode, otherwise it defaults to binary mode." The batch mode does not exist in Kafka.

>>> from cefmt import CloudEvent, decode, encode
>>> event = CloudEvent(id="1", source="/s", type="t", data=b"\\x00")
>>> message = encode(event, "kafka", "binary", key=b"order-7")
>>> message.key, message.value, decode(message, "kafka") == event
(b'order-7', b'\\x00', True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from cefmt import CloudEvent, CloudEventError, InvalidAttributeError, MalformedMessageError
from cefmt.codec import (
    Codec,
    body_to_data,
    canonical_string,
    coerce_extension,
    data_to_body,
    decode_base64,
    find_format,
    format_timestamp,
    parse_media_type,
)

__all__ = [
    "KafkaMessage",
    "KeyMapper",
    "as_message",
    "binary",
    "decode_binary",
    "decode_structured",
    "detect",
    "encode_binary",
    "encode_structured",
    "partitionkey_key",
    "structured",
]

_PREFIX = "ce_"
_CONTENT_TYPE = "content-type"
_CLOUDEVENTS = "application/cloudevents"
_STRUCTURED = "application/cloudevents+"
_RECORD_FIELDS = frozenset({"key", "headers", "value"})

#: A function from an event to the record key: ``bytes``, ``str`` (sent as UTF-8) or ``None``.
KeyMapper = Callable[[CloudEvent], bytes | str | None]


def _headers_converter(headers: Any) -> list[tuple[str, bytes]]:
    if headers is None:
        return []
    pairs: Iterable[Any] = headers.items() if isinstance(headers, Mapping) else headers
    return list(pairs)


@attrs.frozen
class KafkaMessage:
    """A Kafka record's CloudEvents part: the key, the headers and the value.

    ``headers`` is a list of ``(name, value)`` pairs with ``bytes`` values, the shape Kafka clients
    produce and consume (a ``dict`` is accepted and turned into that list). ``value`` is ``None`` for a
    record without a value: in binary mode, an event without data (a tombstone on a compacted topic).

    >>> KafkaMessage(b"k", {"ce_id": b"1"}, None).headers
    [('ce_id', b'1')]
    """

    key: bytes | None
    headers: list[tuple[str, bytes]] = attrs.field(converter=_headers_converter)
    value: bytes | None


# -- keys (Kafka Protocol Binding 1.0, section 3.1) -------------------------------------------------------


def partitionkey_key(event: CloudEvent) -> bytes | None:
    """The opt-in key mapper of section 3.1: the ``partitionkey`` attribute, as-is, as the record key.

    "Every implementation SHOULD provide an opt-in 'Key Mapper' implementation that maps the
    Partitioning ``partitionkey`` attribute value to the 'key' of the Kafka message as-is, if present."
    The attribute still travels with the event ("A mapping function MUST NOT modify the CloudEvent").

    >>> from cefmt import CloudEvent
    >>> partitionkey_key(CloudEvent(id="1", source="/s", type="t", partitionkey="user-9"))
    b'user-9'
    """
    value = event.extensions.get("partitionkey")
    if value is None:
        return None
    return value if type(value) is bytes else canonical_string(value).encode("utf-8")


def _record_key(event: CloudEvent, key: bytes | str | None, key_mapper: KeyMapper | None) -> bytes | None:
    # "Every implementation MUST, by default, map the user provided record key to the Kafka record key."
    if key_mapper is not None:
        if key is not None:
            raise CloudEventError("give the record key either as key= or through key_mapper=, not both")
        key = key_mapper(event)
    if key is None or type(key) is bytes:
        return key
    if isinstance(key, str):
        return key.encode("utf-8")
    if isinstance(key, (bytearray, memoryview)):
        return bytes(key)
    raise CloudEventError(f"a Kafka record key must be bytes, str or None, got {type(key).__name__}")


# -- reading whatever a consumer hands over ----------------------------------------------------------------


def _field(record: Any, name: str) -> Any:
    value = getattr(record, name)
    return value() if callable(value) else value  # confluent-kafka: methods; kafka-python, aiokafka: fields


def _bytes_or_none(value: Any, what: str) -> bytes | None:
    if value is None or type(value) is bytes:
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise MalformedMessageError(f"a Kafka record {what} must be bytes or None, got {type(value).__name__}")


def as_message(message: Any) -> KafkaMessage:
    """Turn what a Kafka consumer received into a :class:`KafkaMessage`.

    Accepts a :class:`KafkaMessage`; an object with ``key``, ``headers`` and ``value`` as methods
    (confluent-kafka ``Message``) or as fields (kafka-python and aiokafka ``ConsumerRecord``, the
    CloudEvents SDK's ``KafkaMessage``); a mapping with the keys ``key``, ``headers``, ``value``; or a
    mapping of headers alone (a record without key or value).

    >>> as_message({"ce_id": b"1"})
    KafkaMessage(key=None, headers=[('ce_id', b'1')], value=None)
    """
    if type(message) is KafkaMessage:
        return message
    if isinstance(message, Mapping):
        if message and _RECORD_FIELDS.issuperset(message) and "headers" in message:
            key, headers, value = message.get("key"), message["headers"], message.get("value")
        else:
            key, headers, value = None, message, None
    elif all(hasattr(message, name) for name in _RECORD_FIELDS):
        try:
            key, headers, value = (_field(message, name) for name in ("key", "headers", "value"))
        except TypeError as exc:
            raise MalformedMessageError(f"cannot read the Kafka record {type(message).__name__}: {exc}") from exc
    else:
        raise MalformedMessageError(
            "a Kafka message is a KafkaMessage, a client's record (key, headers, value) or a mapping, "
            f"got {type(message).__name__}"
        )
    return KafkaMessage(_bytes_or_none(key, "key"), headers, _bytes_or_none(value, "value"))


def _header_map(headers: Any) -> dict[str, str]:
    """``ce_*`` and ``content-type`` headers by lower-case name, values decoded from UTF-8.

    Two values for one attribute are ambiguous: a repeated ``ce_*`` or ``content-type`` header is an
    error. Other headers belong to the application and are left alone.
    """
    found: dict[str, str] = {}
    pairs: Iterable[Any] = headers.items() if isinstance(headers, Mapping) else headers
    try:
        for raw_name, value in pairs:
            name = bytes(raw_name).decode("utf-8") if isinstance(raw_name, (bytes, bytearray)) else raw_name
            if not isinstance(name, str):
                raise MalformedMessageError(f"a Kafka header name must be text, got {type(name).__name__}")
            lowered = name.lower()
            if not (lowered.startswith(_PREFIX) or lowered == _CONTENT_TYPE):
                continue
            if lowered in found:
                raise MalformedMessageError(f"header {lowered!r} appears more than once")
            if isinstance(value, str):
                found[lowered] = value
            elif isinstance(value, (bytes, bytearray, memoryview)):
                # "Both header keys and header values MUST be encoded as UTF-8 strings" (section 3.2.3).
                found[lowered] = bytes(value).decode("utf-8")
            else:
                shown = "null" if value is None else type(value).__name__
                raise MalformedMessageError(f"header {lowered!r} must hold UTF-8 bytes, got {shown}")
    except UnicodeDecodeError as exc:
        raise MalformedMessageError(f"a Kafka header is not valid UTF-8: {exc.reason}") from exc
    except (TypeError, ValueError) as exc:
        if isinstance(exc, CloudEventError):
            raise
        raise MalformedMessageError(f"Kafka headers must be (name, value) pairs: {exc}") from exc
    return found


def detect(message: Any) -> tuple[str | None, str]:
    """The mode of a Kafka record by section 3, and its spec version when headers carry it (binary).

    >>> detect({"content-type": b"application/cloudevents+json"})
    (None, 'structured')
    """
    headers = _header_map(as_message(message).headers)
    content_type = headers.get(_CONTENT_TYPE)
    if content_type is not None and parse_media_type(content_type).essence.startswith(_CLOUDEVENTS):
        return (None, "structured")
    specversion = headers.get("ce_specversion")
    if specversion is None:
        raise MalformedMessageError(
            "not a CloudEvents Kafka record: no ce_specversion header, and the content type "
            f"{content_type!r} is not a CloudEvents format"
        )
    return (specversion, "binary")


# -- binary mode --------------------------------------------------------------------------------------------


def _body(event: CloudEvent) -> bytes | None:
    # Section 3.2.2: "the Kafka representation of a CloudEvent with no data is a Kafka message with no
    # value". The body rule shared with every binding (cefmt.codec.data_to_body) does the rest.
    return None if event.data is None else data_to_body(event)


def encode_binary(
    event: CloudEvent, *, key: bytes | str | None = None, key_mapper: KeyMapper | None = None
) -> KafkaMessage:
    """Binary mode: attributes in ``ce_`` headers (UTF-8), ``datacontenttype`` as ``content-type``, data as value.

    The record key is ``key`` when given, else what ``key_mapper`` returns (see
    :func:`partitionkey_key`), else none.

    >>> from cefmt import CloudEvent
    >>> encode_binary(CloudEvent(id="1", source="/s", type="t")).headers[:2]
    [('ce_specversion', b'1.0'), ('ce_id', b'1')]
    """
    headers = [
        ("ce_specversion", event.specversion.encode("utf-8")),
        ("ce_id", event.id.encode("utf-8")),
        ("ce_source", event.source.encode("utf-8")),
        ("ce_type", event.type.encode("utf-8")),
    ]
    if event.datacontenttype is not None:
        headers.append((_CONTENT_TYPE, event.datacontenttype.encode("utf-8")))
    if event.dataschema is not None:
        name = "ce_schemaurl" if event.specversion == "0.3" else "ce_dataschema"
        headers.append((name, event.dataschema.encode("utf-8")))
    if event.subject is not None:
        headers.append(("ce_subject", event.subject.encode("utf-8")))
    if event.time is not None:
        headers.append(("ce_time", format_timestamp(event.time).encode("utf-8")))
    for name, value in event.extensions.items():
        headers.append((_PREFIX + name, canonical_string(value).encode("utf-8")))
    return KafkaMessage(_record_key(event, key, key_mapper), headers, _body(event))


def decode_binary(message: Any, *, extension_types: Mapping[str, type] | None = None) -> CloudEvent:
    """Binary mode back to an event. The record key stays on the message: it never becomes an attribute.

    Header values arrive as strings; ``extension_types`` (``{"extinteger": int}``) restores extension
    types, as for HTTP. The value is read by the body rule of :mod:`cefmt.codec`; no value is no data.
    """
    msg = as_message(message)
    headers = _header_map(msg.headers)
    attributes: dict[str, Any] = {name[3:]: value for name, value in headers.items() if name.startswith(_PREFIX)}
    content_type = headers.get(_CONTENT_TYPE)
    if content_type is not None:
        attributes["datacontenttype"] = content_type
    body = msg.value or b""
    if attributes.get("specversion") == "0.3":
        encoding = attributes.pop("datacontentencoding", None)
        if encoding == "base64":
            body = decode_base64(body.decode("ascii", "replace"), "value (datacontentencoding base64)")
        elif encoding is not None:
            raise MalformedMessageError(f"header 'ce_datacontentencoding': {encoding!r} is not supported")
    if extension_types:
        for name, kind in extension_types.items():
            if name in attributes:
                attributes[name] = coerce_extension(attributes[name], kind, name)
    try:
        return CloudEvent.from_attributes(attributes, body_to_data(body, content_type, "value"))
    except InvalidAttributeError as exc:
        where = "value" if exc.attribute == "data" else (
            "header 'content-type'" if exc.attribute == "datacontenttype" else f"header 'ce_{exc.attribute}'"
        )  # fmt: skip
        raise exc.at(where) from exc.__cause__


# -- structured mode ----------------------------------------------------------------------------------------


def encode_structured(
    event: CloudEvent, *, format: str = "json", key: bytes | str | None = None, key_mapper: KeyMapper | None = None
) -> KafkaMessage:
    """Structured mode: the whole event as the value, in any registered event format (``format=``).

    >>> from cefmt import CloudEvent
    >>> encode_structured(CloudEvent(id="1", source="/s", type="t")).headers
    [('content-type', b'application/cloudevents+json')]
    """
    codec = find_format(format, "structured", event.specversion)
    media_type = codec.media_type or f"{_STRUCTURED}{format}"
    return KafkaMessage(
        _record_key(event, key, key_mapper), [(_CONTENT_TYPE, media_type.encode("utf-8"))], codec.encode(event)
    )


def decode_structured(message: Any, *, format: str | None = None, **options: Any) -> CloudEvent:
    """Structured mode back to an event; ``content-type: application/cloudevents+FORMAT`` names the format.

    A record whose ``content-type`` names no CloudEvents format (some producers send none, or the data's
    type) is read with ``format`` (JSON unless given). ``options`` go to the format's decoder.
    """
    msg = as_message(message)
    content_type = _header_map(msg.headers).get(_CONTENT_TYPE)
    essence = parse_media_type(content_type).essence if content_type else ""
    if essence.startswith(_STRUCTURED) and len(essence) > len(_STRUCTURED):
        name = essence[len(_STRUCTURED) :]
    elif essence.startswith(_CLOUDEVENTS):
        raise MalformedMessageError(
            f"content type {content_type!r}: the Kafka binding has no batch mode and no format without a name"
        )
    else:
        name = format or "json"
    if msg.value is None:
        raise MalformedMessageError("a structured-mode Kafka record must have a value")
    return find_format(name, "structured").decode(msg.value, **options)  # type: ignore[no-any-return]


binary = Codec(encode=encode_binary, decode=decode_binary, detect=detect)
structured = Codec(encode=encode_structured, decode=decode_structured, detect=detect)
