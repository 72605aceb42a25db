"""The event formats of cefmt_plugins against their field library's own raw speed on the same record.

    python benchmarks/bench_formats.py            # every format, about a minute
    python benchmarks/bench_formats.py --quick    # a smoke run
    python benchmarks/bench_formats.py --formats cbor,avro
    python benchmarks/bench_formats.py --docs     # ... and write each format's rows into docs/formats/NAME.md

For each format, one event (the attributes of a typical event, four typed extensions, a small JSON
object as data) is encoded and decoded by cefmt (``cefmt.encode(event, NAME)``, ``cefmt.decode(raw,
NAME)`` with ``event.data`` read), and the same record is written and read by the field library alone,
with no validation: ``cbor2.dumps``/``loads`` of the map cefmt writes, fastavro's schemaless writer and
reader on the record, protobuf building and serializing the message and parsing it (every field read),
the standard library serializing an element tree and defusedxml parsing the document. Every
implementation is timed the same way: ``timeit`` calls in batches of at least 50 ms, the median of
``--repeat`` batches, per call. The ratio is cefmt's time over the library's.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import statistics
import timeit
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any

import cefmt
from cefmt import CloudEvent, Timestamp

ROOT = Path(__file__).resolve().parents[1]

EVENT = CloudEvent(
    {
        "id": "5f7a1c0e-8f2b-4b8e-9b1a-0c6d2e3f4a5b",
        "source": "https://example.com/orders/service",
        "type": "com.example.order.created",
        "subject": "orders/42",
        "time": "2024-05-01T12:34:56.789Z",
        "dataschema": "https://example.com/schemas/order",
    },
    {"order": 42, "items": [{"sku": "A-1", "qty": 2}, {"sku": "B-7", "qty": 1}], "total": 99.5, "note": "gift"},
    traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    priority=3,
    express=True,
    token=b"\x01\x02\x03\x04",
)


def _time(function: Callable[[], Any], repeat: int, minimum: float) -> float:
    """Median seconds per call over ``repeat`` batches of at least ``minimum`` seconds each."""
    timer = timeit.Timer(function)
    number = 1
    while timer.timeit(number) < minimum:
        number *= 2
    return statistics.median(timer.timeit(number) / number for _ in range(repeat))


# -- the field libraries on their own ---------------------------------------------------------------------------


def _cbor_raw() -> tuple[Callable[[], Any], Callable[[], Any]]:
    import cbor2

    from cefmt_plugins.cbor_format import to_document

    doc = to_document(EVENT)
    raw = cbor2.dumps(doc)
    return (lambda: cbor2.dumps(doc)), (lambda: cbor2.loads(raw))


def _avro_raw(compact: bool) -> tuple[Callable[[], Any], Callable[[], Any]]:
    import fastavro

    from cefmt_plugins import avro_format

    schema = fastavro.parse_schema(avro_format.COMPACT_SCHEMA if compact else avro_format.SCHEMA)
    record = avro_format.to_compact_record(EVENT) if compact else avro_format.to_record(EVENT)
    out = io.BytesIO()
    fastavro.schemaless_writer(out, schema, record)
    raw = out.getvalue()

    def write() -> bytes:
        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, schema, record)
        return buffer.getvalue()

    return write, (lambda: fastavro.schemaless_reader(io.BytesIO(raw), schema, None))


def _protobuf_raw() -> tuple[Callable[[], Any], Callable[[], Any]]:
    from cefmt_plugins.protobuf_format import message_classes

    message_class, _ = message_classes()
    text = json.dumps(EVENT.data, separators=(",", ":"))
    seconds = 1714566896

    def write() -> bytes:
        message = message_class(id=EVENT.id, source=EVENT.source, spec_version="1.0", type=EVENT.type, text_data=text)
        attributes = message.attributes
        attributes["subject"].ce_string = "orders/42"
        attributes["datacontenttype"].ce_string = "application/json"
        attributes["dataschema"].ce_uri = "https://example.com/schemas/order"
        attributes["time"].ce_timestamp.seconds = seconds
        attributes["time"].ce_timestamp.nanos = 789_000_000
        attributes["traceparent"].ce_string = EVENT["traceparent"]
        attributes["priority"].ce_integer = 3
        attributes["express"].ce_boolean = True
        attributes["token"].ce_bytes = b"\x01\x02\x03\x04"
        return message.SerializeToString()  # type: ignore[no-any-return]

    raw = write()

    def read() -> Any:
        message = message_class.FromString(raw)
        values = [(name, getattr(value, value.WhichOneof("attr"))) for name, value in message.attributes.items()]
        return message.id, message.source, message.spec_version, message.type, values, message.text_data

    return write, read


def _xml_raw() -> tuple[Callable[[], Any], Callable[[], Any]]:
    import defusedxml.ElementTree

    raw = cefmt.encode(EVENT, "xml")
    tree = ET.fromstring(raw)
    return (lambda: ET.tostring(tree, encoding="utf-8")), (lambda: defusedxml.ElementTree.fromstring(raw))


RAW: dict[str, Callable[[], tuple[Callable[[], Any], Callable[[], Any]]]] = {
    "protobuf": _protobuf_raw,
    "avro": lambda: _avro_raw(compact=False),
    "avro-compact": lambda: _avro_raw(compact=True),
    "xml": _xml_raw,
    "cbor": _cbor_raw,
}
LIBRARY = {"protobuf": "protobuf", "avro": "fastavro", "avro-compact": "fastavro", "xml": "defusedxml",
           "cbor": "cbor2"}  # fmt: skip


def measure(name: str, repeat: int, minimum: float) -> list[tuple[str, float, float, int]]:
    event = EVENT.evolve(time=Timestamp.parse("2024-05-01T12:34:56.789Z"))
    raw = cefmt.encode(event, name)
    assert cefmt.decode(raw, name) == event
    library_write, library_read = RAW[name]()
    ours_write = _time(lambda: cefmt.encode(event, name), repeat, minimum)
    theirs_write = _time(library_write, repeat, minimum)
    ours_read = _time(lambda: cefmt.decode(raw, name).data, repeat, minimum)
    theirs_read = _time(library_read, repeat, minimum)
    size = len(raw)
    return [(f"{name} encode", ours_write, theirs_write, size), (f"{name} decode", ours_read, theirs_read, size)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="short batches, three repeats")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--formats", default=",".join(RAW), help="comma-separated formats")
    parser.add_argument("--docs", action="store_true", help="write the rows into docs/formats/NAME.md")
    args = parser.parse_args()
    repeat, minimum = (3, 0.005) if args.quick else (args.repeat, 0.05)
    versions = ", ".join(f"{dist} {metadata.version(dist)}" for dist in ("cbor2", "fastavro", "protobuf", "defusedxml"))
    where = f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores; {versions}"
    print(f"{where}; median of {repeat} batches")
    print()
    header = "| task | bytes | cefmt | field library alone | cefmt / library |\n| --- | ---: | ---: | ---: | ---: |"
    print(header)
    for name in args.formats.split(","):
        rows = [
            f"| {task} ({LIBRARY[name]}) | {size} | {ours * 1e6:,.1f} µs | {theirs * 1e6:,.1f} µs | "
            f"{ours / theirs:.2f}x |"
            for task, ours, theirs, size in measure(name, repeat, minimum)
        ]
        print("\n".join(rows), flush=True)
        if args.docs:
            _write_docs(name, f"Measured {date.today()} ({where}):\n\n{header}\n" + "\n".join(rows))


def _write_docs(name: str, text: str) -> None:
    page = ROOT / "docs" / "formats" / f"{name}.md"
    content = page.read_text(encoding="utf-8")
    start, end = f"<!-- bench-{name} -->", f"<!-- /bench-{name} -->"
    before, _, rest = content.partition(start)
    _, _, after = rest.partition(end)
    page.write_text(f"{before}{start}\n{text}\n{end}{after}", encoding="utf-8")


if __name__ == "__main__":
    main()
