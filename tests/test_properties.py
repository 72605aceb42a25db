"""Round trips for generated events through every built-in codec, both spec versions.

What a codec cannot carry follows one documented rule: binary-mode headers carry extension values as
canonical strings, the JSON format carries Binary and Timestamp extensions as canonical strings, and
``extension_types=`` restores the original types exactly.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cefmt import CloudEvent, Timestamp, decode, encode

from .strategies import events, header_view, json_view

_SETTINGS = settings(max_examples=150, deadline=None)


def _types_of(event: CloudEvent) -> dict[str, type]:
    return {
        name: Timestamp if isinstance(value, Timestamp) else type(value) for name, value in event.extensions.items()
    }


@_SETTINGS
@given(events())
def test_json_structured_round_trip(event: CloudEvent) -> None:
    raw = encode(event, "json")
    assert isinstance(raw, bytes)
    assert decode(raw, "json") == json_view(event)
    assert decode(raw, "json", extension_types=_types_of(event)) == event


@_SETTINGS
@given(st.sampled_from(["1.0", "0.3"]).flatmap(lambda v: st.lists(events(specversion=v), max_size=5)))
def test_json_batch_round_trip(batch: list[CloudEvent]) -> None:
    decoded = decode(encode(batch, "json", "batch"), "json")
    assert isinstance(decoded, list)
    assert len(decoded) == len(batch)
    assert all(d == json_view(e) for d, e in zip(decoded, batch, strict=False))


@_SETTINGS
@given(events())
def test_http_binary_round_trip(event: CloudEvent) -> None:
    message = encode(event, "http", "binary")
    assert all(value.isascii() and value.isprintable() for value in message.headers.values())
    assert decode(message, "http") == header_view(event)
    assert decode(message, "http", extension_types=_types_of(event)) == event


@_SETTINGS
@given(events())
def test_http_structured_round_trip(event: CloudEvent) -> None:
    message = encode(event, "http", "structured")
    assert message.headers == {"content-type": "application/cloudevents+json"}
    assert decode(message, "http") == json_view(event)


@_SETTINGS
@given(st.sampled_from(["1.0", "0.3"]).flatmap(lambda v: st.lists(events(specversion=v), max_size=4)))
def test_http_batch_round_trip(batch: list[CloudEvent]) -> None:
    message = encode(batch, "http", "batch")
    assert message.headers == {"content-type": "application/cloudevents-batch+json"}
    decoded = decode(message, "http")
    assert all(d == json_view(e) for d, e in zip(decoded, batch, strict=True))


@_SETTINGS
@given(events())
def test_conversion_json_to_http_binary_and_back(event: CloudEvent) -> None:
    via_json = decode(encode(event, "json"), "json")
    via_http = decode(encode(via_json, "http", "binary"), "http")
    assert via_http == header_view(event)
