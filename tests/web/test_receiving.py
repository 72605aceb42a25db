"""Receiving with each framework's own request object, over real HTTP on 127.0.0.1.

Every receiver in ``apps.py`` runs in a real server (werkzeug, uvicorn, aiohttp's runner) and is sent
events in binary, structured and batch mode by real clients (requests, httpx sync and async, aiohttp's
client). Each answers with the events it decoded, which must equal what was sent; what it cannot take
is answered with the status and reason of ``cefmt.http.error_response``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import cefmt
from cefmt import CloudEvent
from cefmt.http import to_batch, to_binary, to_structured

from . import apps, servers

APPS: dict[str, tuple[Callable[[Any], Any], Callable[[], Any]]] = {
    "flask": (servers.wsgi, apps.flask_app),
    "fastapi": (servers.asgi, apps.fastapi_app),
    "starlette": (servers.asgi, apps.starlette_app),
    "aiohttp": (servers.aiohttp, apps.aiohttp_app),
    "django": (servers.asgi, apps.django_app),
}

Reply = tuple[int, bytes]


@pytest.fixture(scope="module", params=sorted(APPS))
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    serve, build = APPS[request.param]
    with serve(build()) as url:
        yield request.param, url


# -- the clients ----------------------------------------------------------------------------------------------


def _requests(url: str, headers: dict[str, str], body: Any) -> Reply:
    import requests

    reply = requests.post(url, data=body, headers=headers, timeout=10)
    return reply.status_code, reply.content


def _httpx(url: str, headers: dict[str, str], body: Any) -> Reply:
    import httpx

    reply = httpx.post(url, content=body, headers=headers, timeout=10)
    return reply.status_code, reply.content


def _httpx_async(url: str, headers: dict[str, str], body: Any) -> Reply:
    import httpx

    async def post() -> Reply:
        async with httpx.AsyncClient(timeout=10) as client:
            reply = await client.post(url, content=body, headers=headers)
            return reply.status_code, reply.content

    return asyncio.run(post())


def _aiohttp(url: str, headers: dict[str, str], body: Any) -> Reply:
    import aiohttp

    async def post() -> Reply:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
            session.post(url, data=body, headers=headers) as reply,
        ):
            return reply.status, await reply.read()

    return asyncio.run(post())


CLIENTS = {"requests": _requests, "httpx": _httpx, "httpx-async": _httpx_async, "aiohttp-client": _aiohttp}

EVENTS = [
    CloudEvent({"type": "com.example.order", "source": "/shop", "id": "1", "subject": "Grüße 100%"}, {"n": [1, 2.5]}),
    # A content type given: without one, aiohttp's client sends bytes as application/octet-stream.
    CloudEvent(
        {"type": "com.example.order", "source": "/shop", "id": "2", "traceparent": "00-ab"},
        b"\x00\xff",
        datacontenttype="application/octet-stream",
    ),
    CloudEvent({"type": "com.example.order", "source": "/shop", "id": "3"}, "naïve", datacontenttype="text/plain"),
]


def _received(reply: Reply) -> list[CloudEvent]:
    status, body = reply
    assert status == 200, body
    return cefmt.decode(body, "json", "batch")


# -- every framework, every client, every mode ------------------------------------------------------------------


@pytest.mark.parametrize("client", sorted(CLIENTS))
@pytest.mark.parametrize("mode", ["binary", "structured"])
def test_one_event_in_either_mode(server: tuple[str, str], client: str, mode: str) -> None:
    _, url = server
    post = CLIENTS[client]
    for event in EVENTS:
        headers, body = (to_binary if mode == "binary" else to_structured)(event)
        assert _received(post(url + "/event", headers, body)) == [event]
        assert _received(post(url + "/events", headers, body)) == [event]


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_a_batch(server: tuple[str, str], client: str) -> None:
    _, url = server
    headers, body = to_batch(EVENTS)
    assert _received(CLIENTS[client](url + "/events", headers, body)) == EVENTS
    status, reason = CLIENTS[client](url + "/event", headers, body)
    assert (status, reason) == (400, b"this http message is a batch; read it with decode_events()")


def test_the_fastapi_dependencies() -> None:
    with servers.asgi(apps.fastapi_app()) as url:
        headers, body = to_binary(EVENTS[0])
        assert _received(_httpx(url + "/dep/event", headers, body)) == EVENTS[:1]
        headers, body = to_batch(EVENTS)
        assert _received(_httpx(url + "/dep/events", headers, body)) == EVENTS
        status, reply = _httpx(url + "/dep/event", {"content-type": "application/json"}, b"{}")
        assert status == 400 and b"not a CloudEvents HTTP message" in reply


# -- what a receiver cannot take --------------------------------------------------------------------------------


def test_errors_are_answered_with_their_status(server: tuple[str, str]) -> None:
    _, url = server
    headers, body = to_binary(EVENTS[0])
    cases: list[tuple[dict[str, str], bytes, int, bytes]] = [
        ({"content-type": "application/json"}, b"{}", 400, b"not a CloudEvents HTTP message"),
        ({**headers, "ce-time": "lunchtime"}, body, 400, b"header 'ce-time': attribute 'time'"),
        ({"content-type": "application/cloudevents+yaml"}, b"a: 1", 415, b"no codec registered for */yaml/structured"),
        (headers, b"x" * (apps.LIMITS.max_message_bytes + 1), 413, b"size of body 65537 exceeds the limit of 65536"),
        ({**headers, **{f"x-h{i}": "1" for i in range(70)}}, body, 431, b"header count"),
    ]
    for sent_headers, sent_body, status, reason in cases:
        got_status, got = _requests(url + "/event", sent_headers, sent_body)
        assert got_status == status, got
        assert reason in got


def test_a_chunked_body_is_cut_off_at_the_limit() -> None:
    """No Content-Length: the async readers stop reading once the body passes the limit."""
    headers, _ = to_binary(EVENTS[0])
    chunk = b"x" * 16 * 1024

    def chunks() -> Iterator[bytes]:
        for _ in range(8):
            yield chunk

    for serve, build in (APPS["fastapi"], APPS["aiohttp"], APPS["starlette"]):
        with serve(build()) as url:
            status, reason = _requests(
                url + "/event", {**headers, "content-type": "application/octet-stream"}, chunks()
            )
            assert status == 413, reason
            assert reason.startswith(b"size of body") and b"exceeds the limit of 65536" in reason


def test_an_aiohttp_body_already_read_by_the_handler_is_still_found() -> None:
    with servers.aiohttp(apps.aiohttp_app()) as url:
        headers, body = to_binary(EVENTS[0])
        assert _received(_requests(url + "/event?read=first", headers, body)) == EVENTS[:1]
