"""HTTP header values and the one header reader of the HTTP binding (sans-I/O).

Values: percent-encoding per the HTTP Protocol Binding 1.0, section 3.1.3.2, and RFC 7230 quoted
strings. Reading: whatever headers a server hands over (a dict, any mapping or object with
``.items()``, a list of pairs; names in any letter case, values as ``str`` or UTF-8 bytes) walked once,
within :class:`~cefmt.Limits`, by :func:`read_headers` (what decoders need) or
:func:`normalize_headers` (every header, for :class:`~cefmt.http.HTTPMessage`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from ._errors import CloudEventError, MalformedMessageError
from ._limits import DEFAULT_LIMITS, Limits
from ._pure import FALLBACK, PURE, SPEEDUPS

__all__ = ["normalize_headers", "percent_decode", "percent_encode", "quote_header", "read_headers", "unquote_header"]

PREFIX = "ce-"
CONTENT_TYPE = "content-type"


# -- values (HTTP Protocol Binding 1.0, section 3.1.3.2; the NATS binding's 3.1.3.2 is the same) ---------------

# "The following characters MUST be percent-encoded: Space (U+0020), Double-quote (U+0022), Percent
# (U+0025), Any characters outside the printable ASCII range of U+0021-U+007E inclusive".
NEEDS_QUOTING = re.compile(r"[^\x21\x23\x24\x26-\x7e]")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def percent_encode(value: str) -> str:
    """A canonical string as a header value: the characters above as ``%XY`` of their UTF-8 bytes
    (upper-case hex), everything else as it is. For every binding whose headers follow section 3.1.3.2.

    >>> percent_encode('say "100%" \u20ac')
    'say%20%22100%25%22%20%E2%82%AC'
    """
    if NEEDS_QUOTING.search(value) is None:
        return value
    return NEEDS_QUOTING.sub(lambda match: "".join(f"%{b:02X}" for b in match.group().encode("utf-8")), value)


def percent_decode(value: str, where: str) -> str:
    """A header value back to the canonical string: an RFC 7230 quoted-string is unwrapped first, then
    one round of percent-decoding; lower-case hex is accepted, and "encoded byte sequences which are
    invalid in UTF-8 MUST be rejected" (section 3.1.3.2). Errors name ``where``.

    >>> percent_decode('"a \\\\"b\\\\""', "header 'ce-subject'"), percent_decode("Euro%20%e2%82%ac", "h")
    ('a "b"', 'Euro €')
    """
    if value[:1] == '"':
        value = _unquote_string(value, where)
    if "%" not in value:
        return value
    if _BAD_PERCENT.search(value):
        raise MalformedMessageError(f"{where}: '%' not followed by two hex digits")
    pieces = value.split("%")
    # surrogatepass: a lone surrogate given as text is refused below as bytes that are not UTF-8.
    raw = bytearray(pieces[0].encode("utf-8", "surrogatepass"))
    for piece in pieces[1:]:
        raw.append(int(piece[:2], 16))
        raw += piece[2:].encode("utf-8", "surrogatepass")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedMessageError(f"{where}: percent-encoded bytes are not valid UTF-8 ({exc.reason})") from exc


def quote_header(value: str) -> str:
    """Percent-encode an attribute's canonical string for an HTTP header (:func:`percent_encode`).

    >>> quote_header("Euro \u20ac \U0001f600")
    'Euro%20%E2%82%AC%20%F0%9F%98%80'
    """
    return percent_encode(value)


def unquote_header(value: str, header: str) -> str:
    """Decode the value of HTTP header ``header`` (:func:`percent_decode`).

    >>> unquote_header("Euro%20%e2%82%ac", "ce-subject")
    'Euro €'
    """
    return percent_decode(value, f"header {header!r}")


def _unquote_string(value: str, where: str) -> str:
    # RFC 7230 section 3.2.6: quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
    if len(value) < 2 or value[-1] != '"':
        raise MalformedMessageError(f"{where}: unterminated quoted string")
    out: list[str] = []
    chars = iter(value[1:-1])
    for char in chars:
        if char == "\\":
            escaped = next(chars, None)
            if escaped is None:
                raise MalformedMessageError(f"{where}: quoted string ends in a backslash")
            out.append(escaped)
        elif char == '"':
            raise MalformedMessageError(f"{where}: unescaped quote inside a quoted string")
        else:
            out.append(char)
    return "".join(out)


# -- reading ------------------------------------------------------------------------------------------------


def _text(value: object, name: str) -> str:
    if isinstance(value, str):  # str subclasses too (aiohttp's istr)
        return str(value) if type(value) is not str else value
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedMessageError(f"header {name!r} is not valid UTF-8") from exc
    raise MalformedMessageError(f"header {name!r} must be text, got {type(value).__name__}")


def _pairs(headers: Any, limits: Limits) -> Iterator[tuple[str, Any]]:
    """``(lower-case name, value as given)`` for each header, counted against the limit as they come
    (or at once, when the headers have a length)."""
    if headers is None:
        return
    if hasattr(headers, "__len__") and len(headers) > limits.max_header_count:
        limits.check_header_count(len(headers))
    pairs: Iterable[Any] = headers.items() if hasattr(headers, "items") else headers
    max_count = limits.max_header_count
    try:
        for count, (name, value) in enumerate(pairs, 1):
            if count > max_count:
                limits.check_header_count(count)
            yield (name if type(name) is str else _text(name, repr(name))).lower(), value
    except (TypeError, ValueError) as exc:
        if isinstance(exc, CloudEventError):
            raise
        raise MalformedMessageError(f"headers must be a mapping or a list of (name, value) pairs: {exc}") from exc


def read_headers(headers: Any, *, limits: Limits | None = None) -> tuple[dict[str, str], str | None]:
    """The CloudEvents part of received headers: every ``ce-`` header's value, percent-decoded, under
    its attribute name, and the Content-Type. Other headers are counted, not read.

    A repeated ``ce-*`` or Content-Type header (in any letter case) is an error: two values for one
    attribute are ambiguous, so cefmt refuses to pick one. Values cefmt reads are held to
    ``limits.max_header_value_length`` before they are decoded.

    >>> read_headers({"CE-ID": "a%20b", "Content-Type": "text/plain", "Host": "x"})
    ({'id': 'a b'}, 'text/plain')
    """
    if limits is None:
        limits = DEFAULT_LIMITS
    if type(headers) is dict and not PURE:
        if len(headers) > limits.max_header_count:
            limits.check_header_count(len(headers))
        found = _read_plain_dict(headers, limits.max_header_value_length)
        if found is not None:
            return found
    attributes: dict[str, str] = {}
    content_type: str | None = None
    max_length = limits.max_header_value_length
    for key, raw in _pairs(headers, limits):
        is_attribute = key.startswith(PREFIX)
        if not is_attribute and key != CONTENT_TYPE:
            continue
        value = raw if type(raw) is str else _text(raw, key)
        if len(value) > max_length:
            limits.check_header_value(value, key)
        if is_attribute:
            attribute = key[3:]
            if attribute in attributes:
                raise MalformedMessageError(f"header {key!r} appears more than once")
            attributes[attribute] = unquote_header(value, key) if "%" in value or value[:1] == '"' else value
        else:
            if content_type is not None:
                raise MalformedMessageError(f"header {key!r} appears more than once")
            content_type = value
    return attributes, content_type


def _read_plain_dict(headers: dict[Any, Any], max_length: int) -> tuple[dict[str, str], str | None] | None:
    """:func:`read_headers` for what most servers hand over, in bulk operations that run in C.

    That is a dict of ``str`` to ``str`` with lower-case names (so no two can name one attribute) and
    values within the length limit. Anything else returns ``None`` and takes the general path, which
    decodes, reports or refuses it header by header.
    """
    if _C_READ is not None:
        found = _C_READ(headers, max_length)
        if found is not FALLBACK:
            return found  # type: ignore[no-any-return]
    try:
        names = "".join(headers)  # raises TypeError for a name that is not a str
    except TypeError:
        return None
    if not names.islower():  # upper-case letters (or none at all): names may differ only in case
        return None
    attributes = {}
    for name, value in headers.items():
        if name[:3] == PREFIX:
            attributes[name[3:]] = value
    content_type = headers.get(CONTENT_TYPE)
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
                attributes[attribute] = unquote_header(value, PREFIX + attribute)
    return attributes, content_type


# The compiled reader, when built: what _read_plain_dict returns for headers it takes, FALLBACK for the rest.
_C_READ = SPEEDUPS.read_headers if SPEEDUPS is not None else None


def normalize_headers(headers: Any, *, limits: Limits | None = None) -> dict[str, str]:
    """Every header, names in lower case, from a mapping, an object with ``.items()`` or a list of pairs.

    A repeated ``ce-*`` or ``Content-Type`` header (in any letter case) is an error, as for
    :func:`read_headers`; other repeated headers are joined with ``", "`` as HTTP allows. ``limits``
    bounds the number of headers and the length of the values cefmt reads (``ce-*``, Content-Type).

    >>> normalize_headers([("CE-ID", "1"), ("X-A", "1"), ("x-a", "2")])
    {'ce-id': '1', 'x-a': '1, 2'}
    """
    if limits is None:
        limits = DEFAULT_LIMITS
    max_length = limits.max_header_value_length
    result: dict[str, str] = {}
    repeated: dict[str, list[str]] = {}  # joined at the end: joining as they come is quadratic
    for key, value in _pairs(headers, limits):
        reads = key.startswith(PREFIX) or key == CONTENT_TYPE
        if reads and isinstance(value, (str, bytes, bytearray)) and len(value) > max_length:
            limits.check_header_value(value, key)
        text = value if type(value) is str else _text(value, key)
        if key in result:
            if reads:
                raise MalformedMessageError(f"header {key!r} appears more than once")
            repeated.setdefault(key, [result[key]]).append(text)
        else:
            result[key] = text
    for key, values in repeated.items():
        result[key] = ", ".join(values)
    return result
