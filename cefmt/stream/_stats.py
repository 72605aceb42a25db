"""What a stream reports: the counts of a run, the records that went wrong, and the error of one that failed."""

from __future__ import annotations

import time
from typing import Any

import attrs

from cefmt import CloudEventError

from ._framing import Position

__all__ = ["BadRecord", "RecordError", "Stats"]


@attrs.define
class Stats:
    """Counts of a conversion, updated as it runs (read them while it runs, or after).

    ``records`` counts input records (lines, array items, msgpack objects, frames, messages); a record
    holding a batch gives several ``events_in``. ``skipped`` and ``dead_lettered`` count bad records;
    ``filtered`` the events a ``where`` expression left out; ``routed`` the events each output of a
    routed conversion received (by output); ``messages_out`` counts output records (one per event, or
    one per batch in batch modes).

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
    filtered: int = 0
    routed: dict[str, int] = attrs.field(factory=dict)
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
        parts = [
            f"{self.records} records, {self.events_in} events in, {self.events_out} events out, "
            f"{self.skipped} skipped, {self.dead_lettered} dead-lettered"
        ]
        if self.filtered:
            parts.append(f"{self.filtered} filtered out")
        if self.routed:
            parts.append("routed " + ", ".join(f"{count} to {name}" for name, count in self.routed.items()))
        parts.append(f"{self.elapsed:.2f} s, {self.rate:,.0f} events/s")
        return ", ".join(parts)

    def merge(self, other: Stats) -> None:
        """Add ``other``'s counts to these (the parts of a conversion run in several workers)."""
        for name in (
            "records",
            "events_in",
            "events_out",
            "messages_out",
            "skipped",
            "dead_lettered",
            "filtered",
            "bytes_in",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name, count in other.routed.items():
            self.routed[name] = self.routed.get(name, 0) + count


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
        """A JSON-ready description: position, stage, error text and type, attribute and rule, the record
        (as text when it is UTF-8, else Base64; a record object with a byte form, ``bytes(raw)``, as those
        bytes), through cefmt's converter.

        >>> from cefmt import InvalidAttributeError
        >>> bad = BadRecord(Position(2, line=2), "decode", InvalidAttributeError("time", "bad"), b"{}")
        >>> bad.to_dict()["attribute"], bad.to_dict()["record"]
        ('time', '{}')
        """
        return _report_converter().unstructure(self)  # type: ignore[no-any-return]


class RecordError(CloudEventError):
    """A record failed under the ``fail`` policy; ``bad`` says which and why (the cause is chained)."""

    def __init__(self, bad: BadRecord) -> None:
        self.bad = bad
        self.position = bad.position
        super().__init__(f"{bad.position}: {bad.error}")


_REPORTS: Any = None


def _report_converter() -> Any:
    """cefmt's converter, taught the shape of a dead-letter line (made once, on the first bad record)."""
    global _REPORTS
    if _REPORTS is None:
        from cefmt import make_converter  # noqa: PLC0415 - cattrs only when a record goes wrong

        converter = make_converter()
        converter.register_unstructure_hook(Position, lambda position: position.to_dict())
        converter.register_unstructure_hook(BadRecord, _report)
        _REPORTS = converter
    return _REPORTS


def _report(bad: BadRecord) -> dict[str, Any]:
    converter = _report_converter()
    doc: dict[str, Any] = {
        "position": converter.unstructure(bad.position),
        "stage": bad.stage,
        "error": str(bad.error),
        "error_type": type(bad.error).__name__,
    }
    for name in ("attribute", "rule"):
        value = getattr(bad.error, name, None)
        if value is not None:
            doc[name] = value
    raw = bad.raw
    if raw is not None and not isinstance(raw, (bytes, bytearray)) and hasattr(type(raw), "__bytes__"):
        raw = bytes(raw)  # a record with a byte form of its own: a row of a columnar file, as Arrow IPC bytes
    if isinstance(raw, (bytes, bytearray)):
        try:
            doc["record"] = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            doc["record_base64"] = converter.unstructure(bytes(raw))
    elif raw is not None:
        doc["record_repr"] = repr(raw)[:1000]
    return doc
