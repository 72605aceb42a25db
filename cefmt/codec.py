"""The kit for codec authors: what a binding or event-format plugin needs, as public names.

cefmt's own plugins (``cefmt_plugins``) import from here and from :mod:`cefmt` only, which keeps this
kit complete enough for a third party to write what we wrote. A plugin is a module exposing
:class:`Codec` records, declared in its ``pyproject.toml``::

    [project.entry-points."cefmt.codecs"]
    "1.0/stomp/binary" = "cefmt_stomp:binary"

What the kit holds:

* the record of a codec (:class:`Codec`) and the registry that calls it (:class:`Registry`): a codec
  function with a ``registry`` parameter is given the registry that called it, which is how a
  binding finds event formats (:func:`encode_in_format`, :func:`decode_in_format`, :func:`format_of`);
* the spec-version table (:data:`SPECS`): attribute names and types per version, Base64 marking;
* a binding's binary mode: :func:`canonical_attributes` or :func:`typed_attributes` out,
  :func:`event_from_parts` in, with the body rule shared by every binding (:func:`data_to_body`,
  :func:`body_to_data`); headers that travel as ``(name, UTF-8 value)`` pairs read by
  :func:`read_header_pairs`;
* data as every encoder writes it: :func:`plain_data`;
* streams: a binding's :class:`Capture` (its messages one per line; :func:`to_capture` and
  :func:`from_capture` turn an attrs record of the line into JSON and back), a format's ``framing``, or
  the :class:`Container` of a format whose streams are whole files (Parquet);
* an event format's documents: :func:`typed_attributes` out, :func:`event_from_members` in,
  :func:`batch_specversion` for batches, JSON text (:func:`dump_json`, :func:`load_json`);
* the CloudEvents type system's text forms: :func:`canonical_string`, :func:`decode_base64`,
  media types (:func:`parse_media_type`).

>>> from cefmt import CloudEvent
>>> event = CloudEvent(id="1", source="/s", type="t", data={"a": 1}, n=3)
>>> attributes = canonical_attributes(event)
>>> content_type = attributes.pop("datacontenttype")
>>> body = data_to_body(event)
>>> event_from_parts(attributes, body, content_type, where=repr, extension_types={"n": int}) == event
True
"""

from __future__ import annotations

from ._binding import (
    batch_specversion,
    canonical_attributes,
    decode_in_format,
    encode_in_format,
    event_from_members,
    event_from_parts,
    format_of,
    plain_data,
    read_header_pairs,
    typed_attributes,
)
from ._data import body_to_data, data_to_body, dump_json, load_json
from ._headers import percent_decode, percent_encode
from ._media import MediaType, parse_media_type
from ._registry import Capture, Codec, Container, Registry
from ._spec import SPECS, SpecVersion
from ._typed import from_capture, to_capture
from ._types import canonical_string, decode_base64

__all__ = [
    "SPECS",
    "Capture",
    "Codec",
    "Container",
    "MediaType",
    "Registry",
    "SpecVersion",
    "batch_specversion",
    "body_to_data",
    "canonical_attributes",
    "canonical_string",
    "data_to_body",
    "decode_base64",
    "decode_in_format",
    "dump_json",
    "encode_in_format",
    "event_from_members",
    "event_from_parts",
    "format_of",
    "from_capture",
    "load_json",
    "parse_media_type",
    "percent_decode",
    "percent_encode",
    "plain_data",
    "read_header_pairs",
    "to_capture",
    "typed_attributes",
]
