"""Accelerated against pure: switches to take the pure-Python path in-process, and outcomes to compare.

Shared by ``tests/test_speedups.py`` (property tests) and ``fuzz/speedups.py`` (the fuzz target run
against an AddressSanitizer build of the accelerator).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from cefmt import (
    CloudEvent,
    CloudEventError,
    Timestamp,
    _binding,
    _data,
    _event,
    _frozen,
    _headers,
    _http,
    _json_format,
    _timestamp,
)


@contextlib.contextmanager
def reference(module: Any, *names: str) -> Iterator[None]:
    """The accelerated functions ``names`` of ``module`` switched off for the block."""
    saved = {name: getattr(module, name) for name in names}
    try:
        for name in names:
            setattr(module, name, None)
        yield
    finally:
        for name, value in saved.items():
            setattr(module, name, value)


def typed(value: Any) -> Any:
    """A value with the type of everything in it spelled out (``1``, ``1.0`` and ``True`` differ)."""
    kind = type(value).__name__
    if isinstance(value, dict):
        return (kind, [(typed(key), typed(item)) for key, item in dict.items(value)])
    if isinstance(value, list):
        return (kind, [typed(item) for item in list.__iter__(value)])
    if isinstance(value, float):
        return (kind, value.hex())
    if isinstance(value, datetime):
        nanos = value.nanosecond if isinstance(value, Timestamp) else None
        return (kind, value.isoformat(), nanos, repr(value.tzinfo), value.utcoffset())
    return (kind, repr(value))


def event_outcome(event: CloudEvent, *, skip_id: bool = False) -> Any:
    fields = {name: typed(getattr(event, name)) for name in ("source", "type", "specversion", "datacontenttype")}
    fields.update({name: typed(getattr(event, name)) for name in ("dataschema", "subject", "time")})
    fields["extensions"] = typed(event.extensions.to_dict())
    fields["_data"] = typed(event._data)
    fields["data"] = typed(event.data)
    if not skip_id:
        fields["id"] = typed(event.id)
    return fields


def outcome(call: Callable[[], Any], shape: Callable[[Any], Any] = typed) -> Any:
    try:
        result = call()
    except CloudEventError as exc:
        return ("error", type(exc).__name__, str(exc))
    return ("ok", shape(result))


ALL_SWITCHES = [
    (_data, ("_C_LOADS", "_C_DUMPS")),
    (_event, ("_C_BUILD",)),
    (_timestamp, ("_C_PARSE", "_C_FORMAT")),
    (_headers, ("_C_READ",)),
    (_json_format, ("_C_DOCUMENT", "_C_DOCUMENTS", "_C_BUILD", "_C_DECODE")),
    (_http, ("_C_BINARY", "_C_READ_MESSAGE", "_C_BINARY_EVENT")),
    (_binding, ("_C_BINARY_EVENT", "_C_READ_PAIRS")),
    (_frozen, ("_C_CHECK",)),
]


@contextlib.contextmanager
def pure_python() -> Iterator[None]:
    """Every accelerated function switched off for the block."""
    with contextlib.ExitStack() as stack:
        for module, names in ALL_SWITCHES:
            stack.enter_context(reference(module, *names))
        yield


def compare(call: Callable[[], Any], shape: Callable[[Any], Any] = typed) -> Any:
    """``call``'s outcome on the accelerated path, checked equal to its outcome on the pure path."""
    fast = outcome(call, shape)
    with pure_python():
        plain = outcome(call, shape)
    assert fast == plain, (fast, plain)
    return fast


def events_outcome(decoded: Any) -> Any:
    """:func:`event_outcome` of one event or of each event of a batch."""
    return [event_outcome(e) for e in decoded] if isinstance(decoded, list) else event_outcome(decoded)
