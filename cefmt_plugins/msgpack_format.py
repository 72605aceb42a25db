"""The msgpack event format (``application/cloudevents+msgpack``) and its batch form, spec 1.0 and 0.3.

CloudEvents has no official msgpack format; ``docs/formats/msgpack.md`` writes the mapping down. In
short: one msgpack map per event with the member names of the JSON format, values in msgpack's own
types (Integer as int, Boolean as bool, Binary as ``bin``, Timestamp as the timestamp extension type
with nanoseconds), and ``data`` as native msgpack (``bin`` for bytes, no Base64). A batch is an array
of such maps.

Decoding is bounded by ``limits=`` (a :class:`cefmt.Limits`, :data:`cefmt.DEFAULT_LIMITS` when
``None``): the message size, a batch's length and an event's member count are checked before anything
is unpacked, and the nesting depth of ``data`` before any event is built. msgpack's own limits keep
strings, binaries, arrays, maps and extension values within the message. Every msgpack failure is
reported as :class:`cefmt.MalformedMessageError`.

>>> from cefmt import CloudEvent, decode, encode
>>> event = CloudEvent(id="1", source="/s", type="t", data=b"\\x00\\x01", count=3)
>>> raw = encode(event, "msgpack")
>>> decode(raw, "msgpack") == event, decode(raw, "msgpack").extensions["count"]
(True, 3)
"""

from __future__ import annotations

import math
import struct
import threading
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

import attrs
import msgpack  # type: ignore[import-untyped]  # msgpack ships no type information

from cefmt import (
    DEFAULT_LIMITS,
    CloudEvent,
    Data,
    EncodeError,
    InvalidAttributeError,
    LimitExceededError,
    Limits,
    MalformedMessageError,
    Timestamp,
)
from cefmt.codec import Codec, batch_specversion, event_from_members, plain_data, typed_attributes

__all__ = [
    "BATCH_MEDIA_TYPE",
    "DEFAULT_MAX_SIZE",
    "MEDIA_TYPE",
    "ZONED_TIMESTAMP_EXT",
    "batch",
    "decode_batch",
    "decode_event",
    "detect",
    "encode_batch",
    "encode_event",
    "structured",
]

MEDIA_TYPE = "application/cloudevents+msgpack"
BATCH_MEDIA_TYPE = "application/cloudevents-batch+msgpack"

#: The largest message :func:`decode_event` and :func:`decode_batch` read unless told otherwise:
#: ``cefmt.DEFAULT_LIMITS.max_message_bytes``.
DEFAULT_MAX_SIZE = DEFAULT_LIMITS.max_message_bytes

#: The application extension type cefmt uses for a Timestamp whose UTC offset is not zero:
#: a big-endian signed 16-bit offset in minutes, then the 12-byte payload of msgpack's timestamp type.
ZONED_TIMESTAMP_EXT = 1

_ZONED = struct.Struct(">hIq")  # offset minutes, nanoseconds, seconds (timestamp 96 layout)
_EPOCH = datetime(1970, 1, 1)
_EPOCH_ORDINAL = _EPOCH.toordinal()
_new_tuple = tuple.__new__
_UTC_ZONES: dict[int, timezone] = {0: timezone.utc}
# msgpack's C unpacker keeps containers on a fixed stack: 1024 open at once is a StackError.
_UNPACKER_DEPTH = 1024


# -- Timestamps ---------------------------------------------------------------------------------------


_OFFSET_MINUTES: dict[tzinfo | None, int] = {}


def _instant(value: datetime) -> tuple[int, int, int]:
    """Seconds and nanoseconds since the epoch (UTC), and the UTC offset in minutes."""
    zone = value.tzinfo
    fixed = type(zone) is timezone  # a fixed offset: the same minutes for every time in that zone
    minutes = _OFFSET_MINUTES.get(zone) if fixed else None
    if minutes is None:
        offset = value.utcoffset()
        minutes = 0 if offset is None else offset.days * 1440 + offset.seconds // 60
        if fixed and len(_OFFSET_MINUTES) < 1024:
            _OFFSET_MINUTES[zone] = minutes
    # Whole days from the proleptic ordinal (1970-01-01 is day 719163), then the wall time, then the offset:
    # integer arithmetic only, every year from 1 to 9999 exact.
    days = value.toordinal() - _EPOCH_ORDINAL
    seconds = days * 86400 + value.hour * 3600 + value.minute * 60 + value.second - 60 * minutes
    nanos = value.microsecond * 1000 + (value.nanosecond if isinstance(value, Timestamp) else 0)
    return seconds, nanos, minutes


def _pack_timestamp(value: datetime) -> Any:
    seconds, nanos, minutes = _instant(value)
    if minutes == 0:
        return msgpack.Timestamp(seconds, nanos)
    # ExtType is a named tuple whose __new__ only checks its arguments, valid here by construction.
    return _new_tuple(msgpack.ExtType, (ZONED_TIMESTAMP_EXT, _ZONED.pack(minutes, nanos, seconds)))


def _zone(minutes: int) -> timezone:
    zone = _UTC_ZONES.get(minutes)
    if zone is None:
        zone = _UTC_ZONES[minutes] = timezone(timedelta(minutes=minutes))
    return zone


def _timestamp(seconds: int, nanos: int, minutes: int) -> Timestamp:
    # The offset is applied to the wall time before the record is built, so the instant is exact.
    wall = _EPOCH + timedelta(seconds=seconds + minutes * 60, microseconds=nanos // 1000)
    return Timestamp(
        wall.year, wall.month, wall.day, wall.hour, wall.minute, wall.second, wall.microsecond,
        _zone(minutes), nanosecond=nanos % 1000,
    )  # fmt: skip


class _ZonedTimestamp:
    """What the unpacker's ``ext_hook`` returns for cefmt's zoned timestamp (checked after unpacking)."""

    __slots__ = ("value",)

    def __init__(self, value: Timestamp) -> None:
        self.value = value


def _ext_hook(code: int, payload: bytes) -> Any:
    if code != ZONED_TIMESTAMP_EXT:
        raise ValueError(f"msgpack extension type {code} is not part of the CloudEvents msgpack format")
    if len(payload) != _ZONED.size:
        raise ValueError(f"a zoned timestamp holds {_ZONED.size} bytes, got {len(payload)}")
    minutes, nanos, seconds = _ZONED.unpack(payload)
    if not -(24 * 60) < minutes < 24 * 60 or nanos > 999_999_999:
        raise ValueError("a zoned timestamp has an offset or nanoseconds out of range")
    return _ZonedTimestamp(_timestamp(seconds, nanos, minutes))


def _read_timestamp(value: Any) -> Any:
    if type(value) is msgpack.Timestamp:
        try:
            return _timestamp(value.seconds, value.nanoseconds, 0)
        except (OverflowError, ValueError) as exc:  # outside years 1-9999
            raise MalformedMessageError(f"msgpack timestamp {value.seconds}s is out of range: {exc}") from exc
    if type(value) is _ZonedTimestamp:
        return value.value
    return value


# -- data ---------------------------------------------------------------------------------------------


def _check_json_value(value: Any, where: str, depth: int = 0, max_depth: int | None = None) -> None:
    """A JSON value in msgpack clothes: no nested binary, extension type, non-string key or NaN.

    ``depth`` counts the containers around ``value`` (the event map, a batch's array); with
    ``max_depth`` the whole document may nest no deeper. The walk goes level by level, so it costs no
    Python stack and measures the depth as it goes.
    """
    level = [value]
    while level:
        children: list[Any] = []
        nested = False
        for item in level:
            kind = type(item)
            if kind is str or kind is int or kind is bool or item is None:
                continue
            if kind is float:
                if not math.isfinite(item):
                    raise InvalidAttributeError(where, "holds a NaN or infinite number, which JSON values cannot", item)
            elif kind is list:
                nested = True
                children.extend(item)
            elif kind is dict:
                nested = True
                for key in item:
                    if type(key) is not str:
                        raise InvalidAttributeError(where, "holds a map key that is not a string", key)
                children.extend(item.values())
            else:
                raise InvalidAttributeError(
                    where, f"holds a {kind.__name__} inside a structure; only top-level data may be binary"
                )
        depth += nested
        level = children
    if max_depth is not None and depth > max_depth:
        raise LimitExceededError("msgpack nesting depth", depth, max_depth)


# -- one event ----------------------------------------------------------------------------------------


def to_document(event: CloudEvent) -> dict[str, Any]:
    """The event as a ``dict`` ready for ``msgpack.packb`` (what :func:`encode_event` packs)."""
    doc: dict[str, Any] = typed_attributes(event)
    if event.time is not None:
        doc["time"] = _pack_timestamp(event.time)
    for name, value in event.extensions.items():
        if type(value) is not str and isinstance(value, datetime):  # most extensions are strings
            doc[name] = _pack_timestamp(value)
    data = plain_data(event)  # a JSON value, bytes or str: the record checked it when the event was made
    if data is not None:
        doc["data"] = data
    return doc


# One packer per thread, made once (msgpack.packb makes one per call): a Packer keeps a buffer between calls,
# so threads must not share it.
_PACKERS = threading.local()


def _new_packer() -> Any:
    packer = _PACKERS.packer = msgpack.Packer(use_bin_type=True, datetime=False, strict_types=False)
    return packer


def _pack(value: Any) -> bytes:
    try:
        return (getattr(_PACKERS, "packer", None) or _new_packer()).pack(value)  # type: ignore[no-any-return]
    except UnicodeEncodeError as exc:
        raise EncodeError(
            f"data holds a string with a lone surrogate ({exc.object[exc.start : exc.end]!r}), which is not valid "
            "Unicode and has no UTF-8 form",
            codec="msgpack",
        ) from exc
    except (TypeError, ValueError, OverflowError) as exc:
        raise EncodeError(f"data cannot be written as msgpack: {exc}", codec="msgpack") from exc


class _TooManyContainers(ValueError):
    pass


def _counting_hooks(budget: int) -> dict[str, Any]:
    """Unpacker hooks that count maps and arrays as msgpack builds them and stop past ``budget``.

    msgpack spends one byte on an empty map and Python 64 on the dict, so a message's containers are
    what its memory can be multiplied by; counted only when the message is large enough to matter.
    """
    count = 0

    def counted(container: Any) -> Any:
        nonlocal count
        count += 1
        if count > budget:
            raise _TooManyContainers
        return container

    return {"object_hook": counted, "list_hook": counted}


def _resolve(limits: Limits | None, max_size: int | None) -> Limits:
    if limits is None:
        limits = DEFAULT_LIMITS
    if max_size is not None and max_size != limits.max_message_bytes:
        limits = attrs.evolve(limits, max_message_bytes=max_size)
    return limits


def _length(raw: bytes | bytearray | memoryview, fixed: int, sized: bytes) -> int | None:
    """The item count in the header of a top-level array or map, or ``None`` when it is not one.

    ``fixed`` is the first byte of the fix form (``0x90`` array, ``0x80`` map); ``sized`` the 16- and
    32-bit forms' first bytes.
    """
    first = raw[0]
    if fixed <= first <= fixed + 0x0F:
        return first & 0x0F
    if first not in sized:
        return None
    width = 2 if first == sized[0] else 4
    return int.from_bytes(raw[1 : 1 + width], "big") if len(raw) > width else None


def _unpack(raw: bytes, limits: Limits, what: str) -> Any:
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise MalformedMessageError(f"a msgpack {what} must be bytes, got {type(raw).__name__}")
    size = len(raw)
    if size > limits.max_message_bytes:
        limits.check_message_size(raw, f"size of msgpack {what}")
    if size == 0:
        raise MalformedMessageError(f"an empty message is not a msgpack {what}")
    # The counts in the top-level header are read before msgpack builds anything they count.
    if what == "batch":
        length = _length(raw, 0x90, b"\xdc\xdd")
        if length is not None and length > limits.max_batch_length:
            limits.check_batch_length(length)
    else:
        length = _length(raw, 0x80, b"\xde\xdf")
        if length is not None and length > limits.max_attribute_count:
            limits.check_attribute_count(length)
    # Each map or array takes a byte at least: only a message longer than the budget can exceed it.
    hooks = _counting_hooks(limits.max_container_count) if size > limits.max_container_count else {}
    try:
        # Every length limit is the message's own size: nothing inside can claim more than was sent.
        return msgpack.unpackb(
            raw, raw=False, strict_map_key=True, timestamp=0, use_list=True, ext_hook=_ext_hook,
            max_str_len=size, max_bin_len=size, max_array_len=size, max_map_len=size // 2, max_ext_len=size,
            **hooks,
        )  # fmt: skip
    except _TooManyContainers:
        raise LimitExceededError(
            "container count", limits.max_container_count + 1, limits.max_container_count
        ) from None
    except msgpack.ExtraData as exc:
        raise MalformedMessageError(f"msgpack {what} has {len(exc.extra)} bytes after its end") from exc
    except msgpack.StackError as exc:
        if limits.max_nesting_depth < _UNPACKER_DEPTH:  # the depth is at least the unpacker's stack
            raise LimitExceededError("msgpack nesting depth", _UNPACKER_DEPTH, limits.max_nesting_depth) from exc
        raise MalformedMessageError(f"msgpack {what} is nested too deeply for the msgpack unpacker") from exc
    except (msgpack.FormatError, msgpack.OutOfData) as exc:
        raise MalformedMessageError(f"msgpack {what} is not valid msgpack: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise MalformedMessageError(f"msgpack {what} holds a string that is not valid UTF-8: {exc.reason}") from exc
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        # Truncated input, a non-string map key, an unknown extension type, a timestamp out of range.
        raise MalformedMessageError(f"msgpack {what} cannot be read: {exc}") from exc


def from_document(
    doc: object,
    *,
    extension_types: Mapping[str, type] | None = None,
    where: str = "event",
    limits: Limits | None = None,
    depth: int = 1,
) -> CloudEvent:
    """Build an event from an unpacked msgpack map (see :func:`decode_event`).

    ``limits`` bounds the member count and the nesting depth of ``data``; ``depth`` counts the
    containers the data sits in (1, the event map; 2 in a batch).
    """
    if type(doc) is not dict:
        raise MalformedMessageError(f"{where} must be a msgpack map, got {type(doc).__name__}")
    if limits is None:
        limits = DEFAULT_LIMITS
    if len(doc) > limits.max_attribute_count:
        error = LimitExceededError("attribute count", len(doc), limits.max_attribute_count)
        raise error if where == "event" else error.at(where)
    attributes = {name: _read_timestamp(value) for name, value in doc.items()}
    data: Data = attributes.pop("data", None)
    try:
        if isinstance(data, (dict, list)):
            _check_json_value(data, "data", depth, limits.max_nesting_depth)
        elif type(data) is float and not math.isfinite(data):
            raise InvalidAttributeError("data", "is a NaN or infinite number, which JSON values cannot", data)
        elif not (data is None or type(data) in (bytes, str, int, bool, float)):
            raise InvalidAttributeError("data", f"cannot be a {type(data).__name__}", None)
    except LimitExceededError as exc:
        raise (exc if where == "event" else exc.at(where)) from None
    except InvalidAttributeError as exc:
        raise (exc if where == "event" else exc.at(where)) from None
    # Spec 0.3's datacontentencoding is not written by cefmt (bin needs no Base64), read for tolerance.
    # The walk above made sure data is a JSON value, and msgpack's strict UTF-8 that its strings are valid.
    return event_from_members(attributes, data, where=where, extension_types=extension_types, checked=True)


def encode_event(event: CloudEvent) -> bytes:
    """One event as msgpack-format bytes.

    >>> encode_event(CloudEvent(id="1", source="/s", type="t"))[:13]
    b'\\x84\\xabspecversion'
    """
    return _pack(to_document(event))


def decode_event(
    raw: bytes,
    *,
    extension_types: Mapping[str, type] | None = None,
    limits: Limits | None = None,
    max_size: int | None = None,
) -> CloudEvent:
    """msgpack-format bytes to an event.

    ``limits`` (:data:`cefmt.DEFAULT_LIMITS` when ``None``) bounds the message size and the member count
    (checked before unpacking) and the nesting depth of ``data``; a message over a limit raises
    :class:`cefmt.LimitExceededError`. ``max_size`` is shorthand for ``limits.max_message_bytes``.
    ``extension_types`` is accepted for symmetry with the other decoders; msgpack keeps extension
    types itself, so it matters only for producers that sent strings.

    >>> from cefmt import Limits
    >>> raw = encode_event(CloudEvent(id="1", source="/s", type="t"))
    >>> decode_event(raw).id
    '1'
    >>> decode_event(raw, limits=Limits(max_message_bytes=8))
    Traceback (most recent call last):
    ...
    cefmt...LimitExceededError: size of msgpack event 39 exceeds the limit of 8
    """
    limits = _resolve(limits, max_size)
    return from_document(_unpack(raw, limits, "event"), extension_types=extension_types, limits=limits)


def encode_batch(events: Iterable[CloudEvent]) -> bytes:
    """A list of events (one spec version) as a msgpack array of event maps; it may be empty.

    >>> encode_batch([])
    b'\\x90'
    """
    events = list(events)
    batch_specversion(events)
    return _pack([to_document(event) for event in events])


def decode_batch(
    raw: bytes,
    *,
    extension_types: Mapping[str, type] | None = None,
    limits: Limits | None = None,
    max_size: int | None = None,
) -> list[CloudEvent]:
    """A msgpack batch to a list of events; a bad item is reported with its position.

    ``limits`` as for :func:`decode_event`; the batch length is read from the array's header and
    checked before anything is unpacked.

    >>> decode_batch(b"\\x90")
    []
    """
    limits = _resolve(limits, max_size)
    docs = _unpack(raw, limits, "batch")
    if type(docs) is not list:
        raise MalformedMessageError(f"a msgpack batch must be an array, got {type(docs).__name__}")
    events = [
        from_document(doc, extension_types=extension_types, where=f"batch item {index}", limits=limits, depth=2)
        for index, doc in enumerate(docs)
    ]
    batch_specversion(events, MalformedMessageError)
    return events


def detect(raw: Any) -> tuple[str | None, str]:
    """Structured or batch from the first byte: a msgpack array (fixarray, array 16/32) is a batch.

    >>> detect(b"\\x90"), detect(b"\\x80")
    ((None, 'batch'), (None, 'structured'))
    """
    first = raw[0] if isinstance(raw, (bytes, bytearray)) and raw else 0
    return (None, "batch" if 0x90 <= first <= 0x9F or first in (0xDC, 0xDD) else "structured")


structured = Codec(encode=encode_event, decode=decode_event, detect=detect, media_type=MEDIA_TYPE, framing="msgpack")
batch = Codec(encode=encode_batch, decode=decode_batch, detect=detect, media_type=BATCH_MEDIA_TYPE, framing="msgpack")
