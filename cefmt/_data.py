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
from collections.abc import Callable
from json.encoder import c_encode_basestring, c_make_encoder  # type: ignore[attr-defined]
from typing import Any

from ._errors import InvalidAttributeError, LimitExceededError, MalformedMessageError
from ._event import CloudEvent, Data
from ._limits import DEFAULT_LIMITS, Limits
from ._media import parse_media_type
from ._memo import Memo

__all__ = ["body_to_data", "data_to_body", "dump_json", "load_json"]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _not_serializable(value: object) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# Built once and reused. json.dumps and json.loads rebuild their C encoder, or match whitespace with
# regular expressions, on every call: for an event's data that costs more than the serializing itself.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_C_ENCODE: Callable[[Any, int], list[str]] | None = (
    None  # no C accelerator (another interpreter): JSONEncoder.encode does the same, more slowly
    if c_make_encoder is None
    else c_make_encoder(None, _not_serializable, c_encode_basestring, None, ":", ",", False, False, False)
)  # fmt: skip
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]
_JSON_SPACE = " \t\n\r"


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


def dump_json(value: Any, what: str = "data") -> str:
    """Serialize a JSON value compactly (UTF-8 text, no NaN/Infinity); a bad value is a cefmt error.

    >>> dump_json({"a": [1, "é"]})
    '{"a":[1,"é"]}'
    """
    try:
        return _encode(value)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidAttributeError(what, f"is not JSON-serializable: {exc}") from exc


def load_json(raw: bytes | str, where: str, *, limits: Limits | None = None) -> Any:
    """Parse JSON text or UTF-8 bytes; invalid UTF-8, bad JSON and runaway nesting are cefmt errors.

    The size and the nesting depth are checked against ``limits`` (:data:`DEFAULT_LIMITS` when
    ``None``) before the text is decoded or parsed.

    >>> load_json(b'{"a": 1}', "body")
    {'a': 1}
    """
    if limits is None:
        limits = DEFAULT_LIMITS
    size = len(raw)
    if size > limits.max_message_bytes:
        limits.check_message_size(raw, f"size of {where}")
    if size > limits.max_nesting_depth:  # text shorter than the limit cannot nest deeper than it
        try:
            limits.check_json_depth(raw)
        except LimitExceededError as exc:
            exc.at(where)
            raise
    try:
        if type(raw) is bytes:
            text = raw.decode("utf-8")
        else:
            text = raw if isinstance(raw, str) else bytes(raw).decode("utf-8")
        return _decode(text)
    except UnicodeDecodeError as exc:
        raise MalformedMessageError(f"{where} is not valid UTF-8: {exc.reason} at byte {exc.start}") from exc
    except json.JSONDecodeError as exc:
        raise MalformedMessageError(f"{where} is not valid JSON: {exc.msg} at position {exc.pos}") from exc
    except RecursionError as exc:
        raise MalformedMessageError(f"{where} is nested too deeply to parse") from exc
    except ValueError as exc:  # NaN/Infinity, integers over the digit limit
        raise MalformedMessageError(f"{where} is not valid JSON: {exc}") from exc


def data_to_body(event: CloudEvent) -> bytes:
    """The event's data as a binary-mode body (``b""`` when there is none).

    >>> data_to_body(CloudEvent(type="t", source="/s", data={"a": 1}))
    b'{"a":1}'
    """
    data = event.data
    if data is None:
        return b""
    if type(data) is bytes:
        return data
    content_type = event.datacontenttype
    kind = _JSON if content_type is None else _BODY_KINDS[content_type]
    if kind is _JSON or type(data) is not str:  # the record pairs JSON values with JSON types
        return dump_json(data).encode("utf-8")
    charset = "utf-8" if kind is _BYTES else kind
    try:
        return data.encode(charset)
    except UnicodeEncodeError as exc:
        raise InvalidAttributeError(
            "data", f"cannot be encoded in the declared charset {charset}: {exc.reason}"
        ) from exc


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
    kind = _BODY_KINDS[datacontenttype]
    if kind is _JSON:
        return load_json(body, where, limits=limits)  # type: ignore[no-any-return]
    if kind is _BYTES:
        return bytes(body)
    try:
        return bytes(body).decode(kind)
    except UnicodeDecodeError:
        return bytes(body)


_JSON, _BYTES = "json", "bytes"  # told apart from charsets by identity


def _body_kind(datacontenttype: str) -> str:
    """What a body of this content type becomes: ``_JSON``, ``_BYTES`` or the charset to decode it in."""
    media = parse_media_type(datacontenttype)
    return _JSON if media.is_json else (media.charset or "utf-8") if media.is_text else _BYTES


_BODY_KINDS: Memo[str, str] = Memo(_body_kind)
