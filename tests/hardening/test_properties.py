"""Round trips and cross-codec conversion for every registered codec and spec version.

The cases come from ``cefmt.codecs()``, so a codec installed later is covered without new test code:
a codec in :data:`~tests.hardening.cases.VIEWS` must keep exactly what its view says; any other keeps at
least the required attributes, and must decode garbage only into cefmt errors.
"""

from __future__ import annotations

import contextlib
import inspect
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cefmt
from cefmt import CloudEvent, CloudEventError, EncodeError, Timestamp
from tests.strategies import events

from .cases import (
    RESTORABLE,
    VIEWS,
    Case,
    case_id,
    cases,
    decode_case,
    distribution,
    encode_case,
    identity,
    refused,
)

CASES = cases()
_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Large data, made cheaply: hypothesis draws a size and a seed, not a megabyte of bytes.
large_bytes = st.builds(lambda n, seed: random.Random(seed).randbytes(n), st.integers(0, 1 << 20), st.integers())


@st.composite
def hardening_events(draw: st.DrawFn, specversion: str) -> CloudEvent:
    """The shared ``events()`` strategy, sometimes with large or empty data instead."""
    event = draw(events(specversion=specversion))
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return event.evolve(data=draw(large_bytes), datacontenttype="application/octet-stream")
    if choice == 1:
        return event.evolve(data=draw(st.sampled_from([b"", ""])), datacontenttype="text/plain")
    if choice == 2:
        return event.evolve(data="é€😀" * draw(st.integers(0, 20_000)), datacontenttype="text/plain; charset=utf-8")
    return event


def _view(case: Case) -> Any:
    return VIEWS.get(case[1:])


def _types_of(event: CloudEvent) -> dict[str, type]:
    return {n: Timestamp if isinstance(v, Timestamp) else type(v) for n, v in event.extensions.items()}


def _refuses(value: Any, case: Case) -> bool:
    """Whether ``case`` refuses ``value`` by design (``cases.REFUSES``); if so, check that it does."""
    if not refused(case, value):
        return False
    with pytest.raises(EncodeError):
        encode_case(value, case)
    return True


def _accepts(case: Case, option: str) -> bool:
    codec = cefmt.default_registry.lookup(case[0], case[1], case[2])
    parameters = inspect.signature(codec.decode).parameters
    return option in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


def test_every_codec_cefmt_ships_is_in_the_table() -> None:
    ours = [case for case in CASES if distribution(case[1]) == "cefmt"]
    assert ours, "no codec found: is cefmt installed (pip install -e .)?"
    assert [case for case in ours if _view(case) is None] == []


@pytest.mark.parametrize("case", CASES, ids=case_id)
@_SETTINGS
@given(data=st.data())
def test_round_trip(case: Case, data: st.DataObject) -> None:
    version, _, mode, _ = case
    if mode == "batch":
        batch = data.draw(st.lists(hardening_events(version), max_size=3))
        if _refuses(batch, case):
            return
        decoded = decode_case(encode_case(batch, case), case)
        assert isinstance(decoded, list)
        assert len(decoded) == len(batch)
        pairs = list(zip(decoded, batch, strict=True))
    else:
        event = data.draw(hardening_events(version))
        if _refuses(event, case):
            return
        pairs = [(decode_case(encode_case(event, case), case), event)]
    view = _view(case)
    for got, sent in pairs:
        if view is None:  # a codec nobody described here: the required attributes at least
            assert (got.id, got.source, got.type, got.specversion) == (sent.id, sent.source, sent.type, version)
        else:
            assert got == view(sent)


@pytest.mark.parametrize("case", [c for c in CASES if _view(c) in RESTORABLE and c[2] != "batch"], ids=case_id)
@_SETTINGS
@given(data=st.data())
def test_extension_types_restore_what_the_view_changed(case: Case, data: st.DataObject) -> None:
    event = data.draw(hardening_events(case[0]))
    if event.data in (b"", ""):
        event = event.evolve(data=None)  # the one change extension_types cannot undo: empty body, no data
    assert _accepts(case, "extension_types")
    if _refuses(event, case):
        return
    got = decode_case(encode_case(event, case), case, extension_types=_types_of(event))
    assert got == event


@pytest.mark.parametrize("version", cefmt.SPEC_VERSIONS)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_conversion_between_any_two_codecs(version: str, data: st.DataObject) -> None:
    """A -> event -> B -> event: B's result is B's view of A's result, exactly."""
    single = [c for c in CASES if c[0] == version and c[2] != "batch" and _view(c) is not None]
    first = data.draw(st.sampled_from(single), label="A")
    second = data.draw(st.sampled_from(single), label="B")
    event = data.draw(hardening_events(version))
    if _refuses(event, first):
        return
    via_first = decode_case(encode_case(event, first), first)
    if _refuses(via_first, second):
        return
    via_second = decode_case(encode_case(via_first, second), second)
    assert via_first == _view(first)(event)
    assert via_second == _view(second)(_view(first)(event))
    if _view(first) is identity and _view(second) is identity:
        assert via_second == event


def _garbage_for(case: Case, raw: bytes) -> list[Any]:
    """Hostile messages shaped like what the codec's transport takes."""
    event = cefmt.CloudEvent(id="1", source="/s", type="t", specversion=case[0])
    message = encode_case([event] if case[2] == "batch" else event, case)
    if isinstance(message, bytes):
        return [raw, raw[:3] + message[3:], message[: len(raw) % max(1, len(message))] + raw]
    shapes: list[Any] = [raw, (raw, raw), {"headers": raw}, None]
    if hasattr(message, "headers"):
        headers = message.headers
        pairs = list(headers.items()) if isinstance(headers, dict) else list(headers)
        if pairs:
            name, value = pairs[len(raw) % len(pairs)]
            cut = raw if isinstance(value, bytes) else raw.decode("latin-1")
            mutated = [(n, cut if n == name else v) for n, v in pairs]
            shapes.append(
                type(message)(*[mutated if f == "headers" else getattr(message, f) for f in _fields(message)])
            )
    return shapes


def _fields(message: Any) -> list[str]:
    import attrs

    if isinstance(message, tuple):  # a named tuple (HTTPMessage)
        return list(type(message)._fields)  # type: ignore[attr-defined]
    return [field.name for field in attrs.fields(type(message))]


@pytest.mark.parametrize("case", CASES, ids=case_id)
@settings(max_examples=100, deadline=None)
@given(raw=st.binary(max_size=200))
def test_garbage_decodes_only_to_cefmt_errors(case: Case, raw: bytes) -> None:
    for message in _garbage_for(case, raw):
        with contextlib.suppress(CloudEventError):
            decode_case(message, case)
        with contextlib.suppress(CloudEventError):
            cefmt.decode(message, case[1], case[2])
