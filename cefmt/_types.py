"""The CloudEvents type system: one checker per type, and the canonical string of every value.

Each checker takes the raw value and the attribute name (for the error) and returns the value in its
canonical Python type, or raises :class:`~cefmt.InvalidAttributeError` naming the rule it broke.
"""

from __future__ import annotations

import base64
import binascii
import re
from datetime import datetime

from ._errors import InvalidAttributeError, MalformedMessageError
from ._memo import Memo
from ._timestamp import Timestamp, format_timestamp, to_timestamp

__all__ = [
    "ExtensionValue",
    "canonical_string",
    "check_binary",
    "check_boolean",
    "check_extension_name",
    "check_extension_value",
    "check_integer",
    "check_media_type",
    "check_string",
    "check_uri",
    "check_uri_reference",
]

#: What an extension attribute may hold: String, Integer, Boolean, Binary or Timestamp.
#: (URI and URI-reference values are strings.)
ExtensionValue = str | bool | int | bytes | Timestamp

# CloudEvents 1.0, Type System, String: "The following characters are disallowed: the 'control
# characters' in the ranges U+0000-U+001F and U+007F-U+009F ...; code points identified as
# noncharacters by Unicode; code points identifying Surrogates, U+D800-U+DBFF and U+DC00-U+DFFF".
_NONCHARACTERS = "".join(f"\\U{plane:04x}fffe\\U{plane:04x}ffff" for plane in range(17))
_DISALLOWED = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f\\ud800-\\udfff\\ufdd0-\\ufdef{_NONCHARACTERS}]")

# CloudEvents 1.0, Attribute Naming Convention: "CloudEvents attribute names MUST consist of
# lower-case letters ('a' to 'z') or digits ('0' to '9') from the ASCII character set."
_NAME = re.compile(r"[a-z0-9]+")

# RFC 3986 section 3.1 scheme, and the characters a URI may hold at all (section 2: unreserved,
# reserved and percent-encoded octets).
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_URI_CHARS = re.compile(r"(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*")
# The same without percent-encoded octets: one character class, four times faster than the alternation.
_URI_PLAIN = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]*")

# RFC 9110 section 8.3.1: media-type = type "/" subtype parameters, where (section 5.6.6)
# parameters = *( OWS ";" OWS [ parameter ] ), parameter = name "=" ( token / quoted-string ).
# Only ASCII: obs-text (octets over 0x7F) is opaque to HTTP and has no form in a header that every
# client can send, so a datacontenttype keeps to what any binding's Content-Type can carry.
_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = r'"(?:[\t \x21\x23-\x5b\x5d-\x7e]|\\[\t \x21-\x7e])*"'
# Written so that each space has one place to go: an ambiguous pattern backtracks exponentially.
_PARAMETER = f"[ \\t]*;(?:[ \\t]*{_TOKEN}=(?:{_TOKEN}|{_QUOTED}))?"
# No whitespace at either end: HTTP strips it from a field value, so it would not come back.
_MEDIA_TYPE = re.compile(f"{_TOKEN}/{_TOKEN}(?:{_PARAMETER})*")


_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1

RESERVED_NAMES = frozenset({"data", "data_base64"})


def check_string(value: object, attribute: str) -> str:
    """A CloudEvents String: ``str`` without control characters, surrogates or noncharacters.

    >>> check_string("caf\\u00e9", "subject")
    'café'
    """
    if type(value) is not str:
        raise InvalidAttributeError(attribute, "must be a String", value)
    if not (value.isascii() and value.isprintable()) and _DISALLOWED.search(value):
        raise InvalidAttributeError(attribute, "contains a character the CloudEvents String type disallows", value)
    return value


def check_nonempty_string(value: object, attribute: str) -> str:
    """A String that must not be empty (``id``, ``type``, ``subject`` ...)."""
    text = check_string(value, attribute)
    if not text:
        raise InvalidAttributeError(attribute, "must be a non-empty string", value)
    return text


def check_uri_reference(value: object, attribute: str) -> str:
    """A non-empty URI-reference (RFC 3986 section 4.1): absolute, or relative like ``/a/b`` or ``#x``.

    >>> check_uri_reference("//authority/path", "source")
    '//authority/path'
    """
    if type(value) is str and value and value.isascii() and value.isprintable():
        text = value  # the common case of check_nonempty_string, without the calls
    else:
        text = check_nonempty_string(value, attribute)
    if not (_URI_CHARS if "%" in text else _URI_PLAIN).fullmatch(text) or text.count("#") > 1:
        raise InvalidAttributeError(attribute, "is not a URI-reference (RFC 3986)", value)
    # A colon before any of "/?#" ends a scheme, which must then be well formed (RFC 3986 section 4.2).
    colon = text.find(":")
    if colon >= 0:
        head = text[:colon]
        if "/" not in head and "?" not in head and "#" not in head and not _SCHEME.match(text):
            raise InvalidAttributeError(attribute, "is not a URI-reference: bad scheme", value)
    return text


def check_uri(value: object, attribute: str) -> str:
    """A non-empty absolute URI (RFC 3986 section 4.3): a scheme, then the rest.

    >>> check_uri("https://example.com/schema", "dataschema")
    'https://example.com/schema'
    """
    text = check_uri_reference(value, attribute)
    if not _SCHEME.match(text):
        raise InvalidAttributeError(attribute, "is not an absolute URI (RFC 3986): no scheme", value)
    return text


def check_media_type(value: object, attribute: str) -> str:
    """A media type as RFC 9110 spells one (section 8.3.1), in ASCII, with optional parameters.

    >>> check_media_type("application/json; charset=utf-8", "datacontenttype")
    'application/json; charset=utf-8'
    """
    if type(value) is str:
        try:
            return _MEDIA_TYPES[value]
        except InvalidAttributeError as exc:
            raise InvalidAttributeError(attribute, exc.rule, value) from None
    text = check_nonempty_string(value, attribute)
    return _check_media_type(text)


def _check_media_type(text: str, attribute: str = "datacontenttype") -> str:
    text = check_nonempty_string(text, attribute)
    if not _MEDIA_TYPE.fullmatch(text):
        raise InvalidAttributeError(
            attribute, "is not a media type (RFC 9110 section 8.3.1: type/subtype; parameters, ASCII only)", text
        )
    return text


# Media types already checked: most applications send a handful, each in every message.
_MEDIA_TYPES: Memo[str, str] = Memo(_check_media_type)


def check_integer(value: object, attribute: str) -> int:
    """A CloudEvents Integer: a signed 32-bit ``int`` (``bool`` is not an Integer)."""
    if type(value) is not int:
        raise InvalidAttributeError(attribute, "must be an Integer", value)
    if not _INT32_MIN <= value <= _INT32_MAX:
        raise InvalidAttributeError(attribute, "is outside the signed 32-bit Integer range", value)
    return value


def check_boolean(value: object, attribute: str) -> bool:
    """A CloudEvents Boolean."""
    if type(value) is not bool:
        raise InvalidAttributeError(attribute, "must be a Boolean", value)
    return value


def check_binary(value: object, attribute: str) -> bytes:
    """A CloudEvents Binary: ``bytes`` (a ``bytearray`` or ``memoryview`` is copied to ``bytes``)."""
    if type(value) is bytes:
        return value
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise InvalidAttributeError(attribute, "must be Binary (bytes)", value)


def check_extension_name(name: object) -> str:
    """An extension attribute name: ``[a-z0-9]+`` and not a name the formats reserve."""
    if type(name) is not str or not _NAME.fullmatch(name):
        raise InvalidAttributeError(
            str(name), "is not a valid attribute name: lower-case ASCII letters and digits only"
        )
    if name in RESERVED_NAMES:
        raise InvalidAttributeError(name, "is reserved for event data and cannot be an extension")
    return name


def check_extension_value(value: object, attribute: str) -> ExtensionValue:
    """An extension value of any CloudEvents type, kept in its own Python type.

    >>> check_extension_value(10, "extinteger"), check_extension_value(True, "extboolean")
    (10, True)
    """
    kind = type(value)
    if kind is str:
        return check_string(value, attribute)
    if kind is bool:
        return value  # type: ignore[return-value]
    if kind is int:
        return check_integer(value, attribute)
    if isinstance(value, datetime):  # Timestamp too: a naive one must be refused
        return to_timestamp(value, attribute)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return check_binary(value, attribute)
    if isinstance(value, float):
        raise InvalidAttributeError(
            attribute, "is a float; CloudEvents has no floating-point type (Integer is 32-bit)", value
        )
    raise InvalidAttributeError(attribute, "must be a String, Integer, Boolean, Binary (bytes) or Timestamp", value)


def canonical_string(value: ExtensionValue) -> str:
    """The canonical string form of an attribute value (CloudEvents 1.0, Type System).

    Booleans are ``true``/``false``, Binary is Base64 (RFC 4648), Timestamps are RFC 3339.

    >>> canonical_string(True), canonical_string(b"Ma"), canonical_string(7)
    ('true', 'TWE=', '7')
    """
    kind = type(value)
    if kind is str:
        return value  # type: ignore[return-value]
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return str(value)
    if kind is bytes:
        return base64.b64encode(value).decode("ascii")  # type: ignore[arg-type]
    if isinstance(value, datetime):
        return format_timestamp(value)
    raise TypeError(f"not a CloudEvents attribute value: {value!r}")


def decode_base64(text: object, where: str) -> bytes:
    """Strict Base64 (RFC 4648 section 4) to bytes; a bad alphabet or padding is a cefmt error."""
    if type(text) is not str:
        raise MalformedMessageError(f"{where} must be a Base64 string, got {type(text).__name__}")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedMessageError(f"{where} is not valid Base64: {exc}") from exc


def coerce_extension(value: ExtensionValue, kind: type, attribute: str) -> ExtensionValue:
    """Read an extension value as ``kind`` (``str``, ``int``, ``bool``, ``bytes`` or ``Timestamp``).

    Formats and headers that carry only strings lose an extension's type; a receiver that knows the
    type restores it from the canonical string with this (``extension_types=`` on the decoders).

    >>> coerce_extension("10", int, "extinteger"), coerce_extension("TWE=", bytes, "extbinary")
    (10, b'Ma')
    """
    if type(value) is kind or (kind is Timestamp and isinstance(value, datetime)):
        return value
    if type(value) is not str:
        raise InvalidAttributeError(attribute, f"cannot be read as {kind.__name__}", value)
    if kind is str:
        return value
    if kind is bool:
        if value not in ("true", "false"):
            raise InvalidAttributeError(attribute, "is not a canonical Boolean (true or false)", value)
        return value == "true"
    if kind is int:
        if not re.fullmatch(r"-?(?:0|[1-9][0-9]{0,9})", value):
            raise InvalidAttributeError(attribute, "is not a canonical Integer", value)
        return check_integer(int(value), attribute)
    if kind is bytes:
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidAttributeError(attribute, "is not canonical Binary (Base64)", value) from exc
    if kind is Timestamp or kind is datetime:
        return to_timestamp(value, attribute)
    raise InvalidAttributeError(attribute, f"has an unknown extension type {kind!r}")
