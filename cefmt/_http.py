"""The HTTP protocol binding: binary, structured and batch modes, spec 1.0 and 0.3 (sans-I/O).

Encoders return an :class:`HTTPMessage` (headers and body) for the caller's HTTP client to send;
decoders take whatever the caller's server received.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

import attrs

from ._data import body_to_data, data_to_body
from ._errors import CloudEventError, InvalidAttributeError, MalformedMessageError
from ._event import CloudEvent
from ._limits import DEFAULT_LIMITS, Limits, accepts_limits
from ._media import parse_media_type
from ._memo import Memo
from ._registry import Codec, default_registry
from ._timestamp import format_timestamp
from ._types import canonical_string, coerce_extension, decode_base64

__all__ = ["HTTPMessage", "batch", "binary", "structured"]

_PREFIX = "ce-"
_STRUCTURED = "application/cloudevents+"
_BATCH = "application/cloudevents-batch+"


@attrs.frozen
class HTTPMessage:
    """An HTTP message's CloudEvents part: header names in lower case, and the body.

    It unpacks like the ``(headers, body)`` tuple of the CloudEvents SDK.

    >>> headers, body = HTTPMessage({"content-type": "text/plain"}, b"hi")
    >>> body
    b'hi'
    """

    headers: dict[str, str]
    body: bytes

    def __iter__(self) -> Any:
        return iter((self.headers, self.body))


_set_headers, _set_body = (HTTPMessage.__dict__[name].__set__ for name in ("headers", "body"))


def _message(headers: dict[str, str], body: bytes) -> HTTPMessage:
    # HTTPMessage(headers, body) for the encoders, through the slots' own setters: the frozen class's
    # __init__ costs twice as much, on every event encoded.
    message = _new_message(HTTPMessage)
    _set_headers(message, headers)
    _set_body(message, body)
    return message


_new_message = object.__new__


# -- header values (HTTP Protocol Binding 1.0, section 3.1.3.2) ---------------------------------------

# "The following characters MUST be percent-encoded: Space (U+0020), Double-quote (U+0022), Percent
# (U+0025), Any characters outside the printable ASCII range of U+0021-U+007E inclusive".
_NEEDS_QUOTING = re.compile(r"[^\x21\x23\x24\x26-\x7e]")
_NEEDS_QUOTING_SEARCH = _NEEDS_QUOTING.search
_SAFE = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"%')
_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def quote_header(value: str) -> str:
    """Percent-encode an attribute's canonical string for an HTTP header (upper-case hex, UTF-8).

    >>> quote_header("Euro \\u20ac \\U0001F600")
    'Euro%20%E2%82%AC%20%F0%9F%98%80'
    """
    if _NEEDS_QUOTING.search(value) is None:
        return value
    return quote(value, safe=_SAFE, encoding="utf-8", errors="strict")


def unquote_header(value: str, header: str) -> str:
    """Decode a header value: an RFC 7230 quoted-string first, then one round of percent-decoding.

    "encoded byte sequences which are invalid in UTF-8 MUST be rejected" (section 3.1.3.2).

    >>> unquote_header("Euro%20%e2%82%ac", "ce-subject")
    'Euro €'
    """
    if value[:1] == '"':
        value = _unquote_string(value, header)
    if "%" not in value:
        return value
    if _PERCENT.search(value):
        raise MalformedMessageError(f"header {header!r}: '%' not followed by two hex digits")
    raw = bytearray()
    pieces = value.split("%")
    raw += pieces[0].encode("utf-8")
    for piece in pieces[1:]:
        raw.append(int(piece[:2], 16))
        raw += piece[2:].encode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedMessageError(
            f"header {header!r}: percent-encoded bytes are not valid UTF-8 ({exc.reason})"
        ) from exc


def _unquote_string(value: str, header: str) -> str:
    # RFC 7230 section 3.2.6: quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
    if len(value) < 2 or value[-1] != '"':
        raise MalformedMessageError(f"header {header!r}: unterminated quoted string")
    out: list[str] = []
    chars = iter(value[1:-1])
    for char in chars:
        if char == "\\":
            escaped = next(chars, None)
            if escaped is None:
                raise MalformedMessageError(f"header {header!r}: quoted string ends in a backslash")
            out.append(escaped)
        elif char == '"':
            raise MalformedMessageError(f"header {header!r}: unescaped quote inside a quoted string")
        else:
            out.append(char)
    return "".join(out)


# -- reading whatever a server hands over --------------------------------------------------------------


def _text(value: object, name: str) -> str:
    if type(value) is str:
        return value
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedMessageError(f"header {name!r} is not valid UTF-8") from exc
    raise MalformedMessageError(f"header {name!r} must be text, got {type(value).__name__}")


def normalize_headers(headers: Any, *, limits: Limits | None = None) -> dict[str, str]:
    """Header names to lower case, from a mapping, an object with ``.items()`` or a list of pairs.

    A repeated ``ce-*`` or ``Content-Type`` header (in any letter case) is an error: two values for one
    attribute are ambiguous, so cefmt refuses to pick one. Other repeated headers are joined with
    ``", "`` as HTTP allows. ``limits`` bounds the number of headers (checked before any is read when
    the headers have a length) and the length of the values cefmt reads (``ce-*``, Content-Type).

    >>> normalize_headers([("CE-ID", "1"), ("X-A", "1"), ("x-a", "2")])
    {'ce-id': '1', 'x-a': '1, 2'}
    """
    if headers is None:
        return {}
    if limits is None:
        limits = DEFAULT_LIMITS
    max_count, max_length = limits.max_header_count, limits.max_header_value_length
    if hasattr(headers, "__len__") and len(headers) > max_count:
        limits.check_header_count(len(headers))
    result: dict[str, str] = {}
    if type(headers) is dict:
        # What most servers hand over: a dict of str to str with no two names differing only in case.
        for name, value in headers.items():
            if type(name) is not str or type(value) is not str:
                break
            key = name.lower()
            if key in result:
                break
            if len(value) > max_length and (key.startswith(_PREFIX) or key == "content-type"):
                limits.check_header_value(value, key)
            result[key] = value
        else:
            return result
        result = {}  # anything else takes the general path below, which decodes, joins or reports it
    pairs: Iterable[Any] = headers.items() if hasattr(headers, "items") else headers
    repeated: dict[str, list[str]] = {}  # joined at the end: joining as they come is quadratic
    try:
        for count, (name, value) in enumerate(pairs, 1):
            if count > max_count:
                limits.check_header_count(count)
            key = _text(name, str(name)).lower()
            reads = key.startswith(_PREFIX) or key == "content-type"
            if reads and isinstance(value, (str, bytes, bytearray)) and len(value) > max_length:
                limits.check_header_value(value, key)
            text = _text(value, key)
            if key in result:
                if reads:
                    raise MalformedMessageError(f"header {key!r} appears more than once")
                repeated.setdefault(key, [result[key]]).append(text)
            else:
                result[key] = text
    except (TypeError, ValueError) as exc:
        if isinstance(exc, CloudEventError):
            raise
        raise MalformedMessageError(f"headers must be a mapping or a list of (name, value) pairs: {exc}") from exc
    for key, values in repeated.items():
        result[key] = ", ".join(values)
    return result


def _split(message: Any, limits: Limits) -> tuple[Any, bytes]:
    """The headers (as given) and the body (as bytes, size checked first) of what a server received."""
    if isinstance(message, (tuple, list)) and len(message) == 2:
        headers, body = message
    elif isinstance(message, HTTPMessage) or hasattr(message, "headers"):
        headers = message.headers
        if hasattr(message, "get_data"):
            body = message.get_data()
        elif hasattr(message, "body"):
            body = message.body
        else:
            body = getattr(message, "content", b"")
    else:
        raise MalformedMessageError(
            f"an HTTP message is a (headers, body) pair or an HTTPMessage, got {type(message).__name__}"
        )
    if type(body) is bytes:
        if len(body) > limits.max_message_bytes:
            limits.check_message_size(body, "size of body")
        return headers, body
    if isinstance(body, (str, bytearray, memoryview)):
        limits.check_message_size(body, "size of body")
        return headers, body.encode("utf-8") if isinstance(body, str) else bytes(body)
    if body is None:
        return headers, b""
    raise MalformedMessageError(f"an HTTP body must be bytes, got {type(body).__name__}")


def as_message(message: Any, *, limits: Limits | None = None) -> HTTPMessage:
    """Turn what a server received into an :class:`HTTPMessage` (header names in lower case).

    Accepts an :class:`HTTPMessage`, a ``(headers, body)`` pair, or an object with ``.headers`` and a
    body in ``.body``, ``.content`` or ``.get_data()`` (Flask, requests, httpx ...). The body's size and
    the headers are checked against ``limits`` (:data:`cefmt.DEFAULT_LIMITS` when ``None``) before they
    are copied.

    >>> as_message(([("CE-ID", "1")], "hi"))
    HTTPMessage(headers={'ce-id': '1'}, body=b'hi')
    """
    if limits is None:
        limits = DEFAULT_LIMITS
    headers, body = _split(message, limits)
    return HTTPMessage(normalize_headers(headers, limits=limits), body)


class Received:
    """What decoding needs from a received HTTP message, read in one pass over its headers.

    ``attributes`` holds every ``ce-`` header's value, percent-decoded, under its attribute name;
    ``content_type`` the Content-Type header; ``body`` the body. :func:`read` makes one, and the
    registry hands the same one to the detector and to the decoder, so a message is read once.
    """

    __slots__ = ("attributes", "body", "content_type")

    def __init__(self, attributes: dict[str, str], content_type: str | None, body: bytes) -> None:
        self.attributes = attributes
        self.content_type = content_type
        self.body = body


def read(message: Any, *, limits: Limits | None = None) -> Received:
    """Read a received message once: ``ce-`` headers as attributes, the content type, the body.

    Header names are case-insensitive; a repeated ``ce-*`` or Content-Type header is an error (see
    :func:`normalize_headers`); other headers are not looked at beyond counting them. Sizes are checked
    against ``limits`` before anything is copied or decoded.

    >>> received = read(({"CE-ID": "a%20b", "Content-Type": "text/plain", "Host": "x"}, b"hi"))
    >>> received.attributes, received.content_type
    ({'id': 'a b'}, 'text/plain')
    """
    if type(message) is Received:
        return message
    if limits is None:
        limits = DEFAULT_LIMITS
    headers, body = _split(message, limits)
    if type(headers) is dict:
        if len(headers) > limits.max_header_count:
            limits.check_header_count(len(headers))
        received = _read_plain_dict(headers, body, limits.max_header_value_length)
        if received is not None:
            return received
        pairs: Iterable[Any] = headers.items()
    elif headers is None:
        pairs = ()
    else:
        if hasattr(headers, "__len__") and len(headers) > limits.max_header_count:
            limits.check_header_count(len(headers))
        pairs = headers.items() if hasattr(headers, "items") else headers
    attributes: dict[str, str] = {}
    content_type: str | None = None
    max_length = limits.max_header_value_length
    max_count = limits.max_header_count
    try:
        for count, (name, raw) in enumerate(pairs, 1):
            if count > max_count:
                limits.check_header_count(count)
            key = (name if type(name) is str else _text(name, repr(name))).lower()
            is_attribute = key.startswith(_PREFIX)
            if not is_attribute and key != "content-type":
                continue
            value = raw if type(raw) is str else _text(raw, key)
            if len(value) > max_length:
                limits.check_header_value(value, key)
            if is_attribute:
                attribute = key[3:]
                if attribute in attributes:
                    raise MalformedMessageError(f"header {key!r} appears more than once")
                attributes[attribute] = unquote_header(value, key) if "%" in value or value.startswith('"') else value
            else:
                if content_type is not None:
                    raise MalformedMessageError(f"header {key!r} appears more than once")
                content_type = value
    except (TypeError, ValueError) as exc:
        if isinstance(exc, CloudEventError):
            raise
        raise MalformedMessageError(f"headers must be a mapping or a list of (name, value) pairs: {exc}") from exc
    return Received(attributes, content_type, body)


def _read_plain_dict(headers: dict[Any, Any], body: bytes, max_length: int) -> Received | None:
    """:func:`read` for what most servers hand over, in bulk operations that run in C.

    That is a dict of ``str`` to ``str`` with lower-case names (so no two can name one attribute) and
    values within the length limit. Anything else returns ``None`` and takes the general path, which
    decodes, reports or refuses it header by header.
    """
    try:
        names = "".join(headers)  # raises TypeError for a name that is not a str
    except TypeError:
        return None
    if not names.islower():  # upper-case letters (or none at all): names may differ only in case
        return None
    attributes = {}
    for name, value in headers.items():
        if name[:3] == "ce-":
            attributes[name[3:]] = value
    content_type = headers.get("content-type")
    try:
        values = "".join(attributes.values())  # raises TypeError for a value that is not a str
    except TypeError:
        return None
    if len(values) > max_length:
        return None
    if content_type is not None and (type(content_type) is not str or len(content_type) > max_length):
        return None
    if "%" in values or '"' in values:  # some value needs decoding: only those are touched
        for attribute, value in attributes.items():
            if "%" in value or value[:1] == '"':
                attributes[attribute] = unquote_header(value, _PREFIX + attribute)
    return Received(attributes, content_type, body)


def detect(message: Any) -> tuple[str | None, str]:
    """The mode of an HTTP message, and its spec version when the headers carry it (binary mode).

    >>> detect(({"content-type": "application/cloudevents+json"}, b"{}"))
    (None, 'structured')
    """
    received = message if type(message) is Received else read(message)  # the registry reads it once
    content_type = received.content_type
    if content_type is not None:
        mode = _MODES[content_type]
        if mode is not _BINARY:
            return (None, mode)
    specversion = received.attributes.get("specversion")
    if specversion is None:
        raise MalformedMessageError(
            "not a CloudEvents HTTP message: no ce-specversion header, and the content type "
            f"{content_type!r} is not a CloudEvents format"
        )
    return (specversion, "binary")


_BINARY = "binary"


def _mode_of(content_type: str) -> str:
    """The mode a Content-Type value announces (binary for anything not a CloudEvents format)."""
    essence = parse_media_type(content_type).essence
    return "batch" if essence.startswith(_BATCH) else "structured" if essence.startswith(_STRUCTURED) else _BINARY


_MODES: Memo[str, str] = Memo(_mode_of)


# -- binary mode ----------------------------------------------------------------------------------------


def encode_binary(event: CloudEvent) -> HTTPMessage:
    """Binary mode: attributes in ``ce-`` headers, data as the body, ``datacontenttype`` as Content-Type.

    >>> encode_binary(CloudEvent(id="1", source="/s", type="t", data=b"x")).headers["ce-id"]
    '1'
    """
    plain = _NEEDS_QUOTING_SEARCH  # most values need no quoting: skip the call for them
    event_id, source, event_type = event.id, event.source, event.type
    headers = {
        "ce-specversion": event.specversion,
        "ce-id": event_id if plain(event_id) is None else quote_header(event_id),
        "ce-source": source if plain(source) is None else quote_header(source),
        "ce-type": event_type if plain(event_type) is None else quote_header(event_type),
    }
    if event.datacontenttype is not None:
        headers["content-type"] = event.datacontenttype
    if event.dataschema is not None:
        name = "ce-schemaurl" if event.specversion == "0.3" else "ce-dataschema"
        headers[name] = quote_header(event.dataschema)
    if event.subject is not None:
        headers["ce-subject"] = quote_header(event.subject)
    if event.time is not None:
        headers["ce-time"] = format_timestamp(event.time)
    for name, value in event.extensions._items.items():
        headers[_PREFIX + name] = quote_header(canonical_string(value))
    return _message(headers, data_to_body(event))


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
    attributes: dict[str, Any] = dict(received.attributes)
    content_type = received.content_type
    if content_type is not None:
        attributes["datacontenttype"] = content_type
    body = received.body
    if attributes.get("specversion") == "0.3":
        encoding = attributes.pop("datacontentencoding", None)
        if encoding == "base64":
            body = decode_base64(body.decode("ascii", "replace"), "body (datacontentencoding base64)")
        elif encoding is not None:
            raise MalformedMessageError(f"header 'ce-datacontentencoding': {encoding!r} is not supported")
    if extension_types:
        for name, kind in extension_types.items():
            if name in attributes:
                attributes[name] = coerce_extension(attributes[name], kind, name)
    try:
        return CloudEvent._from_owned(attributes, body_to_data(body, content_type, limits=limits))
    except InvalidAttributeError as exc:
        where = "body" if exc.attribute == "data" else (
            "header 'content-type'" if exc.attribute == "datacontenttype" else f"header 'ce-{exc.attribute}'"
        )  # fmt: skip
        raise exc.at(where) from exc.__cause__


# -- structured and batch modes ------------------------------------------------------------------------


def _format_name(content_type: str | None, prefix: str) -> str:
    essence = parse_media_type(content_type).essence if content_type else ""
    if not essence.startswith(prefix) or len(essence) == len(prefix):
        raise MalformedMessageError(f"content type {content_type!r} is not a {prefix}FORMAT media type")
    return essence[len(prefix) :]


# The event format a structured or batch Content-Type names.
_STRUCTURED_FORMATS: Memo[str | None, str] = Memo(lambda content_type: _format_name(content_type, _STRUCTURED))
_BATCH_FORMATS: Memo[str | None, str] = Memo(lambda content_type: _format_name(content_type, _BATCH))


def encode_structured(event: CloudEvent, *, format: str = "json") -> HTTPMessage:
    """Structured mode: the whole event in the body, in any registered event format (``format=``)."""
    codec = default_registry.lookup(event.specversion, format, "structured")
    media_type = codec.media_type or f"{_STRUCTURED}{format}"
    return _message({"content-type": media_type}, codec.encode(event))


def decode_structured(message: Any, *, limits: Limits | None = None, **options: Any) -> CloudEvent:
    """Structured mode back to an event; the format comes from ``application/cloudevents+FORMAT``.

    ``limits`` bounds the headers and body here and goes on to the format's decoder when it takes them.
    """
    received = message if type(message) is Received else read(message, limits=limits)
    codec = default_registry.find_format(_STRUCTURED_FORMATS[received.content_type], "structured")
    if limits is not None and accepts_limits(codec.decode):
        options["limits"] = limits
    return codec.decode(received.body, **options)  # type: ignore[no-any-return]


def encode_batch(events: Iterable[CloudEvent], *, format: str = "json") -> HTTPMessage:
    """Batch mode: a list of events (one spec version) in one body, ``application/cloudevents-batch+FORMAT``."""
    events = list(events)
    specversion = events[0].specversion if events else "1.0"
    codec = default_registry.lookup(specversion, format, "batch")
    media_type = codec.media_type or f"{_BATCH}{format}"
    return HTTPMessage({"content-type": media_type}, codec.encode(events))


def decode_batch(message: Any, *, limits: Limits | None = None, **options: Any) -> list[CloudEvent]:
    """Batch mode back to a list of events; ``limits`` as for :func:`decode_structured`."""
    received = message if type(message) is Received else read(message, limits=limits)
    codec = default_registry.find_format(_BATCH_FORMATS[received.content_type], "batch")
    if limits is not None and accepts_limits(codec.decode):
        options["limits"] = limits
    return codec.decode(received.body, **options)  # type: ignore[no-any-return]


binary = Codec(encode=encode_binary, decode=decode_binary, detect=detect, prepare=read)
structured = Codec(encode=encode_structured, decode=decode_structured, detect=detect, prepare=read)
batch = Codec(encode=encode_batch, decode=decode_batch, detect=detect, prepare=read)
