"""cefmt's JSON text layer gives exactly what the standard library's json module gives.

``cefmt._data`` calls the C encoder and scanner directly (the json module rebuilds or wraps them on
every call); these properties pin the output and the errors to the json module's own.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cefmt import InvalidAttributeError, MalformedMessageError
from cefmt._data import _decode, _encode, dump_json, load_json

_STDLIB_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=40,
)
_SPACE = st.text(alphabet=" \t\n\r", max_size=3)


@given(json_values)
def test_encoding_matches_the_json_module(value: Any) -> None:
    assert _encode(value) == _STDLIB_ENCODER.encode(value) == dump_json(value)


@given(json_values, _SPACE, _SPACE)
def test_decoding_matches_the_json_module(value: Any, before: str, after: str) -> None:
    text = before + json.dumps(value) + after
    assert _decode(text) == json.loads(text)


@given(st.text(alphabet='[]{}",:0123456789.eE+-truefalsn \t\n\r\u00a0x\\', max_size=20))
def test_errors_match_the_json_module(text: str) -> None:
    try:
        expected: Any = json.loads(text, parse_constant=float)
    except json.JSONDecodeError as exc:
        with pytest.raises(json.JSONDecodeError) as info:
            _decode(text)
        assert (info.value.msg, info.value.pos) == (exc.msg, exc.pos)
    else:
        if any(word in text for word in ("NaN", "Infinity")):
            return  # cefmt refuses these constants (below); the stdlib reads them
        got = _decode(text)
        assert got == expected or (isinstance(got, float) and math.isnan(got) and math.isnan(expected))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (float("nan"), "Out of range float values are not JSON compliant"),
        ({"a": object()}, "Object of type object is not JSON serializable"),
        ({"a": {1, 2}}, "Object of type set is not JSON serializable"),
    ],
)
def test_unserializable_data_is_a_cefmt_error(value: Any, message: str) -> None:
    with pytest.raises(InvalidAttributeError, match=message):
        dump_json(value)


def test_a_cycle_is_a_cefmt_error() -> None:
    cycle: list[Any] = []
    cycle.append(cycle)
    with pytest.raises(InvalidAttributeError, match="not JSON-serializable"):
        dump_json(cycle)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "Expecting value at position 0"),
        (b"[1] x", "Extra data at position 4"),
        (b"NaN", "NaN is not valid JSON"),
        (b"\xff", "not valid UTF-8"),
    ],
)
def test_bad_json_is_a_cefmt_error_naming_the_place(raw: bytes, message: str) -> None:
    with pytest.raises(MalformedMessageError, match=message) as info:
        load_json(raw, "body")
    assert str(info.value).startswith("body ")
