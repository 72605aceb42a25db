"""The XML event format plugin: the draft's documents, independent reads with the standard library's
parser, refusals, and hostile XML (entity expansion, external entities, deep nesting, huge attributes).

Round trips, conversion and garbage for every binding come from ``tests/hardening`` (the VIEWS row).
"""

from __future__ import annotations

import contextlib
import time
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cefmt import (
    CloudEvent,
    CloudEventError,
    EncodeError,
    InvalidAttributeError,
    LimitExceededError,
    Limits,
    MalformedMessageError,
    Timestamp,
    UnsupportedSpecVersionError,
    decode,
    encode,
)
from tests.strategies import events

NS = "{http://cloudevents.io/xmlformat/V1}"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<event xmlns="http://cloudevents.io/xmlformat/V1" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xs="http://www.w3.org/2001/XMLSchema" '
    'xmlns:ce="http://cloudevents.io/xmlformat/V1" specversion="1.0">'
)
CORE = "<id>1</id><source>/s</source><type>t</type>"
REQUIRED = {"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}


def _event(inner: str, head: str = HEAD) -> bytes:
    return (head + inner + "</event>").encode("utf-8")


# -- what cefmt writes, read with the standard library ------------------------------------------------------


def test_attributes_are_elements_and_extensions_carry_xsi_type() -> None:
    event = CloudEvent(
        {**REQUIRED, "subject": "a<b&c>", "dataschema": "urn:x"}, b"\x00\xff", datacontenttype="image/png",
        time="2020-01-02T03:04:05.123456789+02:00", count=-7, flag=False, blob=b"\x01", note="n",
        at=Timestamp.parse("1970-01-01T00:00:00Z"),
    )  # fmt: skip
    root = ET.fromstring(encode(event, "xml"))
    assert root.tag == f"{NS}event" and root.get("specversion") == "1.0"
    found = {child.tag.removeprefix(NS): (child.get(XSI_TYPE), child.text) for child in root}
    assert found == {
        "id": (None, "1"), "source": (None, "/s"), "type": (None, "t"), "datacontenttype": (None, "image/png"),
        "dataschema": (None, "urn:x"), "subject": (None, "a<b&c>"),
        "time": (None, "2020-01-02T03:04:05.123456789+02:00"),
        "count": ("ce:integer", "-7"), "flag": ("ce:boolean", "false"), "blob": ("ce:binary", "AQ=="),
        "note": ("ce:string", "n"), "at": ("ce:timestamp", "1970-01-01T00:00:00Z"),
        "data": ("xs:base64Binary", "AP8="),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("data", "content_type", "written"),
    [("hi", "text/plain", "hi"), ({"a": [1, "é"]}, None, '{"a":[1,"é"]}'), ("hi", None, '"hi"')],
)
def test_text_and_json_data_are_xs_string(data: Any, content_type: str | None, written: str) -> None:
    element = ET.fromstring(encode(CloudEvent(REQUIRED, data, datacontenttype=content_type), "xml")).find(f"{NS}data")
    assert element is not None and (element.get(XSI_TYPE), element.text) == ("xs:string", written)


def test_a_carriage_return_survives_the_parser() -> None:
    event = CloudEvent(REQUIRED, "a\r\nb\rc", datacontenttype="text/plain")
    raw = encode(event, "xml")
    assert b"&#13;" in raw and decode(raw, "xml").data == "a\r\nb\rc"


def test_a_batch_is_a_batch_element_of_events() -> None:
    batch = [CloudEvent(REQUIRED, id=str(i)) for i in range(3)]
    root = ET.fromstring(encode(batch, "xml", "batch"))
    assert root.tag == f"{NS}batch" and [e.find(f"{NS}id").text for e in root] == ["0", "1", "2"]  # type: ignore[union-attr]
    assert decode(encode(batch, "xml", "batch"), "xml") == batch
    assert decode(encode([], "xml", "batch"), "xml") == []


def test_spec_0_3() -> None:
    event = CloudEvent(specversion="0.3", id="1", source="/s", type="t", schemaurl="/rel", data=b"\x01")
    assert ET.fromstring(encode(event, "xml")).find(f"{NS}schemaurl").text == "/rel"  # type: ignore[union-attr]
    assert decode(encode(event, "xml"), "xml") == event


# -- documents as the draft writes them -----------------------------------------------------------------------------

# The draft's example 6.3.2, with a comment and more text around its elements.
PREFIXED = b"""<?xml version="1.0" encoding="UTF-8"?>
<ce:event xmlns:ce="http://cloudevents.io/xmlformat/V1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
          xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:geo="http://someauthority.example/" specversion="1.0" >
    <ce:time>2020-03-19T12:54:00-07:00</ce:time>
    <ce:datacontenttype>application/xml</ce:datacontenttype>
    <ce:id>000-1111-2222</ce:id>
    <ce:source>urn:uuid:123e4567-e89b-12d3-a456-426614174000</ce:source>
    <!-- comments are ignored -->
    <ce:type>SOME.EVENT.TYPE</ce:type>
    <ce:myboolean xsi:type="ce:boolean">false</ce:myboolean>
    <ce:data xsi:type="xs:any">
        <geo:Location><!-- kept --><geo:Latitude>51.509865</geo:Latitude></geo:Location>
    </ce:data>
</ce:event>"""


def test_a_prefixed_document_with_xml_data() -> None:
    event = decode(PREFIXED, "xml")
    assert (event.id, event.type, event["myboolean"]) == ("000-1111-2222", "SOME.EVENT.TYPE", False)
    assert str(event.time) == "2020-03-19T12:54:00-07:00"
    assert event.datacontenttype == "application/xml"
    assert event.data.startswith('<Location xmlns="http://someauthority.example/">')
    element = ET.fromstring(event.data)  # the data element, as XML text; its comment is kept
    assert element.tag == "{http://someauthority.example/}Location"
    assert element.find("{http://someauthority.example/}Latitude").text == "51.509865"  # type: ignore[union-attr]
    assert "<!-- kept -->" in event.data


def test_xs_any_data_without_datacontenttype_is_application_xml() -> None:
    event = decode(_event(CORE + '<data xsi:type="xs:any"><a>1</a></data>'), "xml")
    # <a> is in the event's default namespace, and says so when it stands alone.
    assert (event.data, event.datacontenttype) == (
        '<a xmlns="http://cloudevents.io/xmlformat/V1">1</a>',
        "application/xml",
    )


def test_xs_string_data_without_datacontenttype_is_text_plain() -> None:
    event = decode(_event(CORE + '<data xsi:type="xs:string">hi</data>'), "xml")
    assert (event.data, event.datacontenttype) == ("hi", "text/plain")


def test_xsi_types_are_read() -> None:
    inner = CORE + (
        '<b xsi:type="ce:boolean"> 1 </b><i xsi:type="ce:integer">+42</i><u xsi:type="ce:uri">urn:a</u>'
        '<r xsi:type="ce:uriRef">/x</r><bin xsi:type="ce:binary">TW\nE=</bin>'
        '<ts xsi:type="ce:timestamp">2020-01-01T00:00:00.000000001Z</ts><plain>text</plain>'
        '<time xsi:type="ce:timestamp">2020-01-01T00:00:00Z</time>'
    )
    event = decode(_event(inner), "xml")
    assert (event) == (
        CloudEvent(
            REQUIRED,
            b=True,
            i=42,
            u="urn:a",
            r="/x",
            bin=b"Ma",
            plain="text",
            time="2020-01-01T00:00:00Z",
            ts=Timestamp.parse("2020-01-01T00:00:00.000000001Z"),
        )
    )


# -- refusals -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["a\x00b", "\x01", "x\x1f", "\ufffe", "\uffff"])
def test_text_xml_cannot_hold_is_refused_not_changed(text: str) -> None:
    with pytest.raises(EncodeError, match=r"which XML 1\.0 cannot carry"):
        encode(CloudEvent(REQUIRED, text, datacontenttype="text/plain"), "xml")
    # As JSON the same characters are escapes, and travel.
    assert decode(encode(CloudEvent(REQUIRED, {"t": text}), "xml"), "xml").data == {"t": text}


def test_an_attribute_name_starting_with_a_digit_is_refused() -> None:
    with pytest.raises(EncodeError, match="starts with a digit"):
        encode(CloudEvent(REQUIRED, **{"1x": "v"}), "xml")


# -- hostile XML ------------------------------------------------------------------------------------------------------

BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode() for i in range(1, 10)
    )
    + b']><event xmlns="http://cloudevents.io/xmlformat/V1" specversion="1.0"><id>&lol9;</id></event>'
)

_HOSTILE: list[tuple[bytes, str]] = [
    (BILLION_LAUGHS, "DTDForbidden"),
    (b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]><event>&x;</event>', "DTDForbidden"),
    (b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY % p SYSTEM "http://127.0.0.1:1/x">%p;]><event/>', "DTDForbidden"),
    (b'<?xml version="1.0"?><!DOCTYPE e SYSTEM "http://127.0.0.1:1/e.dtd"><event/>', "DTDForbidden"),
    (b"<event>&undefined;</event>", "not well-formed"),
    (_event(CORE + "<a>" * 100_000 + "</a>" * 100_000), "XML nesting depth 129 exceeds the limit of 128"),
    (_event(CORE + "<a/>" * 200_000), "container count 100001"),
    (_event(CORE + "<x" + ' a="v"' * 0 + ' big="' + "a" * 5_000_000 + '">v</x>'), ""),  # ignored XML attribute
    (_event(CORE + "<data>" + "A" * 5_000_000 + "</data>"), "no xsi:type"),
    (b"<event", "not well-formed"),
    (b'<?xml version="1.0" encoding="ATF-8"?><event/>', "declares the encoding 'ATF-8'"),  # found by hypothesis
    (b'<?xml version="1.0" encoding="utf-7"?><event/>', "declares the encoding"),
    (b"", "not well-formed|no element"),
    (b"\xff\xfe<\x00", "not well-formed"),
    (b"<other/>", "must be an <event>"),
    (_event(CORE, head='<event xmlns="urn:other" specversion="1.0">'), "namespace"),
    (_event(CORE + "<id>2</id>"), "more than once"),
    (_event(CORE + "<subject><b/></subject>"), "child elements"),
    (_event(CORE + "stray text"), "text outside"),
    (_event(CORE + '<data xsi:type="xs:double">1</data>'), "xs:double"),
    (_event(CORE + '<data xsi:type="xs:any">text<a/></data>'), "exactly one element"),
    (_event(CORE + '<data xsi:type="xs:string"><a/></data>'), "must not hold child elements"),
    (_event(CORE + '<data xsi:type="xs:base64Binary">!!!</data>'), "Base64|base64"),
    (_event(CORE + '<x xsi:type="ce:float">1</x>'), "no CloudEvents type"),
    (_event(CORE + '<time xsi:type="ce:integer">1</time>'), "gives it type Timestamp"),
    (_event(CORE + '<x xsi:type="ce:integer">1.5</x>'), "not an Integer"),
    (_event(CORE + '<x xsi:type="ce:boolean">yes</x>'), "xs:boolean"),
    (_event(CORE + '<x xsi:type="ce:timestamp">noon</x>'), "attribute 'x'"),
    (_event("<id>1</id><type>t</type>"), "source"),
    (_event(CORE, head='<event xmlns="http://cloudevents.io/xmlformat/V1" specversion="9.9">'), "specversion"),
]


@pytest.mark.parametrize(("raw", "match"), _HOSTILE)
def test_hostile_xml_raises_cefmt_errors_fast(raw: bytes, match: str) -> None:
    started = time.monotonic()
    try:
        event = decode(raw, "xml", "structured")
    except CloudEventError as exc:
        assert isinstance(exc, (MalformedMessageError, InvalidAttributeError, UnsupportedSpecVersionError))
        assert match, f"refused, but expected to decode: {exc}"
        assert __import__("re").search(match, str(exc)), str(exc)
    else:
        assert not match, f"decoded, but expected {match!r}"
        assert event.id == "1"
    assert time.monotonic() - started < 5  # a bound, not a speed claim


def test_no_request_is_made_for_an_external_entity(tmp_path: Any) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET")
    raw = f'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file://{secret}">]>'.encode() + _event(
        CORE.replace("<id>1</id>", "<id>&x;</id>"), head='<event xmlns="http://cloudevents.io/xmlformat/V1" specversion="1.0">'
    )  # fmt: skip
    with pytest.raises(MalformedMessageError) as info:
        decode(raw, "xml")
    assert "SECRET" not in str(info.value)


def test_limits() -> None:
    raw = encode(CloudEvent(REQUIRED, **{f"x{i}": "v" for i in range(10)}), "xml")
    assert len(decode(raw, "xml", limits=Limits(max_attribute_count=14)).extensions) == 10
    with pytest.raises(LimitExceededError, match="attribute count 14 exceeds the limit of 13"):
        decode(raw, "xml", limits=Limits(max_attribute_count=13))
    with pytest.raises(LimitExceededError, match="size of XML event"):
        decode(raw, "xml", limits=Limits(max_message_bytes=100))
    batch = encode([CloudEvent(REQUIRED, id=str(i)) for i in range(3)], "xml", "batch")
    with pytest.raises(LimitExceededError, match="batch length 3"):
        decode(batch, "xml", limits=Limits(max_batch_length=2))
    deep = _event(CORE + '<data xsi:type="xs:any"><a xmlns=""><b><c/></b></a></data>')
    assert decode(deep, "xml", limits=Limits(max_nesting_depth=5)).data == "<a><b><c /></b></a>"
    with pytest.raises(LimitExceededError, match="XML nesting depth 5 exceeds the limit of 4"):
        decode(deep, "xml", limits=Limits(max_nesting_depth=4))


def test_bindings_use_the_xml_media_types() -> None:
    event = CloudEvent(REQUIRED, "hi", datacontenttype="text/plain")
    message = encode(event, "http", "structured", format="xml")
    assert message.headers == {"content-type": "application/cloudevents+xml"}
    assert decode(message, "http") == event
    batch = encode([event], "http", "batch", format="xml")
    assert batch.headers == {"content-type": "application/cloudevents-batch+xml"}
    assert decode(batch, "http") == [event]
    assert decode(encode(event, "kafka", "structured", format="xml"), "kafka") == event


@settings(max_examples=300, deadline=None)
@given(events(), st.data())
def test_corrupted_documents_never_escape_as_foreign_errors(event: CloudEvent, data: st.DataObject) -> None:
    try:
        raw = bytearray(encode(event, "xml"))
    except EncodeError:
        return
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(1, len(raw)))
    for mode in ("structured", "batch"):
        with contextlib.suppress(CloudEventError):
            decode(bytes(raw[:cut]), "xml", mode)
