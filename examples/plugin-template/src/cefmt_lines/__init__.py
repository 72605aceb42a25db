"""``lines``: a toy CloudEvents event format, as a template for third-party cefmt plugins.

An event is written as UTF-8 text: one ``name: value`` line per attribute (the canonical string of the
value, so every CloudEvents type fits), an empty line, then the data as a binary-mode body. CloudEvents
Strings cannot hold line breaks, so the layout is unambiguous::

    specversion: 1.0
    id: 1
    source: /s
    type: t
    datacontenttype: text/plain

    hello

It imports only the public kit (``cefmt`` and ``cefmt.codec``), and cefmt finds it through the entry
points in ``pyproject.toml``; HTTP and Kafka structured modes then carry it with ``format="lines"``.

>>> from cefmt import CloudEvent, decode, encode
>>> event = CloudEvent(id="1", source="/s", type="t", data="hello", datacontenttype="text/plain")
>>> encode(event, "lines")
b'specversion: 1.0\\nid: 1\\nsource: /s\\ntype: t\\ndatacontenttype: text/plain\\n\\nhello'
>>> decode(encode(event, "lines"), "lines") == event
True
"""

from __future__ import annotations

from typing import Any

from cefmt import CloudEvent, Limits, MalformedMessageError
from cefmt.codec import Codec, body_to_data, canonical_attributes, data_to_body, event_from_members

__all__ = ["MEDIA_TYPE", "decode", "detect", "encode", "structured"]

MEDIA_TYPE = "application/cloudevents+lines"


def encode(event: CloudEvent) -> bytes:
    """The event as ``lines`` bytes: attributes first (as the event's spec version names them, values as
    canonical strings), an empty line, then the data as a binary-mode body."""
    lines = [f"{name}: {value}" for name, value in canonical_attributes(event).items()]
    return "\n".join(lines).encode("utf-8") + b"\n\n" + data_to_body(event)


def decode(
    raw: bytes, *, extension_types: dict[str, type] | None = None, limits: Limits | None = None, **options: Any
) -> CloudEvent:
    """``lines`` bytes back to an event; extension values come back as strings (as from headers) unless
    ``extension_types`` names their types."""
    if limits is not None:
        limits.check_message_size(raw)
    head, separator, body = bytes(raw).partition(b"\n\n")
    if not separator:
        raise MalformedMessageError("a lines event needs an empty line between attributes and data")
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedMessageError(f"lines attributes are not UTF-8: {exc.reason}") from exc
    attributes: dict[str, str] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        name, colon, value = line.partition(": ")
        if not colon:
            raise MalformedMessageError(f"line {number} is not 'name: value'")
        if name in attributes:
            raise MalformedMessageError(f"attribute {name!r} appears twice")
        attributes[name] = value
    # The kit validates like any decoder (a bad or missing attribute raises a cefmt error), and applies
    # the spec-version rules and extension_types in one place.
    data = body_to_data(body, attributes.get("datacontenttype"), limits=limits)
    return event_from_members(attributes, data, extension_types=extension_types)


def detect(raw: bytes) -> tuple[str | None, str]:
    """Tell ``cefmt.decode`` the mode when it is not given: ``lines`` has only the structured mode."""
    return (None, "structured")


structured = Codec(encode=encode, decode=decode, detect=detect, media_type=MEDIA_TYPE)
