"""What cefmt's own binding plugins share: reading a client's message within limits, header text,
AMQP timestamps, and captured messages as JSON. (Percent-encoding of header values is in the kit:
:func:`cefmt.codec.percent_encode`.)

Written, like every module here, on the public kit alone (:mod:`cefmt`, :mod:`cefmt.codec`): a third
party writing a binding can copy any of it. The bindings use these pieces so that every one of them
checks sizes before it copies, reports a bad header the same way and writes captures in one style.

>>> as_body(None, "a NATS payload"), b64(b"hi")
(b'', 'aGk=')
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from cefmt import CloudEventError, EncodeError, Limits, MalformedMessageError, Timestamp
from cefmt.codec import decode_base64, format_of, parse_media_type

__all__ = [
    "CLOUDEVENTS_MEDIA_TYPE",
    "b64",
    "as_body",
    "as_optional_text",
    "bytes_member",
    "counted_items",
    "document",
    "header_dict",
    "is_cloudevents_type",
    "millis_to_timestamp",
    "sized_body",
    "structured_format",
    "text_value",
    "timestamp_to_millis",
    "typed_from_json",
    "typed_to_json",
]

#: The prefix every CloudEvents format's media type starts with: a content type that begins with it
#: marks a structured (or batch) message in every binding.
CLOUDEVENTS_MEDIA_TYPE = "application/cloudevents"

_BYTES_LIKE = (bytes, bytearray, memoryview)


def is_cloudevents_type(content_type: str | None) -> bool:
    """Whether a content type announces a CloudEvents format (structured mode), matched case-insensitively.

    >>> is_cloudevents_type("Application/CloudEvents+JSON; charset=utf-8"), is_cloudevents_type("text/plain")
    (True, False)
    """
    return content_type is not None and parse_media_type(content_type).essence.startswith(CLOUDEVENTS_MEDIA_TYPE)


def structured_format(content_type: str | None, default: str | None, binding: str) -> str:
    """The event format a structured message is in: the one its content type names, else ``default``
    (JSON when that is ``None``), for a message whose producer did not label it.

    A CloudEvents content type that names no single-event format (a batch type) is an error: none of
    the bindings here has a batch mode.

    >>> structured_format("application/cloudevents+msgpack", None, "AMQP"), structured_format(None, None, "AMQP")
    ('msgpack', 'json')
    """
    name = format_of(content_type)
    if name is not None:
        return name
    if is_cloudevents_type(content_type):
        raise MalformedMessageError(
            f"content type {content_type!r}: the {binding} binding has no batch mode and no format without a name"
        )
    return default or "json"


# -- reading what a client hands over, within limits ---------------------------------------------------------


def sized_body(value: Any, limits: Limits, what: str) -> bytes | None:
    """A body as ``bytes`` (``None`` stays ``None``), its size checked before it is copied or encoded.

    ``bytearray`` and ``memoryview`` are copied (a client's buffer may be reused after the call), ``str``
    is taken as UTF-8; anything else is a :class:`~cefmt.MalformedMessageError` naming ``what``.

    >>> sized_body(memoryview(b"hi"), Limits(), "body"), sized_body("é", Limits(), "body")
    (b'hi', b'\\xc3\\xa9')
    """
    if value is None:
        return None
    if type(value) is bytes or isinstance(value, (*_BYTES_LIKE, str)):
        if len(value) > limits.max_message_bytes:
            limits.check_message_size(value, f"size of {what}")
        if type(value) is bytes:
            return value
        if isinstance(value, str):
            try:
                return value.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise MalformedMessageError(f"{what} holds text that is not valid Unicode: {exc.reason}") from exc
        return bytes(value)
    raise MalformedMessageError(f"{what} must be bytes, got {type(value).__name__}")


def text_value(raw: Any, where: str, limits: Limits) -> str:
    """A header or property value as text: ``str`` as it is, bytes as UTF-8, its length checked first.

    >>> text_value(b"caf\\xc3\\xa9", "header 'ce-id'", Limits())
    'café'
    """
    if isinstance(raw, (str, *_BYTES_LIKE)):
        if len(raw) > limits.max_header_value_length:
            limits.check_header_value(raw, where)
        if isinstance(raw, str):
            return raw if type(raw) is str else str(raw)  # a client's str subclass (an AMQP symbol) as str
        try:
            return bytes(raw).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedMessageError(f"{where} is not valid UTF-8: {exc.reason}") from exc
    shown = "null" if raw is None else type(raw).__name__
    raise MalformedMessageError(f"{where} must be text, got {shown}")


def counted_items(headers: Any, limits: Limits, what: str) -> Iterator[tuple[Any, Any]]:
    """``(name, value)`` for each header of a mapping, an object with ``.items()`` or a list of pairs,
    counted against ``max_header_count``: at once when the headers have a length, else as they come.

    ``None`` is no headers. Names and values are handed over as they are; a shape that is not pairs is
    a :class:`~cefmt.MalformedMessageError` naming ``what``.

    >>> list(counted_items({"a": "1"}, Limits(), "headers"))
    [('a', '1')]
    """
    if headers is None:
        return
    if isinstance(headers, (str, *_BYTES_LIKE)):
        raise MalformedMessageError(f"{what} must be a mapping or (name, value) pairs, got {type(headers).__name__}")
    if hasattr(headers, "__len__") and len(headers) > limits.max_header_count:
        limits.check_header_count(len(headers))
    try:
        pairs: Iterable[Any] = headers.items() if isinstance(headers, Mapping) or hasattr(headers, "items") else headers
        max_count = limits.max_header_count
        for count, (name, value) in enumerate(pairs, 1):
            if count > max_count:
                limits.check_header_count(count)
            yield name, value
    except (TypeError, ValueError) as exc:
        if isinstance(exc, CloudEventError):
            raise
        raise MalformedMessageError(f"{what} must be a mapping or (name, value) pairs: {exc}") from exc


def header_dict(headers: Any, what: str) -> dict[Any, Any]:
    """Headers given as a mapping or as ``(name, value)`` pairs, as a ``dict``; a name given twice in the
    pairs is a :class:`~cefmt.MalformedMessageError` (a ``dict`` would keep one value silently).

    >>> header_dict([("ce-id", "1")], "NATS headers")
    {'ce-id': '1'}
    """
    if headers is None:
        return {}
    if isinstance(headers, Mapping):
        return dict(headers)
    if isinstance(headers, (str, *_BYTES_LIKE)):
        raise MalformedMessageError(f"{what} must be a mapping or (name, value) pairs, got {type(headers).__name__}")
    found: dict[Any, Any] = {}
    try:
        for name, value in headers:
            if name in found:
                raise MalformedMessageError(f"{what}: {name!r} appears more than once")
            found[name] = value
    except (TypeError, ValueError) as exc:
        if isinstance(exc, CloudEventError):
            raise
        raise MalformedMessageError(
            f"{what} must be a mapping or (name, value) pairs, got {type(headers).__name__}"
        ) from exc
    return found


# -- AMQP timestamps: milliseconds since the Unix epoch ------------------------------------------------------

_EPOCH = Timestamp(1970, 1, 1, tzinfo=timezone.utc)
_MILLISECOND = timedelta(milliseconds=1)


def timestamp_to_millis(value: datetime) -> int | None:
    """The AMQP timestamp (milliseconds since the epoch) of a UTC time in whole milliseconds, else
    ``None``: a time with finer digits or another UTC offset would lose them on the way.

    >>> timestamp_to_millis(Timestamp.parse("2011-07-26T18:21:03.521Z"))
    1311704463521
    >>> timestamp_to_millis(Timestamp.parse("2011-07-26T18:21:03.521+02:00")) is None
    True
    """
    if value.utcoffset() != timedelta(0) or value.microsecond % 1000 or getattr(value, "nanosecond", 0):
        return None
    return (value.replace(tzinfo=timezone.utc) - _EPOCH) // _MILLISECOND


def millis_to_timestamp(millis: int, where: str) -> Timestamp:
    """An AMQP timestamp back to a UTC :class:`~cefmt.Timestamp`; one beyond the years 1 to 9999 is an error.

    >>> str(millis_to_timestamp(1311704463521, "property 'cloudEvents_time'"))
    '2011-07-26T18:21:03.521Z'
    """
    try:
        return _EPOCH + timedelta(milliseconds=int(millis))
    except OverflowError as exc:
        raise MalformedMessageError(f"{where}: the timestamp {int(millis)} ms is out of range") from exc


# -- captured messages as JSON (cefmt.codec.Capture) ---------------------------------------------------------


# -- the fields of a binding's message record -----------------------------------------------------------------


def as_body(value: Any, what: str) -> bytes:
    """A message record's body as ``bytes`` (``None`` is ``b""``, any bytes-like value is copied), for the
    record's attrs converter; anything else is a :class:`~cefmt.MalformedMessageError` naming ``what``.

    >>> as_body(bytearray(b"hi"), "a NATS payload")
    b'hi'
    """
    if value is None:
        return b""
    if type(value) is bytes:
        return value
    if isinstance(value, _BYTES_LIKE):
        return bytes(value)
    raise MalformedMessageError(f"{what} must be bytes, got {type(value).__name__}")


def as_optional_text(value: Any, what: str) -> str | None:
    """A record's optional text field (a content type): ``None`` or a ``str`` (a subclass as a plain
    ``str``); anything else is a :class:`~cefmt.MalformedMessageError` naming ``what``.

    >>> as_optional_text(None, "an MQTT Content Type") is None
    True
    """
    if value is None or type(value) is str:
        return value
    if isinstance(value, str):
        return str(value)
    raise MalformedMessageError(f"{what} must be text or None, got {type(value).__name__}")


def b64(raw: bytes) -> str:
    """Base64 (RFC 4648) text of ``raw``.

    >>> b64(b"hi")
    'aGk='
    """
    return base64.b64encode(raw).decode("ascii")


def document(doc: Any, what: str) -> dict[str, Any]:
    """``doc`` when it is a JSON object, else a :class:`~cefmt.MalformedMessageError` naming ``what``."""
    if type(doc) is not dict:
        raise MalformedMessageError(f"a captured {what} must be a JSON object, got {type(doc).__name__}")
    return doc


def bytes_member(doc: dict[str, Any], name: str, what: str) -> bytes | None:
    """Member ``NAME_base64`` (Base64) of a captured message, or plain-text ``NAME`` (UTF-8) for captures
    typed by hand; ``None`` when neither is there.

    >>> bytes_member({"body_base64": "aGk="}, "body", "AMQP message"), bytes_member({"body": "hi"}, "body", "x")
    (b'hi', b'hi')
    """
    encoded = doc.get(f"{name}_base64")
    if encoded is not None:
        return decode_base64(encoded, f"{what} member '{name}_base64'")
    plain = doc.get(name)
    if plain is None:
        return None
    if type(plain) is not str:
        raise MalformedMessageError(f"{what} member '{name}' must be a string, got {type(plain).__name__}")
    return plain.encode("utf-8")


def typed_to_json(value: Any, where: str) -> Any:
    """A typed property value (AMQP application properties, RabbitMQ headers) as JSON: strings, integers,
    booleans, floats and null as themselves, bytes as ``{"binary_base64": ...}``, a timestamp as
    ``{"timestamp": RFC 3339}``.

    >>> typed_to_json(b"\\x01", "p"), typed_to_json(Timestamp.parse("2020-01-01T00:00:00Z"), "p")
    ({'binary_base64': 'AQ=='}, {'timestamp': '2020-01-01T00:00:00Z'})
    """
    if value is None or type(value) in (str, bool, float):
        return value
    if isinstance(value, (str, float)):  # a client's subclass (an AMQP symbol, a float32) as the plain type
        return str(value) if isinstance(value, str) else float(value)
    if isinstance(value, int):
        if type(value).__name__ == "timestamp":  # an AMQP timestamp as qpid-proton hands it over
            return {"timestamp": str(millis_to_timestamp(value, where))}
        return int(value)
    if isinstance(value, _BYTES_LIKE):
        return {"binary_base64": b64(bytes(value))}
    if isinstance(value, datetime):
        if value.utcoffset() is None:
            raise EncodeError(f"{where}: a datetime without a UTC offset names no instant")
        stamp = value if isinstance(value, Timestamp) else Timestamp.parse(value.isoformat())
        return {"timestamp": str(stamp)}
    if isinstance(value, uuid.UUID):
        return str(value)
    raise EncodeError(f"{where}: a value of type {type(value).__name__} has no form in a capture")


def typed_from_json(value: Any, where: str) -> Any:
    """The inverse of :func:`typed_to_json`.

    >>> typed_from_json({"timestamp": "2020-01-01T00:00:00Z"}, "p")
    Timestamp('2020-01-01T00:00:00Z')
    """
    if type(value) is dict:
        if len(value) == 1 and "binary_base64" in value:
            return decode_base64(value["binary_base64"], f"{where} (binary_base64)")
        if len(value) == 1 and "timestamp" in value and type(value["timestamp"]) is str:
            try:
                return Timestamp.parse(value["timestamp"])
            except CloudEventError as exc:
                raise MalformedMessageError(f"{where}: {exc}") from exc
        raise MalformedMessageError(f"{where}: an object must be {{'binary_base64': ...}} or {{'timestamp': ...}}")
    if value is None or type(value) in (str, int, bool, float):
        return value
    raise MalformedMessageError(f"{where}: a {type(value).__name__} is not a property value")
