"""Peak memory of decoding the worst messages of the cefmt_plugins formats, as a multiple of their size.

    python benchmarks/bench_memory_formats.py              # every case at 8 MB, a table on stdout
    python benchmarks/bench_memory_formats.py --size 2e6   # smaller messages

The same measurement as ``bench_memory.py`` (a fresh process per case, the growth of ``VmHWM`` during
one decode, the codecs loaded before it), for the densest shapes each format allows within the
default :class:`cefmt.Limits`: data whose smallest items each become a Python object, as many
containers as ``max_container_count`` lets through, a batch of the most events allowed. SECURITY.md
quotes the results.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench_memory import _peak_rss, _print_row

_CONTAINERS = 99_000  # just under the default max_container_count
_REQUIRED = {"specversion": "1.0", "id": "1", "source": "/s", "type": "t"}


def _cbor_event(data_item: bytes, content_type: str | None = "application/json") -> bytes:
    import cbor2

    members = dict(_REQUIRED, **({} if content_type is None else {"datacontenttype": content_type}))
    head = cbor2.dumps(members)
    return bytes([head[0] + 1]) + head[1:] + cbor2.dumps("data") + data_item


def _cbor_array(item: bytes, count: int) -> bytes:
    return b"\x9a" + count.to_bytes(4, "big") + item * count


def _json_text(item: str, size: int) -> str:
    return "[" + ",".join([item] * (size // (len(item) + 1))) + "]"


def _cbor_json_ints(size: int) -> bytes:
    return _cbor_event(_cbor_array(b"\x38\x10", size // 2))  # -17: two bytes, a new int each


def _cbor_json_strings(size: int) -> bytes:
    return _cbor_event(_cbor_array(b"\x62ab", size // 3))


def _cbor_maps(size: int) -> bytes:
    scalars = max(0, (size - _CONTAINERS) // 3)
    return _cbor_event(
        b"\x9a" + (_CONTAINERS + scalars).to_bytes(4, "big") + b"\xa0" * _CONTAINERS + b"\x62ab" * scalars
    )


def _avro_event(data: object, content_type: str | None = None) -> bytes:
    import io

    import fastavro

    from cefmt_plugins.avro_format import SCHEMA

    attributes = dict(_REQUIRED, **({} if content_type is None else {"datacontenttype": content_type}))
    out = io.BytesIO()
    fastavro.schemaless_writer(out, fastavro.parse_schema(SCHEMA), {"attribute": attributes, "data": data})
    return out.getvalue()


def _avro_map(size: int) -> bytes:
    # Distinct four-character keys, each with a null: six bytes an entry, a dict entry (twice) each.
    alphabet = [chr(0x41 + i) for i in range(58)]
    keys = (a + b + c + d for a in alphabet for b in alphabet for c in alphabet for d in alphabet)
    data = dict(zip(keys, [None] * (size // 6), strict=False))
    return _avro_event(data)


def _avro_records(size: int) -> bytes:
    return _avro_event([{"value": {}}] * (_CONTAINERS // 2))  # a record is two dicts: two containers


def _protobuf_batch(size: int) -> bytes:
    from cefmt import CloudEvent, encode

    return encode([CloudEvent(_REQUIRED, id=str(i)) for i in range(10_000)], "protobuf", "batch")  # type: ignore[no-any-return]


def _protobuf_json(size: int) -> bytes:
    from cefmt import CloudEvent, encode

    event = CloudEvent(_REQUIRED, "x", datacontenttype="application/json")
    raw: bytes = encode(event, "protobuf")
    text = _json_text("-9", size).encode()
    return raw[: raw.rindex(b'\x3a\x03"x"')] + b"\x3a" + _varint(len(text)) + text


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes(out) + bytes([value])


_XML_HEAD = (
    '<event xmlns="http://cloudevents.io/xmlformat/V1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'specversion="1.0"><id>1</id><source>/s</source><type>t</type>'
)


def _xml_json(size: int) -> bytes:
    return (_XML_HEAD + '<datacontenttype>application/json</datacontenttype><data xsi:type="xs:string">'
            + _json_text("-9", size) + "</data></event>").encode()  # fmt: skip


def _xml_elements(size: int) -> bytes:
    text = "ab" * max(0, (size - 4 * _CONTAINERS) // 2)
    return (
        _XML_HEAD + '<data xsi:type="xs:any"><d>' + "<a/>" * (_CONTAINERS - 10) + text + "</d></data></event>"
    ).encode()


def _compact_json(size: int) -> bytes:
    from cefmt import CloudEvent, encode

    raw: bytes = encode(CloudEvent(_REQUIRED, b"1", datacontenttype="application/json"), "avro-compact")
    body = _json_text("-9", size).encode()
    zigzag = _varint(len(body) << 1)
    return raw[:-3] + b"\x00" + zigzag + body  # data: union branch 0 (bytes), then the body


#: name -> (format, builder of a message of about ``size`` bytes)
CASES: dict[str, tuple[str, Callable[[int], bytes]]] = {
    "cbor: JSON data as CBOR ints (-17)": ("cbor", _cbor_json_ints),
    "cbor: JSON data as CBOR two-letter strings": ("cbor", _cbor_json_strings),
    "cbor: 99k empty maps + strings as JSON data": ("cbor", _cbor_maps),
    "cbor: CBOR data item of ints (kept as bytes)": (
        "cbor",
        lambda size: _cbor_event(_cbor_array(b"\x38\x10", size // 2), None),
    ),
    "cbor: 4M empty arrays (refused)": ("cbor", lambda size: _cbor_event(_cbor_array(b"\x80", 4_000_000))),
    "avro: JSON text of -9": ("avro", lambda size: _avro_event(_json_text("-9", size), "application/json")),
    "avro: data map of distinct keys": ("avro", _avro_map),
    "avro: 49k empty records": ("avro", _avro_records),
    "avro-compact: JSON bytes of -9": ("avro-compact", _compact_json),
    "protobuf: JSON text of -9": ("protobuf", _protobuf_json),
    "protobuf: batch of 10k minimal events": ("protobuf", _protobuf_batch),
    "xml: JSON text of -9": ("xml", _xml_json),
    "xml: 99k empty elements + text": ("xml", _xml_elements),
    "xml: 2M empty elements (refused)": ("xml", lambda size: (_XML_HEAD + "<a/>" * 2_000_000 + "</event>").encode()),
}


def measure(name: str, path: Path) -> dict[str, object]:
    """In a fresh process: decode the stored message once, report the peak's growth."""
    import cefmt

    transport = CASES[name][0]
    raw = path.read_bytes()
    for warm in ("cbor", "avro", "avro-compact", "protobuf", "xml"):  # their imports are not the message's cost
        event = cefmt.CloudEvent(_REQUIRED, {"a": [1]})
        cefmt.decode(cefmt.encode(event, warm), warm)
    before = _peak_rss()
    outcome = "decoded"
    try:
        result = cefmt.decode(raw, transport)
    except cefmt.CloudEventError as exc:
        outcome = f"refused: {type(exc).__name__}"
        result = None
    after = _peak_rss()
    del result
    return {"case": name, "bytes": len(raw), "peak_growth": after - before, "outcome": outcome}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=float, default=8e6, help="message size in bytes (default 8e6)")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--cases", help="comma-separated case names (default: all)")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], Path(args.child[1]))))
        return
    names = args.cases.split(",") if args.cases else list(CASES)
    print("| case | message | peak growth | multiple | outcome |\n| --- | ---: | ---: | ---: | --- |")
    with tempfile.TemporaryDirectory() as folder:
        for name in names:
            path = Path(folder) / "message"
            path.write_bytes(CASES[name][1](int(args.size)))
            out = subprocess.run(
                [sys.executable, __file__, "--child", name, str(path)], check=True, capture_output=True, text=True
            ).stdout
            _print_row(json.loads(out))


if __name__ == "__main__":
    main()
