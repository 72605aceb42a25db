"""Every registered codec as a test case, and what each one carries: the one table of views.

A *case* is ``(specversion, transport, mode, format)``: ``format`` is ``None`` for an event format's own
codecs and for binary modes, and names the event format a binding's structured or batch mode uses.
:data:`VIEWS` says, for each ``(transport, mode, format)``, how an event looks after a round trip:

* binary modes of bindings carry every extension as its canonical string (``header_view``), and an
  empty body is no data;
* the JSON format (alone or inside a binding) carries Binary and Timestamp extensions as canonical
  strings (``json_view``);
* msgpack, Arrow and Parquet carry everything (``identity``);
* the AMQP binding's binary mode keeps AMQP types (``amqp_view``): only a Timestamp extension that an
  AMQP timestamp cannot hold exactly travels as its canonical string.

SECURITY.md and docs/errors.md point here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cefmt
from cefmt import CloudEvent, Timestamp
from cefmt.codec import parse_media_type
from tests.strategies import header_view, json_view

Case = tuple[str, str, str, str | None]
View = Callable[[CloudEvent], CloudEvent]


def identity(event: CloudEvent) -> CloudEvent:
    return event


def binary_view(event: CloudEvent) -> CloudEvent:
    """``header_view``, and the body rule: an empty body is no data.

    The body is empty for ``b""`` and for ``""`` under a content type that is not JSON (a JSON ``""``
    is two quote characters on the wire).
    """
    viewed = header_view(event)
    empty = viewed.data == b"" or (
        viewed.data == "" and not (viewed.datacontenttype and parse_media_type(viewed.datacontenttype).is_json)
    )
    return viewed.evolve(data=None) if empty else viewed


def amqp_view(event: CloudEvent) -> CloudEvent:
    """``binary_view``'s empty-data rule, with every extension in its own type except a Timestamp with
    digits below the millisecond or a UTC offset other than zero: that one is its canonical string."""
    from cefmt_plugins.common import timestamp_to_millis

    changed = {
        name: str(value)
        for name, value in event.extensions.items()
        if isinstance(value, Timestamp) and timestamp_to_millis(value) is None
    }
    viewed = event.evolve(**changed) if changed else event
    return viewed.evolve(data=None) if binary_view(viewed).data is None and viewed.data is not None else viewed


VIEWS: dict[tuple[str, str, str | None], View] = {
    ("json", "structured", None): json_view,
    ("json", "batch", None): json_view,
    ("msgpack", "structured", None): identity,
    ("msgpack", "batch", None): identity,
    ("arrow", "batch", None): identity,
    ("parquet", "batch", None): identity,
    ("http", "binary", None): binary_view,
    ("http", "structured", "json"): json_view,
    ("http", "structured", "msgpack"): identity,
    ("http", "batch", "json"): json_view,
    ("http", "batch", "msgpack"): identity,
    ("http", "batch", "arrow"): identity,
    ("http", "batch", "parquet"): identity,
    ("kafka", "binary", None): binary_view,
    ("kafka", "structured", "json"): json_view,
    ("kafka", "structured", "msgpack"): identity,
    ("amqp", "binary", None): amqp_view,
    ("amqp", "structured", "json"): json_view,
    ("amqp", "structured", "msgpack"): identity,
    ("rabbitmq", "binary", None): binary_view,
    ("rabbitmq", "structured", "json"): json_view,
    ("rabbitmq", "structured", "msgpack"): identity,
    ("mqtt", "binary", None): binary_view,
    ("mqtt", "structured", "json"): json_view,
    ("mqtt", "structured", "msgpack"): identity,
    ("nats", "binary", None): binary_view,
    ("nats", "structured", "json"): json_view,
    ("nats", "structured", "msgpack"): identity,
    ("websocket", "structured", "json"): json_view,
    ("websocket", "structured", "msgpack"): identity,
}

#: Views that lose only types ``extension_types=`` restores, and the empty-data rule.
RESTORABLE = {json_view, binary_view, amqp_view}


def _keys() -> list[tuple[str, str, str]]:
    return sorted({info.key for info in cefmt.codecs() if info.error is None})


def is_format(transport: str) -> bool:
    """An event format's codecs have a media type and take bytes."""
    keys = [k for k in _keys() if k[1] == transport]
    return any(cefmt.default_registry.lookup(*k).media_type is not None for k in keys)


def cases() -> list[Case]:
    """Every registered key, a binding's structured and batch modes once per format that has the mode."""
    keys = _keys()
    formats = {t for _, t, _ in keys if is_format(t)}
    found: list[Case] = []
    for version, transport, mode in keys:
        if transport in formats or mode not in ("structured", "batch"):
            found.append((version, transport, mode, None))
        else:
            found.extend((version, transport, mode, name) for name in sorted(formats) if (version, name, mode) in keys)
    return found


def distribution(transport: str) -> str:
    return next(info.distribution for info in cefmt.codecs() if info.key[1] == transport)


def case_id(case: Case) -> str:
    return "/".join(part for part in case if part)


def encode_case(value: Any, case: Case) -> Any:
    """Encode an event (a list of them for a batch case) the way ``case`` says."""
    _, transport, mode, fmt = case
    options = {} if fmt is None else {"format": fmt}
    return cefmt.encode(value, transport, mode, **options)


def decode_case(message: Any, case: Case, **options: Any) -> Any:
    """Decode as a receiver would: mode and version read from the message when the codec can tell."""
    _, transport, mode, _ = case
    codec = cefmt.default_registry.lookup(case[0], transport, mode)
    return cefmt.decode(message, transport, None if codec.detect is not None else mode, **options)
