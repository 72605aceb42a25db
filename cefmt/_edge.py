"""Framework objects at the edge: whatever a server or client hands over, turned into headers and a body once.

The HTTP codecs read ``(headers, body)``; this module is where a Flask or Django request, a requests or
httpx response, or an :class:`~cefmt.http.HTTPMessage` becomes that pair, with the body's size checked
before it is copied. Frameworks whose body must be awaited (Starlette, FastAPI, aiohttp) are read by
:func:`cefmt.http.from_request`.
"""

from __future__ import annotations

import inspect
from typing import Any

from ._errors import LimitExceededError, MalformedMessageError, UsageError
from ._limits import Limits

__all__ = ["declared_length", "split"]


def split(message: Any, limits: Limits) -> tuple[Any, bytes]:
    """The headers (as given) and the body (as bytes, its size checked first) of an HTTP message.

    Accepts a ``(headers, body)`` pair (an :class:`~cefmt.http.HTTPMessage` is one), or an object with
    ``.headers`` and its body in ``.get_data()`` (Flask, Werkzeug), ``.body`` (Django) or ``.content``
    (requests, httpx).

    >>> split(({"ce-id": "1"}, "hi"), Limits())
    ({'ce-id': '1'}, b'hi')
    """
    if isinstance(message, (tuple, list)) and len(message) == 2:
        headers, body = message
    elif hasattr(message, "headers"):
        headers = message.headers
        length = declared_length(message, headers)
        if length is not None and length > limits.max_message_bytes:  # refused before the body is read
            raise LimitExceededError("size of body", length, limits.max_message_bytes)
        if hasattr(getattr(message, "content", None), "readany"):  # aiohttp: a stream to await
            body = message.content.readany
        elif hasattr(message, "get_data"):
            body = message.get_data()
        elif hasattr(message, "content") and not callable(message.content):
            body = message.content
        else:
            body = getattr(message, "body", b"")
        if callable(body) or inspect.isawaitable(body):
            raise UsageError(
                f"the body of a {type(message).__name__} must be awaited: use "
                "`await cefmt.http.from_request(request)` in an async handler"
            )
    else:
        raise MalformedMessageError(
            f"an HTTP message is a (headers, body) pair or an HTTPMessage, got {type(message).__name__}"
        )
    return headers, _body(body, limits)


def declared_length(message: Any, headers: Any) -> int | None:
    """The body length a request declares (its ``content_length``, or its Content-Length header), or
    ``None`` when it declares none that reads as a number.

    >>> declared_length(None, {"Content-Length": "12"})
    12
    """
    length = getattr(message, "content_length", None)
    if type(length) is int:
        return length
    get = getattr(headers, "get", None)
    if not callable(get):
        return None
    text = get("content-length")
    if text is None and isinstance(headers, dict):  # a plain dict is case-sensitive
        text = get("Content-Length")
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    if isinstance(text, str) and text.strip().isdigit():
        return int(text)
    return None


def _body(body: Any, limits: Limits) -> bytes:
    if type(body) is bytes:
        if len(body) > limits.max_message_bytes:
            limits.check_message_size(body, "size of body")
        return body
    if isinstance(body, (str, bytes, bytearray, memoryview)):
        limits.check_message_size(body, "size of body")
        return body.encode("utf-8") if isinstance(body, str) else bytes(body)
    if body is None:
        return b""
    raise MalformedMessageError(f"an HTTP body must be bytes, got {type(body).__name__}")
