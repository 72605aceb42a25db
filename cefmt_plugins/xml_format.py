"""The XML event format (``application/cloudevents+xml``) and its batch form
(``application/cloudevents-batch+xml``), spec 1.0 and 0.3, per the spec's XML format working draft.

An event is an ``<event specversion="1.0">`` element in the namespace
``http://cloudevents.io/xmlformat/V1`` (section 4); each attribute is a child element named after it
(section 2). Extensions carry their type in ``xsi:type`` (``ce:boolean``, ``ce:integer``,
``ce:string``, ``ce:binary``, ``ce:timestamp``; ``ce:uri`` and ``ce:uriRef`` are read as strings), so
they arrive with the type they left with; core attributes are written without one (the draft makes
it optional) and, when one is read, it must be the attribute's own type. ``<data>`` (section 3) is
``xs:base64Binary`` for ``bytes`` and ``xs:string`` for text; a JSON value (or JSON string) is its JSON
text in ``xs:string`` under its JSON ``datacontenttype``. ``xs:any`` (one child element) is read as
the XML text of that element, with ``application/xml`` when no ``datacontenttype`` is given; text is
never written as ``xs:any``, because a parsed element does not give back the text it was written
from. A batch is a ``<batch>`` of ``<event>`` elements (section 5).

An attribute whose name starts with a digit (``[a-z0-9]+`` allows one) has no XML element name and
is refused. XML 1.0 cannot hold the control characters U+0000-U+0008, U+000B, U+000C, U+000E-U+001F, nor
U+FFFE and U+FFFF, even as character references: text data holding one is refused
(:class:`cefmt.EncodeError`) rather than changed. Carriage returns are written as ``&#13;`` so that
no parser turns them into line feeds.

Parsing goes through ``defusedxml``: no DTD (so no entity expansion, "billion laughs"), no external
entity or reference. ``limits=`` bounds the size before parsing and, while parsing, the element
nesting (``max_nesting_depth``, the event element being level 1), the element count
(``max_container_count``), a batch's events and an event's attributes.

>>> from cefmt import CloudEvent, decode, encode
>>> event = CloudEvent(id="1", source="/s", type="t", data=b"\\x00", count=3)
>>> decode(encode(event, "xml"), "xml") == event
True
"""

from __future__ import annotations

import contextlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

try:
    import defusedxml
    import defusedxml.ElementTree
except ImportError as exc:  # the extra is not installed: say which one
    raise ImportError(f"the XML format needs defusedxml: pip install 'cefmt[xml]' ({exc})") from exc

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
    SPECS,
    Codec,
    batch_specversion,
    canonical_string,
    decode_base64,
    dump_json,
    event_from_members,
    load_json,
    parse_media_type,
    plain_data,
    typed_attributes,
)

__all__ = [
    "BATCH_MEDIA_TYPE",
    "MEDIA_TYPE",
    "NAMESPACE",
    "batch",
    "decode_batch",
    "decode_event",
    "detect",
    "encode_batch",
    "encode_event",
    "structured",
]

MEDIA_TYPE = "application/cloudevents+xml"
BATCH_MEDIA_TYPE = "application/cloudevents-batch+xml"
#: Section 1.2: "The namespace ``http://cloudevents.io/xmlformat/V1`` MUST be used."
NAMESPACE = "http://cloudevents.io/xmlformat/V1"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_XSI_TYPE = f"{{{_XSI}}}type"
_DECLARATIONS = (
    f'xmlns="{NAMESPACE}" xmlns:ce="{NAMESPACE}" xmlns:xsi="{_XSI}" xmlns:xs="http://www.w3.org/2001/XMLSchema"'
)
_PREAMBLE = '<?xml version="1.0" encoding="UTF-8"?>\n'

# The CloudEvents type of each xsi:type designator (section 2), by local name.
_DESIGNATORS = {
    "boolean": "Boolean", "integer": "Integer", "string": "String", "binary": "Binary", "uri": "URI",
    "uriRef": "URI-reference", "timestamp": "Timestamp",
}  # fmt: skip
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})


# -- writing ------------------------------------------------------------------------------------------------


def _text(value: str, what: str) -> str:
    found = _ILLEGAL.search(value)
    if found is not None:
        raise EncodeError(
            f"{what} holds U+{ord(found.group()):04X}, which XML 1.0 cannot carry (not even as a character "
            "reference); send such data as bytes, or in another format",
            codec="xml",
        )
    return value.translate(_ESCAPES)


def _designator(value: Any) -> str:
    kind = type(value)
    if kind is bool:
        return "ce:boolean"
    if kind is int:
        return "ce:integer"
    if kind is bytes:
        return "ce:binary"
    if isinstance(value, datetime):
        return "ce:timestamp"
    return "ce:string"


def _event_element(event: CloudEvent, declarations: str) -> str:
    parts = [f'<event {declarations}specversion="{event.specversion}">']
    extensions = event.extensions
    for name, value in typed_attributes(event).items():
        if name == "specversion":
            continue
        if name[0].isdigit():
            raise EncodeError(
                f"attribute {name!r} starts with a digit, and an XML element name cannot (section 2 names the "
                "element after the attribute)",
                codec="xml",
            )
        text = value if type(value) is str else canonical_string(value)
        typed = f' xsi:type="{_designator(value)}"' if name in extensions else ""
        parts.append(f"<{name}{typed}>{_text(text, f'attribute {name!r}')}</{name}>")
    data = plain_data(event)
    if data is not None:
        if type(data) is bytes:
            parts.append(f'<data xsi:type="xs:base64Binary">{canonical_string(data)}</data>')
        elif type(data) is str and not _is_json(event.datacontenttype):
            parts.append(f'<data xsi:type="xs:string">{_text(data, "text data")}</data>')
        else:
            # JSON escapes every control character; U+FFFE and U+FFFF are escaped here, as JSON allows.
            text = dump_json(data).decode("utf-8").replace("\ufffe", "\\ufffe").replace("\uffff", "\\uffff")
            parts.append(f'<data xsi:type="xs:string">{text.translate(_ESCAPES)}</data>')
    parts.append("</event>")
    return "".join(parts)


def _utf8(document: str) -> bytes:
    try:
        return document.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise EncodeError(
            f"the event holds a string with a lone surrogate ({exc.object[exc.start : exc.end]!r}), which is not "
            "valid Unicode and has no UTF-8 form",
            codec="xml",
        ) from exc


def encode_event(event: CloudEvent) -> bytes:
    """One event as an XML document (UTF-8, with the XML declaration).

    >>> raw = encode_event(CloudEvent(id="1", source="/s", type="t", data="hi", datacontenttype="text/plain", n=3))
    >>> print(raw.decode().replace("><", ">\\n<"))
    <?xml version="1.0" encoding="UTF-8"?>
    <event xmlns="http://cloudevents.io/xmlformat/V1" ... specversion="1.0">
    <id>1</id>
    <source>/s</source>
    <type>t</type>
    <datacontenttype>text/plain</datacontenttype>
    <n xsi:type="ce:integer">3</n>
    <data xsi:type="xs:string">hi</data>
    </event>
    """
    return _utf8(_PREAMBLE + _event_element(event, _DECLARATIONS + " "))


def encode_batch(events: Iterable[CloudEvent]) -> bytes:
    """Events of one spec version as a ``<batch>`` document (it may be empty).

    >>> encode_batch([]).decode().splitlines()[1][:32]
    '<batch xmlns="http://cloudevents'
    """
    events = list(events)
    batch_specversion(events)
    inner = "".join(_event_element(event, "") for event in events)
    return _utf8(f"{_PREAMBLE}<batch {_DECLARATIONS}>{inner}</batch>")


def _is_json(content_type: str | None) -> bool:
    return content_type is not None and parse_media_type(content_type).is_json


# -- parsing ------------------------------------------------------------------------------------------------


# The encodings expat reads itself. A document naming another would have the parser look that name up
# among Python's codecs: what a message says does not choose code, so it is refused.
_ENCODINGS = {b"utf-8", b"utf8", b"utf-16", b"iso-8859-1", b"latin-1", b"us-ascii", b"ascii"}
_DECLARED_ENCODING = re.compile(rb"""\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")


class _Limited(ET.TreeBuilder):
    """A tree builder that counts elements and nesting as the parser reports them, and stops the parse
    (by raising) as soon as one passes its limit: nothing past it is built."""

    def __init__(self, limits: Limits) -> None:
        super().__init__(insert_comments=True)
        self.max_depth = limits.max_nesting_depth
        self.max_elements = limits.max_container_count
        self.depth = 0
        self.elements = 0

    def start(self, tag: Any, attrs: Any) -> ET.Element:
        self.depth += 1
        self.elements += 1
        if self.depth > self.max_depth:
            raise LimitExceededError("XML nesting depth", self.depth, self.max_depth)
        if self.elements > self.max_elements:
            raise LimitExceededError("container count", self.elements, self.max_elements)
        return super().start(tag, attrs)

    def end(self, tag: Any) -> ET.Element:
        self.depth -= 1
        return super().end(tag)


def _parse(raw: Any, limits: Limits | None, what: str) -> tuple[ET.Element, Limits]:
    if limits is None:
        limits = DEFAULT_LIMITS
    if not isinstance(raw, (bytes, bytearray, memoryview, str)):
        raise MalformedMessageError(f"an XML {what} must be bytes, got {type(raw).__name__}")
    if len(raw) > limits.max_message_bytes:
        limits.check_message_size(raw, f"size of XML {what}")
    if isinstance(raw, str):  # text given by the caller: parsed as the UTF-8 it would have been sent as
        try:
            raw = raw.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise MalformedMessageError(f"XML {what} holds a lone surrogate, which is not valid Unicode") from exc
    declared = _DECLARED_ENCODING.match(bytes(raw[:256]))
    if declared is not None and declared.group(1).lower() not in _ENCODINGS:
        raise MalformedMessageError(
            f"XML {what} declares the encoding {declared.group(1)[:40].decode('ascii')!r}; read are "
            f"{b', '.join(sorted(_ENCODINGS)).decode()}"
        )
    parser = defusedxml.ElementTree.DefusedXMLParser(
        target=_Limited(limits), forbid_dtd=True, forbid_entities=True, forbid_external=True
    )
    try:
        parser.feed(bytes(raw))
        root = parser.close()
    except defusedxml.DefusedXmlException as exc:
        raise MalformedMessageError(f"XML {what} is refused: {type(exc).__name__} ({exc})") from exc
    except ET.ParseError as exc:
        raise MalformedMessageError(f"XML {what} is not well-formed XML: {exc}") from exc
    except (LookupError, UnicodeError) as exc:  # an encoding the parser cannot read after all
        raise MalformedMessageError(f"XML {what} cannot be decoded: {exc}") from exc
    if not isinstance(root, ET.Element):
        raise MalformedMessageError(f"XML {what} has no element")
    return root, limits


def _local(tag: Any, where: str) -> str:
    if not isinstance(tag, str):  # a comment or processing instruction
        return ""
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        if namespace != NAMESPACE:
            raise MalformedMessageError(f"{where}: element {local!r} is in namespace {namespace!r}, not {NAMESPACE}")
        return local
    return tag


def _children(element: ET.Element) -> list[ET.Element]:
    return [child for child in element if isinstance(child.tag, str)]


def _value(element: ET.Element, name: str, expected: str | None) -> Any:
    if _children(element):
        raise MalformedMessageError(f"attribute element {name!r} holds child elements (section 2: it must not)")
    text = element.text or ""
    designator = element.get(_XSI_TYPE)
    kind = expected or "String"
    if designator is not None:
        local = designator.rpartition(":")[2]
        found = _DESIGNATORS.get(local)
        if found is None:
            raise InvalidAttributeError(name, f"has xsi:type {designator!r}, which is no CloudEvents type")
        if expected is not None and found != expected and not (expected == "URI-reference" and found == "URI"):
            raise InvalidAttributeError(name, f"has xsi:type {designator!r}, but CloudEvents gives it type {expected}")
        kind = found
    if kind == "Boolean":
        value = text.strip()
        if value not in ("true", "false", "1", "0"):
            raise InvalidAttributeError(name, "is not an xs:boolean (true, false, 1 or 0)", text)
        return value in ("true", "1")
    if kind == "Integer":
        value = text.strip()
        if not re.fullmatch(r"[+-]?[0-9]{1,12}", value):
            raise InvalidAttributeError(name, "is not an Integer", text)
        return int(value)
    if kind == "Binary":
        return decode_base64("".join(text.split()), f"attribute {name!r}")
    if kind == "Timestamp" and expected is None:
        try:
            return Timestamp.parse(text.strip())
        except InvalidAttributeError as exc:
            raise InvalidAttributeError(name, exc.rule, text) from None
    return text


def _data(element: ET.Element, members: dict[str, Any], where: str, limits: Limits) -> Data:
    designator = element.get(_XSI_TYPE)
    if designator is None:
        raise MalformedMessageError(f"{where}: <data> has no xsi:type (section 3: it must be present)")
    kind = designator.rpartition(":")[2]
    children = _children(element)
    content_type = members.get("datacontenttype")
    content_type = content_type if type(content_type) is str else None
    if kind == "any":
        if len(children) != 1 or (element.text or "").strip() or (children[0].tail or "").strip():
            raise MalformedMessageError(f"{where}: xs:any data must hold exactly one element and no other text")
        child = children[0]
        child.tail = None
        members.setdefault("datacontenttype", "application/xml")
        return _xml_text(child)
    if children:
        raise MalformedMessageError(f"{where}: {designator} data must not hold child elements")
    text = element.text or ""
    if kind == "base64Binary":
        return decode_base64("".join(text.split()), f"{where} <data>")
    if kind == "string":
        if content_type is None:
            members["datacontenttype"] = "text/plain"
        elif _is_json(content_type):
            return load_json(text, f"{where} <data>", limits=limits)  # type: ignore[no-any-return]
        return text
    raise MalformedMessageError(f"{where}: <data> has xsi:type {designator!r}; section 3 allows xs:base64Binary, "
                                "xs:string and xs:any")  # fmt: skip


def _xml_text(element: ET.Element) -> str:
    """An element as XML text: its own namespace as the default one where every name has a namespace."""
    if isinstance(element.tag, str) and element.tag.startswith("{"):
        with contextlib.suppress(ValueError):  # a name without a namespace: prefixes, below
            return ET.tostring(element, encoding="unicode", default_namespace=element.tag[1:].partition("}")[0])
    return ET.tostring(element, encoding="unicode")


def _to_event(
    element: ET.Element, where: str, extension_types: Mapping[str, type] | None, limits: Limits
) -> CloudEvent:
    if _local(element.tag, where) != "event":
        raise MalformedMessageError(f"{where} must be an <event> element, got <{_local(element.tag, where)}>")
    if (element.text or "").strip():
        raise MalformedMessageError(f"{where}: <event> holds text outside its elements (section 4: it must not)")
    specversion = element.get("specversion")
    spec = SPECS.get(specversion or "")
    members: dict[str, Any] = {"specversion": specversion}
    children = _children(element)
    if len(children) + 1 > limits.max_attribute_count:
        error = LimitExceededError("attribute count", len(children) + 1, limits.max_attribute_count)
        raise error if where == "event" else error.at(where)
    data: Data = None
    data_element = None
    for child in children:
        name = _local(child.tag, where)
        if (child.tail or "").strip():
            raise MalformedMessageError(f"{where}: <event> holds text outside its elements (section 4: it must not)")
        if name in members or (name == "data" and data_element is not None):
            raise MalformedMessageError(f"{where}: element <{name[:80]}> appears more than once")
        if name == "data":
            data_element = child
            continue
        expected = spec.types.get(name) if spec is not None else None
        try:
            members[name] = _value(child, name, expected)
        except InvalidAttributeError as exc:
            raise (exc if where == "event" else exc.at(where)) from None
    if data_element is not None:
        data = _data(data_element, members, where, limits)
    return event_from_members(members, data, where=where, extension_types=extension_types)


def decode_event(
    raw: bytes, *, extension_types: Mapping[str, type] | None = None, limits: Limits | None = None
) -> CloudEvent:
    """An XML event document to an event.

    >>> decode_event(encode_event(CloudEvent(id="1", source="/s", type="t", n=3)))["n"]
    3
    """
    root, limits = _parse(raw, limits, "event")
    return _to_event(root, "event", extension_types, limits)


def decode_batch(
    raw: bytes, *, extension_types: Mapping[str, type] | None = None, limits: Limits | None = None
) -> list[CloudEvent]:
    """An XML ``<batch>`` document to a list of events; a bad item is reported with its position.

    >>> decode_batch(encode_batch([CloudEvent(id="1", source="/s", type="t")]))[0].id
    '1'
    """
    root, limits = _parse(raw, limits, "batch")
    if _local(root.tag, "batch") != "batch":
        raise MalformedMessageError(f"an XML batch must be a <batch> element, got <{_local(root.tag, 'batch')}>")
    items = _children(root)
    limits.check_batch_length(len(items))
    events = [_to_event(item, f"batch item {index}", extension_types, limits) for index, item in enumerate(items)]
    batch_specversion(events, MalformedMessageError)
    return events


_FIRST_ELEMENT = re.compile(rb"<(?![?!])(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")


def detect(raw: Any) -> tuple[str | None, str]:
    """Structured or batch, from the name of the first element (``<batch>`` or ``<event>``).

    >>> detect(b'<?xml version="1.0"?><batch/>'), detect(b"<ce:event/>")
    ((None, 'batch'), (None, 'structured'))
    """
    head = raw[:1024] if isinstance(raw, (bytes, bytearray)) else b""
    found = _FIRST_ELEMENT.search(bytes(head))
    return (None, "batch" if found is not None and found.group(1) == b"batch" else "structured")


structured = Codec(encode=encode_event, decode=decode_event, detect=detect, media_type=MEDIA_TYPE)
batch = Codec(encode=encode_batch, decode=decode_batch, detect=detect, media_type=BATCH_MEDIA_TYPE)
