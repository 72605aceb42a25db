"""Conversions: a stream of one kind into another, into a file, or routed by CESQL into several files."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any

from cefmt import CloudEventError

from ._decoding import Filter, Item, as_filter, decode_options, decoded
from ._encoding import DEFAULT_BATCH_SIZE, written
from ._files import DeadLetterFile, check_dead_letter, writing
from ._framing import FLUSH
from ._kinds import check_output, stream_kind
from ._parallel import converted_in_parallel
from ._policy import DeadLetter, Policy, check_sizes, running
from ._sources import DEFAULT_CHUNK_SIZE, DEFAULT_MAX_RECORD_SIZE, Source, records
from ._stats import Stats

__all__ = ["convert", "convert_file", "route"]

Target = str | os.PathLike[str]


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
    data_type: Any = None,
    converter: Any = None,
    other_types: str = "keep",
    where: Filter | str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    max_record_size: int = DEFAULT_MAX_RECORD_SIZE,
    workers: int = 1,
) -> Iterator[bytes]:
    """Convert a stream of kind ``src`` into a stream of kind ``dst``, chunk by chunk, in bounded memory.

    ``mode`` is the output mode (``structured`` for event formats and ``binary`` for transports unless
    given; ``batch`` packs ``batch_size`` events per record). Errors follow ``on_error``, with the
    position of the input record, whether reading, decoding or encoding failed; a broken framing
    (:class:`~cefmt.stream.FramingError`) always stops the stream; ``dead_letter`` is as in
    :func:`read_events`. ``where`` (CESQL text or a compiled expression) keeps only the events it
    matches; ``data_type``, ``converter`` and ``other_types`` read typed data as :func:`cefmt.decode`
    does. Kinds, mode, ``format``, ``where`` and the sizes are checked at the first step, before anything
    is read, whatever ``on_error`` says. ``workers`` above 1 converts on that many processes (the input is
    cut into tasks of whole records here, converted in a process pool, and written in input order; errors,
    dead letters and counts are what one process gives; an input that fits in one task stays in this
    process). The generator and its arguments are plain values, so the same call runs in a process pool
    or on a cluster (see :func:`convert_file`).

    >>> line = b'{"specversion":"1.0","id":"1","source":"/s","type":"t","data":"hi"}\\n'
    >>> out = b"".join(convert([line], "json", "http"))
    >>> out.startswith(b'{"headers":{"ce-specversion":"1.0","ce-id":"1"')
    True
    """
    check_sizes(batch_size=batch_size, chunk_size=chunk_size, max_record_size=max_record_size, workers=workers)
    reader, writer = stream_kind(src), stream_kind(dst)
    mode, options = check_output(writer, mode, format)
    check_dead_letter(dead_letter, source=source)
    test = as_filter(where)
    policy = Policy(on_error, dead_letter, stats if stats is not None else Stats())
    decoding = decode_options(extension_types, data_type, converter, other_types)
    with running(policy):
        cut = records(source, reader, chunk_size, max_record_size, policy.stats)
        if workers > 1:
            yield from converted_in_parallel(
                cut, reader, writer, mode, options=options, decoding=decoding, where=test, batch_size=batch_size,
                policy=policy, chunk_size=chunk_size, workers=workers,
            )  # fmt: skip
            return
        yield from written(
            decoded(cut, reader, policy, decoding, test),
            writer, mode, options=options, batch_size=batch_size, policy=policy, chunk_size=chunk_size,
        )  # fmt: skip


def convert_file(source: Target, target: Target, src: str = "json", dst: str = "json", **options: Any) -> Stats:
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


def route(
    source: Source,
    routes: Sequence[tuple[Filter | str, Target]] | Mapping[str, Target],
    *,
    otherwise: Target | None = None,
    src: str = "json",
    dst: str = "json",
    mode: str | None = None,
    format: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
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
) -> Stats:
    """Read ``source`` once and send each event to the first output whose CESQL expression it matches,
    or to ``otherwise`` (events that match none are dropped, and counted as filtered, without it).

    ``routes`` is a sequence of ``(expression, output file)`` pairs, or a mapping of expression text to
    output file, in order. Every output is written as :func:`convert_file` writes one (whole, when the run
    completes) in the ``dst`` kind; ``stats.routed`` counts the events each output received. The other
    options are those of :func:`convert`; batches in batch mode are filled within each input chunk.

    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> line = b'{"specversion":"1.0","id":"%d","source":"/s","type":"t%d"}\\n'
    >>> lines = b"".join(line % (n, n % 2) for n in range(5))
    >>> out = lambda name: os.path.join(folder, name)
    >>> stats = route([lines], [("type = 't0'", out("even.jsonl"))], otherwise=out("odd.jsonl"))
    >>> sorted(stats.routed.values()), open(out("odd.jsonl"), "rb").read().count(b"\\n")
    ([2, 3], 2)
    """
    check_sizes(batch_size=batch_size, chunk_size=chunk_size, max_record_size=max_record_size)
    pairs = list(routes.items()) if isinstance(routes, Mapping) else list(routes)
    if not pairs and otherwise is None:
        raise CloudEventError("route needs at least one route or otherwise=")
    reader, writer = stream_kind(src), stream_kind(dst)
    out_mode, options = check_output(writer, mode, format)
    tests = [as_filter(expression) for expression, _ in pairs]
    targets: list[Target] = [target for _, target in pairs] + ([otherwise] if otherwise is not None else [])
    names = [os.fspath(target) for target in targets]
    if len(set(names)) != len(names):
        raise CloudEventError("each route needs an output of its own; a file is named twice")
    for target in targets:
        check_dead_letter(dead_letter, source=source, target=target)
    stats = stats if stats is not None else Stats()
    for name in names:  # in the routes' order, each output listed even when it receives nothing
        stats.routed.setdefault(name, 0)
    owned = DeadLetterFile(dead_letter) if isinstance(dead_letter, (str, os.PathLike)) else None
    policy = Policy(on_error, owned if owned is not None else dead_letter, stats)
    filter_first = as_filter(where)
    decoding = decode_options(extension_types, data_type, converter, other_types)
    pending: list[list[Item]] = [[] for _ in targets]

    def spill(files: list[IO[bytes]]) -> None:
        for index, items in enumerate(pending):
            if items:
                for chunk in written(
                    items,
                    writer,
                    out_mode,
                    options=options,
                    batch_size=batch_size,
                    policy=policy,
                    chunk_size=chunk_size,
                ):
                    files[index].write(chunk)
                items.clear()

    with contextlib.ExitStack() as stack:
        # The dead letters go with the first output: appended when every output is in place.
        files = [
            stack.enter_context(writing(target, owned if index == 0 else None)) for index, target in enumerate(targets)
        ]
        with running(policy):
            for item in decoded(
                records(source, reader, chunk_size, max_record_size, stats), reader, policy, decoding, filter_first
            ):
                if item is FLUSH:
                    spill(files)
                    continue
                event = item[2]  # type: ignore[index]
                index = next((n for n, test in enumerate(tests) if test.matches(event)), len(tests))  # type: ignore[union-attr]
                if index == len(tests) and otherwise is None:
                    stats.filtered += 1
                    continue
                pending[index].append(item)  # type: ignore[arg-type]
                stats.routed[names[index]] += 1
            spill(files)
    return stats
