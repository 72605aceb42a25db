"""The JSON event format against the conformance repository's cases and the spec's JSON schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings

from cefmt import CloudEvent, CloudEventError, MalformedMessageError, Timestamp, decode, encode

from .conftest import vectors_dir
from .strategies import events

SAMPLE_TYPES = {"extinteger": int, "extboolean": bool, "extstring": str, "extbinary": bytes, "exttimestamp": Timestamp,
                "exturi": str, "exturiref": str}  # fmt: skip

MINIMAL = {"specversion": "1.0", "id": "minimal", "type": "io.cloudevents.test", "source": "https://cloudevents.io"}
ALL_CORE = MINIMAL | {"id": "allCore", "datacontenttype": "text/plain", "dataschema": "https://cloudevents.io/dataschema",
                      "subject": "tests", "time": "2018-04-05T17:31:00Z"}  # fmt: skip
ALL_EXTENSIONS = MINIMAL | {
    "id": "allExtensionTypes", "extinteger": 10, "extboolean": True, "extstring": "text", "extbinary": b"Ma",
    "exttimestamp": Timestamp.parse("2023-03-31T15:12:00Z"), "exturi": "https://cloudevents.io", "exturiref": "//authority/path",
}  # fmt: skip

# The expected events of format/README.md ("described in prose"), built in code.
SAMPLES: dict[str, Any] = {
    "minimal": CloudEvent(MINIMAL),
    "minimalWithTime": CloudEvent(MINIMAL | {"id": "minimalWithTime", "time": "2018-04-05T17:31:00Z"}),
    "minimalWithRelativeSource": CloudEvent(MINIMAL | {"id": "minimalWithRelativeSource", "source": "#fragment"}),
    "allCore": CloudEvent(ALL_CORE),
    # format/README.md calls this one's id "simpleData"; the test file says "simpleTextData", which wins.
    "simpleTextData": CloudEvent(MINIMAL | {"id": "simpleTextData", "datacontenttype": "text/plain"}, "Simple text"),
    "allExtensionTypes": CloudEvent(ALL_EXTENSIONS),
    "empty": [],
    "minimal2": [CloudEvent(MINIMAL), CloudEvent(MINIMAL)],
    "minimalAndAllCore": [CloudEvent(MINIMAL), CloudEvent(ALL_CORE)],
    "minimalAndAllExtensionTypes": [CloudEvent(MINIMAL), CloudEvent(ALL_EXTENSIONS)],
}
SAMPLES["minimal1"] = [SAMPLES["minimal"]]


def _cases(name: str) -> list[Any]:
    document = json.loads((vectors_dir() / "conformance" / "format" / "json" / f"{name}.json").read_text())
    return [pytest.param(case, id=case["id"]) for case in document["tests"]]


@pytest.mark.parametrize("case", _cases("valid-events"))
def test_valid_events(case: dict[str, Any]) -> None:
    raw = json.dumps(case["event"]).encode()
    event = decode(raw, "json", extension_types=SAMPLE_TYPES)
    assert event == SAMPLES[case["sampleId"]]
    assert decode(encode(event, "json"), "json", extension_types=SAMPLE_TYPES) == event


@pytest.mark.parametrize("case", _cases("invalid-events"))
def test_invalid_events(case: dict[str, Any]) -> None:
    with pytest.raises(CloudEventError):
        decode(json.dumps(case["event"]).encode(), "json")


@pytest.mark.parametrize("case", _cases("valid-batches"))
def test_valid_batches(case: dict[str, Any]) -> None:
    batch = decode(json.dumps(case["batch"]).encode(), "json", extension_types=SAMPLE_TYPES)
    expected = SAMPLES["minimal1" if case["sampleId"] == "minimal" else case["sampleId"]]
    assert batch == expected


@pytest.mark.parametrize("case", _cases("invalid-batches"))
def test_invalid_batches(case: dict[str, Any]) -> None:
    with pytest.raises(CloudEventError):
        decode(json.dumps(case["batch"]).encode(), "json", "batch")


def test_batch_error_names_the_item() -> None:
    raw = json.dumps([MINIMAL, MINIMAL | {"time": "noon"}]).encode()
    with pytest.raises(CloudEventError, match=r"batch item 1: attribute 'time'"):
        decode(raw, "json")


def test_data_members_by_kind() -> None:
    assert json.loads(encode(CloudEvent(MINIMAL, b"\x00\xff"), "json"))["data_base64"] == "AP8="
    assert json.loads(encode(CloudEvent(MINIMAL, {"a": 1}), "json"))["data"] == {"a": 1}
    text = json.loads(encode(CloudEvent(MINIMAL | {"datacontenttype": "text/plain"}, "hé"), "json"))
    assert text["data"] == "hé" and "data_base64" not in text
    assert "data" not in json.loads(encode(CloudEvent(MINIMAL), "json"))


def test_typed_extensions_are_json_types() -> None:
    doc = json.loads(encode(CloudEvent(ALL_EXTENSIONS), "json"))
    assert (doc["extinteger"], doc["extboolean"], doc["extbinary"], doc["exttimestamp"]) == (
        10, True, "TWE=", "2023-03-31T15:12:00Z",
    )  # fmt: skip


def test_v03_names() -> None:
    event = CloudEvent(MINIMAL | {"specversion": "0.3", "schemaurl": "/schema"}, b"\x01\x02")
    doc = json.loads(encode(event, "json"))
    assert doc["schemaurl"] == "/schema" and "dataschema" not in doc
    assert (doc["datacontentencoding"], doc["data"]) == ("base64", "AQI=")
    assert decode(encode(event, "json"), "json") == event
    bag = MINIMAL | {"specversion": "0.3", "extensions": {"comexampleext": "x"}}
    assert decode(json.dumps(bag).encode(), "json")["comexampleext"] == "x"
    with pytest.raises(MalformedMessageError, match="datacontentencoding 'gzip'"):
        decode(json.dumps(MINIMAL | {"specversion": "0.3", "datacontentencoding": "gzip", "data": "x"}), "json")


def _schema(relative: str) -> jsonschema.Validator:
    schema = json.loads((vectors_dir() / "formats" / relative).read_text())
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


_V1_SCHEMA = _schema("cloudevents.json")
_V03_SCHEMA = _schema("v0.3/spec.json")


@settings(max_examples=200, deadline=None)
@given(events())
def test_output_validates_against_the_spec_schema(event: CloudEvent) -> None:
    if event.specversion == "1.0":
        _V1_SCHEMA.validate(json.loads(encode(event, "json")))
    elif event.data is None or isinstance(event.data, (dict, str, bytes)):
        # The 0.3 schema allows only an object or a string as data, narrower than its prose
        # ("any JSON value"); cefmt follows the prose, so arrays and numbers are left out here.
        _V03_SCHEMA.validate(json.loads(encode(event, "json")))


def test_schema_rejects_what_we_reject(vectors: Path) -> None:
    # A sanity check on the check above: the validator is strict enough to notice a broken document.
    with pytest.raises(jsonschema.ValidationError):
        _V1_SCHEMA.validate(MINIMAL | {"id": ""})
