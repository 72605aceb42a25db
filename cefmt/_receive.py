"""Receiving in web frameworks: the framework's request object in, events out, cefmt errors out as HTTP answers.

Async frameworks hand over a request whose body must be awaited; :func:`from_request` reads it within
:class:`~cefmt.Limits` (a declared ``Content-Length`` over the limit is refused before anything is read,
and reading stops as soon as the body passes it) and decodes it. Nothing here imports a framework until
a FastAPI dependency is made (:func:`event_dependency`), so cefmt depends on none of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, NamedTuple

from ._api import decode_event, decode_events
from ._edge import declared_length, split
from ._errors import (
    CloudEventError,
    CodecConflictError,
    LimitExceededError,
    PluginLoadError,
    UnknownCodecError,
    UsageError,
)
from ._event import CloudEvent
from ._limits import DEFAULT_LIMITS, Limits

__all__ = [
    "ErrorResponse",
    "error_response",
    "event_dependency",
    "events_dependency",
    "events_from_request",
    "from_request",
    "read_request",
]

_MAX_REASON = 300


class ErrorResponse(NamedTuple):
    """What a receiver answers to a message it cannot take: the HTTP status and a short text body.

    >>> status, reason = ErrorResponse(400, "attribute 'time': ...")
    """

    status: int
    reason: str


def error_response(error: CloudEventError) -> ErrorResponse:
    """The HTTP answer to a cefmt error raised while receiving.

    * 413 Content Too Large: the body, a batch or the JSON nesting is over the receiver's limits;
    * 431 Request Header Fields Too Large: too many headers, or a header value too long;
    * 415 Unsupported Media Type: the content type names an event format no installed codec reads (the
      reason names it, not the list of what is installed);
    * 500: the receiver's own fault (a plugin that fails to load, two plugins claiming a codec, cefmt
      called the wrong way), answered without details, which stay in the exception for the logs;
    * 400 Bad Request: anything else (a malformed message, an invalid attribute, an unsupported spec
      version), with the error's message as the reason, so the sender learns what to fix.

    >>> from cefmt import LimitExceededError, MalformedMessageError
    >>> error_response(LimitExceededError("size of body", 20_000_000, 16_777_216)).status
    413
    >>> error_response(MalformedMessageError("header 'ce-id' appears more than once"))
    ErrorResponse(status=400, reason="header 'ce-id' appears more than once")
    """
    if isinstance(error, LimitExceededError):
        status = 431 if "header" in error.limit else 413
    elif isinstance(error, UnknownCodecError):  # the sender learns what is missing, not all that is installed
        return ErrorResponse(415, f"no codec registered for {'/'.join(error.key)}")
    elif isinstance(error, (PluginLoadError, CodecConflictError, UsageError)):
        return ErrorResponse(500, "the receiver could not process CloudEvents")
    else:
        status = 400
    reason = str(error)
    if len(reason) > _MAX_REASON:
        reason = reason[: _MAX_REASON - 3] + "..."
    return ErrorResponse(status, reason)


async def _gather(chunks: AsyncIterator[bytes], limits: Limits) -> bytes:
    body = bytearray()
    maximum = limits.max_message_bytes
    async for chunk in chunks:
        body += chunk
        if len(body) > maximum:
            raise LimitExceededError("size of body", len(body), maximum)
    return bytes(body)


async def _aiohttp_chunks(content: Any) -> AsyncIterator[bytes]:
    while True:
        chunk = await content.readany()
        if not chunk:
            return
        yield chunk


async def read_request(request: Any, *, limits: Limits | None = None) -> tuple[Any, bytes]:
    """The headers (as the framework gives them) and the body of a received request, read within ``limits``.

    Starlette and FastAPI requests are read from ``request.stream()``, aiohttp requests from
    ``request.content`` (or what ``await request.read()`` already read); requests whose body is already
    in memory (Django, Flask) and ``(headers, body)`` pairs are taken as they are.
    """
    if limits is None:
        limits = DEFAULT_LIMITS
    headers = getattr(request, "headers", None)
    if headers is None:
        return split(request, limits)
    length = declared_length(request, headers)
    if length is not None and length > limits.max_message_bytes:
        raise LimitExceededError("size of body", length, limits.max_message_bytes)
    stream = getattr(request, "stream", None)
    content = getattr(request, "content", None)
    if callable(stream) and hasattr(request, "receive"):  # Starlette, FastAPI
        return headers, await _gather(stream(), limits)
    if content is not None and hasattr(content, "readany"):  # aiohttp
        consumed = not getattr(request, "can_read_body", True) and getattr(request, "body_exists", False)
        if consumed:  # already read by `await request.read()`, which keeps what it read
            body = await request.read()
            limits.check_message_size(body, "size of body")
            return headers, body
        return headers, await _gather(_aiohttp_chunks(content), limits)
    return split(request, limits)


async def from_request(
    request: Any, *, limits: Limits | None = None, extension_types: Mapping[str, type] | None = None
) -> CloudEvent:
    """One event from a web framework's request, in binary or structured mode: the whole receiving side
    of an async handler in one call.

    Takes a Starlette or FastAPI ``Request``, an aiohttp ``web.Request``, a Django ``HttpRequest``, a
    Flask request, or a ``(headers, body)`` pair. The body is read within ``limits``
    (:data:`cefmt.DEFAULT_LIMITS` when ``None``). A batch is refused: read it with
    :func:`events_from_request`. Errors are cefmt errors; :func:`error_response` gives the answer.

    >>> import asyncio
    >>> headers = {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"}
    >>> asyncio.run(from_request((headers, b""))).id
    '1'
    """
    headers, body = await read_request(request, limits=limits)
    return decode_event((headers, body), "http", limits=limits, extension_types=extension_types)


async def events_from_request(
    request: Any, *, limits: Limits | None = None, extension_types: Mapping[str, type] | None = None
) -> list[CloudEvent]:
    """Every event of a request in any mode: a batch's events, or the one event of a binary or
    structured message as a list of one. Takes what :func:`from_request` takes.

    >>> import asyncio
    >>> asyncio.run(events_from_request(({"content-type": "application/cloudevents-batch+json"}, b"[]")))
    []
    """
    headers, body = await read_request(request, limits=limits)
    return decode_events((headers, body), "http", limits=limits, extension_types=extension_types)


def _dependency(read: Callable[..., Awaitable[Any]], returns: Any, limits: Limits | None,
                extension_types: Mapping[str, type] | None) -> Callable[..., Awaitable[Any]]:  # fmt: skip
    try:
        from starlette.exceptions import HTTPException  # noqa: PLC0415 - FastAPI is optional
        from starlette.requests import Request  # noqa: PLC0415
    except ImportError as exc:
        raise UsageError("a FastAPI dependency needs FastAPI (or Starlette) installed") from exc

    async def receive(request: Request) -> Any:
        try:
            return await read(request, limits=limits, extension_types=extension_types)
        except CloudEventError as exc:
            status, reason = error_response(exc)
            raise HTTPException(status_code=status, detail=reason) from exc

    # FastAPI finds the request by the parameter's annotation: the class itself, not its name as text.
    receive.__annotations__ = {"request": Request, "return": returns}
    return receive


def event_dependency(
    *, limits: Limits | None = None, extension_types: Mapping[str, type] | None = None
) -> Callable[..., Awaitable[CloudEvent]]:
    """A FastAPI dependency giving the request's event (:func:`from_request`); a cefmt error becomes
    an ``HTTPException`` with the status and reason of :func:`error_response`.

    Importing it needs no FastAPI; calling it does::

        from typing import Annotated
        from fastapi import Depends, FastAPI

        @app.post("/")
        async def receive(event: Annotated[CloudEvent, Depends(event_dependency())]) -> None: ...
    """
    return _dependency(from_request, CloudEvent, limits, extension_types)


def events_dependency(
    *, limits: Limits | None = None, extension_types: Mapping[str, type] | None = None
) -> Callable[..., Awaitable[list[CloudEvent]]]:
    """A FastAPI dependency giving every event of the request, in any mode (:func:`events_from_request`)."""
    return _dependency(events_from_request, list[CloudEvent], limits, extension_types)
