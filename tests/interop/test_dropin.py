"""cefmt.http and cefmt.kafka as drop-ins for the SDK's functional API: the same calls, with the same
marshallers, through the official SDK (each line in its own venv) and through cefmt, give the same result.

Where they differ, it is a place where the SDK departs from the spec or where cefmt applies one of its
documented rules; ``KNOWN`` says which (docs/interop.md has the table) and turns cefmt's result into the
SDK's, so that exactly that difference, and nothing else, is allowed.
"""

from __future__ import annotations

import base64
import functools
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import cefmt.http
import cefmt.kafka
from cefmt.codec import canonical_string

sys.path.insert(0, str(Path(__file__).parent))

from dropin_cases import CASES, run

DRIVER = Path(__file__).with_name("dropin_driver.py")
ERRORS = ("DataMarshallerError", "DataUnmarshallerError", "KeyMapperError")

Change = Callable[[dict[str, Any]], None]


def _drop_header(name: str) -> Change:
    return lambda result: result["headers"].pop(name)


def _attribute(name: str, value: str | None) -> Change:
    def change(result: dict[str, Any]) -> None:
        if value is None:
            result["attributes"].pop(name)
        else:
            result["attributes"][name] = value

    return change


def _kafka_content_type(result: dict[str, Any]) -> None:  # D3: the SDK writes the data's type
    result["headers"]["content-type"] = "application/json"


def _no_member(name: str) -> Change:
    return lambda result: result["value"]["json"].pop(name)


def _no_member_name(name: str) -> Change:
    def change(result: dict[str, Any]) -> None:
        names = [n for n in json.loads(base64.b64decode(result["value"])) if n != name]
        result["value"] = base64.b64encode(json.dumps(names).encode()).decode()

    return change


#: case -> {SDK major line: the changes that turn cefmt's result into the SDK's}
KNOWN: dict[str, dict[int, list[Change]]] = {
    # cefmt's record makes the implied application/json explicit (docs/rules.md); the SDK sends none.
    "http binary, JSON data without a content type": {1: [_drop_header("content-type")],
                                                      2: [_drop_header("content-type")]},
    # The unmarshaller returned a JSON value: the same rule.
    "http structured in, the unmarshaller sees data_base64 as bytes": {
        1: [_attribute("datacontenttype", None)], 2: [_attribute("datacontenttype", None)]},
    # Kafka binding 3.1: a key mapper MUST NOT modify the event; the SDK drops the partitionkey attribute.
    "kafka binary, the partitionkey is the record key": {1: [_drop_header("ce_partitionkey")],
                                                         2: [_drop_header("ce_partitionkey")]},
    # D3: Kafka binding 3.3: content-type is the format's media type, not the data's.
    "kafka structured, a data marshaller giving text": {
        1: [_kafka_content_type], 2: [_kafka_content_type, _no_member("datacontenttype")]},
    "kafka structured, a data marshaller giving bytes": {
        1: [_kafka_content_type], 2: [_kafka_content_type, _no_member("datacontenttype")]},
    "kafka structured, an envelope marshaller": {
        1: [_kafka_content_type], 2: [_kafka_content_type, _no_member_name("datacontenttype")]},
    "kafka structured in, the unmarshaller sees the data member as parsed": {
        1: [_attribute("datacontenttype", "application/cloudevents+json")],
        2: [_attribute("datacontenttype", "application/cloudevents+json")]},
    "kafka structured in, an envelope unmarshaller": {
        1: [_attribute("datacontenttype", "application/cloudevents+json")],
        2: [_attribute("datacontenttype", "application/cloudevents+json")]},
}  # fmt: skip


@functools.cache
def _sdk_results(python: Path) -> tuple[int, dict[str, Any]]:
    done = subprocess.run([str(python), str(DRIVER)], check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    return int(report["sdk"].split(".")[0]), report["results"]


def _cefmt(name: str) -> dict[str, Any]:
    def record(*, headers: Any, key: Any, value: Any) -> cefmt.kafka.KafkaMessage:
        return cefmt.kafka.KafkaMessage(key=key, headers=headers, value=value)

    return run(
        CASES[name],
        cefmt.http,
        cefmt.kafka,
        make_event=cefmt.http.CloudEvent,
        make_record=record,
        text=canonical_string,
        error_names=ERRORS,
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_sdk_and_cefmt_agree(sdk: Path, name: str) -> None:
    major, results = _sdk_results(sdk)
    mine = _cefmt(name)
    for change in KNOWN.get(name, {}).get(major, []):
        change(mine)
    assert mine == results[name]


def test_every_known_difference_is_a_case() -> None:
    assert set(KNOWN) <= set(CASES)
