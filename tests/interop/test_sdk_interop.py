"""cefmt against the official CloudEvents SDK, both lines, both directions: messages the SDK makes decode
in cefmt to equal events, and messages cefmt makes decode in the SDK to the same attributes and data.

Each case is one event, binding, mode and direction. Where an SDK is itself wrong, the deviation is
written down in docs/interop.md and named in ``KNOWN`` below; the test then checks that exactly that
deviation (and nothing else) happens, so a fixed SDK shows up as a failure to update the page.
"""

from __future__ import annotations

import base64
import functools
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cefmt import CloudEvent, MalformedMessageError, Timestamp, decode, encode
from cefmt.codec import canonical_string
from cefmt.http import HTTPMessage, quote_header
from cefmt_plugins.kafka import KafkaMessage

DRIVER = Path(__file__).with_name("sdk_driver.py")

_BASE = {"id": "ïd-1 €", "source": "https://example.com/sources/%C3%BC", "type": "com.example.tÿpe"}
EVENTS: dict[str, CloudEvent] = {
    "json-1.0": CloudEvent(
        {**_BASE, "subject": "Grüße 😀 100%", "time": "2024-02-29T23:59:59.123456Z"},
        {"name": "ünïcode ☃", "n": [1, 2.5, None, True]},
        comexampleext="wert ✓",
    ),
    "binary-1.0": CloudEvent(_BASE, b"\x00\x01\xfe\xff", datacontenttype="application/octet-stream", ext2="x y"),
    "text-1.0": CloudEvent(_BASE, "plain text: naïve", datacontenttype="text/plain", dataschema="https://s.example/1"),
    "nodata-1.0": CloudEvent(_BASE, None, time="2020-01-01T12:00:00+02:00", extension="only attributes"),
    "json-0.3": CloudEvent({**_BASE, "specversion": "0.3", "schemaurl": "/schema/1"}, {"a": "ä"}, comexampleext="v"),
    "binary-0.3": CloudEvent({**_BASE, "specversion": "0.3"}, b"\xffbin", datacontenttype="application/octet-stream"),
    "text-0.3": CloudEvent({**_BASE, "specversion": "0.3"}, "ẗext", datacontenttype="text/plain; charset=utf-8"),
}
ROUTES = [("http", "binary"), ("http", "structured"), ("kafka", "binary"), ("kafka", "structured")]
CASES = [(name, binding, mode) for name in EVENTS for binding, mode in ROUTES]


# -- the wire between this process and the driver ------------------------------------------------------------


def _b64(raw: bytes | None) -> str | None:
    return None if raw is None else base64.b64encode(raw).decode("ascii")


def _unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)


def _event_spec(event: CloudEvent) -> dict[str, Any]:
    data = event.data
    if data is None:
        kind: dict[str, Any] = {"kind": "none"}
    elif isinstance(data, bytes):
        kind = {"kind": "bytes", "value": _b64(data)}
    elif isinstance(data, str):
        kind = {"kind": "text", "value": data}
    else:
        kind = {"kind": "json", "value": data}
    attributes = {name: canonical_string(value) for name, value in event.get_attributes().items()}
    if event.specversion == "0.3" and "dataschema" in attributes:
        attributes["schemaurl"] = attributes.pop("dataschema")
    return {"attributes": attributes, "data": kind}


def _message_spec(message: Any) -> dict[str, Any]:
    if isinstance(message, HTTPMessage):
        return {"headers": message.headers, "body": _b64(message.body)}
    return {"headers": [[k, _b64(v)] for k, v in message.headers], "key": _b64(message.key),
            "value": _b64(message.value)}  # fmt: skip


def _message(binding: str, spec: dict[str, Any]) -> Any:
    if binding == "http":
        return HTTPMessage(spec["headers"], _unb64(spec["body"]) or b"")
    return KafkaMessage(_unb64(spec["key"]), [(k, _unb64(v)) for k, v in spec["headers"]], _unb64(spec["value"]))


def _drive(python: Path, jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    run = subprocess.run([str(python), str(DRIVER)], input=json.dumps({"jobs": jobs}), check=False, capture_output=True,
                         text=True, timeout=300)  # fmt: skip
    assert run.returncode == 0, run.stderr
    results: list[dict[str, Any]] = json.loads(run.stdout)["results"]
    assert len(results) == len(jobs)
    return results


@functools.cache
def _results(python: Path) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    """Every case, both directions, in two driver runs per SDK."""
    encode_jobs = [{"op": "encode", "binding": b, "mode": m, "event": _event_spec(EVENTS[n])} for n, b, m in CASES]
    decode_jobs = [
        {"op": "decode", "binding": b, "mode": m, "message": _message_spec(encode(EVENTS[n], b, m))}
        for n, b, m in CASES
    ]
    made = _drive(python, encode_jobs)
    read = _drive(python, decode_jobs)
    table = {}
    for (name, binding, mode), made_one, read_one in zip(CASES, made, read, strict=True):
        table[("sdk-to-cefmt", name, binding, mode)] = made_one
        table[("cefmt-to-sdk", name, binding, mode)] = read_one
    return table


def _sdk_line(python: Path) -> str:
    return python.parent.parent.name  # sdk1 / sdk2


# -- SDK deviations, as recorded in docs/interop.md --------------------------------------------------------
#
# Each function gets the SDK line and the case and adjusts what the test expects, citing the section
# of docs/interop.md. Nothing here changes what cefmt does.


def _sdk_made(line: str, name: str, binding: str, mode: str, message: Any) -> tuple[Any, str | None, str | None]:
    """SDK -> cefmt: the message to decode, the mode to name (None: detected), and the expected cefmt error."""
    if line == "sdk1" and binding == "http" and mode == "binary":
        # D1: SDK 1.x writes header values without percent-encoding. Encoded as the binding requires,
        # the same values decode to the same event, which shows that this is the only difference.
        headers = {k: quote_header(v) if k.startswith("ce-") else v for k, v in message.headers.items()}
        return HTTPMessage(headers, message.body), None, None
    if line == "sdk1" and mode == "structured" and name == "binary-0.3":
        # D4: SDK 1.x writes data_base64 in 0.3 structured events; 0.3 has datacontentencoding instead.
        return message, mode, "data_base64 is not a CloudEvents 0.3 member"
    if line == "sdk1" and binding == "kafka" and mode == "structured":
        # D3: SDK 1.x labels a structured record with the data's content type, not the format's, so
        # the mode cannot be detected (section 3 of the binding); named, cefmt reads it as JSON.
        return message, mode, None
    return message, None, None


def _sdk_data(line: str, name: str, binding: str, mode: str, event: CloudEvent) -> CloudEvent:
    if line == "sdk1" and binding == "http" and mode == "binary" and isinstance(event.data, str):
        # D7: SDK 1.x writes str data in HTTP binary mode as a JSON string, whatever the content type.
        return event.evolve(data=json.dumps(event.data))
    return event


def _sdk_read(line: str, name: str, binding: str, mode: str, expected: dict[str, Any]) -> dict[str, Any]:
    """cefmt -> SDK: what the SDK reports for a correct cefmt message."""
    attributes = expected["attributes"]
    if name.endswith("0.3") and mode == "structured" and expected["data"]["kind"] == "bytes":
        # 0.3 structured events carry binary data as Base64 with the datacontentencoding attribute;
        # the SDKs report that attribute, which is right for 0.3.
        attributes["datacontentencoding"] = "base64"
        if line == "sdk1":  # D5: SDK 1.x does not decode it and hands the Base64 text over as data
            expected["data"] = {"kind": "text", "value": expected["data"]["value"]}
    if line == "sdk1" and binding == "http" and mode == "binary":
        # D1: SDK 1.x does not percent-decode header values: it reports them as they were sent.
        for key in list(attributes):
            if key != "datacontenttype":
                attributes[key] = quote_header(attributes[key])
    if line == "sdk1" and binding == "kafka" and mode == "structured":
        # D3: SDK 1.x copies every Kafka header into the attributes, so the record's content-type
        # (the event format's media type) replaces the event's datacontenttype.
        attributes["datacontenttype"] = "application/cloudevents+json"
    return expected


def _sdk_error(line: str, name: str, binding: str, mode: str) -> str | None:
    if line == "sdk1" and binding == "kafka" and mode == "binary" and EVENTS[name].datacontenttype is None:
        return "KeyError"  # D2: SDK 1.x cannot put an event without datacontenttype in a Kafka binary record
    return None


def _without_invented_time(event: CloudEvent, original: CloudEvent) -> CloudEvent:
    # D6: both SDK lines set time to "now" on every event that has none, on creation and on decoding.
    if original.time is None:
        assert event.time is not None, "the SDK no longer invents a time: update docs/interop.md (D6)"
        return event.evolve(time=None)
    return event


# -- the tests ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "binding", "mode"), CASES)
def test_sdk_messages_decode_in_cefmt_to_equal_events(sdk: Path, name: str, binding: str, mode: str) -> None:
    line = _sdk_line(sdk)
    result = _results(sdk)[("sdk-to-cefmt", name, binding, mode)]
    sdk_error = _sdk_error(line, name, binding, mode)
    if sdk_error is not None:
        assert not result["ok"] and result["error"].startswith(sdk_error), result
        return
    assert result["ok"], result["error"]
    message, named_mode, cefmt_error = _sdk_made(line, name, binding, mode, _message(binding, result["message"]))
    if cefmt_error is not None:
        with pytest.raises(MalformedMessageError, match=cefmt_error):
            decode(message, binding, mode)
        return
    event = _sdk_data(line, name, binding, mode, EVENTS[name])
    decoded = _without_invented_time(decode(message, binding, named_mode), event)
    assert decoded == event, f"SDK message {result['message']}"
    assert type(decoded.data) is type(event.data)


def _comparable(event_spec: dict[str, Any], original: CloudEvent) -> dict[str, Any]:
    attributes = dict(event_spec["attributes"])
    if "time" in attributes:  # SDK 2.x hands back a datetime (isoformat): compare instants
        attributes["time"] = Timestamp.parse(attributes["time"])
        if original.time is None:  # D6, as above
            del attributes["time"]
    return {"attributes": attributes, "data": event_spec["data"]}


@pytest.mark.parametrize(("name", "binding", "mode"), CASES)
def test_cefmt_messages_decode_in_the_sdk(sdk: Path, name: str, binding: str, mode: str) -> None:
    result = _results(sdk)[("cefmt-to-sdk", name, binding, mode)]
    assert result["ok"], result["error"]
    expected = _sdk_read(_sdk_line(sdk), name, binding, mode, _event_spec(EVENTS[name]))
    assert _comparable(result["event"], EVENTS[name]) == _comparable(expected, EVENTS[name])
