"""Stream kinds: how a stream of a transport or format is framed, found from the installed codecs.

A kind is named after its transport. An event format's codecs say how its documents follow each other
(``Codec.framing``: ``lines``, ``msgpack`` or ``length-prefixed``); a binding's codecs say how one of its
messages is written as a JSON line (``Codec.capture``). A format whose streams are whole files (Parquet)
says how such a file is read and written (``Codec.container``). The core names no plugin: a format or
binding installed with those fields is a stream kind at once. ``json-array`` (one JSON array of events,
read item by item) is the JSON format's second kind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from cefmt import CloudEventError, UnknownCodecError, codecs, default_registry
from cefmt.codec import Capture, Codec, Container

__all__ = ["StreamKind", "check_output", "format_reader", "output_mode", "stream_kind", "stream_kinds"]


@attrs.frozen
class StreamKind:
    """How a stream is framed and which codec reads its records.

    ``framing`` is ``json`` (JSON Lines, or JSON text that is not: see
    :func:`~cefmt.stream._framing.read_json`), ``lines`` (one document per line), ``array`` (one JSON array),
    ``msgpack`` (msgpack objects back to back), ``length-prefixed`` (4-byte big-endian length, then the
    bytes), ``messages`` (transport messages as JSON Lines, through ``capture``) or ``container`` (whole
    files of a columnar format, through ``container``).
    """

    name: str
    transport: str
    framing: str
    capture: Capture | None = None
    container: Container | None = None

    @property
    def default_mode(self) -> str:
        """``binary`` for a transport's messages, ``batch`` for a file of rows, ``structured`` for an event
        format (or ``batch``, when the format has no other mode)."""
        if self.framing == "messages":
            return "binary"
        if self.framing == "container" or not _has_mode(self.transport, "structured"):
            return "batch"
        return "structured"


def _has_mode(transport: str, mode: str) -> bool:
    return any(info.key[1] == transport and info.key[2] == mode for info in codecs())


def format_reader(kind: StreamKind) -> tuple[Callable[[Any], tuple[str | None, str]] | None, str]:
    """How the records of an event format's stream are decoded: the format's detector (``None`` when it has
    none) and the mode to read without one."""
    mode = kind.default_mode
    return default_registry.find_format(kind.transport, mode).detect, mode


def _codecs_of(transport: str) -> list[Codec]:
    keys = [info.key for info in codecs() if info.error is None and info.key[1] == transport]
    if not keys:
        raise UnknownCodecError(("*", transport, "*"), [info.key for info in codecs()])
    return [default_registry.lookup(*key) for key in keys]


def stream_kind(name: str) -> StreamKind:
    """The stream kind called ``name``: a transport whose codecs capture messages (``http``, ``kafka``
    ...), an event format (``json``, ``msgpack``, framed as its codec says), or ``json-array``.

    >>> stream_kind("json"), stream_kind("json-array").framing
    (StreamKind(name='json', transport='json', framing='json', capture=None, container=None), 'array')
    """
    kind = _kind_or_none(name)
    if kind is None:
        raise CloudEventError(
            f"{name!r} is a transport binding whose codecs give no capture= for its messages; stream kinds here: "
            f"{', '.join(stream_kinds())}"
        )
    return kind


def _kind_or_none(name: str) -> StreamKind | None:
    transport = "json" if name == "json-array" else name
    found = _codecs_of(transport)
    if name == "json-array":
        return StreamKind(name, "json", "array")
    capture = next((codec.capture for codec in found if codec.capture is not None), None)
    if capture is not None:
        return StreamKind(name, name, "messages", capture)
    formats = [codec for codec in found if codec.media_type is not None]
    if not formats:
        return None
    container = next((codec.container for codec in formats if codec.container is not None), None)
    if container is not None:
        return StreamKind(name, name, "container", container=container)
    framing = formats[0].framing
    return StreamKind(name, name, "json" if name == "json" and framing == "lines" else framing)


def stream_kinds() -> list[str]:
    """The stream kinds available with the installed codecs.

    >>> {"json", "json-array", "http"} <= set(stream_kinds())
    True
    """
    names = set()
    for transport in {info.key[1] for info in codecs() if info.error is None}:
        try:
            kind = _kind_or_none(transport)
        except CloudEventError:  # a plugin that fails to load is not a kind today
            continue
        if kind is not None:
            names.add(kind.name)
    if "json" in names:
        names.add("json-array")
    return sorted(names)


def output_mode(dst: str, mode: str | None = None, format: str | None = None) -> str:
    """The mode a ``dst`` stream is written in (``mode``, or the kind's default), checked with ``format``.

    Raises :class:`~cefmt.CloudEventError` when ``dst`` has no such mode or takes no ``format``.

    >>> output_mode("http"), output_mode("msgpack", "batch")
    ('binary', 'batch')
    """
    return check_output(stream_kind(dst), mode, format)[0]


def check_output(kind: StreamKind, mode: str | None, format: str | None) -> tuple[str, dict[str, Any]]:
    """The output mode and the encode options for ``kind``, or a :class:`~cefmt.CloudEventError` saying
    what does not fit."""
    mode = mode or kind.default_mode
    if kind.framing == "array" and mode != "structured":
        raise CloudEventError("a json-array stream is one array of events: its mode is structured")
    available = {info.key[2] for info in codecs() if info.key[1] == kind.transport}
    if mode not in available:
        raise CloudEventError(f"{kind.transport} has no {mode} mode; it has {', '.join(sorted(available))}")
    options: dict[str, Any] = {}
    if format is not None:
        if kind.framing != "messages" or mode == "binary":
            bindings = [name for name in stream_kinds() if stream_kind(name).framing == "messages"]
            raise CloudEventError(f"format= applies to the structured and batch modes of {', '.join(bindings)}")
        _check_format(format, mode)
        options["format"] = format
    return mode, options


def _check_format(name: str, mode: str) -> None:
    """``name`` is an event format with a ``mode`` codec; or an error listing the formats there are."""
    try:
        codec = default_registry.find_format(name, mode)
    except UnknownCodecError:
        codec = None
    if codec is None or codec.media_type is None:
        formats = [
            kind
            for kind in stream_kinds()
            if stream_kind(kind).framing not in ("messages", "array") and _has_mode(kind, mode)
        ]
        raise CloudEventError(
            f"no event format {name!r} with a {mode} mode is registered; event formats here: {', '.join(formats)}"
        )
