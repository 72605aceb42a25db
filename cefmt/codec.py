"""The kit for codec authors: everything a binding or event-format plugin needs, as public names.

cefmt's own plugins (``cefmt_plugins``) import from here and from :mod:`cefmt` only, which keeps this
kit complete enough for a third party to write what we wrote. A plugin is a module exposing objects
with ``encode`` and ``decode`` (a :class:`Codec` usually), declared in its ``pyproject.toml``::

    [project.entry-points."cefmt.codecs"]
    "1.0/stomp/binary" = "cefmt_stomp:binary"

A binding's binary mode shares one body rule (:func:`data_to_body` / :func:`body_to_data`); its
structured mode looks the event format up with :func:`find_format`, so every format plugin works in
every binding.

>>> from cefmt import CloudEvent
>>> body = data_to_body(CloudEvent(id="1", source="/s", type="t", data={"a": 1}))
>>> body_to_data(body, "application/json")
{'a': 1}
"""

from __future__ import annotations

from ._data import body_to_data, data_to_body, dump_json, load_json
from ._errors import (
    CloudEventError,
    EncodeError,
    InvalidAttributeError,
    LimitExceededError,
    MalformedMessageError,
    UnsupportedSpecVersionError,
)
from ._event import SPEC_VERSIONS, CloudEvent, Data, Extensions
from ._json_format import context_members
from ._json_format import from_document as json_from_document
from ._json_format import to_document as json_to_document
from ._limits import DEFAULT_LIMITS, Limits, accepts_limits
from ._media import MediaType, is_json_media_type, is_text_media_type, parse_media_type
from ._registry import Codec, Key, Registry, default_registry
from ._timestamp import Timestamp, format_timestamp, parse_timestamp, to_timestamp
from ._types import (
    ExtensionValue,
    canonical_string,
    check_extension_name,
    check_extension_value,
    coerce_extension,
    decode_base64,
)

__all__ = [
    "DEFAULT_LIMITS",
    "SPEC_VERSIONS",
    "CloudEvent",
    "CloudEventError",
    "Codec",
    "Data",
    "EncodeError",
    "ExtensionValue",
    "Extensions",
    "InvalidAttributeError",
    "Key",
    "LimitExceededError",
    "Limits",
    "MalformedMessageError",
    "MediaType",
    "Registry",
    "Timestamp",
    "UnsupportedSpecVersionError",
    "accepts_limits",
    "body_to_data",
    "canonical_string",
    "check_extension_name",
    "check_extension_value",
    "coerce_extension",
    "context_members",
    "data_to_body",
    "decode_base64",
    "default_registry",
    "dump_json",
    "find_format",
    "format_timestamp",
    "is_json_media_type",
    "is_text_media_type",
    "json_from_document",
    "json_to_document",
    "load_json",
    "parse_media_type",
    "parse_timestamp",
    "to_timestamp",
]


def find_format(name: str, mode: str = "structured", specversion: str | None = None) -> Codec:
    """The event-format codec ``name`` (``"json"``, ``"msgpack"`` ...) for ``mode`` (structured or batch).

    >>> find_format("json").media_type
    'application/cloudevents+json'
    """
    return default_registry.find_format(name, mode, specversion)
