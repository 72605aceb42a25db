"""What the binding tests share: typed views of events, and the events every real round trip sends."""

from __future__ import annotations

from typing import Any

from cefmt import CloudEvent, Timestamp

#: Seconds any one client call may take in the broker tests.
CALL_TIMEOUT = 10


def types_of(event: CloudEvent) -> dict[str, type]:
    """``extension_types=`` that restores every extension of ``event``."""
    return {n: Timestamp if isinstance(v, Timestamp) else type(v) for n, v in event.extensions.items()}


def event(**more: Any) -> CloudEvent:
    attributes = {"id": "A234-1234-1234", "source": "/mycontext", "type": "com.example.someevent"}
    return CloudEvent({**attributes, **more.pop("attributes", {})}, more.pop("data", None), **more)


def broker_events() -> list[CloudEvent]:
    """Events that exercise what a real client and broker could change: every data kind, unicode in
    attributes, typed extensions, nanosecond times with an offset, spec 0.3."""
    return [
        event(data={"unicode": "Grüße 😀", "n": [1, 2.5, None, True]}, subject='Straße / 100% "q"'),
        event(data=bytes(range(256)) + b"\x00\x80", time="2024-02-29T23:59:59.123456789+05:30"),
        event(data="plain text ☃", datacontenttype="text/plain; charset=utf-8"),
        event(
            count=42,
            flag=True,
            blob=b"\x00\xff",
            when=Timestamp.parse("2020-01-01T00:00:00.5Z"),
            fine=Timestamp.parse("2020-01-01T00:00:00.000000001-03:00"),
            comexampleext="ext ✓",
        ),
        event(),
        event(data={"a": 1}, attributes={"specversion": "0.3", "schemaurl": "/schema"}),
        event(data=b"\xffbin", attributes={"specversion": "0.3"}, datacontenttype="application/octet-stream"),
    ]
