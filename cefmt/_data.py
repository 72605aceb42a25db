"""Event data as a message body, and back: the one rule every binary mode shares.

Binary-mode bodies are bytes; what the receiver gets back is decided by ``datacontenttype`` alone:

* an empty body is no data (``None``);
* a JSON media type: the body is parsed as JSON (so a ``str`` travels as a JSON string);
* a text media type (``text/*``, XML, any ``charset=``): ``str``, decoded in the declared charset
  (UTF-8 when none is named), or the original ``bytes`` if the body is not valid in that charset;
* anything else, or no content type: ``bytes``, byte for byte.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from json.encoder import c_encode_basestring, c_make_encoder  # type: ignore[attr-defined]
from typing import Any

from ._errors import EncodeError, LimitExceededError, MalformedMessageError
from ._event import CloudEvent, Data, plain_data_of
from ._limits import DEFAULT_LIMITS, Limits
from ._media import parse_media_type
from ._memo import Memo
from ._pure import FALLBACK, PURE, SPEEDUPS

__all__ = ["body_to_data", "data_to_body", "dump_json", "load_json", "plain_data"]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    # json reads 1e400 as infinity, which no encoder can write back: refused like NaN.
    value = float(text)
    if value - value != 0.0:
        raise ValueError(f"the number {text[:40]} is beyond the range of a 64-bit float")
    return value


class _DuplicateMember(ValueError):
    pass


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # RFC 8259 section 4: "The names within an object SHOULD be unique"; a repeated name would leave
    # one of its values silently dropped, so it is refused, as a repeated ce- header is.
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for name, _ in pairs:
            if name in seen:
                raise _DuplicateMember(f"the member {name[:80]!r} appears more than once in an object")
            seen.add(name)
    return obj


def _not_serializable(value: object) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# Built once and reused. json.dumps and json.loads rebuild their C encoder, or match whitespace with
# regular expressions, on every call: for an event's data that costs more than the serializing itself.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _c_encoder() -> Callable[[Any, int], list[str]] | None:
    """The C encoder json.dumps builds, made once; ``None`` (JSONEncoder.encode, the same output, more
    slowly) when there is none, when CEFMT_PURE is set, or when its private signature has changed and
    it no longer writes what JSONEncoder does."""
    if PURE or c_make_encoder is None:
        return None
    try:
        encode = c_make_encoder(None, _not_serializable, c_encode_basestring, None, ":", ",", False, False, False)
        sample = {"a": [1, -2.5, '\u00e9\n"', True, None, {"b": 10**20}], "": ""}
        if "".join(encode(sample, 0)) != _ENCODER.encode(sample):
            return None
    except Exception:  # noqa: BLE001 - any failure of a private interface means: use the public one
        return None
    return encode  # type: ignore[no-any-return]


_C_ENCODE = _c_encoder()
_C_LOADS = SPEEDUPS.loads if SPEEDUPS is not None else None
_C_DUMPS = SPEEDUPS.dumps if SPEEDUPS is not None else None
if SPEEDUPS is not None and _C_ENCODE is not None:  # the writers of _json_format and _http use both
    SPEEDUPS.configure("encoder", _C_ENCODE)
_CONTAINERS = (dict, list)
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float, object_pairs_hook=_object)
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]
_JSON_SPACE = " \t\n\r"
# A \u escape of a surrogate: the only way JSON text read from valid UTF-8 can give a string that is
# not valid Unicode (a lone half of a pair). Pairs are joined by the parser into one character.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE_ESCAPE_TEXT = re.compile(r"\\u[dD][89a-fA-F]")


def _encode(value: Any) -> str:
    # What _ENCODER.encode(value) returns, in one call to the C encoder built above. Without its
    # circular-reference markers a cycle ends in RecursionError, which dump_json reports.
    return "".join(_C_ENCODE(value, 0)) if _C_ENCODE is not None else _ENCODER.encode(value)


def _decode(text: str) -> Any:
    # What _DECODER.decode(text) returns: one value, surrounded by JSON whitespace only.
    start = 0
    if text[:1] in _JSON_SPACE and text:
        start = len(text) - len(text.lstrip(_JSON_SPACE))
    try:
        value, end = _SCAN(text, start)
    except StopIteration as exc:
        raise json.JSONDecodeError("Expecting value", text, exc.value) from None
    if end != len(text):
        extra = text[end:].lstrip(_JSON_SPACE)
        if extra:
            raise json.JSONDecodeError("Extra data", text, len(text) - len(extra))
    return value


def dump_json(value: Any, what: str = "data") -> bytes:
    """Serialize a JSON value compactly as UTF-8 (no NaN/Infinity); what JSON cannot hold is a cefmt
    :class:`~cefmt.EncodeError` naming ``what``.

    >>> dump_json({"a": [1, "é"]})
    b'{"a":[1,"\\xc3\\xa9"]}'
    """
    if _C_DUMPS is not None:
        written = _C_DUMPS(value)
        if written is not FALLBACK:
            return written  # type: ignore[no-any-return]
    try:
        return _encode(value).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise EncodeError(
            f"{what} holds a string with a lone surrogate ({exc.object[exc.start : exc.end]!r}), "
            "which is not valid Unicode and has no UTF-8 form"
        ) from exc
    except (TypeError, ValueError, RecursionError) as exc:
        raise EncodeError(f"{what} is not JSON-serializable: {exc}") from exc


def load_json(raw: bytes | str, where: str, *, limits: Limits | None = None, batch: bool = False) -> Any:
    """Parse JSON text or UTF-8 bytes; invalid UTF-8, bad JSON and runaway nesting are cefmt errors.

    The size, nesting depth and container count are checked against ``limits``
    (:data:`DEFAULT_LIMITS` when ``None``) before the text is decoded or parsed. What JSON text can
    say but a JSON value cannot hold is refused too: an object naming a member twice, a number
    beyond the 64-bit float range, a ``\\u`` escape of half a surrogate pair. With ``batch``, the
    objects in the outermost array are counted against ``max_batch_length`` before parsing too.

    >>> load_json(b'{"a": 1}', "body")
    {'a': 1}
    >>> load_json(b'{"a": 1, "a": 2}', "body")
    Traceback (most recent call last):
    ...
    cefmt...MalformedMessageError: body is not valid JSON: the member 'a' appears more than once in an object
    """
    if limits is None:
        limits = DEFAULT_LIMITS
    size = len(raw)
    if size > limits.max_message_bytes:
        limits.check_message_size(raw, f"size of {where}")
    if _C_LOADS is not None:
        # The compiled parser checks the depth and container count as it goes and leaves anything it
        # does not take as it is (errors, limits, lone surrogates) to the path below, which reports it.
        value = _C_LOADS(raw, limits.max_nesting_depth, limits.max_container_count)
        # A batch whose outermost container holds more than max_batch_length items is reported below.
        if value is not FALLBACK and not (
            batch and type(value) in _CONTAINERS and len(value) > limits.max_batch_length
        ):
            return value
    if limits.may_exceed_json(size) or (batch and size > 2 * limits.max_batch_length):
        try:
            limits.check_json(raw, batch=batch)
        except LimitExceededError as exc:
            raise exc.at(where) from None
    try:
        if type(raw) is bytes:
            text = raw.decode("utf-8")
        else:
            text = raw if isinstance(raw, str) else bytes(raw).decode("utf-8")
        value = _decode(text)
    except UnicodeDecodeError as exc:
        raise MalformedMessageError(f"{where} is not valid UTF-8: {exc.reason} at byte {exc.start}") from exc
    except json.JSONDecodeError as exc:
        raise MalformedMessageError(f"{where} is not valid JSON: {exc.msg} at position {exc.pos}") from exc
    except RecursionError as exc:
        raise MalformedMessageError(f"{where} is nested too deeply to parse") from exc
    except ValueError as exc:  # NaN/Infinity, huge numbers, repeated members
        raise MalformedMessageError(f"{where} is not valid JSON: {exc}") from exc
    if type(raw) is bytes:
        suspect = b"\\u" in raw and _SURROGATE_ESCAPE.search(raw) is not None
    else:
        suspect = "\\u" in text and _SURROGATE_ESCAPE_TEXT.search(text) is not None
    if suspect:
        _check_unicode(value, where)
    return value


def _check_unicode(value: Any, where: str) -> None:
    """Refuse a parsed value holding a lone surrogate (from a ``\\u`` escape; valid UTF-8 has none)."""
    try:
        _encode(value).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MalformedMessageError(
            f"{where} holds a \\u escape of a lone surrogate ({exc.object[exc.start : exc.end]!r}), "
            "which is not valid Unicode"
        ) from exc


def plain_data(event: CloudEvent, converter: Any = None) -> Any:
    """The event's data as an encoder writes it: ``None``, ``bytes``, ``str`` or a JSON value.

    Every encoder reads data through here (never ``event.data`` directly), so that data of a user's
    own type is written in its JSON form (through ``converter``, :data:`cefmt.converter` by default)
    by every codec alike, and untyped data is not copied or frozen on the way out.

    >>> import attrs
    >>> @attrs.frozen
    ... class Reading:
    ...     celsius: float
    >>> plain_data(CloudEvent(id="1", source="/s", type="t", data=Reading(21.5)))
    {'celsius': 21.5}
    """
    return plain_data_of(event, converter)


def data_to_body(event: CloudEvent) -> bytes:
    """The event's data as a binary-mode body (``b""`` when there is none).

    An event whose ``datacontenttype`` is a CloudEvents format's media type cannot travel in binary
    mode: the receiver would take the body for the event itself. That is an :class:`~cefmt.EncodeError`.

    >>> data_to_body(CloudEvent(type="t", source="/s", data={"a": 1}))
    b'{"a":1}'
    """
    content_type = event.datacontenttype
    kind, charset = _AS_JSON if content_type is None else _BODY_KINDS[content_type]
    if kind == _EVENT_FORMAT:
        raise EncodeError(
            f"datacontenttype {content_type!r} is a CloudEvents format, which a receiver reads as the whole "
            "event in structured mode; send this event in structured mode, or give its data another type",
            codec="binary mode",
        )
    data = plain_data(event)
    if data is None:
        return b""
    if type(data) is bytes:
        return data
    if kind == _JSON or type(data) is not str:  # the record pairs JSON values with JSON types
        return dump_json(data)
    try:
        return data.encode(charset)
    except UnicodeEncodeError as exc:
        raise EncodeError(f"data cannot be written in the declared charset {charset}: {exc.reason}") from exc


def body_to_data(
    body: bytes, datacontenttype: str | None, where: str = "body", *, limits: Limits | None = None
) -> Data:
    """A binary-mode body back to data, by the rule in this module's docstring.

    The body's size (and a JSON body's nesting depth) is checked against ``limits`` first.

    >>> body_to_data(b"hi", "text/plain"), body_to_data(b"[1]", "application/json")
    ('hi', [1])
    """
    if not body:
        return None
    if limits is None:
        limits = DEFAULT_LIMITS
    if len(body) > limits.max_message_bytes:
        limits.check_message_size(body, f"size of {where}")
    if datacontenttype is None:
        return bytes(body)
    kind, charset = _BODY_KINDS[datacontenttype]
    if kind == _JSON:
        return load_json(body, where, limits=limits)  # type: ignore[no-any-return]
    if kind == _TEXT:
        try:
            return bytes(body).decode(charset)
        except UnicodeDecodeError:
            return bytes(body)
    if kind == _EVENT_FORMAT:
        raise MalformedMessageError(
            f"a binary-mode message cannot have the content type {datacontenttype!r}: it is a CloudEvents "
            "format, so the body would be the event itself (structured mode)"
        )
    return bytes(body)


# What a body of a content type is: JSON, text (in a charset), bytes, or not allowed in binary mode.
_JSON, _TEXT, _BYTES, _EVENT_FORMAT = range(4)
_AS_JSON = (_JSON, "utf-8")


def _body_kind(datacontenttype: str) -> tuple[int, str]:
    """The kind of body a content type declares, and the charset its text is in (UTF-8 by default)."""
    media = parse_media_type(datacontenttype)
    if media.is_event_format:
        return (_EVENT_FORMAT, "utf-8")
    if media.is_json:
        return _AS_JSON
    if media.is_text:
        return (_TEXT, media.charset or "utf-8")
    return (_BYTES, "utf-8")


_BODY_KINDS: Memo[str, tuple[int, str]] = Memo(_body_kind)

if SPEEDUPS is not None:
    SPEEDUPS.configure("body_kinds", _BODY_KINDS)
