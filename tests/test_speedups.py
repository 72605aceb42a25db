"""The compiled accelerator (``cefmt._speedups``) gives what the pure-Python reference gives.

Each test runs one entry point twice on the same generated or hostile input: once as cefmt runs it
(the accelerated path) and once with the accelerated function switched off (the Python reference), and
compares everything that comes out: the value with every type inside it, or the error's class and
message. The accelerator may hand any input back to the reference (FALLBACK), so what these tests pin is
that whatever it does answer is the reference's answer.

With ``CEFMT_PURE=1`` the accelerator is off on purpose and there is nothing to compare: the tests then
check that it is off.
"""

from __future__ import annotations

import functools
import gc
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import cefmt
from cefmt import (
    CloudEvent,
    Limits,
    Timestamp,
    _binding,
    _data,
    _event,
    _frozen,
    _headers,
    _timestamp,
)
from cefmt._pure import FALLBACK, PURE, SPEEDUPS
from cefmt.codec import read_header_pairs
from cefmt_plugins.kafka import KafkaHeaders
from tests.conftest import REPO
from tests.differential import (
    ALL_SWITCHES,
    compare,
    event_outcome,
    events_outcome,
    outcome,
    pure_python,
    reference,
    typed,
)
from tests.strategies import events, json_values

ACCELERATED = SPEEDUPS is not None
needs_accelerator = pytest.mark.skipif(not ACCELERATED, reason="CEFMT_PURE=1: the accelerator is switched off")


def test_the_accelerator_is_in_use_unless_switched_off() -> None:
    # CI installs with CEFMT_REQUIRE_EXTENSION=1, so a missing accelerator there is a failed build, and
    # the accelerated pass of the suite really runs the compiled code.
    if PURE:
        assert SPEEDUPS is None
        assert _data._C_LOADS is None and _event._C_BUILD is None and _timestamp._C_PARSE is None
    elif os.environ.get("CEFMT_NO_EXTENSION", "") in ("", "0"):
        assert SPEEDUPS is not None, "cefmt._speedups is not built: reinstall with a C compiler (pip install -e .)"
        assert _data._C_LOADS is not None and _event._C_BUILD is not None
        assert _timestamp._C_PARSE is not None and _timestamp._C_FORMAT is not None and _headers._C_READ is not None


def both(module: Any, names: tuple[str, ...], call: Callable[[], Any], shape: Callable[[Any], Any] = typed) -> Any:
    fast = outcome(call, shape)
    with reference(module, *names):
        plain = outcome(call, shape)
    assert fast == plain
    return fast


# -- JSON text ----------------------------------------------------------------------------------------------

_SPACE = st.text(alphabet=" \t\n\r", max_size=2)
# Near-JSON: brackets, escapes of every kind (lone and paired surrogates), numbers at and beyond the
# edges, literals and their misspellings, non-ASCII, control characters, a repeated member.
_PIECES = st.sampled_from(
    [
        "{", "}", "[", "]", ",", ":", '"', '"a"', '"b"', '"a":1', "\\", "\\u", "\\ud800", "\\udc00",
        "\\ud83d\\ude00", "\\u00e9", "\\n", "\\x", "0", "-0", "01", "1.", ".5", "1e5", "1E+2", "-", "1e400",
        "-1e-400", "1.5", "12345678901234567890", "9" * 30, "true", "false", "null", "tru", "NaN", "Infinity",
        "-Infinity", " ", "\t", "\x00", "\x1f", "\x7f", "é", "€", "😀", "\ufeff",
    ]
)  # fmt: skip
near_json = st.lists(_PIECES, max_size=14).map("".join)


def _load(raw: bytes | str, limits: Limits | None = None, batch: bool = False) -> Callable[[], Any]:
    return lambda: _data.load_json(raw, "body", limits=limits, batch=batch)


@needs_accelerator
@given(json_values, _SPACE, _SPACE)
def test_json_values_parse_the_same(value: Any, before: str, after: str) -> None:
    text = before + json.dumps(value, ensure_ascii=bool(len(after) % 2)) + after
    both(_data, ("_C_LOADS",), _load(text.encode("utf-8", "surrogatepass")))
    both(_data, ("_C_LOADS",), _load(text))


@needs_accelerator
@given(near_json)
@example('{"a":1,"a":2}')
@example('["\\ud800"]')
@example('"\\udc00\\ud800"')
@example("[1e400]")
@example("1" * 5000)
@example('{"a": [1, {"b": null}], "c": "\\u20ac"}')
def test_near_json_gives_the_same_value_or_error(text: str) -> None:
    both(_data, ("_C_LOADS",), _load(text.encode("utf-8", "surrogatepass")))
    both(_data, ("_C_LOADS",), _load(text))


@needs_accelerator
@given(st.binary(max_size=40))
@example(b'"\xff"')
@example(b'{"\xc3\xa9":"\xed\xa0\x80"}')
@example(b"\xef\xbb\xbf{}")
def test_any_bytes_give_the_same_value_or_error(raw: bytes) -> None:
    both(_data, ("_C_LOADS",), _load(raw))
    both(_data, ("_C_LOADS",), _load(b'{"a":"' + raw + b'"}'))


@needs_accelerator
@given(
    st.integers(1, 6), st.integers(1, 8), st.integers(1, 4), st.booleans(),
    st.recursive(st.integers(0, 3), lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from("ab"), inner, max_size=2)),
)  # fmt: skip
def test_limits_are_met_the_same_way(depth: int, containers: int, batch_length: int, batch: bool, value: Any) -> None:
    limits = Limits(max_nesting_depth=depth, max_container_count=containers, max_batch_length=batch_length)
    text = json.dumps(value)
    both(_data, ("_C_LOADS",), _load(text.encode(), limits, batch))


@needs_accelerator
def test_deep_nesting_is_the_same_as_the_reference() -> None:
    for depth in (150, 199, 200, 201, 400, 5000):
        text = "[" * depth + "]" * depth
        limits = Limits(max_nesting_depth=10_000)
        both(_data, ("_C_LOADS",), _load(text, limits))
        both(_data, ("_C_LOADS",), _load(text))


class _Number(int):
    pass


class _Text(str):
    pass


_ODD_VALUES = st.sampled_from(
    [float("nan"), float("inf"), -0.0, 1e300, 2**70, -(2**63), 2**63, _Number(3), _Text("x"), "\ud800", "é\x00\x1f\x7f\u2028",
     {1: "a"}, {None: 1}, (1, 2), b"x", {"a": {"b": [[]]}}, object()]
)  # fmt: skip


@needs_accelerator
@given(
    st.recursive(
        json_values | _ODD_VALUES,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
        max_leaves=12,
    )
)
def test_json_values_are_written_the_same(value: Any) -> None:
    both(_data, ("_C_DUMPS",), lambda: _data.dump_json(value))


@needs_accelerator
def test_deep_and_cyclic_values_are_written_the_same() -> None:
    deep: Any = 1
    for _ in range(300):
        deep = [deep]
    both(_data, ("_C_DUMPS",), lambda: _data.dump_json(deep))
    cycle: list[Any] = []
    cycle.append(cycle)
    both(_data, ("_C_DUMPS",), lambda: _data.dump_json(cycle))


@needs_accelerator
def test_repeated_short_strings_are_one_object() -> None:
    first = _data.load_json(b'{"specversion":"1.0","source":"/orders"}', "body")
    second = _data.load_json(b'{"specversion":"1.0","source":"/orders"}', "body")
    assert [id(key) for key in first] == [id(key) for key in second]
    assert first["source"] is second["source"]


# -- the record -----------------------------------------------------------------------------------------

_TIMES = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "2020-01-01T00:00:00Z", "2020-01-01t00:00:00.5z", "2020-02-30T00:00:00Z", "2020-01-01T24:00:00Z",
            "2020-01-01T00:00:60Z", "2020-01-01T00:00:00.1234567890Z", "2020-01-01T00:00:00.1234567891Z",
            "2020-01-01T00:00:00+01:30", "2020-01-01T00:00:00-00:00", "2020-01-01T00:00:00+24:00",
            "2020-01-01 00:00:00Z", "0000-01-01T00:00:00Z", "2020-01-01T00:00:00.Z", "2020-01-01T00:00:00",
            "２020-01-01T00:00:00Z", "2020-01-01T00:00:00.123456789-23:59",
        ]
    ),
    st.datetimes(timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=2))]) | st.none()),
    st.integers(),
)  # fmt: skip
_TEXTS = st.sampled_from(["a", "com.example.t", "", " ", "tab\there", "café", "\x7f", "x" * 300, "\ud800"])
_SOURCES = st.sampled_from(["/s", "https://example.com/a?b#c", "a:b", "1a:b", "%41", "%zz", "a b", "#a#b", ""])
_CONTENT_TYPES = st.sampled_from(
    ["application/json", "text/plain; charset=utf-8", "application/octet-stream", "bad", "application/cloudevents+json"]
)
_EXTENSION_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**33), 2**33), st.sampled_from(["", "x", "é", "\x01", 1.5, b"Ma"]),
    st.just(Timestamp.parse("2020-01-01T00:00:00.000000001Z")), st.just(Timestamp.parse("2020-01-01T00:00:00+02:00")),
)  # fmt: skip
_NAMES = st.sampled_from(["ext", "a1", "Ext", "ex-t", "data", "dataschema", "schemaurl", "datacontentencoding", "é"])
_DATA = st.one_of(
    st.none(), json_values, st.binary(max_size=4), st.text(max_size=4), st.sampled_from([float("nan"), (1, 2), object]),
    st.just({1: "a"}), st.just(bytearray(b"x")),
)  # fmt: skip


@st.composite
def attribute_dicts(draw: st.DrawFn) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, values in (
        ("specversion", st.sampled_from(["1.0", "0.3", "2.0", 1])),
        ("id", _TEXTS | st.integers()),
        ("source", _SOURCES),
        ("type", _TEXTS),
        ("time", _TIMES),
        ("datacontenttype", _CONTENT_TYPES | st.integers()),
        ("subject", _TEXTS),
        ("dataschema", st.sampled_from(["https://x/y", "/rel"])),
    ):
        if draw(st.integers(0, 9)) < (9 if name in ("specversion", "id", "source", "type") else 3):
            found[name] = draw(st.none() | values) if draw(st.integers(0, 9)) == 0 else draw(values)
    for name in draw(st.lists(_NAMES, max_size=3)):
        found[name] = draw(_EXTENSION_VALUES)
    return found


@needs_accelerator
@settings(suppress_health_check=[HealthCheck.too_slow])
@given(attribute_dicts(), _DATA, st.booleans())
def test_records_from_decoded_attributes_are_the_same(attributes: dict[str, Any], data: Any, trusted: bool) -> None:
    if trusted and not isinstance(data, (type(None), bytes, str, dict, list, int, float)):
        data = None  # trusted data comes from a cefmt parser: a JSON value
    if trusted and isinstance(data, float) and data != data:
        data = None

    def call() -> CloudEvent:
        return CloudEvent._from_owned(dict(attributes), data, trusted=trusted)

    both(_event, ("_C_BUILD",), call, event_outcome)


@needs_accelerator
@settings(suppress_health_check=[HealthCheck.too_slow])
@given(attribute_dicts(), _DATA)
def test_records_made_in_code_are_the_same(attributes: dict[str, Any], data: Any) -> None:
    # An id may be generated: it is random, so it is compared by its form only.
    generated = attributes.get("id") is None
    outcome_of = both(
        _event, ("_C_BUILD",), lambda: CloudEvent(attributes, data), lambda e: event_outcome(e, skip_id=generated)
    )
    if outcome_of[0] == "ok" and generated:
        event = CloudEvent(attributes, data)
        assert len(event.id) == 36 and event.id[14] == "4"


def test_every_switch_exists() -> None:
    for module, names in ALL_SWITCHES:
        for name in names:
            assert hasattr(module, name), (module.__name__, name)


_CODECS = [("http", "binary"), ("http", "structured"), ("http", "batch"), ("json", "structured"), ("json", "batch")]
_CODECS += [("kafka", "binary"), ("kafka", "structured"), ("msgpack", "structured")]


@needs_accelerator
@settings(suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(events(), min_size=1, max_size=3))
def test_events_encode_and_decode_the_same_through_every_codec(batch: list[CloudEvent]) -> None:
    event = batch[0]
    for transport, mode in _CODECS:
        value: Any = [e for e in batch if e.specversion == event.specversion] if mode == "batch" else event
        written = compare(functools.partial(cefmt.encode, value, transport, mode), repr)
        if written[0] == "ok":
            message = cefmt.encode(value, transport, mode)
            compare(functools.partial(cefmt.decode, message, transport), events_outcome)


@needs_accelerator
@given(
    st.lists(attribute_dicts(), min_size=1, max_size=3),
    _DATA,
    st.sampled_from([None, "TWE=", "TWE", "!!!!", 5, ""]),
    st.sampled_from([None, "https://example.com/s", "/relative", "a b", 7]),
    st.sampled_from([{}, {"schemaurl": "/x"}, {"schemaurl": "a b"}, {"schemaurl": 3}, {"datacontentencoding": "base64"},
                     {"datacontentencoding": "7bit"}, {"datacontentencoding": "base64", "schemaurl": "https://x/y"}]),
)  # fmt: skip
def test_documents_decode_the_same(
    attribute_list: list[dict[str, Any]], data: Any, base64: Any, schema: Any, spec03: dict[str, Any]
) -> None:
    # JSON-format documents of every kind, well formed or not, one and in a batch; Base64 data and
    # schemas of every kind among them, and spec 0.3's schemaurl and datacontentencoding.
    docs = []
    for index, attributes in enumerate(attribute_list):
        doc = {name: value for name, value in attributes.items() if not isinstance(value, (bytes, datetime, Timestamp))}
        if isinstance(data, (str, int, list, dict)) or (data is None and index % 2):
            doc["data"] = data
        if base64 is not None and index != 1:
            doc["data_base64"] = base64
        if schema is not None and index != 2:
            doc["dataschema"] = schema
        if spec03 and index != 1:
            doc.update(spec03, specversion="0.3")
        docs.append(doc)
    for raw in (docs[0], docs):
        try:
            text = json.dumps(raw).encode()
        except (TypeError, ValueError):
            return

        def shape(decoded: Any) -> Any:
            return [event_outcome(e) for e in decoded] if isinstance(decoded, list) else event_outcome(decoded)

        fast = outcome(lambda text=text: cefmt.decode(text, "json"), shape)
        with pure_python():
            plain = outcome(lambda text=text: cefmt.decode(text, "json"), shape)
        assert fast == plain


@needs_accelerator
def test_decoded_records_are_left_to_reference_counting() -> None:
    # The collector need not visit a record that can be in no cycle; an event with typed data can be.
    event = cefmt.decode(({"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"}, b""), "http")
    assert not gc.is_tracked(event)
    assert event == CloudEvent(id="1", source="/s", type="t")


# -- timestamps ----------------------------------------------------------------------------------------------

_DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=2)


@st.composite
def near_timestamps(draw: st.DrawFn) -> str:
    year = draw(st.integers(0, 10000))
    text = (
        f"{year:04d}-{draw(st.integers(0, 13)):02d}-{draw(st.integers(0, 32)):02d}{draw(st.sampled_from('Tt '))}"
        f"{draw(st.integers(0, 25)):02d}:{draw(st.integers(0, 61)):02d}:{draw(st.integers(0, 61)):02d}"
    )
    if draw(st.booleans()):
        text += "." + draw(st.text(alphabet="0123456789", min_size=0, max_size=12))
    text += draw(st.sampled_from(["Z", "z", "", "+", "-05:30", "+23:59", "+24:00", "-00:60", "+01:00:00"]))
    if draw(st.integers(0, 9)) == 0:
        index = draw(st.integers(0, len(text) - 1))
        text = text[:index] + draw(st.sampled_from(["x", "", "1", "\u0663"])) + text[index + 1 :]
    return text


@needs_accelerator
@given(near_timestamps())
def test_timestamps_parse_the_same(text: str) -> None:
    both(_timestamp, ("_C_PARSE", "_FAST_ISO"), lambda: _timestamp.parse_timestamp(text))


@needs_accelerator
@given(st.datetimes(timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=-3))])), st.integers(0, 999))
def test_timestamps_format_the_same(moment: datetime, nanosecond: int) -> None:
    stamp = _timestamp.to_timestamp(moment).replace(nanosecond=nanosecond)
    both(_timestamp, ("_C_FORMAT",), lambda: _timestamp.format_timestamp(stamp))


# -- headers ------------------------------------------------------------------------------------------------

_HEADER_NAMES = st.sampled_from(
    ["ce-id", "ce-source", "CE-Type", "ce-specversion", "content-type", "Content-Type", "host", "ce-", "ce-é", "1", ""]
)
_HEADER_VALUES = st.one_of(
    st.sampled_from(["1", "/s", "a%20b", "%zz", '"q"', '"a\\"b"', "", "é", "x" * 40]), st.binary(max_size=3), st.none()
)


@needs_accelerator
@given(st.dictionaries(_HEADER_NAMES, _HEADER_VALUES, max_size=6), st.integers(1, 64))
def test_headers_read_the_same(headers: dict[str, Any], max_length: int) -> None:
    limits = Limits(max_header_value_length=max_length)
    both(_headers, ("_C_READ",), lambda: _headers.read_headers(headers, limits=limits))


_PAIR_NAMES = st.sampled_from(
    ["ce_id", "ce_source", "CE_Type", "ce_specversion", "content-type", "Content-Type", "x", "ce_", "ce_é"]
)
_PAIR_VALUES = st.one_of(
    st.sampled_from([b"1", b"/s", b"\xc3\xa9", b"\xff", b"\xed\xa0\x80", b"", b"x" * 70, "text"]),
    st.binary(max_size=4),
    st.none(),
    st.integers(),
)
_PAIRS = st.lists(st.one_of(st.tuples(_PAIR_NAMES, _PAIR_VALUES), st.tuples(_PAIR_NAMES), st.just(["ce_id", b"1"])))


@needs_accelerator
@given(_PAIRS, st.sampled_from([list, tuple, KafkaHeaders]), st.integers(1, 80), st.integers(1, 8))
def test_header_pairs_read_the_same(pairs: list[Any], kind: Any, max_length: int, max_count: int) -> None:
    limits = Limits(max_header_value_length=max_length, max_header_count=max_count)
    container = kind(pairs)
    both(_binding, ("_C_READ_PAIRS",), lambda: read_header_pairs(container, "ce_", limits=limits, binding="Kafka"))


# -- the build without a compiler ----------------------------------------------------------------------------


@pytest.mark.skipif(
    shutil.which("gcc") is None and shutil.which("cc") is None, reason="needs the build to try a compiler"
)
def test_without_a_compiler_the_build_gives_the_pure_python_package(tmp_path: Path) -> None:
    # A copy of the source (the work tree's own build products left out), built into a wheel with a
    # compiler that always fails: the wheel is made, holds no extension, and cefmt works from it.
    source = tmp_path / "src"
    shutil.copytree(
        REPO,
        source,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "build", "*.so", "*.egg-info", "__pycache__", ".hypothesis", "out"
        ),
    )
    env = {**os.environ, "CC": "false", "LDSHARED": "false"}
    env.pop("CEFMT_REQUIRE_EXTENSION", None)
    wheels = tmp_path / "wheels"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(source)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (wheel,) = wheels.glob("cefmt-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "cefmt/_event.py" in names and not [name for name in names if name.endswith((".so", ".pyd", ".c"))]
    # The data files the plugins read at run time, and the type information, travel in the wheel too.
    assert {
        "cefmt/py.typed",
        "cefmt/_speedups.pyi",
        "cefmt_plugins/py.typed",
        "cefmt_plugins/avro_format/cloudevents.avsc",
        "cefmt_plugins/avro_format/cloudevents-compact.avsc",
        "cefmt_plugins/protobuf_format/cloudevents.proto",
        "cefmt_plugins/protobuf_format/LICENSE",
    } <= set(names)
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    code = (
        "import cefmt, cefmt._pure as p; assert p.SPEEDUPS is None, p.SPEEDUPS;"
        'e = cefmt.decode(b\'{"specversion":"1.0","id":"1","source":"/s","type":"t","data":[1]}\', \'json\');'
        "print(cefmt.__file__, e.data)"
    )
    run = subprocess.run(
        # -S: no site hooks, so the editable install of this work tree cannot stand in for the wheel.
        [sys.executable, "-S", "-c", code],
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(target), sysconfig.get_paths()["purelib"]])}, cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith(str(target)) and run.stdout.rstrip().endswith("[1]")

    # Where the accelerator is required (CI), the same failing compiler fails the build.
    required = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path / "w2"), str(source)],
        env={**env, "CEFMT_REQUIRE_EXTENSION": "1"}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert required.returncode != 0


def test_fallback_is_one_object() -> None:
    assert FALLBACK is (SPEEDUPS.FALLBACK if SPEEDUPS is not None else FALLBACK)


@needs_accelerator
@given(
    st.dictionaries(st.sampled_from(["ce-id", "ce-source", "ce-type", "ce-specversion", "ce-time", "ce-x", "ce-datacontenttype", "content-type", "Ce-Id"]),
                    st.sampled_from(["1", "/s", "t", "1.0", "0.3", "2020-01-01T00:00:00Z", "application/json", "text/plain", "text/plain; charset=latin-1",
                                     "application/cloudevents+json", "application/octet-stream", "a%20b", "bad type"]), max_size=8),
    st.sampled_from([b"", b"{}", b'{"a":1}', b"[1,", b"\xff\xfe", b"caf\xc3\xa9", b'"x"', b"12", b'{"a":1,"a":2}']),
    st.integers(1, 3),
)  # fmt: skip
def test_binary_messages_decode_the_same(headers: dict[str, str], body: bytes, depth: int) -> None:
    headers = {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t", **headers}
    limits = Limits(max_nesting_depth=depth)
    fast = outcome(lambda: cefmt.decode((headers, body), "http", limits=limits), event_outcome)
    with pure_python():
        plain = outcome(lambda: cefmt.decode((headers, body), "http", limits=limits), event_outcome)
    assert fast == plain
    # The same attributes in a Kafka record (ce_ headers of UTF-8 bytes, the body as the value).
    record = {
        "key": None,
        "headers": [
            (name.replace("ce-", "ce_", 1).replace("Ce-", "ce_", 1), value.encode()) for name, value in headers.items()
        ],
        "value": body or None,
    }
    fast = outcome(lambda: cefmt.decode(record, "kafka", limits=limits), event_outcome)
    with pure_python():
        plain = outcome(lambda: cefmt.decode(record, "kafka", limits=limits), event_outcome)
    assert fast == plain


@needs_accelerator
@given(st.integers(0, 4), st.integers(1, 4), st.integers(1, 12), st.booleans())
def test_documents_meet_limits_the_same_way(count: int, batch_length: int, attributes: int, as_text: bool) -> None:
    docs = [{"specversion": "1.0", "id": str(n), "source": "/s", "type": "t", "data": {"n": [n]}} for n in range(count)]
    limits = Limits(max_batch_length=batch_length, max_attribute_count=attributes)
    for raw in (json.dumps(docs[0] if docs else {}), json.dumps(docs), json.dumps({"a": [[1], [2], [3]]})):
        message: str | bytes = raw if as_text else raw.encode()

        def shape(decoded: Any) -> Any:
            return [event_outcome(e) for e in decoded] if isinstance(decoded, list) else event_outcome(decoded)

        for mode in ("structured", "batch"):
            fast = outcome(lambda message=message, mode=mode: cefmt.decode(message, "json", mode, limits=limits), shape)
            with pure_python():
                plain = outcome(
                    lambda message=message, mode=mode: cefmt.decode(message, "json", mode, limits=limits), shape
                )
            assert fast == plain


@needs_accelerator
@given(
    st.recursive(
        json_values | _ODD_VALUES,
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3) | st.tuples(inner)
        ),
        max_leaves=12,
    ),
    st.integers(1, 4),
)
def test_data_given_in_code_is_checked_the_same(value: Any, max_depth: int) -> None:
    both(_frozen, ("_C_CHECK",), lambda: _frozen.check_data(value, max_depth=max_depth))
    both(_frozen, ("_C_CHECK",), lambda: _frozen.check_data(value))


@needs_accelerator
def test_limits_beyond_the_c_range_are_taken_as_unbounded() -> None:
    # A Limits field may be any positive int; the accelerator saturates what it cannot hold.
    huge = 10**30
    limits = Limits(
        max_message_bytes=huge, max_nesting_depth=huge, max_container_count=huge, max_header_value_length=huge,
        max_header_count=huge, max_attribute_count=huge, max_batch_length=huge,
    )  # fmt: skip
    document = b'{"specversion":"1.0","id":"1","source":"/s","type":"t","data":{"a":[[1]]}}'
    compare(functools.partial(_data.load_json, document, "body", limits=limits))
    compare(functools.partial(cefmt.decode, document, "json", limits=limits), events_outcome)
    compare(functools.partial(cefmt.decode, b"[" + document + b"]", "json", limits=limits), events_outcome)
    headers = {
        "ce-specversion": "1.0",
        "ce-id": "1",
        "ce-source": "/s",
        "ce-type": "t",
        "content-type": "application/json",
    }
    compare(functools.partial(cefmt.decode, (headers, b"[[1]]"), "http", limits=limits), events_outcome)
    compare(functools.partial(_frozen.check_data, {"a": [1]}, max_depth=huge))
