"""Drives the official CloudEvents SDK (1.x or 2.x) for cefmt's interop tests; runs inside the SDK's venv.

Reads ``{"jobs": [...]}`` as JSON on stdin and writes one result per job as JSON on stdout. A job is

* ``{"op": "encode", "binding": "http"|"kafka", "mode": "binary"|"structured", "event": EVENT}``
* ``{"op": "decode", "binding": ..., "mode": ..., "message": MESSAGE}``

EVENT is ``{"attributes": {name: str}, "data": {"kind": "none"|"json"|"text"|"bytes", "value": ...}}``
(bytes as Base64). An HTTP MESSAGE is ``{"headers": {name: str}, "body": b64}``; a Kafka MESSAGE is
``{"headers": [[name, b64]], "key": b64|null, "value": b64|null}``. SDK 2.x also has ``"rabbitmq"``:
``{"headers": {name: str}, "content_type": str|null, "body": b64}``, and ``"amqp"``: ``{"properties":
{"content-type": str}, "application_properties": {name: VALUE}, "body": b64}``, where a VALUE is a JSON
string, number or boolean, ``{"binary_base64": b64}`` or ``{"timestamp": RFC 3339}`` (handed to the SDK as
milliseconds since the epoch, which is what an AMQP client such as qpid-proton gives for a timestamp). A result is ``{"ok": true,
"event"|"message": ...}`` or ``{"ok": false, "error": "..."}``: an SDK failure is data, not a crash.
This file imports nothing from cefmt.
"""

from __future__ import annotations

import base64
import json
import sys
from datetime import datetime, timedelta, timezone
from importlib.metadata import version
from typing import Any

SDK = version("cloudevents")
MAJOR = int(SDK.split(".")[0])


def b64(raw: bytes | None) -> str | None:
    return None if raw is None else base64.b64encode(raw).decode("ascii")


def unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)


def data_in(spec: dict[str, Any]) -> Any:
    kind, value = spec["kind"], spec.get("value")
    return unb64(value) if kind == "bytes" else (None if kind == "none" else value)


def data_out(data: Any) -> dict[str, Any]:
    if data is None:
        return {"kind": "none"}
    if isinstance(data, (bytes, bytearray)):
        return {"kind": "bytes", "value": b64(bytes(data))}
    if isinstance(data, str):
        return {"kind": "text", "value": data}
    return {"kind": "json", "value": data}


def attributes_out(attributes: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in attributes.items():
        if value is None:
            continue
        if isinstance(value, datetime):
            out[name] = value.isoformat()
        elif isinstance(value, bytes):
            out[name] = {"bytes": b64(value)}
        else:
            out[name] = value
    return out


def unmarshaller(content_type: str | None) -> Any:
    """What an SDK 1.x user passes as data_unmarshaller: JSON parsed, text decoded, the rest as bytes."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media.endswith("json"):
        return json.loads
    if media.startswith("text/"):
        return lambda raw: raw.decode("utf-8") if isinstance(raw, bytes) else raw
    return lambda raw: raw


def marshal(data: Any) -> Any:
    """What an SDK 1.x user passes as data_marshaller: JSON for JSON values, the rest as it is."""
    if data is None or isinstance(data, (bytes, str)):
        return data
    return json.dumps(data)


# -- SDK 1.x -------------------------------------------------------------------------------------------------


def v1(job: dict[str, Any]) -> dict[str, Any]:
    from cloudevents import conversion, kafka
    from cloudevents.http import CloudEvent, from_http

    binding, mode = job["binding"], job["mode"]
    if job["op"] == "encode":
        event = CloudEvent(job["event"]["attributes"], data_in(job["event"]["data"]))
        if binding == "http":
            encoder = conversion.to_binary if mode == "binary" else conversion.to_structured
            headers, body = encoder(event)
            return {"message": {"headers": dict(headers), "body": b64(body)}}
        message = kafka.to_binary(event, data_marshaller=marshal) if mode == "binary" else kafka.to_structured(event)
        return {"message": {"headers": [[k, b64(v)] for k, v in message.headers.items()],
                            "key": b64(message.key), "value": b64(message.value)}}  # fmt: skip
    msg = job["message"]
    if binding == "http":
        ctype = {k.lower(): v for k, v in msg["headers"].items()}.get("content-type")
        structured = (ctype or "").startswith("application/cloudevents")
        body = unb64(msg["body"])
        event = from_http(msg["headers"], body, data_unmarshaller=None if structured else unmarshaller(ctype))
    else:
        record = kafka.KafkaMessage({k: unb64(v) for k, v in msg["headers"]}, unb64(msg["key"]), unb64(msg["value"]))
        if mode == "binary":
            # JSON content is parsed, anything else is handed over as it came: what a user would pass.
            ctype = dict(msg["headers"]).get("content-type")
            event = kafka.from_binary(record, data_unmarshaller=unmarshaller((unb64(ctype) or b"").decode() or None))
        else:
            event = kafka.from_structured(record)
    return {"event": {"attributes": attributes_out(event.get_attributes()), "data": data_out(event.get_data())}}


def amqp_value_in(value: Any) -> Any:
    if isinstance(value, dict) and "binary_base64" in value:
        return unb64(value["binary_base64"])
    if isinstance(value, dict) and "timestamp" in value:
        moment = datetime.fromisoformat(value["timestamp"].replace("Z", "+00:00"))
        return (moment - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(milliseconds=1)
    return value


def amqp_value_out(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return {"binary_base64": b64(bytes(value))}
    if isinstance(value, datetime):
        return {"timestamp": value.isoformat()}
    return value


# -- SDK 2.x -------------------------------------------------------------------------------------------------


def v2(job: dict[str, Any]) -> dict[str, Any]:
    from cloudevents.core.bindings import amqp, http, kafka, rabbitmq
    from cloudevents.core.formats.json import JSONFormat
    from cloudevents.core.v03.event import CloudEvent as CloudEventV03
    from cloudevents.core.v1.event import CloudEvent

    fmt = JSONFormat()
    binding, mode = job["binding"], job["mode"]
    if job["op"] == "encode":
        attributes = dict(job["event"]["attributes"])
        if "time" in attributes:
            attributes["time"] = datetime.fromisoformat(attributes["time"].replace("Z", "+00:00"))
        factory = CloudEventV03 if attributes.get("specversion") == "0.3" else CloudEvent
        event = factory(attributes, data_in(job["event"]["data"]))
        if binding == "http":
            message = (http.to_binary if mode == "binary" else http.to_structured)(event, fmt)
            return {"message": {"headers": dict(message.headers), "body": b64(message.body)}}
        if binding == "rabbitmq":
            message = (rabbitmq.to_binary if mode == "binary" else rabbitmq.to_structured)(event, fmt)
            return {"message": {"headers": dict(message.headers), "content_type": message.content_type,
                                "body": b64(message.body)}}  # fmt: skip
        if binding == "amqp":
            made = (amqp.to_binary if mode == "binary" else amqp.to_structured)(event, fmt)
            properties = {k: amqp_value_out(v) for k, v in made.application_properties.items()}
            return {"message": {"properties": dict(made.properties), "application_properties": properties,
                                "body": b64(made.application_data)}}  # fmt: skip
        record = (kafka.to_binary if mode == "binary" else kafka.to_structured)(event, fmt)
        return {"message": {"headers": [[k, b64(v)] for k, v in record.headers.items()],
                            "key": b64(record.key if not isinstance(record.key, str) else record.key.encode()),
                            "value": b64(record.value)}}  # fmt: skip
    msg = job["message"]
    if binding == "http":
        decoded = http.from_http(http.HTTPMessage(msg["headers"], unb64(msg["body"]) or b""), fmt)
    elif binding == "rabbitmq":
        received = rabbitmq.RabbitMQMessage(msg["headers"], msg["content_type"], unb64(msg["body"]) or b"")
        decoded = rabbitmq.from_rabbitmq(received, fmt)
    elif binding == "amqp":
        properties = {k: amqp_value_in(v) for k, v in msg["application_properties"].items()}
        decoded = amqp.from_amqp(amqp.AMQPMessage(msg["properties"], properties, unb64(msg["body"]) or b""), fmt)
    else:
        record = kafka.KafkaMessage({k: unb64(v) for k, v in msg["headers"]}, unb64(msg["key"]), unb64(msg["value"]))
        decoded = kafka.from_kafka(record, fmt)
    return {"event": {"attributes": attributes_out(decoded.get_attributes()), "data": data_out(decoded.get_data())}}


def main() -> None:
    jobs = json.load(sys.stdin)["jobs"]
    results = []
    for job in jobs:
        try:
            results.append({"ok": True, **(v1(job) if MAJOR < 2 else v2(job))})
        except Exception as exc:  # noqa: BLE001 - an SDK failure is a result to report, not a reason to stop
            results.append({"ok": False, "error": f"{type(exc).__name__}: {exc}"})
    json.dump({"sdk": SDK, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
