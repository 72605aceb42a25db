"""Writing a stream: events encoded into a kind's messages, serialized, and joined into chunks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final

from cefmt import CloudEvent, CloudEventError, default_registry

from ._framing import FLUSH, Position, _Flush, json_line
from ._kinds import StreamKind, check_output, stream_kind
from ._policy import DeadLetter, Policy, check_sizes, running
from ._sources import DEFAULT_CHUNK_SIZE
from ._stats import BadRecord, Stats

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "contained",
    "encode_events",
    "encoded",
    "joined",
    "serializer",
    "write_events",
    "written",
]

#: Events per message in batch modes.
DEFAULT_BATCH_SIZE: Final = 100

Item = tuple[Position, Any, CloudEvent]


def encoded(
    items: Iterable[Item | _Flush],
    kind: StreamKind,
    mode: str,
    *,
    options: Mapping[str, Any],
    batch_size: int,
    policy: Policy,
    serialize: Callable[[Any], Any] | None,
) -> Iterator[Any]:
    """Positioned events encoded as ``kind``'s messages (one each, or ``batch_size`` per batch), failures
    to ``policy``, each message serialized when ``serialize`` is given."""
    stats = policy.stats
    transport = kind.transport
    encode = default_registry.encode  # transport names from the stream's kinds, checked when they were made
    if mode != "batch":
        # Each spec version's codec, found once (what encode() looks up for every event); options that
        # change the event first (a converter for typed data) go through encode().
        direct = "converter" not in options
        codecs: dict[str, Any] = {}
        for item in items:
            if item is FLUSH:
                yield FLUSH
                continue
            position, raw, event = item  # type: ignore[misc]
            try:
                specversion = event.specversion
                codec = codecs.get(specversion) if direct else None
                if codec is None:
                    if direct:
                        codec = codecs[specversion] = default_registry.find_format(transport, mode, specversion).encode
                    message = encode(event, transport, mode, **options)
                else:
                    message = codec(event, **options)
                if serialize is not None:
                    message = serialize(message)
            except CloudEventError as exc:
                policy(BadRecord(position, "encode", exc, raw))
                continue
            stats.events_out += 1
            stats.messages_out += 1
            yield message
        return

    def batch_of(group: list[Item]) -> Iterator[Any]:
        try:
            message = encode([event for _, _, event in group], transport, "batch", **options)
            if serialize is not None:
                message = serialize(message)
        except CloudEventError as batch_error:
            # Find the events that fail on their own; the others still go out, as one batch.
            good = []
            for position, raw, event in group:
                try:
                    encode([event], transport, "batch", **options)
                except CloudEventError as exc:
                    policy(BadRecord(position, "encode", exc, raw))
                else:
                    good.append((position, raw, event))
            if len(good) == len(group):  # each encodes alone but not together: all share the blame
                for position, raw, _ in group:
                    policy(BadRecord(position, "encode", batch_error, raw))
            elif good:
                yield from batch_of(good)
            return
        stats.events_out += len(group)
        stats.messages_out += 1
        yield message

    # One pending batch per spec version (a batch holds one version): events keep their order within
    # their version, and a stream that mixes versions still gets full batches.
    groups: dict[str, list[Item]] = {}
    for item in items:
        if item is FLUSH:
            yield FLUSH
            continue
        version = item[2].specversion  # type: ignore[index]
        group = groups.setdefault(version, [])
        group.append(item)  # type: ignore[arg-type]
        if len(group) >= batch_size:
            del groups[version]
            yield from batch_of(group)
    for group in groups.values():
        yield from batch_of(group)


def serializer(kind: StreamKind) -> Callable[[Any], bytes]:
    """How one of ``kind``'s messages becomes bytes in its stream."""
    if kind.container is not None:  # its messages are joined into one file by its container
        return _as_is
    if kind.capture is not None:
        to_json = kind.capture.to_json
        return lambda message: json_line(to_json(message))
    if kind.framing in ("json", "lines"):
        return _line
    if kind.framing == "length-prefixed":
        return _frame
    return _as_bytes


def _as_is(message: Any) -> Any:
    return message


def _as_bytes(message: Any) -> bytes:
    if not isinstance(message, (bytes, bytearray)):
        raise CloudEventError(f"the codec wrote {type(message).__name__}, not bytes")
    return bytes(message)


def _line(message: Any) -> bytes:
    raw = _as_bytes(message)
    if b"\n" in raw:
        raise CloudEventError("the codec wrote a line break; a stream of lines needs one line per record")
    return raw + b"\n"


def _frame(message: Any) -> bytes:
    raw = _as_bytes(message)
    return len(raw).to_bytes(4, "big") + raw


def joined(pieces: Iterable[Any], array: bool, chunk_size: int) -> Iterator[bytes]:
    """Serialized pieces joined into chunks of about ``chunk_size`` (a chunk ends at each ``FLUSH``); with
    ``array``, as the items of one JSON array."""
    buffer: list[bytes] = []
    size = 0
    count = 0
    for piece in pieces:
        if piece is FLUSH:
            if buffer:
                yield b"".join(buffer)
                buffer, size = [], 0
            continue
        if array:
            buffer.append(b"[\n" if count == 0 else b",\n")
        buffer.append(piece)
        count += 1
        size += len(piece)
        if size >= chunk_size:
            yield b"".join(buffer)
            buffer, size = [], 0
    if array:
        buffer.append(b"\n]\n" if count else b"[]\n")
    if buffer:
        yield b"".join(buffer)


def positioned(events: Iterable[CloudEvent]) -> Iterator[Item]:
    """Events given in code, numbered as the records of a stream."""
    for number, event in enumerate(events, 1):
        yield (Position(number), event, event)


def written(
    items: Iterable[Item | _Flush],
    kind: StreamKind,
    mode: str,
    *,
    options: dict[str, Any],
    batch_size: int,
    policy: Policy,
    chunk_size: int,
) -> Iterator[bytes]:
    """Encode positioned events into ``kind`` records, serialize them, and join them into chunks."""
    if kind.container is not None:
        return contained(
            encoded(items, kind, mode, options=options, batch_size=batch_size, policy=policy, serialize=None),
            kind,
            chunk_size,
        )
    pieces = encoded(
        items, kind, mode, options=options, batch_size=batch_size, policy=policy, serialize=serializer(kind)
    )
    return joined(pieces, kind.framing == "array", chunk_size)


def contained(messages: Iterable[Any], kind: StreamKind, chunk_size: int) -> Iterator[bytes]:
    """A container format's messages written into one file by its ``container``, in chunks."""
    assert kind.container is not None
    return joined(kind.container.write(m for m in messages if m is not FLUSH), False, chunk_size)


def encode_events(
    events: Iterable[CloudEvent],
    dst: str,
    mode: str | None = None,
    *,
    format: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_error: str | None = None,
    dead_letter: DeadLetter | None = None,
    stats: Stats | None = None,
) -> Iterator[Any]:
    """Encode events one by one (or ``batch_size`` at a time in batch mode) into messages of ``dst``.

    Gives what the codec gives: ``bytes`` for an event format, ``HTTPMessage`` for HTTP, Kafka records
    for Kafka. A batch holds events of one spec version, in their order; in a stream that mixes
    versions, each version fills its own batches.
    ``format`` picks the event format of a binding's structured and batch modes. Events that cannot be
    encoded follow ``on_error`` as in :func:`read_events`.

    >>> from cefmt import CloudEvent
    >>> events = [CloudEvent(id=str(n), source="/s", type="t") for n in range(5)]
    >>> [len(m.body) > 0 for m in encode_events(events, "http", "batch", batch_size=2)]
    [True, True, True]
    """
    check_sizes(batch_size=batch_size)
    kind = stream_kind(dst)
    mode, options = check_output(kind, mode, format)
    policy = Policy(on_error, dead_letter, stats if stats is not None else Stats())
    with running(policy):
        for message in encoded(
            positioned(events), kind, mode, options=options, batch_size=batch_size, policy=policy, serialize=None
        ):
            if message is not FLUSH:
                yield message


def write_events(
    events: Iterable[CloudEvent],
    dst: str = "json",
    mode: str | None = None,
    *,
    format: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_error: str | None = None,
    dead_letter: DeadLetter | None = None,
    stats: Stats | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Iterator[bytes]:
    """The bytes of a ``dst`` stream holding ``events``, in chunks to write as they come.

    >>> from cefmt import CloudEvent
    >>> b"".join(write_events([CloudEvent(id="1", source="/s", type="t")], "json"))
    b'{"specversion":"1.0","id":"1","source":"/s","type":"t"}\\n'
    """
    check_sizes(batch_size=batch_size, chunk_size=chunk_size)
    kind = stream_kind(dst)
    mode, options = check_output(kind, mode, format)
    policy = Policy(on_error, dead_letter, stats if stats is not None else Stats())
    with running(policy):
        yield from written(
            positioned(events), kind, mode, options=options, batch_size=batch_size, policy=policy, chunk_size=chunk_size
        )
