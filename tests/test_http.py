"""The HTTP binding: header encoding (section 3.1.3.2), modes, content types, the SDK-style API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

import cefmt
from cefmt import CloudEvent, Codec, MalformedMessageError, UnknownCodecError, _http, decode, encode
from cefmt.http import HTTPMessage, from_http, from_http_batch, quote_header, to_binary, to_structured, unquote_header

from .conftest import vectors_dir
from .strategies import strings

BASE = {"id": "1", "source": "/s", "type": "t"}


# -- header values -------------------------------------------------------------------------------------


def test_spec_example_is_encoded_exactly() -> None:
    assert quote_header("Euro € 😀") == "Euro%20%E2%82%AC%20%F0%9F%98%80"


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        ("plain", "plain"), ("Euro%20%e2%82%ac", "Euro €"), ("%41%42", "AB"), ("a+b", "a+b"),
        ('"quoted value"', "quoted value"), ('"with \\"escapes\\" and %25"', 'with "escapes" and %'),
        ("%F0%9F%98%80", "😀"),
    ],
)  # fmt: skip
def test_header_values_decode(raw: str, decoded: str) -> None:
    assert unquote_header(raw, "ce-x") == decoded


@pytest.mark.parametrize("raw", ["%C0%A0", "%FF", "%E2%82", "%4", "%zz", "100%", '"open', '"a"b"', '"ends\\'])
def test_bad_header_values_are_rejected_by_name(raw: str) -> None:
    with pytest.raises(MalformedMessageError, match="ce-x"):
        unquote_header(raw, "ce-x")


@given(strings)
def test_header_quoting_round_trips_and_stays_printable_ascii(value: str) -> None:
    quoted = quote_header(value)
    assert all("\x21" <= char <= "\x7e" and char != '"' for char in quoted)
    assert unquote_header(quoted, "ce-x") == value


def test_only_what_must_be_encoded_is_encoded() -> None:
    printable = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) not in '"%')
    assert quote_header(printable) == printable
    assert quote_header(' "%') == "%20%22%25"


# -- binary mode -----------------------------------------------------------------------------------------


def test_binary_headers() -> None:
    event = CloudEvent(BASE | {"subject": "héllo wörld", "time": "2020-01-01T00:00:00Z", "dataschema": "https://x/s"},
                       {"a": 1}, ext=5, flag=True, blob=b"Ma")  # fmt: skip
    headers, body = to_binary(event)
    assert headers == {
        "ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t", "content-type": "application/json",
        "ce-dataschema": "https://x/s", "ce-subject": "h%C3%A9llo%20w%C3%B6rld", "ce-time": "2020-01-01T00:00:00Z",
        "ce-ext": "5", "ce-flag": "true", "ce-blob": "TWE=",
    }  # fmt: skip
    assert body == b'{"a":1}'


@pytest.mark.parametrize(
    ("content_type", "body", "data"),
    [
        ("application/json", b'{"a": [1, "\xc3\xa9"]}', {"a": [1, "é"]}),
        ("application/json; charset=utf-8", b'"text"', "text"),
        ("application/cloudevents-custom+json", b"[]", []),
        ("text/plain", b"hi \xc3\xa9", "hi é"),
        ("text/plain; charset=iso-8859-1", b"caf\xe9", "café"),
        ("text/plain", b"\xff\xfe not utf-8", b"\xff\xfe not utf-8"),
        ("application/xml", b"<a/>", "<a/>"),
        ("application/octet-stream", b"\x00\x01", b"\x00\x01"),
        (None, b"\x00\x01", b"\x00\x01"),
        ("application/json", b"", None),
    ],
)
def test_binary_body_by_content_type(content_type: str | None, body: bytes, data: Any) -> None:
    headers = {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"}
    if content_type:
        headers["Content-Type"] = content_type
    event = decode((headers, body), "http")
    assert event.data == data and isinstance(event.data, type(data))
    assert event.datacontenttype == content_type


def test_header_names_are_case_insensitive_and_pairs_are_accepted() -> None:
    pairs = [("CE-SpecVersion", "1.0"), ("Ce-Id", "1"), ("ce-SOURCE", "/s"), ("CE-TYPE", "t"), ("X-Other", "a"),
             ("x-other", "b")]  # fmt: skip
    assert decode((pairs, b""), "http") == CloudEvent(BASE)


def test_repeated_ce_header_is_an_error_naming_it() -> None:
    pairs = [("ce-specversion", "1.0"), ("ce-id", "1"), ("CE-ID", "2"), ("ce-source", "/s"), ("ce-type", "t")]
    with pytest.raises(MalformedMessageError, match="'ce-id' appears more than once"):
        decode((pairs, b""), "http")
    twice = {"content-type": "text/plain", "Content-Type": "text/html", "ce-specversion": "1.0"}
    with pytest.raises(MalformedMessageError, match="content-type"):
        decode((twice, b""), "http", "binary")


def test_bad_header_reports_the_header() -> None:
    headers = {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t", "ce-time": "noon"}
    with pytest.raises(cefmt.InvalidAttributeError, match=r"header 'ce-time': attribute 'time'"):
        decode((headers, b""), "http")
    with pytest.raises(cefmt.InvalidAttributeError, match="ce-my-ext"):
        decode((headers | {"ce-time": "2020-01-01T00:00:00Z", "ce-my-ext": "x"}, b""), "http")


def test_not_a_cloudevent() -> None:
    with pytest.raises(MalformedMessageError, match="no ce-specversion"):
        decode(({"content-type": "application/json"}, b"{}"), "http")
    with pytest.raises(cefmt.UnsupportedSpecVersionError):
        decode(({"ce-specversion": "0.2", "ce-id": "1", "ce-source": "/", "ce-type": "t"}, b""), "http")


def test_v03_binary() -> None:
    event = CloudEvent(BASE | {"specversion": "0.3", "schemaurl": "/schema"}, b"\x00")
    headers, body = to_binary(event)
    assert headers["ce-schemaurl"] == "/schema" and "ce-dataschema" not in headers
    assert from_http(headers, body) == event
    legacy = {"ce-specversion": "0.3", "ce-id": "1", "ce-source": "/s", "ce-type": "t",
              "ce-datacontentencoding": "base64"}  # fmt: skip
    assert decode((legacy, b"AAE="), "http").data == b"\x00\x01"


def test_typed_extensions_restored_on_request() -> None:
    event = CloudEvent(BASE, ext=5, flag=False, blob=b"\x00", when="2020-01-01T00:00:00.5+01:00")
    plain = decode(encode(event, "http", "binary"), "http")
    assert plain["ext"] == "5" and plain["flag"] == "false"
    typed = decode(encode(event, "http", "binary"), "http",
                   extension_types={"ext": int, "flag": bool, "blob": bytes, "when": cefmt.Timestamp})  # fmt: skip
    assert typed.extensions["ext"] == 5 and typed["blob"] == b"\x00" and typed["when"].nanosecond == 0
    assert typed.evolve(when=None) == event.evolve(when=None)


# -- structured and batch ----------------------------------------------------------------------------------


def test_structured_and_charset_parameter() -> None:
    event = CloudEvent(BASE, {"a": 1})
    headers, body = to_structured(event)
    assert headers == {"content-type": "application/cloudevents+json"}
    assert from_http({"Content-Type": "application/cloudevents+json; charset=utf-8"}, body) == event


def test_structured_mode_with_any_registered_format() -> None:
    def enc(event: CloudEvent) -> bytes:
        return f"{event.id}|{event.source}|{event.type}".encode()

    def dec(raw: bytes) -> CloudEvent:
        i, s, t = raw.decode().split("|")
        return CloudEvent(id=i, source=s, type=t)

    cefmt.register(
        "1.0", "pipe", "structured", Codec(encode=enc, decode=dec, media_type="application/cloudevents+pipe")
    )
    message = encode(CloudEvent(BASE), "http", "structured", format="pipe")
    assert message == HTTPMessage({"content-type": "application/cloudevents+pipe"}, b"1|/s|t")
    assert decode(message, "http") == CloudEvent(BASE)
    with pytest.raises(UnknownCodecError, match="nope"):
        decode(({"content-type": "application/cloudevents+nope"}, b""), "http")


def test_batch_mode() -> None:
    batch = [CloudEvent(BASE), CloudEvent(BASE | {"id": "2"}, b"\x00")]
    message = encode(batch, "http", "batch")
    assert message.headers == {"content-type": "application/cloudevents-batch+json"}
    assert decode(message, "http") == batch == decode(message, "http", "batch")
    assert from_http_batch(*message) == batch
    with pytest.raises(MalformedMessageError, match="from_http_batch"):
        from_http(*message)
    assert decode(encode([], "http", "batch"), "http") == []
    with pytest.raises(cefmt.CloudEventError, match="one specversion"):
        encode([CloudEvent(BASE), CloudEvent(BASE | {"specversion": "0.3"})], "http", "batch")


def test_messages_from_server_objects() -> None:
    class Request:  # the shape of Flask's request: .headers with .items(), .get_data()
        headers = {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"}

        def get_data(self) -> bytes:
            return b""

    assert decode(Request(), "http") == CloudEvent(BASE)
    with pytest.raises(MalformedMessageError, match="pair"):
        decode(42, "http")


# -- the SDKs' shared conformance scenarios ------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
def test_feature_binary_content_mode(content_type: str) -> None:
    headers = {"ce-specversion": "1.0", "ce-type": "com.example.someevent", "ce-time": "2018-04-05T03:56:24Z",
               "ce-id": "1234-1234-1234", "ce-source": "/mycontext/subcontext", "Content-Type": content_type,
               "Host": "example.com"}  # fmt: skip
    event = from_http(headers, b'{\n    "message": "Hello World!"\n}')
    assert (event.id, event.type, event.source, str(event.time), event.datacontenttype) == (
        "1234-1234-1234", "com.example.someevent", "/mycontext/subcontext", "2018-04-05T03:56:24Z", content_type,
    )  # fmt: skip
    assert event.data == {"message": "Hello World!"}


@pytest.mark.parametrize(
    "content_type", ["application/cloudevents+json", "application/cloudevents+json; charset=utf-8"]
)
def test_feature_structured_content_mode(content_type: str) -> None:
    body = json.dumps({"specversion": "1.0", "type": "com.example.someevent", "time": "2018-04-05T03:56:24Z",
                       "id": "1234-1234-1234", "source": "/mycontext/subcontext", "datacontenttype": "application/json",
                       "data": {"message": "Hello World!"}}, indent=4).encode()  # fmt: skip
    event = from_http({"Content-Type": content_type}, body)
    assert event.datacontenttype == "application/json" and event.data == {"message": "Hello World!"}


def _conformance_events(relative: str) -> list[Any]:
    path = vectors_dir() / "conformance" / relative
    # BaseLoader keeps every scalar a string: `specversion: 1.0` and the times stay as written.
    return [pytest.param(doc, id=f"{Path(relative).stem}-{i}") for i, doc in
            enumerate(yaml.load_all(path.read_text(), Loader=yaml.BaseLoader)) if doc]  # fmt: skip


@pytest.mark.parametrize(
    "doc",
    _conformance_events("v1.yaml") + _conformance_events("v03.yaml")
    + _conformance_events("yaml-minimum/v1_minimum.yaml") + _conformance_events("yaml-minimum/v03_minimum.yaml"),
)  # fmt: skip
def test_conformance_events_through_both_modes(doc: dict[str, Any]) -> None:
    attributes = dict(doc["ContextAttributes"])
    extensions = attributes.pop("Extensions", None) or {}
    # Block scalars end in a newline that no HTTP header value can hold (RFC 7230 trims it), so strip.
    headers = {
        f"ce-{k}": quote_header(v.strip()) for k, v in (attributes | extensions).items() if k != "datacontenttype"
    }
    if "datacontenttype" in attributes:
        headers["content-type"] = attributes["datacontenttype"]
    body = doc.get("Data", "").encode()
    received = from_http(headers | dict(doc.get("TransportExtensions") or {}), body)
    for name, value in (attributes | extensions).items():
        assert str(received[name]) == value.strip()
    again = from_http(*to_binary(received))
    assert again == received
    structured = from_http(*to_structured(received))
    assert structured == received


# Header dicts as servers hand them over, and as they should not: names in any case (some naming one
# attribute twice), values with percent-encoding, quoted strings, bad escapes and lengths near a limit.
_header_names = st.sampled_from(
    ["ce-id", "CE-ID", "ce-source", "Ce-Source", "ce-type", "ce-x", "content-type", "Content-Type", "host", "x-ce-a"]
)
_header_values = st.one_of(
    st.text(alphabet='ab %20"\\\u00e9', max_size=12),
    st.sampled_from(["%zz", "%e2%82%ac", '"a\\"b"', '"open', "%C3%28", "plain"]),
    st.integers(0, 40).map(lambda n: "v" * n),
)


@given(st.dictionaries(_header_names, _header_values, max_size=6), st.integers(1, 30))
def test_reading_a_dict_in_bulk_matches_reading_it_pair_by_pair(headers: dict[str, str], max_length: int) -> None:
    # A dict takes the bulk path (when its names are lower case); a list of the same pairs the general
    # one. Both must give the same attributes, or the same error.
    limits = cefmt.Limits(max_header_value_length=max_length)
    outcomes = []
    for given_headers in (headers, list(headers.items())):
        try:
            received = _http.read((given_headers, b""), limits=limits)
        except cefmt.CloudEventError as exc:
            outcomes.append((type(exc), str(exc)))
        else:
            outcomes.append((received.attributes, received.content_type))
    assert outcomes[0] == outcomes[1]
