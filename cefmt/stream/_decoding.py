"""Reading a stream: its records decoded into events, bad records to the policy, events filtered."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Protocol

import attrs

from cefmt import CloudEvent, CloudEventError, MalformedMessageError, default_registry
from cefmt.codec import load_json

from ._files import check_dead_letter
from ._framing import FLUSH, Position, _Flush
from ._kinds import StreamKind, format_reader, stream_kind
from ._policy import DeadLetter, Policy, check_sizes, running
from ._sources import DEFAULT_CHUNK_SIZE, DEFAULT_MAX_RECORD_SIZE, Source, records
from ._stats import BadRecord, Stats

__all__ = ["Filter", "Item", "decode_options", "decoded", "read_events", "read_records"]

#: One decoded event on its way through a stream: where it came from, the input record, the event.
Item = tuple[Position, Any, CloudEvent]


class Filter(Protocol):
    """What ``where=`` takes: a compiled CESQL expression (:func:`cefmt.sql.compile`), or anything with a
    ``matches(event)`` method; a ``str`` is compiled."""

    def matches(self, event: CloudEvent) -> bool: ...


def as_filter(where: Filter | str | None) -> Filter | None:
    """``where`` ready to test events: CESQL text compiled once (and checked now, not at the first event)."""
    if where is None or hasattr(where, "matches"):
        return where
    if isinstance(where, str):
        from cefmt import sql  # noqa: PLC0415 - the CESQL engine, only for streams that filter

        return sql.compile(where)
    raise CloudEventError(f"where= takes CESQL text or a compiled expression, got {type(where).__name__}")


def decode_options(
    extension_types: Mapping[str, type] | None, data_type: Any, converter: Any, other_types: str
) -> dict[str, Any]:
    """The options a stream passes to every decode call (only those given)."""
    options: dict[str, Any] = {}
    if extension_types:
        options["extension_types"] = extension_types
    if data_type is not None:
        options["data_type"] = data_type
        options["other_types"] = other_types
        if converter is not None:
            options["converter"] = converter
    return options


def decoded(
    items: Iterator[Any], kind: StreamKind, policy: Policy, options: Mapping[str, Any], where: Filter | None = None
) -> Iterator[Item | _Flush]:
    """Each record decoded into its events (a batch record gives several), bad ones to ``policy``, and
    those ``where`` does not match left out (counted as filtered)."""
    stats = policy.stats
    transport = kind.transport
    decode = default_registry.decode  # transport names from the stream's kinds, checked when they were made
    capture = kind.capture
    # An event format's records are structured or batch; a format without a detector has one mode.
    detect, fallback = (None, "binary") if capture is not None else format_reader(kind)
    what = f"{transport} message"
    # The format's own decoder for each mode, found once: decode() with the mode given would look it up,
    # and run the detector again, for every record. Typed data goes through decode(), which applies it.
    direct = capture is None and not ({"data_type", "converter"} & set(options))
    decoders: dict[str, Any] = {}
    for record in items:
        if record is FLUSH:
            yield FLUSH
            continue
        stats.records += 1
        position, raw = record.position, record.raw
        if record.error is not None:
            policy(BadRecord(position, "read", record.error, raw))
            continue
        if type(raw) is CloudEvent:
            result: Any = raw
        else:
            try:
                if capture is None:
                    mode = detect(raw)[1] if detect is not None else fallback
                    if direct:
                        codec = decoders.get(mode) or decoders.setdefault(
                            mode, default_registry.find_format(transport, mode).decode
                        )
                        result = codec(raw, **options)
                    else:
                        result = decode(raw, transport, mode, **options)
                else:
                    message = capture.from_json(_line(raw, what)) if isinstance(raw, bytes) else raw
                    result = decode(message, transport, **options)
            except CloudEventError as exc:
                policy(BadRecord(position, "decode", exc, raw))
                continue
        if type(result) is CloudEvent:
            stats.events_in += 1
            if where is not None and not where.matches(result):
                stats.filtered += 1
                continue
            yield (position, raw, result)
        else:
            stats.events_in += len(result)
            for index, event in enumerate(result):
                if where is not None and not where.matches(event):
                    stats.filtered += 1
                    continue
                yield (attrs.evolve(position, item=index), raw, event)


def _line(raw: bytes, what: str) -> dict[str, Any]:
    doc = load_json(raw, f"{what} line")
    if type(doc) is not dict:
        raise MalformedMessageError(f"{what} line must be a JSON object")
    return doc


def read_events(
    source: Source,
    src: str = "json",
    *,
    on_error: str | None = None,
    dead_letter: DeadLetter | None = None,
    stats: Stats | None = None,
    extension_types: Mapping[str, type] | None = None,
    data_type: Any = None,
    converter: Any = None,
    other_types: str = "keep",
    where: Filter | str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    max_record_size: int = DEFAULT_MAX_RECORD_SIZE,
) -> Iterator[CloudEvent]:
    """The events of a stream, one at a time, in bounded memory.

    ``source`` is a file path, a binary file, ``bytes``, an iterable of byte (or text) chunks, or an
    iterable of message objects (``HTTPMessage``, Kafka records ...). ``src`` names the stream kind (see
    :func:`stream_kind`). A record holding a batch gives all its events. Bad records follow ``on_error``:
    ``"fail"`` (the default: :class:`RecordError`), ``"skip"``, or ``"dead_letter"`` (each
    :class:`BadRecord` goes to ``dead_letter``: a callable, or a binary file that gets one JSON line per
    bad record as it comes, or a file path that gets those lines appended when the stream ends or is
    closed by its reader, and nothing when it raises; a path that is the ``source`` file is refused).
    ``data_type``, ``converter`` and ``other_types`` read typed data as :func:`cefmt.decode` does (data
    that does not fit is a bad record); ``where`` (CESQL text, or a compiled expression) keeps only the
    events it matches. ``stats``, when given, is updated as the stream is read. ``chunk_size`` and
    ``max_record_size`` must be whole numbers of at least 1 (or a :class:`~cefmt.CloudEventError` is
    raised at the first step).

    >>> lines = [b'{"specversion":"1.0","id":"1","source":"/s","type":"t"}\\n', b"not json\\n"]
    >>> [event.id for event in read_events(lines, "json", on_error="skip")]
    ['1']
    """
    check_sizes(chunk_size=chunk_size, max_record_size=max_record_size)
    kind = stream_kind(src)
    check_dead_letter(dead_letter, source=source)
    test = as_filter(where)
    policy = Policy(on_error, dead_letter, stats if stats is not None else Stats())
    options = decode_options(extension_types, data_type, converter, other_types)
    with running(policy):
        for item in decoded(
            records(source, kind, chunk_size, max_record_size, policy.stats), kind, policy, options, test
        ):
            if item is not FLUSH:
                yield item[2]  # type: ignore[index]


def read_records(
    source: Source,
    src: str = "json",
    *,
    stats: Stats | None = None,
    extension_types: Mapping[str, type] | None = None,
    data_type: Any = None,
    converter: Any = None,
    other_types: str = "keep",
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    max_record_size: int = DEFAULT_MAX_RECORD_SIZE,
) -> Iterator[CloudEvent | BadRecord]:
    """The events of a stream and its bad records, in the order of the stream, in bounded memory.

    Like :func:`read_events`, but a record that cannot be read or decoded is given in its place as a
    :class:`BadRecord` (and counted in ``stats.dead_lettered``) instead of following a policy: for tools
    that show a stream as it is. A broken framing still raises :class:`~cefmt.stream.FramingError`.

    >>> lines = [b'{"specversion":"1.0","id":"1","source":"/s","type":"t"}\\n', b"not json\\n"]
    >>> [type(item).__name__ for item in read_records(lines, "json")]
    ['CloudEvent', 'BadRecord']
    """
    check_sizes(chunk_size=chunk_size, max_record_size=max_record_size)
    kind = stream_kind(src)
    pending: list[BadRecord] = []  # at most the bad records of one input chunk: the readers flush after each
    policy = Policy("dead_letter", pending.append, stats if stats is not None else Stats())
    options = decode_options(extension_types, data_type, converter, other_types)
    with running(policy):
        for item in decoded(records(source, kind, chunk_size, max_record_size, policy.stats), kind, policy, options):
            if pending:
                yield from pending
                pending.clear()
            if item is not FLUSH:
                yield item[2]  # type: ignore[index]
        yield from pending
