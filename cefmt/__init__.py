"""cefmt: CloudEvents codecs for Python.

Events are immutable records; encoders and decoders are stateless functions found by
``(specversion, transport, mode)`` through the ``cefmt.codecs`` entry-point group.

>>> from cefmt import CloudEvent, encode, decode
>>> event = CloudEvent({"type": "com.example.t", "source": "/s"}, {"n": 1})
>>> decode(encode(event, "http", "binary"), "http") == event
True
"""

from __future__ import annotations

from ._api import codecs, decode, decode_event, decode_events, encode, register, unregister
from ._errors import (
    CloudEventError,
    CodecConflictError,
    DataMarshallerError,
    DataUnmarshallerError,
    EncodeError,
    InvalidAttributeError,
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
from ._limits import DEFAULT_LIMITS, Limits
from ._registry import ENTRY_POINT_GROUP, Codec, CodecInfo, Registry, default_registry
from ._spec import SPEC_VERSIONS
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
    "DataMarshallerError",
    "DataUnmarshallerError",
    "EncodeError",
    "Extensions",
    "InvalidAttributeError",
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
    "decode",
    "decode_event",
    "decode_events",
    "default_registry",
    "encode",
    "register",
    "unregister",
]

__version__ = "0.1.0"
