"""The HTTP protocol binding: binary, structured and batch modes, spec 1.0 and 0.3 (sans-I/O).

Encoders return an :class:`HTTPMessage` (headers and body) for the caller's HTTP client to send;
decoders take whatever the caller's server received (see :mod:`cefmt._edge`), read once by
:func:`read` (see :mod:`cefmt._headers`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, NoReturn

import attrs

from ._binding import batch_specversion, encode_in_format, event_from_parts
from ._data import data_to_body
from ._edge import split
from ._errors import MalformedMessageError
from ._event import CloudEvent
from ._headers import CONTENT_TYPE, NEEDS_QUOTING, normalize_headers, quote_header, read_headers
from ._limits import DEFAULT_LIMITS, Limits
from ._media import parse_media_type
from ._memo import Memo
from ._pure import FALLBACK, SPEEDUPS
from ._registry import Capture, Codec
from ._spec import SPECS
from ._timestamp import format_timestamp
from ._typed import from_capture, to_capture
from ._types import canonical_string

if TYPE_CHECKING:
    from ._registry import Registry

__all__ = ["HTTPMessage", "Received", "as_message", "batch", "binary", "detect", "read", "structured"]


class HTTPMessage(NamedTuple):
    """An HTTP message's CloudEvents part: header names in lower case, and the body.

    A named tuple: it unpacks, indexes and compares like the ``(headers, body)`` pair of the
    CloudEvents SDK, and names its parts.

    >>> message = HTTPMessage({"content-type": "text/plain"}, b"hi")
    >>> headers, body = message
    >>> message[1], message.body, message == ({"content-type": "text/plain"}, b"hi")
    (b'hi', b'hi', True)
    """

    headers: dict[str, str]
    body: bytes


# HTTPMessage(headers, body) without the keyword handling of the generated __new__: every event encoded.
_new_message = tuple.__new__


def as_message(message: Any, *, limits: Limits | None = None) -> HTTPMessage:
    """Turn what a server received into an :class:`HTTPMessage` (header names in lower case).

    Accepts what :func:`cefmt._edge.split` does; the body's size and the headers are checked against
    ``limits`` (:data:`cefmt.DEFAULT_LIMITS` when ``None``) before they are copied.

    >>> as_message(([("CE-ID", "1")], "hi"))
    HTTPMessage(headers={'ce-id': '1'}, body=b'hi')
    """
    if limits is None:
        limits = DEFAULT_LIMITS
    headers, body = split(message, limits)
    return _new_message(HTTPMessage, (normalize_headers(headers, limits=limits), body))


class Received:
    """What decoding needs from a received HTTP message, read once.

    ``attributes`` holds every ``ce-`` header's value, percent-decoded, under its attribute name;
    ``content_type`` the Content-Type header; ``body`` the body. :func:`read` makes one, and the
    registry hands the same one to the detector and to the decoder.
    """

    __slots__ = ("attributes", "body", "content_type")

    def __init__(self, attributes: dict[str, str], content_type: str | None, body: bytes) -> None:
        self.attributes = attributes
        self.content_type = content_type
        self.body = body


def read(message: Any, *, limits: Limits | None = None) -> Received:
    """Read a received message once: ``ce-`` headers as attributes, the content type, the body.

    >>> received = read(({"CE-ID": "a%20b", "Content-Type": "text/plain", "Host": "x"}, b"hi"))
    >>> received.attributes, received.content_type
    ({'id': 'a b'}, 'text/plain')
    """
    if type(message) is Received:
        return message
    if _C_READ_MESSAGE is not None:
        received = _C_READ_MESSAGE(message, *(_DEFAULT_READ_BOUNDS if limits is None else _read_bounds(limits)))
        if received is not FALLBACK:
            return received  # type: ignore[no-any-return]
    if limits is None:
        limits = DEFAULT_LIMITS
    headers, body = split(message, limits)
    attributes, content_type = read_headers(headers, limits=limits)
    return Received(attributes, content_type, body)


# The compiled reader and builder of binary mode, when built: the same Received and event for the
# messages they take (a dict of str headers and bytes; a body in JSON, UTF-8 text or bytes), FALLBACK
# for the rest.
_C_READ_MESSAGE = _C_BINARY_EVENT = None
if SPEEDUPS is not None and SPEEDUPS.configure(
    "received", (Received, [Received.__dict__[name] for name in ("attributes", "content_type", "body")])
):  # fmt: skip
    _C_READ_MESSAGE, _C_BINARY_EVENT = SPEEDUPS.read_message, SPEEDUPS.binary_event


def _read_bounds(limits: Limits) -> tuple[int, int, int]:
    return (limits.max_message_bytes, limits.max_header_count, limits.max_header_value_length)


_DEFAULT_READ_BOUNDS = _read_bounds(DEFAULT_LIMITS)


def detect(message: Any) -> tuple[str | None, str]:
    """The mode of an HTTP message, and its spec version when the headers carry it (binary mode).

    >>> detect(({"content-type": "application/cloudevents+json"}, b"{}"))
    (None, 'structured')
    """
    received = message if type(message) is Received else read(message)  # the registry reads it once
    content_type = received.content_type
    if content_type is not None:
        mode = _MODES[content_type]
        if mode != "binary":
            return (None, mode)
    specversion = received.attributes.get("specversion")
    if specversion is None:
        raise MalformedMessageError(
            "not a CloudEvents HTTP message: no ce-specversion header, and the content type "
            f"{content_type!r} is not a CloudEvents format"
        )
    return (specversion, "binary")


def _mode_of(content_type: str) -> str:
    """The mode a Content-Type value announces (binary for anything not a CloudEvents format)."""
    essence = parse_media_type(content_type).essence
    if essence.startswith("application/cloudevents-batch+"):
        return "batch"
    return "structured" if essence.startswith("application/cloudevents+") else "binary"


_MODES: Memo[str, str] = Memo(_mode_of)


# -- binary mode ----------------------------------------------------------------------------------------


def encode_binary(event: CloudEvent) -> HTTPMessage:
    """Binary mode: attributes in ``ce-`` headers, data as the body, ``datacontenttype`` as Content-Type.

    The same mapping as :func:`cefmt.codec.canonical_attributes` gives, spelled out: this is the hot
    path of every HTTP sender, and most values need no percent-encoding, which is checked in one search.

    >>> encode_binary(CloudEvent(id="1", source="/s", type="t", data=b"x")).headers["ce-id"]
    '1'
    """
    if _C_BINARY is not None:
        pair = _C_BINARY(event)
        if pair is not FALLBACK:
            return _new_message(HTTPMessage, pair)
    plain = NEEDS_QUOTING.search
    event_id, source, event_type = event.id, event.source, event.type
    headers = {
        "ce-specversion": event.specversion,
        "ce-id": event_id if plain(event_id) is None else quote_header(event_id),
        "ce-source": source if plain(source) is None else quote_header(source),
        "ce-type": event_type if plain(event_type) is None else quote_header(event_type),
    }
    if event.datacontenttype is not None:
        headers[CONTENT_TYPE] = event.datacontenttype
    if event.dataschema is not None:
        headers["ce-" + SPECS[event.specversion].wire_name("dataschema")] = quote_header(event.dataschema)
    if event.subject is not None:
        headers["ce-subject"] = quote_header(event.subject)
    if event.time is not None:
        headers["ce-time"] = format_timestamp(event.time)
    for name, value in event.extensions._items.items():
        headers["ce-" + name] = quote_header(canonical_string(value))
    return _new_message(HTTPMessage, (headers, data_to_body(event)))


# The compiled writer of binary mode, when built: the same message for the events it takes (header
# values that need no percent-encoding, data in JSON or UTF-8 text), FALLBACK for the rest.
_C_BINARY = SPEEDUPS.binary_message if SPEEDUPS is not None else None


def _header_of(attribute: str) -> str:
    return f"header '{CONTENT_TYPE if attribute == 'datacontenttype' else 'ce-' + attribute}'"


def decode_binary(
    message: Any, *, extension_types: Mapping[str, type] | None = None, limits: Limits | None = None
) -> CloudEvent:
    """Binary mode back to an event; every ``ce-`` header is an attribute, header values arrive as strings.

    Extension values keep the string type headers give them unless ``extension_types`` names their
    type (``{"extinteger": int}``). The body is read by the rule of :mod:`cefmt.codec` (JSON parsed,
    text as ``str``, anything else ``bytes``). ``limits`` (:data:`cefmt.DEFAULT_LIMITS` when ``None``)
    bounds the header count, header value length and body size, checked before they are read.

    >>> decode_binary(({"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"}, b"")).id
    '1'
    """
    received = message if type(message) is Received else read(message, limits=limits)
    if _C_BINARY_EVENT is not None and not extension_types:
        bounds = DEFAULT_LIMITS if limits is None else limits
        event = _C_BINARY_EVENT(
            received.attributes, received.body, received.content_type,
            bounds.max_message_bytes, bounds.max_nesting_depth, bounds.max_container_count,
        )  # fmt: skip
        if event is not FALLBACK:
            return event  # type: ignore[no-any-return]
    return event_from_parts(
        dict(received.attributes),
        received.body,
        received.content_type,
        where=_header_of,
        extension_types=extension_types,
        limits=limits,
    )


# -- structured and batch modes ------------------------------------------------------------------------


def _no_format(content_type: str | None, mode: str) -> NoReturn:
    """The error for a structured or batch message whose content type names no event format."""
    prefix = "application/cloudevents-batch+" if mode == "batch" else "application/cloudevents+"
    raise MalformedMessageError(f"content type {content_type!r} is not a {prefix}FORMAT media type")


def encode_structured(event: CloudEvent, *, registry: Registry, format: str = "json") -> HTTPMessage:
    """Structured mode: the whole event in the body, in any event format of ``registry`` (``format=``)."""
    content_type, body = encode_in_format(registry, event, format)
    return _new_message(HTTPMessage, ({CONTENT_TYPE: content_type}, body))


def decode_structured(message: Any, *, registry: Registry, limits: Limits | None = None, **options: Any) -> CloudEvent:
    """Structured mode back to an event; the format comes from ``application/cloudevents+FORMAT``.

    ``limits`` bounds the headers and body here and goes on to the format's decoder when it takes them.
    """
    received = message if type(message) is Received else read(message, limits=limits)
    codec = registry.format_for(received.content_type) or _no_format(received.content_type, "structured")
    if limits is None:
        return codec.decode(received.body, **options)  # type: ignore[no-any-return]
    return codec.decode(received.body, limits=limits, **options)  # type: ignore[no-any-return]


def encode_batch(events: Iterable[CloudEvent], *, registry: Registry, format: str = "json") -> HTTPMessage:
    """Batch mode: events of one spec version in one body, ``application/cloudevents-batch+FORMAT``."""
    events = list(events)
    batch_specversion(events)
    content_type, body = encode_in_format(registry, events, format, "batch")
    return _new_message(HTTPMessage, ({CONTENT_TYPE: content_type}, body))


def decode_batch(message: Any, *, registry: Registry, limits: Limits | None = None, **options: Any) -> list[CloudEvent]:
    """Batch mode back to a list of events; ``limits`` as for :func:`decode_structured`."""
    received = message if type(message) is Received else read(message, limits=limits)
    codec = registry.format_for(received.content_type, "batch") or _no_format(received.content_type, "batch")
    if limits is None:
        return codec.decode(received.body, **options)  # type: ignore[no-any-return]
    return codec.decode(received.body, limits=limits, **options)  # type: ignore[no-any-return]


# -- captured messages in streams ------------------------------------------------------------------------


@attrs.frozen
class _Line:
    # One HTTP message as a stream line: {"headers": {...}, "body_base64": "..."}. A plain-text "body"
    # is read too, for captures typed by hand.
    headers: dict[str, str]
    body_base64: bytes | None = None
    body: str | None = None


def capture_to_json(message: Any) -> dict[str, Any]:
    """An HTTP message (``headers, body``) as one stream line's JSON object.

    >>> capture_to_json(({"ce-id": "1"}, b"hi"))
    {'headers': {'ce-id': '1'}, 'body_base64': 'aGk='}
    """
    headers, body = message
    line = to_capture(_Line(dict(headers), body))
    del line["body"]
    return line


def capture_from_json(doc: dict[str, Any]) -> HTTPMessage:
    """A stream line's JSON object back to the HTTP message it holds.

    >>> capture_from_json({"headers": {"ce-id": "1"}, "body": "hi"})
    HTTPMessage(headers={'ce-id': '1'}, body=b'hi')
    """
    line = from_capture(doc, _Line, "HTTP message")
    body = line.body_base64 if line.body_base64 is not None else (line.body or "").encode("utf-8")
    return _new_message(HTTPMessage, (line.headers, body))


CAPTURE = Capture(capture_to_json, capture_from_json)

binary = Codec(encode=encode_binary, decode=decode_binary, detect=detect, prepare=read, capture=CAPTURE)
structured = Codec(encode=encode_structured, decode=decode_structured, detect=detect, prepare=read, capture=CAPTURE)
batch = Codec(encode=encode_batch, decode=decode_batch, detect=detect, prepare=read, capture=CAPTURE)
