"""Where the time of one small HTTP event goes, step by step (the table in docs/performance.md).

    python benchmarks/profile_steps.py              # the figures in docs/performance.md
    python benchmarks/profile_steps.py --calls 100  # a smoke run (CI)

Each step is timed on its own with ``timeit`` (best of 7 runs of 50,000 calls), on the fixtures of the
benchmark suite, beside the standard-library work the floor does for the same message. The steps
overlap a little (a step's own call overhead), so they add up to slightly more than the whole.
"""

from __future__ import annotations

import argparse
import json
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _worker import SMALL, SMALL_DATA, TIME, body_of, document_of, headers_of

from cefmt import CloudEvent, _data, _http, _json_format, _timestamp, decode, encode

RUNS = 7


def microseconds(step: Callable[[], object], calls: int) -> float:
    return min(timeit.repeat(step, number=calls, repeat=RUNS)) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--calls", type=int, default=50_000, help="calls per timed run (default 50,000)")
    calls = parser.parse_args().calls
    headers, body = headers_of(SMALL), body_of(SMALL_DATA)
    binary = (headers, body)
    document = json.dumps(document_of(SMALL, SMALL_DATA)).encode()
    structured = ({"content-type": "application/cloudevents+json"}, document)
    received = _http.read(binary)
    attributes = {**received.attributes, "datacontenttype": received.content_type}
    event = CloudEvent({**SMALL, "time": TIME}, SMALL_DATA)
    stamp = event.time
    assert stamp is not None

    def floor_headers() -> object:
        found = {name[3:]: value for name, value in headers.items() if name.startswith("ce-")}
        found["datacontenttype"] = headers["content-type"]
        return found

    rows = [
        ("binary decode, whole", lambda: decode(binary, "http").data),
        ("  read the headers (_http.read)", lambda: _http.read(binary)),
        ("  build the record (CloudEvent._from_owned)", lambda: CloudEvent._from_owned(dict(attributes), None)),
        ("    of which RFC 3339 parse", lambda: _timestamp.parse_timestamp(SMALL["time"])),
        ("  body to data (body_to_data)", lambda: _data.body_to_data(body, "application/json")),
        ("  mode detection (_http.detect)", lambda: _http.detect(received)),
        ("  floor: header loop", floor_headers),
        ("  floor: json.loads(body)", lambda: json.loads(body)),
        ("structured decode, whole", lambda: decode(structured, "http").data),
        ("  JSON event format alone (decode_event)", lambda: _json_format.decode_event(document)),
        ("  floor: json.loads(document)", lambda: json.loads(document)),
        ("binary encode, whole", lambda: encode(event, "http", "binary")),
        ("  timestamp text (format_timestamp)", lambda: _timestamp.format_timestamp(stamp)),
        ("  data to body (data_to_body)", lambda: _data.data_to_body(event)),
        ("  floor: json.dumps(data).encode()", lambda: json.dumps(SMALL_DATA).encode()),
        ("structured encode, whole", lambda: encode(event, "http", "structured")),
        ("  event document (to_document)", lambda: _json_format.to_document(event)),
    ]
    width = max(len(name) for name, _ in rows)
    for name, step in rows:
        print(f"{name:<{width}}  {microseconds(step, calls):6.2f} µs")


if __name__ == "__main__":
    main()
