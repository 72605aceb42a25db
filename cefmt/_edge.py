"""Framework objects at the edge: whatever a server or client hands over, turned into headers and a body once.

The HTTP codecs read ``(headers, body)``; this module is where a Flask or Django request, a requests or
httpx response, or an :class:`~cefmt.http.HTTPMessage` becomes that pair, with the body's size checked
before it is copied. Frameworks whose body must be awaited (Starlette, FastAPI, aiohttp) are read by
:func:`cefmt.http.from_request`.
"""

from __future__ import annotations

import inspect
from typing import Any

from ._errors import MalformedMessageError, UsageError
from ._limits import Limits

__all__ = ["split"]


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
        if hasattr(message, "get_data"):
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
