"""The receiving side without a server: bodies read within limits, errors mapped to HTTP answers, headers
of any ``str`` subclass, and no web framework imported by cefmt. (tests/web/ runs real servers.)"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

import cefmt
from cefmt import (
    CloudEvent,
    CodecConflictError,
    DataUnmarshallerError,
    InvalidAttributeError,
    LimitExceededError,
    Limits,
    MalformedMessageError,
    PluginLoadError,
    UnknownCodecError,
    UnsupportedSpecVersionError,
    UsageError,
)
from cefmt.http import (
    error_response,
    event_dependency,
    events_from_request,
    from_http,
    from_request,
    to_batch,
    to_binary,
)

EVENT = CloudEvent({"type": "t", "source": "/s", "id": "1", "subject": "Grüße 100%"}, {"a": 1})


class _Untouchable:
    """A request whose body must not be read: only its declared length is looked at."""

    def __init__(self, length: int) -> None:
        headers, _ = to_binary(EVENT)
        self.headers = {**headers, "content-length": str(length)}
        self.receive = None

    def stream(self) -> AsyncIterator[bytes]:
        raise AssertionError("the body was read")


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_read() -> None:
    with pytest.raises(LimitExceededError, match="size of body 2000000 exceeds the limit of 1000000"):
        asyncio.run(from_request(_Untouchable(2_000_000), limits=Limits(max_message_bytes=1_000_000)))


def test_pairs_and_sync_request_objects_are_read_as_they_are() -> None:
    headers, body = to_binary(EVENT)
    assert asyncio.run(from_request((headers, body))) == EVENT
    assert asyncio.run(events_from_request(to_batch([EVENT, EVENT]))) == [EVENT, EVENT]

    class FlaskLike:
        def __init__(self) -> None:
            self.headers, self.content_length = headers, len(body)

        def get_data(self) -> bytes:
            return body

    assert asyncio.run(from_request(FlaskLike())) == EVENT
    assert cefmt.decode_event(FlaskLike(), "http") == EVENT
    with pytest.raises(LimitExceededError):  # its declared length is checked before get_data()
        cefmt.decode_event(FlaskLike(), "http", limits=Limits(max_message_bytes=5))


def test_a_request_whose_body_must_be_awaited_is_a_usage_error_in_sync_code() -> None:
    from starlette.requests import Request

    headers, _ = to_binary(EVENT)
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }
    with pytest.raises(UsageError, match=r"await cefmt.http.from_request\(request\)"):
        cefmt.decode(Request(scope), "http")

    class Stream:
        async def readany(self) -> bytes:
            return b""

    class AiohttpLike:  # aiohttp's web.Request: headers, and the body as a stream to await
        def __init__(self) -> None:
            self.headers = headers
            self.content = Stream()

    with pytest.raises(UsageError, match="must be awaited"):
        cefmt.decode(AiohttpLike(), "http")


def test_a_real_starlette_request_is_read_from_its_stream() -> None:
    from starlette.requests import Request

    headers, body = to_binary(EVENT)
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
    }
    parts = [body[:3], body[3:]]

    async def receive() -> dict[str, Any]:
        chunk = parts.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(parts)}

    assert asyncio.run(from_request(Request(scope, receive))) == EVENT


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (MalformedMessageError("header 'ce-id' appears more than once"), 400),
        (InvalidAttributeError("time", "is not an RFC 3339 timestamp", "lunchtime"), 400),
        (UnsupportedSpecVersionError("0.2", ["1.0", "0.3"]), 400),
        (DataUnmarshallerError("data_unmarshaller", len, "boom"), 400),
        (LimitExceededError("size of body", 20, 10), 413),
        (LimitExceededError("JSON nesting depth", 200, 128), 413),
        (LimitExceededError("header count", 300, 256), 431),
        (LimitExceededError("length of header 'ce-id'", 9000, 8192), 431),
        (UnknownCodecError(("*", "yaml", "structured"), [("1.0", "json", "structured")]), 415),
        (PluginLoadError(("1.0", "x", "binary"), "dist", "mod:codec", "ImportError: secret path"), 500),
        (CodecConflictError(("1.0", "x", "binary"), ["a", "b"]), 500),
        (UsageError("called wrongly"), 500),
    ],
)
def test_error_response_maps_each_error_to_its_status(error: cefmt.CloudEventError, status: int) -> None:
    answer = error_response(error)
    assert answer.status == status
    if status == 500:
        assert answer.reason == "the receiver could not process CloudEvents"  # nothing of the server's insides
    elif status == 415:
        assert answer.reason == "no codec registered for */yaml/structured"
    else:
        assert answer.reason == str(error)


def test_a_long_reason_is_cut_short() -> None:
    answer = error_response(MalformedMessageError("x" * 1000))
    assert len(answer.reason) == 300 and answer.reason.endswith("...")


def test_headers_of_str_subclasses_are_read_in_every_path() -> None:
    from multidict import CIMultiDict, CIMultiDictProxy, istr

    class Text(str):
        pass

    headers, body = to_binary(EVENT)
    shapes: list[Any] = [
        {istr(k): v for k, v in headers.items()},  # the bulk read of a dict
        {Text(k): Text(v) for k, v in headers.items()},
        {Text(k.upper()): Text(v) for k, v in headers.items()},  # the general read (names not lower case)
        CIMultiDictProxy(CIMultiDict({istr(k): v for k, v in headers.items()})),  # aiohttp's own
        [(istr(k), Text(v)) for k, v in headers.items()],
    ]
    for shape in shapes:
        for event in (
            from_http(shape, body),
            cefmt.decode((shape, body), "http"),
            cefmt.decode_event((shape, body), "http"),
        ):
            assert event == EVENT
            assert all(type(value) is not Text for value in event.get_attributes().values())
    kafka = cefmt.encode(EVENT, "kafka", "binary")
    record = {"key": None, "headers": [(Text(k), v) for k, v in kafka.headers], "value": kafka.value}
    assert cefmt.decode(record, "kafka") == EVENT


def test_importing_cefmt_http_imports_no_web_framework() -> None:
    code = (
        "import sys, cefmt.http, cefmt.kafka; "
        "loaded = {'fastapi', 'starlette', 'aiohttp', 'django', 'flask'} & set(sys.modules); "
        "assert not loaded, loaded"
    )
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_dependency_without_fastapi_installed_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "starlette.requests", None)
    with pytest.raises(UsageError, match="needs FastAPI"):
        event_dependency()


def test_decode_event_and_decode_events() -> None:
    headers, body = to_binary(EVENT)
    assert cefmt.decode_event((headers, body), "http") == EVENT
    assert cefmt.decode_events((headers, body), "http") == [EVENT]
    assert cefmt.decode_events(to_batch([EVENT]), "http") == [EVENT]
    assert cefmt.decode_events(to_batch([]), "http") == []
    assert cefmt.decode_event(cefmt.encode(EVENT, "kafka", "binary"), "kafka") == EVENT
    with pytest.raises(MalformedMessageError, match="read it with decode_events"):
        cefmt.decode_event(to_batch([EVENT]), "http")
    with pytest.raises(UsageError, match="decode_event reads one event"):
        cefmt.decode_event(to_batch([EVENT]), "http", "batch")  # type: ignore[arg-type]
    assert cefmt.decode_event(cefmt.encode(EVENT, "json"), "json", "structured") == EVENT
