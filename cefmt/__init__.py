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

from ._api import codecs, decode, encode, register, unregister
from ._errors import (
    CloudEventError,
    CodecConflictError,
    InvalidAttributeError,
    LimitExceededError,
    MalformedMessageError,
    MissingAttributeError,
    PluginLoadError,
    UnknownCodecError,
    UnsupportedSpecVersionError,
)
from ._event import SPEC_VERSIONS, CloudEvent, Data, Extensions
from ._limits import DEFAULT_LIMITS, Limits
from ._registry import ENTRY_POINT_GROUP, Codec, CodecInfo, Registry, default_registry
from ._timestamp import Timestamp

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
    "Extensions",
    "InvalidAttributeError",
    "LimitExceededError",
    "Limits",
    "MalformedMessageError",
    "MissingAttributeError",
    "PluginLoadError",
    "Registry",
    "Timestamp",
    "UnknownCodecError",
    "UnsupportedSpecVersionError",
    "codecs",
    "decode",
    "default_registry",
    "encode",
    "register",
    "unregister",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # The SQL engine loads when first reached as cefmt.sql, keeping it out of every `import cefmt`.
    if name == "sql":
        import importlib  # noqa: PLC0415

        return importlib.import_module("cefmt.sql")
    raise AttributeError(f"module 'cefmt' has no attribute {name!r}")
