"""cefmt: CloudEvents codecs for Python.

Events are immutable records; encoders and decoders are stateless functions found by
``(specversion, transport, mode)`` through the ``cefmt.codecs`` entry-point group.

>>> from cefmt import CloudEvent, encode, decode
>>> event = CloudEvent({"type": "com.example.t", "source": "/s"}, {"n": 1})
>>> decode(encode(event, "http", "binary"), "http") == event
True

``cefmt.sql`` (CloudEvents SQL expressions) is imported on first use, so ``import cefmt`` does not pay for it.
"""

from __future__ import annotations

from typing import Any

from ._api import codecs, decode, decode_event, decode_events, encode, register, unregister
from ._errors import (
    CloudEventError,
    CodecConflictError,
    DataMarshallerError,
    DataUnmarshallerError,
    EncodeError,
    InvalidAttributeError,
    InvalidDataError,
    KeyMapperError,
    LimitExceededError,
    MalformedMessageError,
    MissingAttributeError,
    PluginLoadError,
    UnknownCodecError,
    UnsupportedSpecVersionError,
    UsageError,
)
from ._event import CloudEvent, Data, Extensions
from ._frozen import FrozenDict, FrozenList
from ._limits import DEFAULT_LIMITS, Limits
from ._registry import ENTRY_POINT_GROUP, Codec, CodecInfo, Registry, default_registry
from ._spec import SPEC_VERSIONS
from ._timestamp import Timestamp
from ._typed import make_converter

__all__ = [
    "DEFAULT_LIMITS",
    "ENTRY_POINT_GROUP",
    "SPEC_VERSIONS",
    "CloudEvent",
    "CloudEventError",
    "Codec",
    "CodecConflictError",
    "CodecInfo",
    "Data",
    "DataMarshallerError",
    "DataUnmarshallerError",
    "EncodeError",
    "Extensions",
    "FrozenDict",
    "FrozenList",
    "InvalidAttributeError",
    "InvalidDataError",
    "KeyMapperError",
    "LimitExceededError",
    "Limits",
    "MalformedMessageError",
    "MissingAttributeError",
    "PluginLoadError",
    "Registry",
    "Timestamp",
    "UnknownCodecError",
    "UnsupportedSpecVersionError",
    "UsageError",
    "codecs",
    "converter",
    "decode",
    "decode_event",
    "decode_events",
    "default_registry",
    "encode",
    "make_converter",
    "register",
    "unregister",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # Loaded on first use, not when cefmt is imported: cefmt.converter (the default cattrs converter
    # for typed data; cattrs is imported then) and cefmt.sql (the CESQL engine).
    if name == "converter":
        from ._typed import default_converter  # noqa: PLC0415

        return default_converter()
    if name == "sql":
        import importlib  # noqa: PLC0415

        return importlib.import_module("cefmt.sql")
    raise AttributeError(f"module 'cefmt' has no attribute {name!r}")
