"""Streams of CloudEvents for data pipelines: convert any registered codec's stream into any other's.

Every function here is a generator over chunks or records, so memory stays bounded whatever the input
size, and every argument is a plain value, so the same call runs in a process pool or on a cluster
engine. Stream kinds (``src`` and ``dst``) come from the installed codecs (:func:`stream_kinds`):

========================  ===============================================================================
``json``                  JSON Lines: one structured JSON event (or one JSON batch array) per line
``json-array``            one JSON array of events (a JSON batch), read item by item
``msgpack``               msgpack objects back to back: one event map (or one batch array) each
any other event format    as its codec's ``framing`` says; length-prefixed frames (a 4-byte big-endian
                          length, then the format's bytes) unless it says otherwise
``http``                  HTTP messages as JSON Lines: ``{"headers": {...}, "body_base64": "..."}``
``kafka``                 Kafka records as JSON Lines: ``{"key_base64", "headers", "value_base64"}``
any other binding         its messages as JSON Lines, as its codec's ``capture`` writes them
========================  ===============================================================================

Codecs are found in the registry, plugins included: a format or binding plugin adds a stream kind by being
installed. A UTF-8 byte order mark at the start of a text stream is dropped. A ``json`` stream that is not
JSON Lines (one pretty-printed event, several, or an array over many lines) is read as the JSON text it is.

Events can be filtered (``where=``: CESQL text, see :mod:`cefmt.sql`) and routed to several outputs in
one pass (:func:`route`), and their data read as your own types (``data_type=``, see docs/typed-data.md).

Files are safe: :func:`convert_file` and :func:`output_file` replace only a regular file, whole, when the
run completes, and write a FIFO, a device or ``/dev/stdout`` in place (a symbolic link's target is written,
the link kept); a ``dead_letter`` path gets a run's dead letters appended only when the run completes, and
may not be its input or output file. Sizes (``max_record_size``, ``chunk_size``, ``batch_size``) and
formats are checked before anything is read: a bad one is a :class:`~cefmt.CloudEventError`.

>>> from cefmt import CloudEvent, decode
>>> from cefmt.stream import convert, read_events, write_events
>>> jsonl = b"".join(write_events([CloudEvent(id="1", source="/s", type="t", data=b"\\x00")], "json"))
>>> packed = b"".join(convert([jsonl], "json", "msgpack"))
>>> [event.data for event in read_events([packed], "msgpack")]
[b'\\x00']
"""

from __future__ import annotations

from ._decoding import Filter, read_events, read_records
from ._encoding import DEFAULT_BATCH_SIZE, encode_events, write_events
from ._files import output_file
from ._framing import FLUSH, FramingError, Position, Record
from ._kinds import StreamKind, output_mode, stream_kind, stream_kinds
from ._pipeline import convert, convert_file, route
from ._sources import DEFAULT_CHUNK_SIZE, DEFAULT_MAX_RECORD_SIZE
from ._stats import BadRecord, RecordError, Stats

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_CHUNK_SIZE",
    "DEFAULT_MAX_RECORD_SIZE",
    "FLUSH",
    "BadRecord",
    "Filter",
    "FramingError",
    "Position",
    "Record",
    "RecordError",
    "Stats",
    "StreamKind",
    "convert",
    "convert_file",
    "encode_events",
    "output_file",
    "output_mode",
    "read_events",
    "read_records",
    "route",
    "stream_kind",
    "stream_kinds",
    "write_events",
]
