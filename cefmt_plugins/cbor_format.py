"""The CBOR event format (``application/cloudevents+cbor``), spec 1.0 and 0.3, with ``cbor2``.

CloudEvents CBOR Event Format (working draft): one CBOR map per event whose keys are the attribute
names as text strings (section 3). Attributes keep their CloudEvents types natively (section 2.2):
Boolean as ``true``/``false``, Integer as major type 0/1, String as text, Binary as a byte string,
Timestamp as tag 0 (RFC 3339 text, so nanoseconds and the UTC offset travel), URI and URI-reference
(``source``, ``dataschema``) as tag 32. Decoding also accepts untagged strings, as the draft allows.

``data`` (section 3.1): ``bytes`` are a byte string. Under a ``datacontenttype`` that declares CBOR
(``*/cbor``, ``*/*+cbor``) ``bytes`` holding one CBOR data item (not itself a string) are written as
that item, and read back as its exact encoding; text is a text string. Under a JSON type the data is
its JSON text, in a text string (section 3.1.1: "properly encoded according to the datacontenttype").
A ``data`` item without ``datacontenttype`` is read as ``application/cbor`` content, which is then made
explicit (section 3.1.2). ``docs/formats/cbor.md`` has the whole mapping.

The draft defines no batch form, so there is none here.

Decoding is bounded by ``limits=`` (:data:`cefmt.DEFAULT_LIMITS` when ``None``): the size first, then
one walk over the item heads (iterative, no allocation) checks that the message is well-formed and
within the nesting depth, the container count and the attribute count before ``cbor2`` builds
anything. ``cbor2`` then reads only attribute values and non-CBOR data, with every semantic tag that
would run more than a parse (regular expressions, MIME, shared references ...) turned off.

>>> from cefmt import CloudEvent, decode, encode
>>> event = CloudEvent(id="1", source="/s", type="t", data=b"\\x00", count=3, time="2020-01-01T00:00:00.5+01:00")
>>> decode(encode(event, "cbor"), "cbor") == event
True
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

try:
    import cbor2
except ImportError as exc:  # the extra is not installed: say which one
    raise ImportError(f"the CBOR format needs cbor2: pip install 'cefmt[cbor]' ({exc})") from exc

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
from cefmt.codec import (
    Codec,
    canonical_string,
    dump_json,
    event_from_members,
    load_json,
    parse_media_type,
    plain_data,
    typed_attributes,
)

__all__ = ["MEDIA_TYPE", "decode_event", "detect", "encode_event", "is_cbor_media_type", "structured"]

MEDIA_TYPE = "application/cloudevents+cbor"

# RFC 8949 section 3.4: tag 0 is a Standard Date/Time String, tag 32 a URI (RFC 8949 section 3.4.5.3).
_TAG_DATETIME = 0
_TAG_URI = 32
_TAG_BIGNUMS = (2, 3)
_TAG_SELF_DESCRIBED = 55799
# The tags cbor2 decodes itself (cbor2 6.x). Each is turned into an inert CBORTag here, except the
# date/time string (read as text, then as a cefmt Timestamp), bignums and the self-describe prefix:
# a regular expression, a MIME message, shared or string references must not be built from a message.
_CBOR2_SEMANTIC_TAGS = (0, 1, 2, 3, 4, 5, 25, 28, 29, 30, 35, 36, 37, 52, 54, 100, 256, 258, 260, 261, 1004,
                        43000, 55799)  # fmt: skip

# Attributes typed URI or URI-reference (any spec version): written as tag 32.
_URI_ATTRIBUTES = frozenset({"source", "dataschema", "schemaurl"})


# -- what the encoder writes -------------------------------------------------------------------------------


class _Item:
    """Bytes that are already one encoded CBOR data item, written into the output as they are."""

    __slots__ = ("encoded",)

    def __init__(self, encoded: bytes) -> None:
        self.encoded = encoded


def _write_item(encoder: cbor2.CBOREncoder, value: Any) -> None:
    if type(value) is _Item:
        encoder.write(value.encoded)
        return
    raise cbor2.CBOREncodeTypeError(f"cannot encode {type(value).__name__}")


def is_cbor_media_type(content_type: str | None) -> bool:
    """Whether a ``datacontenttype`` declares CBOR content: ``*/cbor`` or ``*/*+cbor`` (section 3.1.1).

    >>> is_cbor_media_type("application/cbor"), is_cbor_media_type("application/senml+cbor; x=1")
    (True, True)
    >>> is_cbor_media_type("application/json"), is_cbor_media_type(None)
    (False, False)
    """
    if content_type is None:
        return False
    subtype = parse_media_type(content_type).essence.partition("/")[2]
    return subtype == "cbor" or subtype.endswith("+cbor")


def to_document(event: CloudEvent) -> dict[str, Any]:
    """The event as the ``dict`` :func:`encode_event` writes with ``cbor2`` (tags as ``CBORTag``)."""
    doc: dict[str, Any] = {}
    for name, value in typed_attributes(event).items():
        if isinstance(value, datetime):
            doc[name] = cbor2.CBORTag(_TAG_DATETIME, canonical_string(value))
        elif name in _URI_ATTRIBUTES and type(value) is str and name not in event.extensions:
            doc[name] = cbor2.CBORTag(_TAG_URI, value)
        else:
            doc[name] = value
    data = plain_data(event)
    if data is None:
        return doc
    content_type = event.datacontenttype
    if type(data) is bytes:
        # Section 3.1.1: binary data is a byte string; CBOR content already encoded is the item itself.
        doc["data"] = _Item(data) if is_cbor_media_type(content_type) and _is_one_item(data) else data
    elif type(data) is str and not _is_json(content_type):
        doc["data"] = data
    else:  # a JSON value, or a JSON string: its JSON text
        doc["data"] = dump_json(data).decode("utf-8")
    return doc


def encode_event(event: CloudEvent) -> bytes:
    """One event as CBOR-format bytes.

    >>> encode_event(CloudEvent(id="1", source="/s", type="t"))[:13]
    b'\\xa4kspecversion'
    """
    document = to_document(event)
    try:
        return cbor2.dumps(document, default=_write_item)
    except UnicodeEncodeError as exc:
        raise EncodeError(
            f"data holds a string with a lone surrogate ({exc.object[exc.start : exc.end]!r}), which is not valid "
            "Unicode and has no UTF-8 form",
            codec="cbor",
        ) from exc
    except (cbor2.CBOREncodeError, TypeError, ValueError) as exc:
        raise EncodeError(f"the event cannot be written as CBOR: {exc}", codec="cbor") from exc


def _is_json(content_type: str | None) -> bool:
    return content_type is not None and parse_media_type(content_type).is_json


def _is_one_item(raw: bytes) -> bool:
    """Whether ``raw`` is exactly one well-formed CBOR data item that is not a byte or text string."""
    if not raw or raw[0] >> 5 in (2, 3):
        return False
    try:
        end, _ = _skip(raw, 0, 0, DEFAULT_LIMITS.max_nesting_depth, [len(raw)])
    except (_Malformed, LimitExceededError):
        return False
    return end == len(raw)


# -- the walk over item heads -------------------------------------------------------------------------------


class _Malformed(Exception):
    pass


_WIDTHS = {24: 1, 25: 2, 26: 4, 27: 8}


def _head(raw: bytes, pos: int) -> tuple[int, int, int, int]:
    """The head at ``pos``: major type, additional information, argument, and where the content starts.

    The argument of an indefinite length (information 31) is -1.
    """
    if pos >= len(raw):
        raise _Malformed(f"the message ends at byte {pos} where an item should start")
    first = raw[pos]
    major, info = first >> 5, first & 0x1F
    if info < 24:
        return major, info, info, pos + 1
    width = _WIDTHS.get(info)
    if width is not None:
        end = pos + 1 + width
        if end > len(raw):
            raise _Malformed(f"the message ends inside the head of the item at byte {pos}")
        return major, info, int.from_bytes(raw[pos + 1 : end], "big"), end
    if info == 31 and major in (2, 3, 4, 5, 7):
        return major, info, -1, pos + 1
    raise _Malformed(f"byte {pos} (0x{first:02x}) is not the start of a well-formed CBOR item")


def _skip(raw: bytes, pos: int, depth: int, max_depth: int, budget: list[int]) -> tuple[int, int]:
    """Walk one well-formed item from ``pos`` without building it: where it ends, and its major type.

    Iterative: ``open`` holds, for every container entered, the items still to read in it (-1 while an
    indefinite one waits for its break). ``depth`` containers sit around the item; ``max_depth`` bounds
    how many are open at once, those included (tags count, since a decoder recurses into them too);
    ``budget[0]`` counts down the maps and arrays met.
    """
    open_: list[int] = []
    first_major = -1
    while True:
        major, info, argument, pos = _head(raw, pos)
        if first_major < 0:
            first_major = major
        if major == 7 and info == 31:  # a break: only inside an indefinite container
            if not open_ or open_[-1] != -1:
                raise _Malformed(f"a break code at byte {pos - 1} closes nothing")
            open_.pop()
        elif major in (2, 3):
            if argument < 0:  # indefinite string: definite chunks of the same major type, then a break
                while True:
                    chunk_major, chunk_info, length, pos = _head(raw, pos)
                    if chunk_major == 7 and chunk_info == 31:
                        break
                    if chunk_major != major or length < 0:
                        raise _Malformed(f"an indefinite-length string holds a chunk of another kind at byte {pos}")
                    pos += length
                    if pos > len(raw):
                        raise _Malformed("a string chunk runs past the end of the message")
            else:
                pos += argument
                if pos > len(raw):
                    raise _Malformed(f"a string of {argument} bytes runs past the end of the message")
        elif major in (4, 5, 6):
            if major != 6:
                budget[0] -= 1
                if budget[0] < 0:
                    raise _TooManyContainers
            if depth + len(open_) >= max_depth:
                raise LimitExceededError("CBOR nesting depth", depth + len(open_) + 1, max_depth)
            if major == 6:
                open_.append(1)
                continue
            count = argument if argument < 0 else argument * (2 if major == 5 else 1)
            if count > len(raw) - pos:  # each item takes a byte at least
                raise _Malformed(f"a container claims {argument} items, more than the message holds")
            if count:
                open_.append(count)
                continue
        elif major == 7 and info in (24,) and argument < 32:
            raise _Malformed(f"simple value {argument} in two bytes at byte {pos - 2} is not well-formed")
        # One item is complete: close every container it completes.
        while open_:
            if open_[-1] == -1:
                break
            open_[-1] -= 1
            if open_[-1]:
                break
            open_.pop()
        if not open_:
            return pos, first_major


class _TooManyContainers(Exception):
    pass


def _members(raw: bytes, limits: Limits) -> list[tuple[int, int, int, int]]:
    """The top-level map's pairs as spans ``(key start, value start, value end, value major type)``,
    after checking the whole message against ``limits``."""
    pos = 0
    if raw[:3] == b"\xd9\xd9\xf7":  # tag 55799, "self-described CBOR": a prefix with no meaning
        pos = 3
    try:
        major, _, count, pos = _head(raw, pos)
    except _Malformed as exc:
        raise MalformedMessageError(f"CBOR event is not well-formed: {exc}") from None
    if major != 5:
        raise MalformedMessageError(f"a CBOR event must be a map, got {_MAJOR_NAMES[major]}")
    if count > limits.max_attribute_count:
        limits.check_attribute_count(count)
    budget = [limits.max_container_count - 1]
    pairs: list[tuple[int, int, int, int]] = []
    try:
        while count < 0 or len(pairs) < count:
            if count < 0 and pos < len(raw) and raw[pos] == 0xFF:
                pos += 1
                break
            if len(pairs) >= limits.max_attribute_count:
                limits.check_attribute_count(len(pairs) + 1)
            key_start = pos
            value_start, _ = _skip(raw, pos, 1, limits.max_nesting_depth, budget)
            pos, value_major = _skip(raw, value_start, 1, limits.max_nesting_depth, budget)
            pairs.append((key_start, value_start, pos, value_major))
    except _TooManyContainers:
        raise LimitExceededError(
            "container count", limits.max_container_count + 1, limits.max_container_count
        ) from None
    except _Malformed as exc:
        raise MalformedMessageError(f"CBOR event is not well-formed: {exc}") from None
    if pos != len(raw):
        raise MalformedMessageError(f"CBOR event has {len(raw) - pos} bytes after its end")
    return pairs


_MAJOR_NAMES = ["an unsigned integer", "a negative integer", "a byte string", "a text string", "an array",
                "a map", "a tagged item", "a simple value or float"]  # fmt: skip


# -- reading values with cbor2 ---------------------------------------------------------------------------


class _DateTimeText(str):
    """The text of a tag-0 item, kept as text: cefmt reads it as a Timestamp with nanoseconds."""

    __slots__ = ()


class _UriText(str):
    """The text of a tag-32 item."""

    __slots__ = ()


def _inert(tag: int) -> Callable[[Any, bool], Any]:
    def keep(value: Any, immutable: bool) -> cbor2.CBORTag:
        return cbor2.CBORTag(tag, value)

    return keep


def _datetime_text(value: Any, immutable: bool) -> Any:
    return _DateTimeText(value) if type(value) is str else cbor2.CBORTag(_TAG_DATETIME, value)


def _unknown_tag(tag: cbor2.CBORTag, immutable: bool) -> Any:
    if tag.tag == _TAG_URI and type(tag.value) is str:
        return _UriText(tag.value)
    return tag


_SEMANTIC = {tag: _inert(tag) for tag in _CBOR2_SEMANTIC_TAGS if tag not in (*_TAG_BIGNUMS, _TAG_SELF_DESCRIBED)}
_SEMANTIC[_TAG_DATETIME] = _datetime_text


def _load(raw: bytes, what: str) -> Any:
    """One item already walked by :func:`_members` (so well-formed and within the limits), built by cbor2.

    Map keys must be strings (``strict_hashable_types``: other keys hash in predictable ways).
    """
    try:
        return cbor2.loads(
            raw, semantic_decoders=_SEMANTIC, tag_hook=_unknown_tag, max_depth=DEFAULT_LIMITS.max_nesting_depth * 4,
            allow_duplicate_keys=False, strict_hashable_types=True,
        )  # fmt: skip
    except cbor2.CBORDecodeError as exc:
        if isinstance(exc.__cause__, UnicodeDecodeError):
            raise MalformedMessageError(
                f"CBOR {what} holds text that is not valid UTF-8: {exc.__cause__.reason}"
            ) from exc
        raise MalformedMessageError(f"CBOR {what} cannot be read: {exc}") from exc
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise MalformedMessageError(f"CBOR {what} cannot be read: {exc}") from exc


def _attribute(name: str, value: Any) -> Any:
    kind = type(value)
    if kind is _DateTimeText:
        try:
            return Timestamp.parse(value)
        except InvalidAttributeError as exc:
            raise InvalidAttributeError(name, exc.rule, value) from None
    if kind is _UriText:
        return str(value)
    if value is None or kind in (str, int, bool, bytes):
        return value
    shown = f"tag {value.tag}" if kind is cbor2.CBORTag else kind.__name__
    raise InvalidAttributeError(name, f"is a CBOR {shown}, which is no CloudEvents type")


def _check_json_value(value: Any, where: str, depth: int) -> None:
    """A JSON value in CBOR clothes: string keys (cbor2 checked), no bytes, tags, NaN or simple values."""
    level = [value]
    while level:
        children: list[Any] = []
        for item in level:
            kind = type(item)
            if kind is str or kind is int or kind is bool or item is None:
                continue
            if kind is float:
                if item - item != 0.0:
                    raise InvalidAttributeError(where, "holds a NaN or infinite number, which JSON values cannot", item)
            elif kind is list:
                children.extend(item)
            elif kind is dict:
                for key in item:
                    if type(key) is not str:
                        raise InvalidAttributeError(where, "holds a map key that is not a text string", key)
                children.extend(item.values())
            else:
                raise InvalidAttributeError(where, f"holds a CBOR {kind.__name__}, which is no JSON value")
        level = children


def _data(raw: bytes, span: tuple[int, int, int], content_type: str | None, limits: Limits) -> tuple[Data, bool]:
    """The data item at ``span`` by section 3.1.2, and whether ``application/cbor`` is to be made explicit."""
    start, end, major = span
    if (content_type is None or is_cbor_media_type(content_type)) and major not in (2, 3):
        return raw[start:end], content_type is None  # the CBOR data item, exactly as it was sent
    return _data_value(_load(raw[start:end], "member 'data'"), content_type, limits)


def decode_event(
    raw: bytes, *, extension_types: Mapping[str, type] | None = None, limits: Limits | None = None
) -> CloudEvent:
    """CBOR-format bytes to an event.

    ``limits`` (:data:`cefmt.DEFAULT_LIMITS` when ``None``) bounds the size, the attribute count, the
    nesting depth and the maps and arrays of the whole message, all checked before anything is built.

    >>> decode_event(encode_event(CloudEvent(id="1", source="/s", type="t", flag=True)))["flag"]
    True
    """
    if limits is None:
        limits = DEFAULT_LIMITS
    if not isinstance(raw, (bytes, bytearray, memoryview)):
        raise MalformedMessageError(f"a CBOR event must be bytes, got {type(raw).__name__}")
    if len(raw) > limits.max_message_bytes:
        limits.check_message_size(raw, "size of CBOR event")
    raw = bytes(raw)
    if not raw:
        raise MalformedMessageError("an empty message is not a CBOR event")
    members = _read_whole(raw, limits)
    if members is None:  # read member by member, with every check made on the way
        return _decode_by_members(raw, extension_types, limits)
    data = members.pop("data", None)
    if data is not None:
        content_type = members.get("datacontenttype")
        data, implied = _data_value(data, content_type if type(content_type) is str else None, limits)
        if implied:
            members["datacontenttype"] = "application/cbor"
    for name, value in members.items():
        members[name] = _attribute(name, value)
    return event_from_members(members, data, extension_types=extension_types)


def _read_whole(raw: bytes, limits: Limits) -> dict[str, Any] | None:
    """The common case in one call to cbor2: a definite map with no more members than allowed, in a
    message too small to hold more containers than allowed, whose data needs no byte span. Anything
    else (and every error, to be reported exactly) is ``None``: read member by member."""
    first = raw[0]
    if not 0xA0 <= first <= 0xB9 or len(raw) > limits.max_container_count:
        return None
    if first > 0xB7:  # the count is in the next one or two bytes
        if len(raw) < (2 if first == 0xB8 else 3) or int.from_bytes(raw[1 : first - 0xB6], "big") > (
            limits.max_attribute_count
        ):
            return None
    elif first - 0xA0 > limits.max_attribute_count:
        return None
    source = io.BytesIO(raw)
    try:
        # cbor2 counts the top-level map as depth 0 and tags as levels, as the walk does.
        decoded = cbor2.CBORDecoder(
            source, semantic_decoders=_SEMANTIC, tag_hook=_unknown_tag, max_depth=limits.max_nesting_depth - 1,
            allow_duplicate_keys=False, strict_hashable_types=True,
        ).decode()  # fmt: skip
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError, _Malformed):
        return None
    if source.tell() != len(raw) or type(decoded) is not dict:
        return None
    data = decoded.get("data")
    if data is not None and type(data) not in (str, bytes):
        content_type = decoded.get("datacontenttype")
        if content_type is None or (type(content_type) is str and is_cbor_media_type(content_type)):
            return None  # CBOR content: its exact bytes come from the walk
    for name in decoded:
        if type(name) is not str:
            return None
    return decoded


def _data_value(value: Any, content_type: str | None, limits: Limits) -> tuple[Data, bool]:
    """Data already built by cbor2 (a string, or anything under a JSON or other type), by section 3.1.2."""
    if content_type is None or is_cbor_media_type(content_type):
        return value, content_type is None and type(value) is str
    if type(value) is str and _is_json(content_type):
        return load_json(value, "member 'data'", limits=limits), False
    if type(value) in (str, bytes):
        return value, False
    if _is_json(content_type):  # a producer that wrote the JSON value as CBOR items
        _check_json_value(value, "data", 0)
        return value, False
    kind = "a map" if type(value) is dict else "an array" if type(value) is list else f"a {type(value).__name__}"
    raise MalformedMessageError(
        f"member 'data': under datacontenttype {content_type!r} data must be a text or byte string, got {kind}"
    )


def _decode_by_members(raw: bytes, extension_types: Mapping[str, type] | None, limits: Limits) -> CloudEvent:
    members: dict[str, Any] = {}
    data_span: tuple[int, int, int] | None = None
    for key_start, value_start, value_end, value_major in _members(raw, limits):
        name = _load(raw[key_start:value_start], "member name")
        if type(name) is not str:
            raise MalformedMessageError(f"a CBOR event's member names are text strings, got {type(name).__name__}")
        if name in members or (name == "data" and data_span is not None):
            raise MalformedMessageError(f"the member {name[:80]!r} appears more than once")
        if name == "data":
            if raw[value_start] != 0xF6:  # null counts as absent, as for every attribute
                data_span = (value_start, value_end, value_major)
            continue
        members[name] = _attribute(name, _load(raw[value_start:value_end], f"member {name[:80]!r}"))
    data: Data = None
    if data_span is not None:
        content_type = members.get("datacontenttype")
        data, implied = _data(raw, data_span, content_type if type(content_type) is str else None, limits)
        if implied:
            members["datacontenttype"] = "application/cbor"
    return event_from_members(members, data, extension_types=extension_types)


def detect(raw: Any) -> tuple[str | None, str]:
    """Always structured: the CBOR format has no batch form.

    >>> detect(b"\\xa0")
    (None, 'structured')
    """
    return (None, "structured")


structured = Codec(encode=encode_event, decode=decode_event, detect=detect, media_type=MEDIA_TYPE)
