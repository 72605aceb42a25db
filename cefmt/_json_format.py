"""The JSON event format (``application/cloudevents+json``) and its batch form, for spec 1.0 and 0.3.

CloudEvents JSON Event Format 1.0: attributes are members of one JSON object, typed as JSON types
(section 2.2); ``data`` holds a JSON value when the content is JSON or text, and binary data goes in
``data_base64`` (section 3.1). Spec 0.3 names the schema ``schemaurl`` and marks Base64 data with
``datacontentencoding``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from ._binding import batch_specversion, event_from_members, plain_data, typed_attributes
from ._data import dump_json, load_json
from ._errors import MalformedMessageError
from ._event import CloudEvent, Data
from ._limits import DEFAULT_LIMITS, Limits
from ._pure import FALLBACK, SPEEDUPS
from ._registry import Codec
from ._spec import SPECS
from ._timestamp import format_timestamp
from ._types import canonical_string, decode_base64

__all__ = ["batch", "decode_batch", "decode_event", "encode_batch", "encode_event", "structured"]

MEDIA_TYPE = "application/cloudevents+json"
BATCH_MEDIA_TYPE = "application/cloudevents-batch+json"


def to_document(event: CloudEvent) -> dict[str, Any]:
    """The event as a JSON-ready ``dict`` (what :func:`encode_event` serializes).

    >>> to_document(CloudEvent(id="1", source="/s", type="t", raw=b"Ma", data=b"\\x00"))
    {'specversion': '1.0', 'id': '1', 'source': '/s', 'type': 't', 'raw': 'TWE=', 'data_base64': 'AA=='}
    """
    doc: dict[str, Any] = typed_attributes(event)
    if event.time is not None:
        doc["time"] = format_timestamp(event.time)
    for name, value in event.extensions._items.items():
        kind = type(value)
        if not (kind is str or kind is int or kind is bool):  # JSON has no Binary or Timestamp
            doc[name] = canonical_string(value)
    data = plain_data(event)
    if data is not None:
        if type(data) is bytes:
            spec = SPECS[event.specversion]
            encoded = canonical_string(data)
            if spec.base64_member is not None:
                doc[spec.base64_member] = encoded
            else:  # 0.3: Base64 text in data, marked by datacontentencoding
                doc[cast(str, spec.data_encoding)] = "base64"
                doc["data"] = encoded
        else:
            doc["data"] = data
    return doc


def from_document(
    doc: object,
    *,
    extension_types: Mapping[str, type] | None = None,
    where: str = "event",
    limits: Limits | None = None,
) -> CloudEvent:
    """Build an event from a parsed JSON object (see :func:`decode_event`); ``doc`` is left as it is."""
    if type(doc) is not dict:
        raise MalformedMessageError(f"{where} must be a JSON object, got {_json_type(doc)}")
    return _from_own_document(dict(doc), extension_types, where, limits, trusted=False)


def _from_own_document(
    members: dict[str, Any],
    extension_types: Mapping[str, type] | None,
    where: str,
    limits: Limits | None,
    trusted: bool = True,
) -> CloudEvent:
    # from_document for a dict the decoder has just parsed: it is consumed instead of copied.
    if len(members) > (DEFAULT_LIMITS if limits is None else limits).max_attribute_count:
        (DEFAULT_LIMITS if limits is None else limits).check_attribute_count(len(members))
    if _C_BUILD is not None and not extension_types:
        # The compiled builder takes a document whose data is in "data" (the members are left as they
        # are when it hands the document back: Base64 data, spec 0.3's extras, anything to report).
        event = _C_BUILD(None, members, members.get("data"), trusted, False, True)
        if event is not FALLBACK:
            return event  # type: ignore[no-any-return]
    data: Data = members.pop("data", None)
    spec = SPECS.get(members.get("specversion"))  # type: ignore[arg-type]
    if spec is not None and spec.base64_member is None and "extensions" in members:
        extensions = members.pop("extensions")
        if isinstance(extensions, dict):  # the 0.3 schema allowed a bag of extensions
            for name, value in extensions.items():
                members.setdefault(name, value)
    encoded = members.pop("data_base64", None)
    if encoded is not None:
        if spec is not None and spec.base64_member != "data_base64":
            raise MalformedMessageError(f"{where}: data_base64 is not a CloudEvents {spec.version} member")
        if data is not None:
            raise MalformedMessageError(f"{where} has both data and data_base64; at most one is allowed")
        data = decode_base64(encoded, f"{where} member 'data_base64'")
    return event_from_members(members, data, where=where, extension_types=extension_types, checked=trusted)


def encode_event(event: CloudEvent) -> bytes:
    """One event as JSON-format bytes (UTF-8).

    >>> encode_event(CloudEvent(id="1", source="/s", type="t"))
    b'{"specversion":"1.0","id":"1","source":"/s","type":"t"}'
    """
    if _C_DOCUMENT is not None:
        written = _C_DOCUMENT(event)
        if written is not FALLBACK:
            return written  # type: ignore[no-any-return]
    return dump_json(to_document(event))


def decode_event(
    raw: bytes | str, *, extension_types: Mapping[str, type] | None = None, limits: Limits | None = None
) -> CloudEvent:
    """JSON-format bytes to an event.

    ``extension_types`` maps extension names to ``int``/``bool``/``bytes``/``Timestamp`` for receivers
    that know the types JSON cannot carry (Binary and Timestamp arrive as strings otherwise).
    ``limits`` bounds the size, nesting depth and attribute count (:data:`cefmt.DEFAULT_LIMITS` by
    default); they are checked before the work they bound.

    >>> decode_event(b'{"specversion":"1.0","id":"1","source":"/s","type":"t"}').id
    '1'
    """
    if _C_DECODE is not None and not extension_types:
        if limits is None:
            event = _C_DECODE(raw, *_DEFAULT_BOUNDS)
        else:
            event = _C_DECODE(
                raw, limits.max_message_bytes, False, limits.max_nesting_depth, limits.max_container_count,
                limits.max_attribute_count, limits.max_batch_length,
            )  # fmt: skip
        if event is not FALLBACK:
            return event  # type: ignore[no-any-return]
    doc = load_json(raw, "JSON event", limits=limits)
    if type(doc) is not dict:
        raise MalformedMessageError(f"event must be a JSON object, got {_json_type(doc)}")
    return _from_own_document(doc, extension_types, "event", limits)


def encode_batch(events: Iterable[CloudEvent]) -> bytes:
    """A list of events of one spec version as a JSON batch (a JSON array; it may be empty)."""
    events = list(events)
    batch_specversion(events)
    if _C_DOCUMENTS is not None:
        written = _C_DOCUMENTS(events)
        if written is not FALLBACK:
            return written  # type: ignore[no-any-return]
    return dump_json([to_document(event) for event in events])


def decode_batch(
    raw: bytes | str, *, extension_types: Mapping[str, type] | None = None, limits: Limits | None = None
) -> list[CloudEvent]:
    """A JSON batch to a list of events; a bad item is reported with its position.

    ``limits`` bounds the size and depth (before parsing) and the batch length (before any event is
    built), as for :func:`decode_event`.

    >>> decode_batch(b"[]")
    []
    """
    if _C_DECODE is not None and not extension_types:
        bounds = DEFAULT_LIMITS if limits is None else limits
        # A batch whose outermost container holds more than max_batch_length items is left to the
        # code below, which reports it as load_json does.
        found = _C_DECODE(
            raw, bounds.max_message_bytes, True, bounds.max_nesting_depth, bounds.max_container_count,
            bounds.max_attribute_count, bounds.max_batch_length,
        )  # fmt: skip
        if found is not FALLBACK:
            batch_specversion(found, MalformedMessageError)
            return found  # type: ignore[no-any-return]
    docs = load_json(raw, "JSON batch", limits=limits, batch=True)
    if type(docs) is not list:
        raise MalformedMessageError(f"a JSON batch must be an array, got {_json_type(docs)}")
    (DEFAULT_LIMITS if limits is None else limits).check_batch_length(len(docs))
    events = [
        _from_own_document(doc, extension_types, f"batch item {index}", limits)
        if type(doc) is dict
        else from_document(doc, where=f"batch item {index}")  # reports what the item is instead
        for index, doc in enumerate(docs)
    ]
    batch_specversion(events, MalformedMessageError)
    return events


def detect(raw: bytes | str) -> tuple[str | None, str]:
    """Structured or batch, from the first non-blank character (``[`` opens a batch)."""
    head = raw[:64].lstrip() if isinstance(raw, (bytes, str)) else b""
    return (None, "batch" if head[:1] in (b"[", "[") else "structured")


def _json_type(value: object) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


structured = Codec(encode=encode_event, decode=decode_event, detect=detect, media_type=MEDIA_TYPE, framing="lines")
batch = Codec(encode=encode_batch, decode=decode_batch, detect=detect, media_type=BATCH_MEDIA_TYPE, framing="lines")

# The compiled writers and builder, when built: the same bytes and events for what they take, FALLBACK
# (and the code above) for the rest.
_C_DOCUMENT = SPEEDUPS.encode_document if SPEEDUPS is not None else None
_C_DOCUMENTS = SPEEDUPS.encode_documents if SPEEDUPS is not None else None
_C_BUILD = SPEEDUPS.build if SPEEDUPS is not None else None
_C_DECODE = SPEEDUPS.decode_documents if SPEEDUPS is not None else None
_DEFAULT_BOUNDS = (
    DEFAULT_LIMITS.max_message_bytes, False, DEFAULT_LIMITS.max_nesting_depth, DEFAULT_LIMITS.max_container_count,
    DEFAULT_LIMITS.max_attribute_count, DEFAULT_LIMITS.max_batch_length,
)  # fmt: skip
