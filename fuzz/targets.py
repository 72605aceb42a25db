"""Atheris fuzz targets: one per registered decoder ``TRANSPORT-MODE`` and one per encoder
``encode-TRANSPORT-MODE``, found through ``cefmt.codecs()``, and ``sql`` for the CESQL parser and evaluator.

Run one target (the corpus folder is read and grown)::

    python fuzz/targets.py http-binary fuzz/corpus/http-binary -max_total_time=60

``python fuzz/run.py`` runs every target for a set time; ``--smoke`` runs each for a few thousand inputs.
A bug is any exception that is not a :class:`cefmt.CloudEventError`, a hang (``-timeout``) or runaway
memory (``-rss_limit_mb``). Binding targets read their input as a message: header lines
``name:value`` up to a blank line, then the body (see :func:`to_message`; typed AMQP and RabbitMQ values
and the WebSocket subprotocol have their own spelling there). Encoder targets read their
input as the makings of an event (:func:`build_event`: any text, surrogates and control characters
included, any data value, extensions of every type); what is built must encode, and what encodes must
decode again, or fail with a cefmt error. The ``sql`` target reads its input as expression text (see
:func:`make_sql_target`).
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any

if __name__ == "__main__":
    import atheris

    # Coverage feedback from cefmt and its plugins only: instrumenting everything costs minutes.
    with atheris.instrument_imports(include=["cefmt", "cefmt_plugins"]):
        import cefmt
        import cefmt.codec
        import cefmt.http
        import cefmt.sql
        import cefmt_plugins.amqp
        import cefmt_plugins.arrow
        import cefmt_plugins.arrow.parquet
        import cefmt_plugins.avro_format
        import cefmt_plugins.cbor_format
        import cefmt_plugins.kafka
        import cefmt_plugins.mqtt
        import cefmt_plugins.msgpack_format
        import cefmt_plugins.nats
        import cefmt_plugins.protobuf_format
        import cefmt_plugins.rabbitmq
        import cefmt_plugins.websocket
        import cefmt_plugins.xml_format  # noqa: F401
else:
    import cefmt
    import cefmt.codec

from cefmt import Timestamp
from cefmt_plugins.amqp import AMQPMessage  # already imported, and instrumented, when fuzzing
from cefmt_plugins.common import timestamp_to_millis
from cefmt_plugins.kafka import KafkaMessage
from cefmt_plugins.mqtt import MQTTMessage
from cefmt_plugins.nats import NATSMessage
from cefmt_plugins.rabbitmq import RabbitMQMessage
from cefmt_plugins.websocket import WebSocketMessage


def formats() -> set[str]:
    keys = {info.key for info in cefmt.codecs() if info.error is None}
    return {t for v, t, m in keys if cefmt.default_registry.lookup(v, t, m).media_type is not None}


def targets() -> list[str]:
    """``TRANSPORT-MODE`` for every registered decoder, ``encode-TRANSPORT-MODE`` for every encoder (spec
    versions share one target), and ``sql``."""
    keys = {f"{t}-{m}" for _, t, m in (info.key for info in cefmt.codecs() if info.error is None)}
    return [*sorted(keys | {f"encode-{key}" for key in keys}), "sql"]


class _Reader:
    """Fuzz bytes read as small choices, text and numbers; reads past the end give zeros."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def byte(self) -> int:
        value = self.data[self.at] if self.at < len(self.data) else 0
        self.at += 1
        return value

    def text(self) -> str:
        # UTF-16 code units, so lone surrogates and every control character can come out.
        size = self.byte() % 12
        raw = bytes(self.byte() for _ in range(2 * size))
        return raw.decode("utf-16-le", "surrogatepass")

    def number(self) -> Any:
        kind = self.byte() % 5
        raw = int.from_bytes(bytes(self.byte() for _ in range(8)), "big", signed=True)
        return [raw, raw >> 40, raw * 10**20, raw / 7.0, float("nan") if raw % 2 else float("inf")][kind]

    def value(self, depth: int = 0) -> Any:
        kind = self.byte() % (9 if depth < 4 else 6)
        if kind == 0:
            return None
        if kind == 1:
            return bool(self.byte() % 2)
        if kind == 2:
            return self.number()
        if kind in (3, 4):
            return self.text()
        if kind == 5:
            return bytes(self.byte() for _ in range(self.byte() % 8))
        if kind in (6, 7):
            return [self.value(depth + 1) for _ in range(self.byte() % 4)]
        return {self.text(): self.value(depth + 1) for _ in range(self.byte() % 4)}


_CONTENT_TYPES = [None, "application/json", "text/plain", "text/plain; charset=us-ascii", "application/octet-stream",
                  "application/xml", "application/cloudevents+json", "text/csv; charset=latin-1"]  # fmt: skip


def build_event(data: bytes) -> cefmt.CloudEvent | None:
    """An event made from fuzz bytes, or ``None`` when what they describe is refused (a cefmt error)."""
    read = _Reader(data)
    attributes: dict[str, Any] = {"id": read.text(), "source": read.text() or "/s", "type": read.text()}
    attributes["specversion"] = "0.3" if read.byte() % 4 == 0 else "1.0"
    attributes["datacontenttype"] = _CONTENT_TYPES[read.byte() % len(_CONTENT_TYPES)]
    for name in ("subject", "dataschema", "time"):
        if read.byte() % 3 == 0:
            attributes[name] = read.text()
    for index in range(read.byte() % 4):
        attributes[f"ext{index}"] = read.value(depth=4)
    try:
        return cefmt.CloudEvent(attributes, read.value())
    except cefmt.CloudEventError:
        return None


def _is_json(content_type: str | None) -> bool:
    return content_type is not None and cefmt.codec.parse_media_type(content_type).is_json


def make_encode_target(name: str) -> Any:
    transport, _, mode = name.removeprefix("encode-").rpartition("-")

    def test_one_input(data: bytes) -> None:
        event = build_event(data)
        if event is None:
            return
        value: Any = [event] if mode == "batch" else event
        try:
            message = cefmt.encode(value, transport, mode)
        except cefmt.CloudEventError:
            return
        # What an encoder writes, its own decoder reads: a cefmt error here is a bug too. Except bytes
        # under a JSON type in binary mode: those are sent as they are, as JSON the caller serialized.
        if mode == "binary" and type(event.data) is bytes and _is_json(event.datacontenttype):
            return
        cefmt.decode(message, transport, mode)

    return test_one_input


def _typed(raw: bytes) -> Any:
    """A typed property value: its first byte says the type (``s`` text, ``i`` integer, ``b`` boolean,
    ``x`` hex bytes, ``t`` a timestamp in milliseconds, ``f`` a float), the rest is the value; anything
    that does not parse stays bytes, which the decoder must check."""
    kind, rest = raw[:1], raw[1:]
    try:
        if kind in (b"i", b"t"):
            number = int(rest)
            return _Millis(number) if kind == b"t" else number
        if kind == b"b":
            return rest == b"1"
        if kind == b"x":
            return bytes.fromhex(rest.decode("ascii"))
        if kind == b"f":
            return float(rest)
    except ValueError:
        return raw
    return _text_or_bytes(rest)


class _Millis(int):
    """An AMQP timestamp as qpid-proton hands it over: an ``int`` subclass named ``timestamp``."""


_Millis.__name__ = "timestamp"


def _untyped(value: Any) -> bytes:
    if isinstance(value, bool):
        return b"b1" if value else b"b0"
    if isinstance(value, int):
        return b"i%d" % value
    if isinstance(value, bytes):
        return b"x" + value.hex().encode("ascii")
    if isinstance(value, Timestamp):
        millis = timestamp_to_millis(value)
        return b"s" + str(value).encode("utf-8") if millis is None else b"t%d" % millis
    return b"s" + str(value).encode("utf-8")


def to_message(transport: str, data: bytes) -> Any:
    """Fuzz bytes as a message of ``transport``: bytes for a format, else headers and a body.

    A ``content-type`` line is the content type of AMQP, RabbitMQ and MQTT messages (a header of the
    others); a ``subprotocol`` line is the WebSocket subprotocol, and a WebSocket body that is UTF-8 is
    a text frame.
    """
    if transport in formats():
        return data
    head, _, body = data.partition(b"\n\n")
    pairs = [line.partition(b":") for line in head.split(b"\n") if line]
    if transport == "kafka":
        return KafkaMessage(None, [(n.decode("latin-1"), v) for n, _, v in pairs], body or None)
    named = [(n.decode("latin-1"), v) for n, _, v in pairs]
    content_type = next((_text_or_bytes(v) for n, v in named if n == "content-type"), None)
    others = [(n, v) for n, v in named if n != "content-type"]
    if transport == "amqp":
        properties = {n: _typed(v) for n, v in others}
        return {"application_properties": properties, "content_type": content_type, "body": body}
    if transport == "rabbitmq":
        return {"headers": [(n, _typed(v)) for n, v in others], "content_type": content_type, "body": body}
    if transport == "mqtt":
        properties = [(n, _text_or_bytes(v)) for n, v in others]
        return {"user_properties": properties, "content_type": content_type, "payload": body}
    if transport == "nats":
        return {"headers": [(n, _text_or_bytes(v)) for n, v in named], "payload": body}
    if transport == "websocket":
        subprotocol = next((v.decode("latin-1") or None for n, v in named if n == "subprotocol"), None)
        return WebSocketMessage(subprotocol, _text_or_bytes(body))
    # HTTP servers hand over text; undecodable bytes stay bytes so that the decoder must check them.
    headers = [(n.decode("latin-1"), _text_or_bytes(v)) for n, _, v in pairs]
    return (headers, body)


def _lines(pairs: Any) -> bytes:
    return b"".join(
        n.encode("latin-1", "replace") + b":" + (v if isinstance(v, bytes) else v.encode("utf-8")) + b"\n"
        for n, v in pairs
    )


def from_message(message: Any) -> bytes:
    """The inverse of :func:`to_message`, for seed corpora."""
    if isinstance(message, bytes):
        return message
    if isinstance(message, (AMQPMessage, RabbitMQMessage)):
        typed = message.application_properties if isinstance(message, AMQPMessage) else message.headers
        pairs = [(n, _untyped(v)) for n, v in typed.items()]
        if message.content_type is not None:
            pairs.append(("content-type", message.content_type))
        return _lines(pairs) + b"\n" + message.body
    if isinstance(message, MQTTMessage):
        pairs = list(message.user_properties)
        if message.content_type is not None:
            pairs.append(("content-type", message.content_type))
        return _lines(pairs) + b"\n" + message.payload
    if isinstance(message, NATSMessage):
        return _lines(message.headers.items()) + b"\n" + message.payload
    if isinstance(message, WebSocketMessage):
        payload = message.payload if isinstance(message.payload, bytes) else message.payload.encode("utf-8")
        return _lines([("subprotocol", message.subprotocol or "")]) + b"\n" + payload
    headers = message.headers.items() if isinstance(message.headers, dict) else message.headers
    body = getattr(message, "body", None) if hasattr(message, "body") else message.value
    return _lines(headers) + b"\n" + (body or b"")


def _text_or_bytes(value: bytes) -> str | bytes:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value


def make_sql_target() -> Any:
    """Fuzz bytes as CESQL text: it compiles or raises a cefmt error; what compiles prints to text that
    parses to the same tree, and evaluates on a few events to a CESQL value and a CESQL error, never an
    exception, with ``matches`` agreeing with the value."""
    import cefmt.sql  # noqa: PLC0415 - instrumented above when fuzzing, loaded here for a plain import
    from cefmt.sql._parser import parse  # noqa: PLC0415

    events = [
        cefmt.CloudEvent(type="com.example.t", source="/s", id="1"),
        cefmt.CloudEvent(
            type="t", source="/s", id="-5", subject="a%b_c", time="2020-01-01T00:00:00.5+01:00",
            n=7, flag=True, word="TRUE", digits="42", blob=b"\x00\xff", big=2**31 - 1,
        ),
        cefmt.CloudEvent(type="t", source="/s", id="x", specversion="0.3", schemaurl="/x", n=-(2**31)),
    ]  # fmt: skip

    def test_one_input(data: bytes) -> None:
        text = data.decode("utf-8", "replace")
        try:
            expression = cefmt.sql.compile(text, max_length=4096)
        except cefmt.CloudEventError:
            return
        assert parse(expression.canonical, max_depth=cefmt.sql.MAX_DEPTH_CEILING) == expression.tree, text
        for event in events:
            result = expression.evaluate(event)
            assert type(result.value) in (str, int, bool), (text, result)
            assert result.error is None or isinstance(result.error, cefmt.sql.SQLError), (text, result)
            assert expression.matches(event) is (result.value is True and result.error is None), text

    return test_one_input


def make_target(name: str) -> Any:
    if name == "sql":
        return make_sql_target()
    transport, _, mode = name.rpartition("-")

    def test_one_input(data: bytes) -> None:
        message = to_message(transport, data)
        for chosen in (mode, None):
            try:
                decoded = cefmt.decode(message, transport, chosen)
            except cefmt.CloudEventError:
                continue
            # What decodes must encode again with the same codec, or fail with a cefmt error.
            with contextlib.suppress(cefmt.CloudEventError):
                cefmt.encode(decoded, transport, mode if chosen is not None else _mode_of(decoded, mode))

    return test_one_input


def _mode_of(decoded: Any, mode: str) -> str:
    return "batch" if isinstance(decoded, list) else ("structured" if mode == "batch" else mode)


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in targets():
        sys.exit(f"usage: targets.py TARGET [libFuzzer options]; targets: {', '.join(targets())}")
    name = sys.argv.pop(1)
    atheris.Setup(sys.argv, make_encode_target(name) if name.startswith("encode-") else make_target(name))
    atheris.Fuzz()


if __name__ == "__main__":
    main()
