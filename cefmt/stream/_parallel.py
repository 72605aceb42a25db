"""Conversions on every core: records cut from the input here, converted in a process pool, written in order.

This process reads the input and cuts it into records (the framing is cheap next to decoding and
encoding), groups them into tasks of whole records, and hands the tasks to worker processes, a few at a
time so that memory stays bounded. Each worker decodes, filters, encodes and serializes its records as
one process would, and sends back the output pieces, the bad records and the counts. This process
writes the pieces in input order and gives the bad records, in order, to the stream's error policy:
skip, dead letters, the summary and the ``fail`` stop are what one process gives. In batch mode a batch
is filled within a task.

An input that fits in one task is converted here, with no pool started.
"""

from __future__ import annotations

import pickle
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from cefmt import CloudEventError

from ._decoding import Filter, decoded
from ._encoding import contained, encoded, joined, serializer
from ._framing import FLUSH, Position, Record
from ._kinds import StreamKind, stream_kind
from ._policy import Policy
from ._stats import BadRecord, Stats

if TYPE_CHECKING:
    from concurrent.futures import Future

__all__ = ["TASK_BYTES", "TASK_RECORDS", "converted_in_parallel"]

#: A task holds at most this many records ...
TASK_RECORDS = 4000
#: ... and about this many bytes of input.
TASK_BYTES = 1 << 20
#: Tasks handed out ahead, per worker: enough to keep every worker busy, few enough to bound memory.
AHEAD = 2

# What every task of one conversion shares, set in each worker once (see _start).
_JOB: dict[str, Any] = {}


class _Stop(Exception):
    """A worker's record failed under the ``fail`` policy: the task ends there, as one process would."""


def _start(job: bytes) -> None:
    _JOB.update(pickle.loads(job))
    _JOB["reader"] = stream_kind(_JOB["src"])
    _JOB["writer"] = stream_kind(_JOB["dst"])
    _JOB["serialize"] = serializer(_JOB["writer"])


Task = list[tuple[int, int | None, int | None, Any, CloudEventError | None]]


def _convert_task(task: Task) -> tuple[list[bytes], list[BadRecord], Stats]:
    """In a worker: one task's records converted into output pieces, with its bad records and counts."""
    stats = Stats()
    bad: list[BadRecord] = []
    stop = _JOB["fail"]

    def keep(record: BadRecord) -> None:
        bad.append(record)
        if stop:
            raise _Stop

    policy = Policy("dead_letter", keep, stats)
    records = (Record(Position(number, line, offset), raw, error) for number, line, offset, raw, error in task)
    items = decoded(records, _JOB["reader"], policy, _JOB["decoding"], _JOB["where"])
    pieces: list[bytes] = []
    try:
        for piece in encoded(
            items, _JOB["writer"], _JOB["mode"], options=_JOB["options"], batch_size=_JOB["batch_size"],
            policy=policy, serialize=_JOB["serialize"],
        ):  # fmt: skip
            if piece is not FLUSH:
                pieces.append(piece)
    except _Stop:
        pass
    stats.dead_lettered = 0  # counted again by the policy of the stream, which sees every bad record
    return pieces, bad, stats


def _tasks(records: Iterable[Any]) -> Iterator[Task]:
    task: Task = []
    size = 0
    try:
        for record in records:
            if record is FLUSH:
                continue
            position, raw = record.position, record.raw
            # A record the framing could not read (too long) goes too: its error reaches the policy in place.
            task.append((position.record, position.line, position.offset, raw, record.error))
            size += len(raw) if isinstance(raw, (bytes, bytearray)) else 256
            if len(task) >= TASK_RECORDS or size >= TASK_BYTES:
                yield task
                task, size = [], 0
    except CloudEventError:  # the framing broke: what was read before it is converted first, as one process does
        if task:
            yield task
        raise
    if task:
        yield task


def converted_in_parallel(
    records: Iterable[Any],
    reader: StreamKind,
    writer: StreamKind,
    mode: str,
    *,
    options: Mapping[str, Any],
    decoding: Mapping[str, Any],
    where: Filter | None,
    batch_size: int,
    policy: Policy,
    chunk_size: int,
    workers: int,
) -> Iterator[bytes]:
    """The output chunks of a conversion done by ``workers`` processes (see the module's docstring)."""
    job = {
        "src": reader.name, "dst": writer.name, "mode": mode, "options": dict(options), "decoding": dict(decoding),
        "where": where, "batch_size": batch_size, "fail": policy.policy == "fail",
    }  # fmt: skip
    try:
        blob = pickle.dumps(job)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise CloudEventError(
            f"the options of this conversion cannot be sent to worker processes ({exc}); convert with workers=1"
        ) from exc
    pieces = _pieces(_tasks(records), blob, policy, workers)
    if writer.container is not None:  # the workers encode; the one file is written here
        return contained(pieces, writer, chunk_size)
    return joined(pieces, writer.framing == "array", chunk_size)


def _pieces(tasks: Iterator[Task], blob: bytes, policy: Policy, workers: int) -> Iterator[Any]:
    first: list[Task] = []
    broken: CloudEventError | None = None
    try:
        for task in tasks:
            first.append(task)
            if len(first) == 2:
                break
    except CloudEventError as exc:
        broken = exc
    if len(first) < 2 or broken is not None:  # all of it in one task, or broken early: no pool for that
        _start(blob)
        for task in first:
            yield from _handled(_convert_task(task), policy)
        if broken is not None:
            raise broken
        return
    # Imported only when a pool starts: they are a third of what importing cefmt.stream costs otherwise.
    import multiprocessing  # noqa: PLC0415
    from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415
    from concurrent.futures.process import BrokenProcessPool  # noqa: PLC0415

    context = multiprocessing.get_context("spawn")  # a clean interpreter: no locks or threads copied in
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_start, initargs=(blob,)) as pool:
        pending: deque[Future[tuple[list[bytes], list[BadRecord], Stats]]] = deque(
            pool.submit(_convert_task, task) for task in first
        )
        try:
            while True:
                try:
                    task = next(tasks)
                except StopIteration:
                    break
                except CloudEventError as exc:  # the framing broke: what was handed out is written first
                    broken = exc
                    break
                if len(pending) >= workers * AHEAD:
                    yield from _handled(pending.popleft().result(), policy)
                pending.append(pool.submit(_convert_task, task))
            while pending:
                yield from _handled(pending.popleft().result(), policy)
            if broken is not None:
                raise broken
        except BrokenProcessPool as exc:
            raise CloudEventError(
                "the worker processes stopped before their work was done (a worker must be able to import the "
                "program that started it: run it from a file, its start guarded by `if __name__ == '__main__'`); "
                f"or convert with workers=1 ({exc})"
            ) from exc
        except BaseException:
            for future in pending:
                future.cancel()
            raise


def _handled(result: tuple[list[bytes], list[BadRecord], Stats], policy: Policy) -> Iterator[Any]:
    pieces, bad, counts = result
    policy.stats.merge(counts)
    yield from pieces
    for record in bad:
        policy(record)
    yield FLUSH
