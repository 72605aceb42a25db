"""One benchmark process: time every task of one implementation and print the results as JSON.

Run by ``benchmarks/run.py``, never imported by it: the CloudEvents SDKs run this file in their own
virtual environments, where cefmt is not installed, so it imports nothing but the standard library at
module level and the implementation under test inside its ``setup_*`` function.

    python benchmarks/_worker.py IMPL --min-time 0.05 --samples 7 [--task NAME ...] [--memory-events N]

IMPL is ``cefmt``, ``floor`` (the standard library doing the same work with no validation),
``sdk2`` or ``sdk1``.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

Task = Callable[[], object]

# -- the fixtures every implementation works on ---------------------------------------------------------

# A small event: five attributes and time, two-member JSON data.
SMALL = {
    "specversion": "1.0",
    "id": "b3f6a9d2-5c1e-4a7b-9f0e-2d8c4b6a1e37",
    "source": "https://example.com/orders",
    "type": "com.example.order.created",
    "datacontenttype": "application/json",
    "time": "2024-05-01T12:30:45.123456Z",
}
SMALL_DATA: dict[str, Any] = {"message": "Hello World!", "count": 42}
TIME = datetime(2024, 5, 1, 12, 30, 45, 123456, tzinfo=timezone.utc)


def large_data() -> dict[str, Any]:
    """About 10 KB of JSON: a typical order document with many line items."""
    items = [
        {"sku": f"SKU-{n:05d}", "name": f"Widget number {n}", "qty": n % 7 + 1, "price": round(n * 1.25, 2),
         "tags": ["blue", "large"] if n % 2 else ["red"], "gift": n % 5 == 0}
        for n in range(80)
    ]  # fmt: skip
    return {"order": "ORD-2024-000042", "customer": {"id": 7, "name": "Ada Lovelace"}, "items": items}


LARGE_DATA = large_data()
BATCH_SIZE = 1000


def batch_attrs(n: int) -> dict[str, str]:
    return {**SMALL, "id": f"evt-{n:06d}"}


def headers_of(attrs: dict[str, str]) -> dict[str, str]:
    """Binary-mode HTTP headers as a server hands them over: lower-case names, plain dict."""
    headers = {"ce-" + name: value for name, value in attrs.items() if name != "datacontenttype"}
    headers["content-type"] = attrs["datacontenttype"]
    return headers


def kafka_headers_of(attrs: dict[str, str]) -> list[tuple[str, bytes]]:
    """Binary-mode Kafka headers as a consumer hands them over: (name, bytes) pairs."""
    pairs = [("ce_" + name, value.encode()) for name, value in attrs.items() if name != "datacontenttype"]
    pairs.append(("content-type", attrs["datacontenttype"].encode()))
    return pairs


def document_of(attrs: dict[str, str], data: Any) -> dict[str, Any]:
    return {**attrs, "data": data}


def body_of(data: Any) -> bytes:
    return json.dumps(data).encode()


# -- implementations: each returns {task name: zero-argument callable} ----------------------------------


def setup_floor() -> tuple[str, dict[str, Task]]:
    """The standard library doing the same work, with no validation at all."""
    dumps, loads = json.dumps, json.loads
    tasks: dict[str, Task] = {}
    for size, data in (("small", SMALL_DATA), ("10kb", LARGE_DATA)):
        attrs = dict(SMALL)
        content_type = attrs.pop("datacontenttype")
        headers, body = headers_of(SMALL), body_of(data)
        doc = document_of(SMALL, data)
        structured = dumps(doc).encode()

        def binary_encode(attrs: dict[str, str] = attrs, data: Any = data, ct: str = content_type) -> object:
            out = {"content-type": ct}
            for name, value in attrs.items():
                out["ce-" + name] = value
            return out, dumps(data).encode()

        def binary_decode(headers: dict[str, str] = headers, body: bytes = body) -> object:
            attrs = {}
            for name, value in headers.items():
                if name.startswith("ce-"):
                    attrs[name[3:]] = value
            attrs["datacontenttype"] = headers["content-type"]
            return attrs, loads(body)

        tasks[f"http binary encode, {size}"] = binary_encode
        tasks[f"http binary decode, {size}"] = binary_decode
        tasks[f"http structured encode, {size}"] = lambda doc=doc: dumps(doc).encode()
        tasks[f"http structured decode, {size}"] = lambda raw=structured: loads(raw)

    docs = [document_of(batch_attrs(n), SMALL_DATA) for n in range(BATCH_SIZE)]
    batch = dumps(docs).encode()
    tasks["json batch encode, 1000"] = lambda: dumps(docs).encode()
    tasks["json batch decode, 1000"] = lambda: loads(batch)

    kafka_attrs = {name: value for name, value in SMALL.items() if name != "datacontenttype"}
    kafka_headers, kafka_value = kafka_headers_of(SMALL), body_of(SMALL_DATA)

    def kafka_encode() -> object:
        pairs = [("ce_" + name, value.encode()) for name, value in kafka_attrs.items()]
        pairs.append(("content-type", b"application/json"))
        return pairs, dumps(SMALL_DATA).encode()

    def kafka_decode() -> object:
        attrs = {}
        for name, value in kafka_headers:
            if name.startswith("ce_"):
                attrs[name[3:]] = value.decode()
            elif name == "content-type":
                attrs["datacontenttype"] = value.decode()
        return attrs, loads(kafka_value)

    tasks["kafka binary encode, small"] = kafka_encode
    tasks["kafka binary decode, small"] = kafka_decode

    try:
        import msgpack
    except ImportError:
        pass
    else:
        doc = document_of(SMALL, SMALL_DATA)
        packed = msgpack.packb(doc)
        tasks["msgpack structured encode, small"] = lambda: msgpack.packb(doc)
        tasks["msgpack structured decode, small"] = lambda: msgpack.unpackb(packed)

    tasks["create event, small"] = lambda: {**SMALL, "time": TIME, "data": SMALL_DATA}
    return f"python {sys.version.split()[0]}, json (stdlib)", tasks


def binary_decode_floor(headers: dict[str, str], body: bytes) -> object:
    attrs = {name[3:]: value for name, value in headers.items() if name.startswith("ce-")}
    attrs["datacontenttype"] = headers["content-type"]
    return attrs, json.loads(body)


def setup_cefmt() -> tuple[str, dict[str, Task]]:
    import cefmt
    from cefmt import CloudEvent, decode, encode

    tasks: dict[str, Task] = {}
    for size, data in (("small", SMALL_DATA), ("10kb", LARGE_DATA)):
        event = CloudEvent({**SMALL, "time": TIME}, data)
        message = (headers_of(SMALL), body_of(data))
        structured = (dict(encode(event, "http", "structured").headers), encode(event, "json"))
        tasks[f"http binary encode, {size}"] = lambda event=event: encode(event, "http", "binary")
        tasks[f"http binary decode, {size}"] = lambda message=message: decode(message, "http").data
        tasks[f"http structured encode, {size}"] = lambda event=event: encode(event, "http", "structured")
        tasks[f"http structured decode, {size}"] = lambda message=structured: decode(message, "http").data

    events = [CloudEvent({**batch_attrs(n), "time": TIME}, SMALL_DATA) for n in range(BATCH_SIZE)]
    batch = encode(events, "json", "batch")
    tasks["json batch encode, 1000"] = lambda: encode(events, "json", "batch")
    tasks["json batch decode, 1000"] = lambda: [event.data for event in decode(batch, "json")]

    small = CloudEvent({**SMALL, "time": TIME}, SMALL_DATA)
    available = {(info.key[1], info.key[2]) for info in cefmt.codecs() if info.error is None}
    if ("kafka", "binary") in available:
        record = {"key": None, "headers": kafka_headers_of(SMALL), "value": body_of(SMALL_DATA)}
        tasks["kafka binary encode, small"] = lambda: encode(small, "kafka", "binary")
        tasks["kafka binary decode, small"] = lambda: decode(record, "kafka").data
    if ("msgpack", "structured") in available:
        packed = encode(small, "msgpack")
        tasks["msgpack structured encode, small"] = lambda: encode(small, "msgpack")
        tasks["msgpack structured decode, small"] = lambda: decode(packed, "msgpack").data

    attributes = {**SMALL, "time": TIME}
    tasks["create event, small"] = lambda: CloudEvent(attributes, SMALL_DATA)
    return f"cefmt {cefmt.__version__}", tasks


def setup_sdk2() -> tuple[str, dict[str, Task]]:
    import cloudevents
    from cloudevents.core.bindings import http, kafka
    from cloudevents.core.formats.json import JSONFormat
    from cloudevents.core.v1.event import CloudEvent

    fmt = JSONFormat()
    tasks: dict[str, Task] = {}
    for size, data in (("small", SMALL_DATA), ("10kb", LARGE_DATA)):
        event = CloudEvent({**SMALL, "time": TIME}, data)
        message = http.HTTPMessage(headers_of(SMALL), body_of(data))
        structured = http.to_structured(event, fmt)
        tasks[f"http binary encode, {size}"] = lambda event=event: http.to_binary(event, fmt)
        tasks[f"http binary decode, {size}"] = lambda m=message: http.from_http(m, fmt).get_data()
        tasks[f"http structured encode, {size}"] = lambda event=event: http.to_structured(event, fmt)
        tasks[f"http structured decode, {size}"] = lambda m=structured: http.from_http(m, fmt).get_data()

    small = CloudEvent({**SMALL, "time": TIME}, SMALL_DATA)
    record = kafka.KafkaMessage(dict(kafka_headers_of(SMALL)), None, body_of(SMALL_DATA))
    tasks["kafka binary encode, small"] = lambda: kafka.to_binary(small, fmt)
    tasks["kafka binary decode, small"] = lambda: kafka.from_kafka(record, fmt).get_data()
    # The SDK's constructor stores the mapping it is given: hand it a fresh one, as a caller would.
    tasks["create event, small"] = lambda: CloudEvent({**SMALL, "time": TIME}, SMALL_DATA)
    return f"cloudevents {cloudevents.__version__}", tasks


def setup_sdk1() -> tuple[str, dict[str, Task]]:
    import cloudevents
    from cloudevents import kafka
    from cloudevents.conversion import to_binary, to_structured
    from cloudevents.http import CloudEvent, from_http

    tasks: dict[str, Task] = {}
    for size, data in (("small", SMALL_DATA), ("10kb", LARGE_DATA)):
        event = CloudEvent(dict(SMALL), data)
        headers, body = headers_of(SMALL), body_of(data)
        s_headers, s_body = to_structured(event)
        tasks[f"http binary encode, {size}"] = lambda event=event: to_binary(event)
        tasks[f"http binary decode, {size}"] = lambda h=headers, b=body: from_http(h, b).data
        tasks[f"http structured encode, {size}"] = lambda event=event: to_structured(event)
        tasks[f"http structured decode, {size}"] = lambda h=s_headers, b=s_body: from_http(h, b).data

    small = CloudEvent(dict(SMALL), SMALL_DATA)
    record = kafka.KafkaMessage(dict(kafka_headers_of(SMALL)), None, body_of(SMALL_DATA))
    tasks["kafka binary encode, small"] = lambda: kafka.to_binary(small)
    tasks["kafka binary decode, small"] = lambda: kafka.from_binary(record).data
    tasks["create event, small"] = lambda: CloudEvent(dict(SMALL), SMALL_DATA)
    return f"cloudevents {cloudevents.__version__}", tasks


SETUPS = {"floor": setup_floor, "cefmt": setup_cefmt, "sdk2": setup_sdk2, "sdk1": setup_sdk1}


# -- decoders for the memory task (100,000 events kept alive) ---------------------------------------------


def memory_decoder(impl: str) -> Callable[[dict[str, str], bytes], object]:
    if impl == "floor":
        return binary_decode_floor
    if impl == "cefmt":
        from cefmt import decode

        def cefmt_decode(headers: dict[str, str], body: bytes) -> object:
            event = decode((headers, body), "http")
            event.data  # noqa: B018 - read, as a receiver would
            return event

        return cefmt_decode
    if impl == "sdk2":
        from cloudevents.core.bindings import http
        from cloudevents.core.formats.json import JSONFormat

        fmt = JSONFormat()
        return lambda headers, body: http.from_http(http.HTTPMessage(headers, body), fmt)
    from cloudevents.http import from_http

    return from_http  # type: ignore[no-any-return]


def memory_of(impl: str, count: int) -> float:
    """Peak traced memory (bytes) while ``count`` decoded small events are held in a list."""
    decoder = memory_decoder(impl)
    messages = [(headers_of({**SMALL, "id": f"evt-{n:07d}"}), body_of(SMALL_DATA)) for n in range(count)]
    gc.collect()
    tracemalloc.start()
    kept = [decoder(headers, body) for headers, body in messages]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del kept
    return float(peak)


# -- timing ---------------------------------------------------------------------------------------------


def _loop(task: Task, loops: int) -> float:
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()  # as timeit does: a collection landing in one sample only is noise
    try:
        start = time.perf_counter()
        for _ in range(loops):
            task()
        return time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()


def time_task(task: Task, min_time: float, samples: int) -> float:
    """Seconds per call: the median of ``samples`` samples of about ``min_time`` seconds each."""
    task()  # warm up caches (registry lookups, lazy imports)
    loops = 1
    while True:
        elapsed = _loop(task, loops)
        if elapsed >= min_time / 4:
            break
        loops *= 4 if elapsed < min_time / 40 else 2
    loops = max(1, int(loops * min_time / max(elapsed, 1e-9)))
    return statistics.median(_loop(task, loops) / loops for _ in range(samples))


def call_overhead(min_time: float, samples: int) -> float:
    """The cost of calling an empty task in the loop, subtracted from every result."""
    return time_task(lambda: None, min_time, samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("impl", choices=sorted(SETUPS))
    parser.add_argument("--min-time", type=float, default=0.05)
    parser.add_argument("--samples", type=int, default=7)
    parser.add_argument("--task", action="append", default=[], help="a task to run (repeatable; default: all)")
    parser.add_argument("--memory-events", type=int, default=0, help="run the memory task instead")
    args = parser.parse_args()

    if args.memory_events:
        print(json.dumps({"memory": memory_of(args.impl, args.memory_events)}))
        return
    version, tasks = SETUPS[args.impl]()
    wanted = args.task or list(tasks)
    overhead = call_overhead(args.min_time, args.samples)
    results = {}
    for name in wanted:
        if name in tasks:
            seconds = time_task(tasks[name], args.min_time, args.samples)
            results[name] = max(seconds - overhead, seconds / 100)
    print(json.dumps({"version": version, "results": results}))


if __name__ == "__main__":
    main()
