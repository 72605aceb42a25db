"""The Avro and Avro compact event format plugins: independent reads and writes with fastavro and the
spec's schemas (the vendored copies in tests/vectors, not the plugin's), registry framing, the compact
format's Timestamps, bounds and hostile input.

Round trips, conversion and garbage for every binding come from ``tests/hardening`` (the VIEWS rows).
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from datetime import datetime, timezone
from typing import Any

import fastavro
import fastavro.schema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cefmt
from cefmt import (
    CloudEvent,
    CloudEventError,
    EncodeError,
    LimitExceededError,
    Limits,
    MalformedMessageError,
    Timestamp,
    decode,
    encode,
)
from tests.conftest import VECTORS
from tests.strategies import events

SCHEMA = fastavro.parse_schema(json.loads((VECTORS / "formats" / "cloudevents.avsc").read_text()))
COMPACT = fastavro.parse_schema(json.loads((VECTORS / "formats" / "cloudevents-compact.avsc").read_text()))
REQUIRED = {"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}


def _read(schema: Any, raw: bytes) -> Any:
    source = io.BytesIO(raw)
    record = fastavro.schemaless_reader(source, schema, None)
    assert source.tell() == len(raw)
    return record


def _write(schema: Any, record: Any) -> bytes:
    out = io.BytesIO()
    fastavro.schemaless_writer(out, schema, record)
    return out.getvalue()


# -- the Avro format, read and written with fastavro and the spec's schema alone -------------------------------


def test_what_cefmt_writes_is_a_datum_of_the_spec_schema() -> None:
    event = CloudEvent(
        {**REQUIRED, "subject": "sü", "dataschema": "urn:x"}, b"\x00\xff", datacontenttype="application/octet-stream",
        time="2020-01-02T03:04:05.123456789+02:00", count=7, flag=True, blob=b"\x01", note="n",
        at=Timestamp.parse("1970-01-01T00:00:00Z"),
    )  # fmt: skip
    record = _read(SCHEMA, encode(event, "avro"))
    assert record == {
        "attribute": {
            **REQUIRED, "subject": "sü", "dataschema": "urn:x", "datacontenttype": "application/octet-stream",
            "time": "2020-01-02T03:04:05.123456789+02:00", "count": 7, "flag": True, "blob": b"\x01",
            "note": "n", "at": "1970-01-01T00:00:00Z",
        },
        "data": b"\x00\xff",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("data", "content_type", "written"),
    [
        ({"a": [1, 2.5]}, None, '{"a":[1,2.5]}'),
        ("hi", None, '"hi"'),  # a JSON string under application/json: its JSON text
        ("hi", "text/plain", "hi"),
        (None, None, None),
    ],
)
def test_data_branches(data: Any, content_type: str | None, written: Any) -> None:
    event = CloudEvent(REQUIRED, data, datacontenttype=content_type)
    assert _read(SCHEMA, encode(event, "avro"))["data"] == written
    assert decode(encode(event, "avro"), "avro") == event


def test_what_fastavro_writes_from_the_spec_schema_decodes() -> None:
    attributes = {**REQUIRED, "time": "2018-04-05T17:31:00Z", "n": 3, "b": False, "raw": b"\x00"}
    event = decode(_write(SCHEMA, {"attribute": attributes, "data": b"xyz"}), "avro")
    assert (event.time, event["n"], event["b"], event["raw"], event.data) == (
        Timestamp.parse("2018-04-05T17:31:00Z"), 3, False, b"\x00", b"xyz",
    )  # fmt: skip


def test_the_schemas_json_branches_are_read_as_json_values() -> None:
    # AvroCloudEventData is read as a JSON object (its "value" map); arrays hold such objects.
    data = {"a": {"value": {"b": [{"value": {"c": 1.0, "d": None}}], "e": "x"}}, "f": 2.5, "g": True}
    event = decode(_write(SCHEMA, {"attribute": REQUIRED, "data": data}), "avro")
    assert event.data == {"a": {"b": [{"c": 1.0, "d": None}], "e": "x"}, "f": 2.5, "g": True}
    assert event.datacontenttype == "application/json"
    top = decode(_write(SCHEMA, {"attribute": REQUIRED, "data": [{"value": {"x": "y"}}]}), "avro")
    assert top.data == [{"x": "y"}]
    assert decode(_write(SCHEMA, {"attribute": REQUIRED, "data": 1.5}), "avro").data == 1.5


def test_spec_0_3() -> None:
    event = CloudEvent(specversion="0.3", id="1", source="/s", type="t", schemaurl="/rel", data=b"\x01")
    assert _read(SCHEMA, encode(event, "avro"))["attribute"]["schemaurl"] == "/rel"
    assert decode(encode(event, "avro"), "avro") == event


def test_timestamp_extensions_arrive_as_text_restored_by_extension_types() -> None:
    at = Timestamp.parse("2020-01-01T00:00:00.000000001+01:00")
    raw = encode(CloudEvent(REQUIRED, at=at), "avro")
    assert decode(raw, "avro")["at"] == "2020-01-01T00:00:00.000000001+01:00"
    restored = decode(raw, "avro", extension_types={"at": Timestamp})["at"]
    assert restored == at and str(restored) == str(at)


# -- schema registry framing ------------------------------------------------------------------------------------


def test_confluent_framing_with_a_schema_id() -> None:
    event = CloudEvent(REQUIRED, b"x")
    plain = encode(event, "avro")
    framed = encode(event, "avro", schema_id=42)
    assert framed == b"\x00\x00\x00\x00\x2a" + plain  # magic byte, big-endian id, the datum
    assert decode(framed, "avro") == event  # recognised without being told
    assert decode(framed, "avro", schema_id=42) == event
    with pytest.raises(MalformedMessageError, match="names schema id 42 in its Confluent header, expected 7"):
        decode(framed, "avro", schema_id=7)
    with pytest.raises(MalformedMessageError, match="has no Confluent header"):
        decode(plain, "avro", schema_id=42)
    for bad in (-1, 2**32, "42"):
        with pytest.raises(EncodeError, match="schema_id"):
            encode(event, "avro", schema_id=bad)
    assert encode(event, "kafka", "structured", format="avro").value == plain


def test_single_object_encoding_carries_the_schemas_fingerprint() -> None:
    event = CloudEvent(REQUIRED, b"x")
    framed = encode(event, "avro", single_object=True)
    canonical = fastavro.schema.to_parsing_canonical_form(SCHEMA)
    fingerprint = bytes.fromhex(fastavro.schema.fingerprint(canonical, "CRC-64-AVRO"))[::-1]  # little-endian
    assert framed == b"\xc3\x01" + fingerprint + encode(event, "avro")
    assert decode(framed, "avro") == event
    with pytest.raises(EncodeError, match="not both"):
        encode(event, "avro", schema_id=1, single_object=True)


# -- the compact format -----------------------------------------------------------------------------------------


def test_compact_is_a_datum_of_the_compact_schema() -> None:
    event = CloudEvent(
        REQUIRED, b"\x00", datacontenttype="application/octet-stream", time="2020-01-01T01:00:00.5+01:00",
        n=3, flag=True, raw=b"\x01", note="x", at=Timestamp.parse("1970-01-01T00:00:01Z"),
    )  # fmt: skip
    record = _read(COMPACT, encode(event, "avro-compact"))
    utc = timezone.utc
    assert record == {
        "id": "1", "source": "/s", "type": "t", "datacontenttype": "application/octet-stream",
        "dataschema": None, "subject": None, "time": datetime(2020, 1, 1, 0, 0, 0, 500000, tzinfo=utc),
        "extensions": {"n": 3, "flag": True, "raw": b"\x01", "note": "x", "at": datetime(1970, 1, 1, 0, 0, 1,
                                                                                          tzinfo=utc)},
        "data": b"\x00",
    }  # fmt: skip
    decoded = decode(encode(event, "avro-compact"), "avro-compact")
    assert decoded == event and str(decoded.time) == "2020-01-01T00:00:00.500Z"  # the instant, in UTC


def test_what_fastavro_writes_from_the_compact_schema_decodes() -> None:
    when = datetime(2023, 3, 31, 15, 12, tzinfo=timezone.utc)
    raw = _write(COMPACT, {"id": "1", "source": "/s", "type": "t", "datacontenttype": "application/json",
                           "time": when, "extensions": {"at": when, "n": 1}, "data": b'{"a":1}'})  # fmt: skip
    event = decode(raw, "avro-compact")
    assert (event.time, event["at"], event["n"], event.data) == (when, when, 1, {"a": 1})


def test_compact_refuses_nanoseconds_instead_of_rounding() -> None:
    event = CloudEvent(REQUIRED, time="2020-01-01T00:00:00.123456789Z")
    with pytest.raises(EncodeError, match=r"attribute 'time': 2020-01-01T00:00:00.123456789Z has nanoseconds"):
        encode(event, "avro-compact")
    with pytest.raises(EncodeError, match="attribute 'at'"):
        encode(CloudEvent(REQUIRED, at=Timestamp.parse("2020-01-01T00:00:00.000000001Z")), "avro-compact")
    rounded = event.evolve(time="2020-01-01T00:00:00.123456Z")
    assert decode(encode(rounded, "avro-compact"), "avro-compact") == rounded


def test_compact_is_spec_1_0_only() -> None:
    old = CloudEvent(specversion="0.3", id="1", source="/s", type="t")
    with pytest.raises(cefmt.UnknownCodecError, match=r"1\.0/avro-compact/structured"):
        encode(old, "avro-compact")
    from cefmt_plugins.avro_format import encode_compact

    with pytest.raises(EncodeError, match=r"carries CloudEvents 1\.0 only"):
        encode_compact(old)


@pytest.mark.parametrize(
    ("data", "content_type"),
    [("", "text/plain"), (b"", None), ("é", "text/plain; charset=utf-8"), ({"a": 1}, None), ("x", None), (None, None)],
)
def test_compact_data_is_a_body_read_by_its_content_type(data: Any, content_type: str | None) -> None:
    event = CloudEvent(REQUIRED, data, datacontenttype=content_type)
    assert decode(encode(event, "avro-compact"), "avro-compact") == event


def test_compact_refuses_bytes_under_a_json_type_that_are_not_json() -> None:
    # Found by fuzzing: the reader parses a JSON body, so such bytes would not come back.
    with pytest.raises(EncodeError, match="not JSON text"):
        encode(CloudEvent(REQUIRED, b"\x83", datacontenttype="application/json"), "avro-compact")
    event = CloudEvent(REQUIRED, b'{"a":1}', datacontenttype="application/json")
    assert decode(encode(event, "avro-compact"), "avro-compact").data == {"a": 1}  # as in binary mode


def test_compact_with_confluent_framing() -> None:
    event = CloudEvent(REQUIRED, b"x")
    framed = encode(event, "avro-compact", schema_id=9)
    assert framed[:5] == b"\x00\x00\x00\x00\x09"
    assert decode(framed, "avro-compact", schema_id=9) == event


# -- hostile input and limits ---------------------------------------------------------------------------------


def _deep(levels: int) -> bytes:
    # data as an array of AvroCloudEventData whose value map holds an array ... (each step two levels)
    level = b"\x02" + b"\x02\x02k\x06"
    return b"\x02\x02a\x00\x00" + b"\x08" + level * levels


_HOSTILE: list[tuple[bytes, str]] = [
    (b"", "empty"),
    (b"\x02\x02a\x06\x02x", "not a datum"),  # cut off before data
    (_write(SCHEMA, {"attribute": REQUIRED, "data": None}) + b"\x00", "after its datum"),
    (b"\x02\x02a\x0e", "does not exist"),  # attribute union branch 7
    (b"\x02\x02a\x00\x00\x0e", "does not exist"),  # data union branch 7
    (b"\xfe\xff\xff\xff\x0f", "more than the datum holds"),  # a map block claiming 2**31 entries
    (b"\x02\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01", "runs past the end|ends inside"),  # a key claiming 2**62 bytes
    (b"\x02" + b"\xff" * 11, "varint"),
    (b"\x02\x02a\x06\x02\xff\x00\x02", "UTF-8"),
    (_deep(200_000), "nesting depth"),  # fastavro would recurse in C until the interpreter crashes
    (b"\x02\x02a\x00\x00\x08\xfe\xff\x0f" + b"\x00" * 200_000, "container count"),
    (_write(SCHEMA, {"attribute": {**REQUIRED, "id": 5}, "data": None}), "id"),
    (_write(SCHEMA, {"attribute": {**REQUIRED, "specversion": "9.9"}, "data": None}), "specversion"),
    (_write(SCHEMA, {"attribute": REQUIRED, "data": float("nan")}), "NaN"),
    (_write(SCHEMA, {"attribute": {**REQUIRED, "datacontenttype": "application/json"}, "data": "{"}), "JSON"),
]


@pytest.mark.parametrize(("raw", "match"), _HOSTILE)
def test_hostile_avro_raises_cefmt_errors_fast(raw: bytes, match: str) -> None:
    started = time.monotonic()
    with pytest.raises(CloudEventError, match=match):
        decode(raw, "avro")
    assert time.monotonic() - started < 5  # a bound, not a speed claim


def test_deep_data_is_bounded_even_when_the_limit_is_raised() -> None:
    with pytest.raises(LimitExceededError, match="Avro nesting depth 201 exceeds the limit of 200"):
        decode(_deep(200_000), "avro", limits=Limits(max_nesting_depth=10**6))
    data: Any = "x"
    for _ in range(60):
        data = [{"value": {"k": data}}]
    raw = _write(SCHEMA, {"attribute": REQUIRED, "data": data})
    with pytest.raises(LimitExceededError, match="Avro nesting depth"):
        decode(raw, "avro", limits=Limits(max_nesting_depth=100))
    assert decode(raw, "avro", limits=Limits(max_nesting_depth=150)).data is not None


_COMPACT_HOSTILE: list[tuple[bytes, str]] = [
    (b"\x021\x04/s\x02t", "not a datum"),
    (b"\x021\x04/s\x02t\x00\x00\x00\x00\xfe\xff\xff\xff\x0f", "attribute count"),
    (b"\x021\x04/s\x02t\x06", "does not exist"),
    (
        _write(COMPACT, {"id": "1", "source": "/s", "type": "t", "extensions": {"type": "x"}, "data": None}),
        "name of a core",
    ),
    (_write(COMPACT, {"id": "", "source": "/s", "type": "t", "data": None}), "not a datum"),
    (b"\x021\x04/s\x02t\x00\x00\x00\x02\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01\x00\x02", "out of range|not a datum"),
]


@pytest.mark.parametrize(("raw", "match"), _COMPACT_HOSTILE)
def test_hostile_compact_raises_cefmt_errors(raw: bytes, match: str) -> None:
    with pytest.raises(CloudEventError, match=match):
        decode(raw, "avro-compact")


def test_size_is_checked_before_anything_is_read() -> None:
    for name in ("avro", "avro-compact"):
        with pytest.raises(LimitExceededError, match="exceeds the limit of 100"):
            decode(b"\xff" * 101, name, limits=Limits(max_message_bytes=100))


def test_attribute_count_limit() -> None:
    many = CloudEvent(REQUIRED, **{f"x{i}": "v" for i in range(10)})
    for name in ("avro", "avro-compact"):
        raw = encode(many, name)
        assert decode(raw, name, limits=Limits(max_attribute_count=14)) == many
        with pytest.raises(LimitExceededError, match="attribute count"):
            decode(raw, name, limits=Limits(max_attribute_count=13))


@settings(max_examples=300, deadline=None)
@given(events(), st.data())
def test_corrupted_messages_never_escape_as_foreign_errors(event: CloudEvent, data: st.DataObject) -> None:
    names = ["avro"] if event.specversion != "1.0" else ["avro", "avro-compact"]
    for name in names:
        try:
            raw = bytearray(encode(event, name))
        except EncodeError:
            continue
        for _ in range(data.draw(st.integers(1, 4))):
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
        cut = data.draw(st.integers(1, len(raw)))
        with contextlib.suppress(CloudEventError):
            decode(bytes(raw[:cut]), name)


def test_the_plugin_carries_the_spec_schemas_unchanged() -> None:
    from importlib import resources

    folder = resources.files("cefmt_plugins.avro_format")
    for name in ("cloudevents.avsc", "cloudevents-compact.avsc"):
        assert (folder / name).read_bytes() == (VECTORS / "formats" / name).read_bytes()
    assert "Apache License" in (folder / "LICENSE").read_text()
    assert "c2845a49bc9831be02f305a4a792401b932d77d4" in (folder / "NOTICE.md").read_text()
