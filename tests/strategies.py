"""Hypothesis strategies for CloudEvents: unicode everywhere the spec allows it, every data kind, typed extensions."""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from cefmt import CloudEvent, Timestamp

# CloudEvents Strings exclude control characters, surrogates and noncharacters.
_ALLOWED = st.characters(
    blacklist_categories=("Cs",),
    blacklist_characters=[chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]]
    + [chr(c) for c in range(0xFDD0, 0xFDF0)]
    + [chr((plane << 16) | low) for plane in range(17) for low in (0xFFFE, 0xFFFF)],
)
strings = st.text(_ALLOWED, min_size=1, max_size=40)
names = st.from_regex(r"[a-z0-9]{1,20}", fullmatch=True).filter(
    lambda n: (
        n
        not in {"id", "source", "type", "specversion", "datacontenttype", "dataschema", "subject", "time", "data"}
        | {"schemaurl", "datacontentencoding"}
    )
)
uri_refs = st.from_regex(r"(https://[a-z]{1,10}\.example(/[A-Za-z0-9._~-]{0,8}){0,3}|/[a-z0-9/]{0,20}|#[a-z]{1,5})",
                         fullmatch=True)  # fmt: skip
uris = st.from_regex(r"(https|urn|mailto):[a-z0-9/._~-]{1,30}", fullmatch=True)

offsets = st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59).map(
    lambda m: timezone.utc if m == 0 else timezone(timedelta(minutes=m))
)


@st.composite
def timestamps(draw: st.DrawFn) -> Timestamp:
    moment = draw(st.datetimes(timezones=offsets))
    return Timestamp(
        moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second,
        moment.microsecond, moment.tzinfo, nanosecond=draw(st.integers(0, 999)),
    )  # fmt: skip


extension_values = st.one_of(
    strings,
    st.booleans(),
    st.integers(min_value=-(2**31), max_value=2**31 - 1),
    st.binary(max_size=40),
    timestamps(),
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)  # fmt: skip

# (datacontenttype, data) pairs that every binding can carry exactly: JSON with a JSON type,
# text with a text type, bytes with a binary type or none.
payloads = st.one_of(
    st.just((None, None)),
    st.tuples(st.sampled_from([None, "application/json", "application/vnd.x+json"]),
              st.dictionaries(st.text(max_size=8), json_values, max_size=4) | st.lists(json_values, max_size=4)),
    st.tuples(st.sampled_from([None, "application/json"]), json_values.filter(lambda v: v is not None)),
    st.tuples(st.sampled_from(["text/plain", "text/plain; charset=utf-8", "application/xml"]),
              st.text(min_size=1, max_size=80)),
    st.tuples(st.sampled_from([None, "application/octet-stream", "image/png"]), st.binary(min_size=1, max_size=200)),
)  # fmt: skip


@st.composite
def events(draw: st.DrawFn, specversion: str | None = None, extension_kinds: Any = extension_values) -> CloudEvent:
    version = specversion or draw(st.sampled_from(["1.0", "0.3"]))
    attributes: dict[str, Any] = {
        "specversion": version,
        "id": draw(strings),
        "source": draw(uri_refs),
        "type": draw(strings),
    }
    if draw(st.booleans()):
        attributes["subject"] = draw(strings)
    if draw(st.booleans()):
        attributes["time"] = draw(timestamps())
    if draw(st.booleans()):
        attributes["dataschema"] = draw(uris)
    for name, value in draw(st.dictionaries(names, extension_kinds, max_size=4)).items():
        attributes[name] = value
    content_type, data = draw(payloads)
    if content_type is not None:
        attributes["datacontenttype"] = content_type
    return CloudEvent(attributes, data)


def header_view(event: CloudEvent) -> CloudEvent:
    """The event as a binary-mode header decoder sees it: extension values as canonical strings."""
    from cefmt.codec import canonical_string

    return event.evolve(**{name: canonical_string(value) for name, value in event.extensions.items()})


def json_view(event: CloudEvent) -> CloudEvent:
    """The event as the JSON format carries it: Binary and Timestamp extensions become canonical strings."""
    from cefmt.codec import canonical_string

    changed = {
        name: canonical_string(value)
        for name, value in event.extensions.items()
        if not isinstance(value, (str, int))  # int covers bool
    }
    return event.evolve(**changed) if changed else event
