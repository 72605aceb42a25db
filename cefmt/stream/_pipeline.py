"""Streams of events: read, decode, encode and write them record by record, with an error policy."""

from __future__ import annotations

import base64
import contextlib
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from itertools import chain
from typing import IO, Any, Final

import attrs

from cefmt import CloudEvent, CloudEventError, UnknownCodecError, codecs, decode, default_registry, encode

from ._files import DeadLetterFile, check_dead_letter, writing
from ._framing import (
    FLUSH,
    Position,
    Record,
    _Flush,
    read_array,
    read_json,
    read_length_prefixed,
    read_lines,
    read_msgpack,
)
from ._shapes import SHAPES, dump_line

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_MAX_RECORD_SIZE",
    "BadRecord",
    "RecordError",
    "Stats",
    "StreamKind",
    "convert",
    "convert_file",
    "encode_events",
    "output_mode",
    "read_events",
    "read_records",
    "stream_kind",
    "stream_kinds",
    "write_events",
]

#: Bytes read from the input at a time.
DEFAULT_CHUNK_SIZE: Final = 64 * 1024
#: The longest record (line, array item, msgpack object, frame) a reader accepts.
DEFAULT_MAX_RECORD_SIZE: Final = 16 * 1024 * 1024
#: Events per message in batch modes.
DEFAULT_BATCH_SIZE: Final = 100

_POLICIES = ("fail", "skip", "dead_letter")
_READERS = {
    "lines": read_json,
    "array": read_array,
    "msgpack": read_msgpack,
    "length-prefixed": read_length_prefixed,
    "messages": read_lines,
}

Source = Any  # a path, a binary file, bytes, or an iterable of byte chunks or of messages
DeadLetter = Callable[["BadRecord"], None] | str | os.PathLike[str] | IO[bytes] | DeadLetterFile


# -- what flows -----------------------------------------------------------------------------------------------


@attrs.define
class Stats:
    """Counts of a conversion, updated as it runs (read them while it runs, or after).

    ``records`` counts input records (lines, array items, msgpack objects, frames, messages); a record
    holding a batch gives several ``events_in``. ``skipped`` and ``dead_lettered`` count bad records;
    ``messages_out`` counts output records (one per event, or one per batch in batch modes).

    >>> stats = Stats(records=2, events_in=2, events_out=2)
    >>> stats.summary().startswith("2 records, 2 events in, 2 events out, 0 skipped, 0 dead-lettered")
    True
    """

    records: int = 0
    events_in: int = 0
    events_out: int = 0
    messages_out: int = 0
    skipped: int = 0
    dead_lettered: int = 0
    bytes_in: int = 0
    started: float = attrs.field(factory=time.monotonic)
    finished: float | None = None

    @property
    def elapsed(self) -> float:
        """Seconds from the start to the end (or to now, while running)."""
        return (self.finished if self.finished is not None else time.monotonic()) - self.started

    @property
    def rate(self) -> float:
        """Events read per second."""
        elapsed = self.elapsed
        return self.events_in / elapsed if elapsed > 0 else 0.0

    def summary(self) -> str:
        """One human line: the counts, the time and the rate."""
        return (
            f"{self.records} records, {self.events_in} events in, {self.events_out} events out, "
            f"{self.skipped} skipped, {self.dead_lettered} dead-lettered, "
            f"{self.elapsed:.2f} s, {self.rate:,.0f} events/s"
        )


@attrs.frozen
class BadRecord:
    """A record that could not be read, decoded or encoded: where it was, what went wrong, what it held.

    ``stage`` is ``"read"`` (framing: a line too long), ``"decode"`` or ``"encode"``; ``raw`` is the
    input record (bytes, or the message object given) when there is one.
    """

    position: Position
    stage: str
    error: CloudEventError
    raw: Any = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description: position, stage, error text and type, attribute and rule, the record.

        >>> from cefmt import InvalidAttributeError
        >>> bad = BadRecord(Position(2, line=2), "decode", InvalidAttributeError("time", "bad"), b"{}")
        >>> bad.to_dict()["attribute"], bad.to_dict()["record"]
        ('time', '{}')
        """
        doc: dict[str, Any] = {
            "position": self.position.to_dict(),
            "stage": self.stage,
            "error": str(self.error),
            "error_type": type(self.error).__name__,
        }
        for name in ("attribute", "rule"):
            value = getattr(self.error, name, None)
            if value is not None:
                doc[name] = value
        raw = self.raw
        if isinstance(raw, (bytes, bytearray)):
            try:
                doc["record"] = bytes(raw).decode("utf-8")
            except UnicodeDecodeError:
                doc["record_base64"] = base64.b64encode(raw).decode("ascii")
        elif raw is not None:
            doc["record_repr"] = repr(raw)[:1000]
        return doc


class RecordError(CloudEventError):
    """A record failed under the ``fail`` policy; ``bad`` says which and why (the cause is chained)."""

    def __init__(self, bad: BadRecord) -> None:
        self.bad = bad
        self.position = bad.position
        super().__init__(f"{bad.position}: {bad.error}")


# -- stream kinds ---------------------------------------------------------------------------------------------


@attrs.frozen
class StreamKind:
    """How a stream is framed and which codec reads its records.

    ``framing`` is ``lines`` (JSON Lines, or JSON text that is not: see
    :func:`~cefmt.stream._framing.read_json`), ``array`` (one JSON array), ``msgpack`` (msgpack objects back
    to back), ``length-prefixed`` (4-byte big-endian length, then the bytes) or ``messages`` (transport
    messages as JSON Lines).
    """

    name: str
    transport: str
    framing: str

    @property
    def default_mode(self) -> str:
        """``binary`` for a transport's messages, ``structured`` for an event format."""
        return "binary" if self.framing == "messages" else "structured"


def _transports() -> set[str]:
    return {info.key[1] for info in codecs() if info.error is None}


def stream_kind(name: str) -> StreamKind:
    """The stream kind called ``name``: ``json``, ``json-array``, ``msgpack``, ``http``, ``kafka``, or any
    other registered event format (length-prefixed frames).

    >>> stream_kind("json"), stream_kind("json-array").framing
    (StreamKind(name='json', transport='json', framing='lines'), 'array')
    """
    transport = "json" if name == "json-array" else name
    if transport not in _transports():
        raise UnknownCodecError(("*", transport, "*"), [info.key for info in codecs()])
    if name == "json-array":
        return StreamKind(name, "json", "array")
    if name in SHAPES:
        return StreamKind(name, name, "messages")
    if name == "json":
        return StreamKind(name, name, "lines")
    if name == "msgpack":
        return StreamKind(name, name, "msgpack")
    if default_registry.find_format(name).media_type is None:
        raise CloudEventError(
            f"{name!r} is a transport binding, and streams of its messages have no JSON shape here; "
            f"streams of messages exist for {', '.join(sorted(SHAPES))}"
        )
    return StreamKind(name, name, "length-prefixed")


def stream_kinds() -> list[str]:
    """The stream kinds available with the installed codecs.

    >>> {"json", "json-array", "http"} <= set(stream_kinds())
    True
    """
    names = set()
    for transport in _transports():
        try:
            names.add(stream_kind(transport).name)
        except CloudEventError:
            continue
    if "json" in names:
        names.add("json-array")
    return sorted(names)


def output_mode(dst: str, mode: str | None = None, format: str | None = None) -> str:
    """The mode a ``dst`` stream is written in (``mode``, or the kind's default), checked with ``format``.

    Raises :class:`~cefmt.CloudEventError` when ``dst`` has no such mode or takes no ``format``.

    >>> output_mode("http"), output_mode("msgpack", "batch")
    ('binary', 'batch')
    """
    return _check_output(stream_kind(dst), mode, format)[0]


def _check_output(kind: StreamKind, mode: str | None, format: str | None) -> tuple[str, dict[str, Any]]:
    mode = mode or kind.default_mode
    if kind.framing == "array" and mode != "structured":
        raise CloudEventError("a json-array stream is one array of events: its mode is structured")
    available = {info.key[2] for info in codecs() if info.key[1] == kind.transport}
    if mode not in available:
        raise CloudEventError(f"{kind.transport} has no {mode} mode; it has {', '.join(sorted(available))}")
    options: dict[str, Any] = {}
    if format is not None:
        if kind.framing != "messages" or mode == "binary":
            raise CloudEventError(f"format= applies to the structured and batch modes of {', '.join(sorted(SHAPES))}")
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
        formats = [kind for kind in stream_kinds() if kind not in SHAPES and kind != "json-array"]
        raise CloudEventError(
            f"no event format {name!r} with a {mode} mode is registered; event formats here: {', '.join(formats)}"
        )


# -- the error policy -----------------------------------------------------------------------------------------


class _Policy:
    """What happens to a bad record: raise, count and drop, or count and hand to the dead-letter sink.

    A dead-letter path gets a :class:`~cefmt.stream._files.DeadLetterFile`: the dead letters of the stream
    are appended to it by :meth:`close` when the stream ended well, and dropped when it failed.
    """

    def __init__(self, on_error: str | None, dead_letter: DeadLetter | None, stats: Stats) -> None:
        policy = (on_error or ("dead_letter" if dead_letter is not None else "fail")).replace("-", "_")
        if policy not in _POLICIES:
            raise CloudEventError(f"on_error must be one of {', '.join(_POLICIES)}, got {on_error!r}")
        if policy == "dead_letter" and dead_letter is None:
            raise CloudEventError("on_error='dead_letter' needs dead_letter= (a callable, a file path or a file)")
        self.policy = policy
        self.stats = stats
        self._owned: DeadLetterFile | None = None
        self._sink: Callable[[BadRecord], None] | IO[bytes] | DeadLetterFile | None = None
        if policy == "dead_letter":
            if isinstance(dead_letter, (str, os.PathLike)):
                self._sink = self._owned = DeadLetterFile(dead_letter)
            else:
                self._sink = dead_letter

    def __call__(self, bad: BadRecord) -> None:
        if self.policy == "fail":
            raise RecordError(bad) from bad.error
        if self.policy == "skip":
            self.stats.skipped += 1
            return
        sink = self._sink
        if isinstance(sink, DeadLetterFile) or not callable(sink):
            assert sink is not None
            sink.write(dump_line(bad.to_dict()))
            sink.flush()
        else:
            sink(bad)
        self.stats.dead_lettered += 1

    def close(self, completed: bool) -> None:
        """Hand on the dead letters of a stream that ``completed`` (or was closed by its reader); drop them
        when it failed."""
        if self._owned is not None:
            if completed:
                self._owned.commit()
            else:
                self._owned.discard()


@contextlib.contextmanager
def _running(policy: _Policy) -> Iterator[None]:
    """The life of a stream generator: its dead letters kept when it ends or its reader closes it, dropped
    when it raises; the finishing time recorded either way."""
    completed = False
    try:
        yield
        completed = True
    except GeneratorExit:
        completed = True
        raise
    finally:
        policy.stats.finished = time.monotonic()
        policy.close(completed)


def _check_sizes(**sizes: int) -> None:
    """Each size a whole number of at least 1, or a :class:`~cefmt.CloudEventError` naming it."""
    for name, value in sizes.items():
        if type(value) is not int or value < 1:
            raise CloudEventError(f"{name} must be a whole number of at least 1, got {value!r}")


# -- reading ----------------------------------------------------------------------------------------------------


def _file_chunks(file: Any, chunk_size: int, stats: Stats) -> Iterator[bytes]:
    file = getattr(file, "buffer", file)  # a text stream (sys.stdin): read its bytes
    read = getattr(file, "read1", None) or file.read
    while True:
        chunk = read(chunk_size)
        if not chunk:
            return
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8")
        stats.bytes_in += len(chunk)
        yield chunk


def _iter_chunks(items: Iterable[Any], stats: Stats) -> Iterator[bytes]:
    for item in items:
        chunk = item.encode("utf-8") if isinstance(item, str) else bytes(item)
        stats.bytes_in += len(chunk)
        yield chunk


def _records(source: Source, kind: StreamKind, chunk_size: int, max_size: int, stats: Stats) -> Iterator[Any]:
    reader = _READERS[kind.framing]
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as file:
            yield from reader(_file_chunks(file, chunk_size, stats), max_size)
        return
    if hasattr(source, "read"):
        yield from reader(_file_chunks(source, chunk_size, stats), max_size)
        return
    if isinstance(source, (bytes, bytearray, memoryview)):
        yield from reader(_iter_chunks([source], stats), max_size)
        return
    items = iter(source)
    first = next(items, None)
    if first is None:
        return
    items = chain([first], items)
    if isinstance(first, (bytes, bytearray, memoryview, str)):
        yield from reader(_iter_chunks(items, stats), max_size)
        return
    for number, item in enumerate(items, 1):  # messages (or events) given as objects
        yield Record(Position(number), item)


_Item = tuple[Position, Any, CloudEvent]


def _decoded(
    records: Iterator[Any], kind: StreamKind, policy: _Policy, options: Mapping[str, Any]
) -> Iterator[_Item | _Flush]:
    stats = policy.stats
    transport = kind.transport
    from_json = SHAPES[transport][1] if kind.framing == "messages" else None
    # An event format's records are structured or batch; a format without a detector has only the former.
    detect = None if from_json is not None else default_registry.find_format(transport).detect
    for record in records:
        if record is FLUSH:
            yield FLUSH
            continue
        stats.records += 1
        position, raw = record.position, record.raw
        if record.error is not None:
            policy(BadRecord(position, "read", record.error, raw))
            continue
        if type(raw) is CloudEvent:
            stats.events_in += 1
            yield (position, raw, raw)
            continue
        try:
            if from_json is None:
                mode = detect(raw)[1] if detect is not None else "structured"
                result = decode(raw, transport, mode, **options)
            else:
                result = decode(from_json(raw) if isinstance(raw, bytes) else raw, transport, **options)
        except CloudEventError as exc:
            policy(BadRecord(position, "decode", exc, raw))
            continue
        if type(result) is CloudEvent:
            stats.events_in += 1
            yield (position, raw, result)
        else:
            stats.events_in += len(result)
            for index, event in enumerate(result):
                yield (attrs.evolve(position, item=index), raw, event)


def read_events(
    source: Source,
    src: str = "json",
    *,
    on_error: str | None = None,
    dead_letter: DeadLetter | None = None,
    stats: Stats | None = None,
    extension_types: Mapping[str, type] | None = None,
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
    ``stats``, when given, is updated as the stream is read. ``chunk_size`` and ``max_record_size``
    must be whole numbers of at least 1 (or a :class:`~cefmt.CloudEventError` is raised at the first step).

    >>> lines = [b'{"specversion":"1.0","id":"1","source":"/s","type":"t"}\\n', b"not json\\n"]
    >>> [event.id for event in read_events(lines, "json", on_error="skip")]
    ['1']
    """
    _check_sizes(chunk_size=chunk_size, max_record_size=max_record_size)
    kind = stream_kind(src)
    check_dead_letter(dead_letter, source=source)
    policy = _Policy(on_error, dead_letter, stats if stats is not None else Stats())
    options = {"extension_types": extension_types} if extension_types else {}
    with _running(policy):
        records = _records(source, kind, chunk_size, max_record_size, policy.stats)
        for item in _decoded(records, kind, policy, options):
            if item is not FLUSH:
                yield item[2]  # type: ignore[index]


def read_records(
    source: Source,
    src: str = "json",
    *,
    stats: Stats | None = None,
    extension_types: Mapping[str, type] | None = None,
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
    _check_sizes(chunk_size=chunk_size, max_record_size=max_record_size)
    kind = stream_kind(src)
    pending: list[BadRecord] = []  # at most the bad records of one input chunk: the readers flush after each
    policy = _Policy("dead_letter", pending.append, stats if stats is not None else Stats())
    options = {"extension_types": extension_types} if extension_types else {}
    with _running(policy):
        for item in _decoded(_records(source, kind, chunk_size, max_record_size, policy.stats), kind, policy, options):
            if pending:
                yield from pending
                pending.clear()
            if item is not FLUSH:
                yield item[2]  # type: ignore[index]
        yield from pending


# -- encoding and writing -----------------------------------------------------------------------------------------


def _encoded(
    items: Iterable[_Item | _Flush],
    kind: StreamKind,
    mode: str,
    *,
    options: Mapping[str, Any],
    batch_size: int,
    policy: _Policy,
    serialize: Callable[[Any], Any] | None,
) -> Iterator[Any]:
    stats = policy.stats
    transport = kind.transport
    if mode != "batch":
        for item in items:
            if item is FLUSH:
                yield FLUSH
                continue
            position, raw, event = item  # type: ignore[misc]
            try:
                message = encode(event, transport, mode, **options)
                if serialize is not None:
                    message = serialize(message)
            except CloudEventError as exc:
                policy(BadRecord(position, "encode", exc, raw))
                continue
            stats.events_out += 1
            stats.messages_out += 1
            yield message
        return

    def batch_of(group: list[_Item]) -> Iterator[Any]:
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
    groups: dict[str, list[_Item]] = {}
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


def _serializer(kind: StreamKind) -> Callable[[Any], bytes]:
    if kind.framing == "messages":
        to_json = SHAPES[kind.transport][0]
        return lambda message: dump_line(to_json(message))
    if kind.framing == "lines":
        return _json_line
    if kind.framing == "length-prefixed":
        return _frame
    return _as_bytes


def _as_bytes(message: Any) -> bytes:
    if not isinstance(message, (bytes, bytearray)):
        raise CloudEventError(f"the codec wrote {type(message).__name__}, not bytes")
    return bytes(message)


def _json_line(message: Any) -> bytes:
    raw = _as_bytes(message)
    if b"\n" in raw:
        raise CloudEventError("the json codec wrote a line break; JSON Lines needs one line per record")
    return raw + b"\n"


def _frame(message: Any) -> bytes:
    raw = _as_bytes(message)
    return len(raw).to_bytes(4, "big") + raw


def _joined(pieces: Iterable[Any], array: bool, chunk_size: int) -> Iterator[bytes]:
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


def _positioned(events: Iterable[CloudEvent]) -> Iterator[_Item]:
    for number, event in enumerate(events, 1):
        yield (Position(number), event, event)


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
    _check_sizes(batch_size=batch_size)
    kind = stream_kind(dst)
    mode, options = _check_output(kind, mode, format)
    policy = _Policy(on_error, dead_letter, stats if stats is not None else Stats())
    with _running(policy):
        for message in _encoded(
            _positioned(events), kind, mode, options=options, batch_size=batch_size, policy=policy, serialize=None
        ):
            if message is not FLUSH:
                yield message


def _written(
    items: Iterable[_Item | _Flush],
    kind: StreamKind,
    mode: str,
    *,
    options: dict[str, Any],
    batch_size: int,
    policy: _Policy,
    chunk_size: int,
) -> Iterator[bytes]:
    """Encode positioned events into ``kind`` records, serialize them, and join them into chunks."""
    pieces = _encoded(
        items, kind, mode, options=options, batch_size=batch_size, policy=policy, serialize=_serializer(kind)
    )
    return _joined(pieces, kind.framing == "array", chunk_size)


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
    _check_sizes(batch_size=batch_size, chunk_size=chunk_size)
    kind = stream_kind(dst)
    mode, options = _check_output(kind, mode, format)
    policy = _Policy(on_error, dead_letter, stats if stats is not None else Stats())
    with _running(policy):
        yield from _written(
            _positioned(events),
            kind,
            mode,
            options=options,
            batch_size=batch_size,
            policy=policy,
            chunk_size=chunk_size,
        )


def convert(
    source: Source,
    src: str = "json",
    dst: str = "json",
    mode: str | None = None,
    *,
    format: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_error: str | None = None,
    dead_letter: DeadLetter | None = None,
    stats: Stats | None = None,
    extension_types: Mapping[str, type] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    max_record_size: int = DEFAULT_MAX_RECORD_SIZE,
) -> Iterator[bytes]:
    """Convert a stream of kind ``src`` into a stream of kind ``dst``, chunk by chunk, in bounded memory.

    ``mode`` is the output mode (``structured`` for event formats and ``binary`` for transports unless
    given; ``batch`` packs ``batch_size`` events per record). Errors follow ``on_error``, with the
    position of the input record, whether reading, decoding or encoding failed; a broken framing
    (:class:`~cefmt.stream.FramingError`) always stops the stream; ``dead_letter`` is as in
    :func:`read_events`. Kinds, mode, ``format`` and the sizes are checked at the first step, before
    anything is read, whatever ``on_error`` says. The generator and its arguments are plain values, so
    the same call runs in a process pool (see :func:`convert_file`).

    >>> line = b'{"specversion":"1.0","id":"1","source":"/s","type":"t","data":"hi"}\\n'
    >>> out = b"".join(convert([line], "json", "http"))
    >>> out.startswith(b'{"headers":{"ce-specversion":"1.0","ce-id":"1"')
    True
    """
    _check_sizes(batch_size=batch_size, chunk_size=chunk_size, max_record_size=max_record_size)
    reader, writer = stream_kind(src), stream_kind(dst)
    mode, options = _check_output(writer, mode, format)
    check_dead_letter(dead_letter, source=source)
    policy = _Policy(on_error, dead_letter, stats if stats is not None else Stats())
    decode_options = {"extension_types": extension_types} if extension_types else {}
    with _running(policy):
        records = _records(source, reader, chunk_size, max_record_size, policy.stats)
        items = _decoded(records, reader, policy, decode_options)
        yield from _written(
            items, writer, mode, options=options, batch_size=batch_size, policy=policy, chunk_size=chunk_size
        )


def convert_file(
    source: str | os.PathLike[str], target: str | os.PathLike[str], src: str = "json", dst: str = "json", **options: Any
) -> Stats:
    """Convert the file ``source`` into the file ``target`` and return the counts.

    ``target`` follows the rules of :func:`~cefmt.stream.output_file`: a regular file (or a new one) is
    written whole or not at all, anything else (a FIFO, a device, ``/dev/stdout``) in place, and a
    symbolic link's target is written, not the link. A ``dead_letter`` path gets this run's dead letters
    appended only when the run completes (and is refused when it is ``source`` or ``target``), so a run
    that fails changes neither file. A plain function of plain arguments: hand it to
    ``multiprocessing.Pool.starmap`` or a cluster engine to convert many files at once. ``options`` are
    those of :func:`convert`.

    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> with open(os.path.join(folder, "in.jsonl"), "wb") as f:
    ...     _ = f.write(b'{"specversion":"1.0","id":"1","source":"/s","type":"t"}\\n')
    >>> stats = convert_file(os.path.join(folder, "in.jsonl"), os.path.join(folder, "out.msgpack"), "json", "msgpack")
    >>> stats.events_out
    1
    """
    stats = options.pop("stats", None) or Stats()
    dead_letter = options.pop("dead_letter", None)
    check_dead_letter(dead_letter, source=source, target=target)
    if isinstance(dead_letter, (str, os.PathLike)):
        dead_letter = DeadLetterFile(dead_letter)
    chunks = convert(source, src, dst, stats=stats, dead_letter=dead_letter, **options)
    try:
        first = next(chunks, b"")  # the options are checked before the output is opened
    except BaseException:
        if isinstance(dead_letter, DeadLetterFile):
            dead_letter.discard()
        raise
    with writing(target, dead_letter if isinstance(dead_letter, DeadLetterFile) else None) as out:
        out.write(first)
        for chunk in chunks:
            out.write(chunk)
    return stats
