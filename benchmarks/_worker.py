"""One benchmark process: time every task of one implementation, and the floor beside it, as JSON.

Run by ``benchmarks/run.py``, never imported by it: the peers run this file in their own virtual
environments, where cefmt is not installed, so it imports nothing but the standard library at module
level and the implementation under test inside its ``setup_*`` function.

    python benchmarks/_worker.py IMPL --min-time 0.05 --samples 7 [--task NAME ...] [--memory-events N]

IMPL is ``cefmt`` (``CEFMT_PURE=1`` in the environment for its pure-Python path), ``sdk2``, ``sdk1``
(the official CloudEvents SDK 2.x and 1.x) or ``pydantic`` (cloudevents-pydantic). Every process also
times the *floor* for each task: the standard library doing the same job with no validation but with
the shortcuts cefmt uses itself (the C JSON scanner and encoder built once, not per call) and the
``time`` attribute parsed or written, since every implementation here turns it into a ``datetime``.
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
from json.encoder import c_encode_basestring, c_make_encoder  # type: ignore[attr-defined]
from json.scanner import c_make_scanner  # type: ignore[attr-defined]
from typing import Any

Task = Callable[[], object]

# -- the fixtures every implementation works on ---------------------------------------------------------

TIME_TEXT = "2024-05-01T12:30:45.123456Z"
TIME = datetime(2024, 5, 1, 12, 30, 45, 123456, tzinfo=timezone.utc)

# The event of the CloudEvents Python SDK's README: a type, a source and {"message": "Hello World!"},
# with what the SDK fills in (an id, the spec version, the time) and the JSON content type.
README = {
    "specversion": "1.0",
    "id": "b3f6a9d2-5c1e-4a7b-9f0e-2d8c4b6a1e37",
    "source": "https://example.com/event-producer",
    "type": "com.example.sampletype1",
    "datacontenttype": "application/json",
    "time": TIME_TEXT,
}
README_DATA: dict[str, Any] = {"message": "Hello World!"}

# A typical event of a service: time, subject, three extensions (trace context, a partition key, a
# tenant) and about 120 bytes of JSON data.
TYPICAL = {
    "specversion": "1.0",
    "id": "9c1d7e2a-3f4b-4c8d-a6e5-0b1f2d3c4e5f",
    "source": "https://orders.example.com/api",
    "type": "com.example.order.created",
    "datacontenttype": "application/json",
    "time": TIME_TEXT,
    "subject": "orders/ORD-2024-000042",
    "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "partitionkey": "customer-7",
    "tenant": "acme",
}
TYPICAL_DATA: dict[str, Any] = {
    "order": "ORD-2024-000042", "customer": 7, "total": 129.95, "currency": "EUR", "items": 3, "express": True,
    "note": "leave at the door",
}  # fmt: skip
EXTENSIONS = ("traceparent", "partitionkey", "tenant")


def large_data() -> dict[str, Any]:
    """About 10 KB of JSON: a typical order document with many line items."""
    items = [
        {"sku": f"SKU-{n:05d}", "name": f"Widget number {n}", "qty": n % 7 + 1, "price": round(n * 1.25, 2),
         "tags": ["blue", "large"] if n % 2 else ["red"], "gift": n % 5 == 0}
        for n in range(80)
    ]  # fmt: skip
    return {"order": "ORD-2024-000042", "customer": {"id": 7, "name": "Ada Lovelace"}, "items": items}


SHAPES: dict[str, tuple[dict[str, str], Any]] = {
    "readme": (README, README_DATA),
    "typical": (TYPICAL, TYPICAL_DATA),
    "10kb": (README, large_data()),
}
BATCH_SIZE = 1000


def batch_attrs(n: int) -> dict[str, str]:
    return {**README, "id": f"evt-{n:06d}"}


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


def typed_attrs(attrs: dict[str, str]) -> dict[str, Any]:
    """The attributes as an application gives them: ``time`` a datetime."""
    return {**attrs, "time": TIME}


# -- the floor: the stdlib doing the same job, with cefmt's own shortcuts ------------------------------


def _not_serializable(value: object) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_SCAN = c_make_scanner(json.JSONDecoder())
_ENCODE = c_make_encoder(None, _not_serializable, c_encode_basestring, None, ":", ",", False, False, False)
_fromisoformat = datetime.fromisoformat


def _dumps(value: Any) -> bytes:
    return "".join(_ENCODE(value, 0)).encode()


def _loads(raw: bytes) -> Any:
    return _SCAN(raw.decode(), 0)[0]


def setup_floor() -> dict[str, Task]:
    """What the standard library needs for each task, with no validation at all."""
    tasks: dict[str, Task] = {}
    for shape, (attrs, data) in SHAPES.items():
        plain = dict(attrs)
        content_type = plain.pop("datacontenttype")
        del plain["time"]
        headers, body = headers_of(attrs), body_of(data)
        structured = json.dumps(document_of(attrs, data)).encode()

        def binary_encode(plain: dict[str, str] = plain, data: Any = data, ct: str = content_type) -> object:
            out = {"content-type": ct}
            for name, value in plain.items():
                out["ce-" + name] = value
            out["ce-time"] = TIME.isoformat()
            return out, _dumps(data)

        def binary_decode(headers: dict[str, str] = headers, body: bytes = body) -> object:
            attrs = {}
            for name, value in headers.items():
                if name.startswith("ce-"):
                    attrs[name[3:]] = value
            attrs["datacontenttype"] = headers["content-type"]
            attrs["time"] = _fromisoformat(attrs["time"])
            return attrs, _loads(body)

        def structured_encode(plain: dict[str, str] = plain, data: Any = data, ct: str = content_type) -> object:
            return _dumps({**plain, "datacontenttype": ct, "time": TIME.isoformat(), "data": data})

        def structured_decode(raw: bytes = structured) -> object:
            doc = _loads(raw)
            doc["time"] = _fromisoformat(doc["time"])
            return doc

        tasks[f"http binary encode, {shape}"] = binary_encode
        tasks[f"http binary decode, {shape}"] = binary_decode
        tasks[f"http structured encode, {shape}"] = structured_encode
        tasks[f"http structured decode, {shape}"] = structured_decode

    events = [(typed_attrs(batch_attrs(n)), README_DATA) for n in range(BATCH_SIZE)]
    batch = json.dumps([document_of(batch_attrs(n), README_DATA) for n in range(BATCH_SIZE)]).encode()

    def batch_encode() -> object:
        return _dumps([{**attrs, "time": attrs["time"].isoformat(), "data": data} for attrs, data in events])

    def batch_decode() -> object:
        docs = _loads(batch)
        for doc in docs:
            doc["time"] = _fromisoformat(doc["time"])
        return docs

    tasks["json batch encode, 1000"] = batch_encode
    tasks["json batch decode, 1000"] = batch_decode

    kafka_plain = {name: value for name, value in README.items() if name not in ("datacontenttype", "time")}
    kafka_headers, kafka_value = kafka_headers_of(README), body_of(README_DATA)

    def kafka_encode() -> object:
        pairs = [("ce_" + name, value.encode()) for name, value in kafka_plain.items()]
        pairs.append(("ce_time", TIME.isoformat().encode()))
        pairs.append(("content-type", b"application/json"))
        return pairs, _dumps(README_DATA)

    def kafka_decode() -> object:
        attrs: dict[str, Any] = {}
        for name, value in kafka_headers:
            if name.startswith("ce_"):
                attrs[name[3:]] = value.decode()
            elif name == "content-type":
                attrs["datacontenttype"] = value.decode()
        attrs["time"] = _fromisoformat(attrs["time"])
        return attrs, _loads(kafka_value)

    tasks["kafka binary encode, readme"] = kafka_encode
    tasks["kafka binary decode, readme"] = kafka_decode

    try:
        import msgpack
    except ImportError:
        pass
    else:
        doc = document_of(typed_attrs(README), README_DATA)
        packed = msgpack.packb(document_of(README, README_DATA))

        def msgpack_encode() -> object:
            return msgpack.packb({**doc, "time": TIME.isoformat()})

        def msgpack_decode() -> object:
            found = msgpack.unpackb(packed)
            found["time"] = _fromisoformat(found["time"])
            return found

        tasks["msgpack structured encode, readme"] = msgpack_encode
        tasks["msgpack structured decode, readme"] = msgpack_decode

    tasks["create event, readme"] = lambda: {**README, "time": TIME, "data": README_DATA}
    return tasks


# -- implementations: each returns (version, {task name: zero-argument callable}) ------------------------


def setup_cefmt() -> tuple[str, dict[str, Task]]:
    import cefmt
    from cefmt import CloudEvent, decode, encode
    from cefmt._pure import SPEEDUPS

    tasks: dict[str, Task] = {}
    for shape, (attrs, data) in SHAPES.items():
        event = CloudEvent(typed_attrs(attrs), data)
        message = (headers_of(attrs), body_of(data))
        structured = (dict(encode(event, "http", "structured").headers), encode(event, "json"))
        tasks[f"http binary encode, {shape}"] = lambda event=event: encode(event, "http", "binary")
        tasks[f"http binary decode, {shape}"] = lambda message=message: decode(message, "http").data
        tasks[f"http structured encode, {shape}"] = lambda event=event: encode(event, "http", "structured")
        tasks[f"http structured decode, {shape}"] = lambda message=structured: decode(message, "http").data

    events = [CloudEvent(typed_attrs(batch_attrs(n)), README_DATA) for n in range(BATCH_SIZE)]
    batch = encode(events, "json", "batch")
    tasks["json batch encode, 1000"] = lambda: encode(events, "json", "batch")
    tasks["json batch decode, 1000"] = lambda: [event.data for event in decode(batch, "json")]

    readme = CloudEvent(typed_attrs(README), README_DATA)
    available = {(info.key[1], info.key[2]) for info in cefmt.codecs() if info.error is None}
    if ("kafka", "binary") in available:
        record = {"key": None, "headers": kafka_headers_of(README), "value": body_of(README_DATA)}
        tasks["kafka binary encode, readme"] = lambda: encode(readme, "kafka", "binary")
        tasks["kafka binary decode, readme"] = lambda: decode(record, "kafka").data
    if ("msgpack", "structured") in available:
        packed = encode(readme, "msgpack")
        tasks["msgpack structured encode, readme"] = lambda: encode(readme, "msgpack")
        tasks["msgpack structured decode, readme"] = lambda: decode(packed, "msgpack").data

    attributes = typed_attrs(README)
    tasks["create event, readme"] = lambda: CloudEvent(attributes, README_DATA)
    path = "accelerated" if SPEEDUPS is not None else "pure Python"
    return f"cefmt {cefmt.__version__} ({path})", tasks


def setup_sdk2() -> tuple[str, dict[str, Task]]:
    import cloudevents
    from cloudevents.core.bindings import http, kafka
    from cloudevents.core.formats.json import JSONFormat
    from cloudevents.core.v1.event import CloudEvent

    fmt = JSONFormat()
    tasks: dict[str, Task] = {}
    for shape, (attrs, data) in SHAPES.items():
        event = CloudEvent(typed_attrs(attrs), data)
        message = http.HTTPMessage(headers_of(attrs), body_of(data))
        structured = http.to_structured(event, fmt)
        tasks[f"http binary encode, {shape}"] = lambda event=event: http.to_binary(event, fmt)
        tasks[f"http binary decode, {shape}"] = lambda m=message: http.from_http(m, fmt).get_data()
        tasks[f"http structured encode, {shape}"] = lambda event=event: http.to_structured(event, fmt)
        tasks[f"http structured decode, {shape}"] = lambda m=structured: http.from_http(m, fmt).get_data()

    readme = CloudEvent(typed_attrs(README), README_DATA)
    record = kafka.KafkaMessage(dict(kafka_headers_of(README)), None, body_of(README_DATA))
    tasks["kafka binary encode, readme"] = lambda: kafka.to_binary(readme, fmt)
    tasks["kafka binary decode, readme"] = lambda: kafka.from_kafka(record, fmt).get_data()
    # The SDK's constructor stores the mapping it is given: hand it a fresh one, as a caller would.
    tasks["create event, readme"] = lambda: CloudEvent(typed_attrs(README), README_DATA)
    return f"cloudevents {cloudevents.__version__}", tasks


def setup_sdk1() -> tuple[str, dict[str, Task]]:
    import cloudevents
    from cloudevents import kafka
    from cloudevents.conversion import to_binary, to_structured
    from cloudevents.http import CloudEvent, from_http

    tasks: dict[str, Task] = {}
    for shape, (attrs, data) in SHAPES.items():
        event = CloudEvent(dict(attrs), data)
        headers, body = headers_of(attrs), body_of(data)
        s_headers, s_body = to_structured(event)
        tasks[f"http binary encode, {shape}"] = lambda event=event: to_binary(event)
        tasks[f"http binary decode, {shape}"] = lambda h=headers, b=body: from_http(h, b).data
        tasks[f"http structured encode, {shape}"] = lambda event=event: to_structured(event)
        tasks[f"http structured decode, {shape}"] = lambda h=s_headers, b=s_body: from_http(h, b).data

    readme = CloudEvent(dict(README), README_DATA)
    record = kafka.KafkaMessage(dict(kafka_headers_of(README)), None, body_of(README_DATA))
    tasks["kafka binary encode, readme"] = lambda: kafka.to_binary(readme)
    tasks["kafka binary decode, readme"] = lambda: kafka.from_binary(record).data
    tasks["create event, readme"] = lambda: CloudEvent(dict(README), README_DATA)
    return f"cloudevents {cloudevents.__version__}", tasks


def setup_pydantic() -> tuple[str, dict[str, Task]]:
    """cloudevents-pydantic: events are pydantic models (extensions are fields of a subclass); its HTTP
    binary mode leaves the body to the caller, so the stdlib's json writes and reads it here."""
    from importlib import metadata
    from typing import Optional

    from cloudevents_pydantic.bindings.http import HTTPHandler
    from cloudevents_pydantic.events import CloudEvent

    class TypicalEvent(CloudEvent):  # type: ignore[misc]
        traceparent: Optional[str] = None  # noqa: UP045 - pydantic evaluates it on every Python
        partitionkey: Optional[str] = None  # noqa: UP045
        tenant: Optional[str] = None  # noqa: UP045

    dumps, loads = json.dumps, json.loads
    tasks: dict[str, Task] = {}
    handlers = {CloudEvent: HTTPHandler(CloudEvent), TypicalEvent: HTTPHandler(TypicalEvent)}
    for shape, (attrs, data) in SHAPES.items():
        model = TypicalEvent if shape == "typical" else CloudEvent
        handler = handlers[model]
        event = model(**typed_attrs(attrs), data=data)
        headers, body = headers_of(attrs), body_of(data)
        structured = handler.to_json(event).body

        def binary_encode(handler: Any = handler, event: Any = event) -> object:
            headers, data = handler.to_binary(event)
            return headers, dumps(data).encode()

        def binary_decode(handler: Any = handler, headers: dict[str, str] = headers, body: bytes = body) -> object:
            return loads(handler.from_binary(headers, body).data)

        tasks[f"http binary encode, {shape}"] = binary_encode
        tasks[f"http binary decode, {shape}"] = binary_decode
        tasks[f"http structured encode, {shape}"] = lambda h=handler, e=event: h.to_json(e)
        tasks[f"http structured decode, {shape}"] = lambda h=handler, b=structured: h.from_json(b).data

    handler = handlers[CloudEvent]
    events = [CloudEvent(**typed_attrs(batch_attrs(n)), data=README_DATA) for n in range(BATCH_SIZE)]
    batch = handler.to_json_batch(events).body
    tasks["json batch encode, 1000"] = lambda: handler.to_json_batch(events)
    tasks["json batch decode, 1000"] = lambda: [event.data for event in handler.from_json_batch(batch)]
    tasks["create event, readme"] = lambda: CloudEvent(**typed_attrs(README), data=README_DATA)
    return f"cloudevents-pydantic {metadata.version('cloudevents-pydantic')}", tasks


SETUPS = {"cefmt": setup_cefmt, "sdk2": setup_sdk2, "sdk1": setup_sdk1, "pydantic": setup_pydantic}


# -- retained memory of decoded events, from fresh messages ------------------------------------------------


def fresh_message(n: int) -> tuple[dict[str, str], bytes]:
    """A readme-shaped binary message whose every string is a new object, as a server parses each one
    from the wire (nothing shared with the previous message but what the decoder itself shares)."""
    attrs = {**README, "id": f"{n:08d}-5c1e-4a7b-9f0e-2d8c4b6a1e37"}
    headers = {name.encode().decode(): value.encode().decode() for name, value in headers_of(attrs).items()}
    return headers, body_of({"message": b"Hello World!".decode()})


def memory_decoder(impl: str) -> Callable[[dict[str, str], bytes], object]:
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
    if impl == "pydantic":
        from cloudevents_pydantic.bindings.http import HTTPHandler

        handler = HTTPHandler()

        def pydantic_decode(headers: dict[str, str], body: bytes) -> object:
            event = handler.from_binary(headers, body)
            return event.model_copy(update={"data": json.loads(event.data)})

        return pydantic_decode
    from cloudevents.http import from_http

    return from_http  # type: ignore[no-any-return]


def memory_of(impl: str, count: int) -> dict[str, float]:
    """Bytes still allocated per decoded event while ``count`` of them are kept (the messages they came
    from are gone), and the seconds one full collection takes with them all alive."""
    decoder = memory_decoder(impl)
    decoder(*fresh_message(-1))  # warm caches and lazy imports outside the traced region
    gc.collect()
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    kept = []
    for n in range(count):
        headers, body = fresh_message(n)
        kept.append(decoder(headers, body))
    del headers, body
    gc.collect()
    after, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    started = time.perf_counter()
    gc.collect()
    collect = time.perf_counter() - started
    del kept
    return {"retained": (after - before) / count, "full_collection": collect}


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
    floors = setup_floor()
    wanted = args.task or list(tasks)
    overhead = time_task(lambda: None, args.min_time, args.samples)
    results, floor = {}, {}
    for name in wanted:
        if name not in tasks:
            continue
        # The implementation and its floor back to back, in this process, so they share its conditions.
        seconds = time_task(tasks[name], args.min_time, args.samples)
        results[name] = max(seconds - overhead, seconds / 100)
        if name in floors:
            seconds = time_task(floors[name], args.min_time, args.samples)
            floor[name] = max(seconds - overhead, seconds / 100)
    print(json.dumps({"version": version, "results": results, "floor": floor}))


if __name__ == "__main__":
    sys.exit(main())
