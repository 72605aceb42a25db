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

from cefmt import EncodeError, MalformedMessageError
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
    assert _encode(value) == _STDLIB_ENCODER.encode(value)
    assert dump_json(value) == _STDLIB_ENCODER.encode(value).encode("utf-8")


@given(json_values, _SPACE, _SPACE)
def test_decoding_matches_the_json_module(value: Any, before: str, after: str) -> None:
    text = before + json.dumps(value) + after
    assert _decode(text) == json.loads(text)


def _reference(text: str) -> Any:
    # The json module, told the three things cefmt refuses on top of it: NaN and Infinity, numbers
    # beyond a float, and a member named twice in one object.
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        if len({name for name, _ in items}) != len(items):
            raise ValueError("the member appears more than once")
        return dict(items)

    def finite(number: str) -> float:
        if math.isinf(float(number)):
            raise ValueError("beyond the range of a 64-bit float")
        return float(number)

    return json.loads(text, parse_constant=lambda name: json.loads("x"), parse_float=finite, object_pairs_hook=pairs)


@given(st.text(alphabet='[]{}",:0123456789.eE+-truefalsnNIy \t\n\r\u00a0x\\', max_size=24))
def test_errors_match_the_json_module(text: str) -> None:
    try:
        expected: Any = _reference(text)
    except json.JSONDecodeError as exc:
        if any(word in text for word in ("NaN", "Infinity")):
            with pytest.raises(ValueError):  # refused, as a constant or as the syntax error around it
                _decode(text)
            return
        with pytest.raises(json.JSONDecodeError) as info:
            _decode(text)
        assert (info.value.msg, info.value.pos) == (exc.msg, exc.pos)
    except ValueError as exc:
        with pytest.raises(ValueError, match="appears more than once" if "more than once" in str(exc) else "beyond"):
            _decode(text)
    else:
        assert _decode(text) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"a": 1, "b": {"c": 2, "c": 3}}', "the member 'c' appears more than once"),
        (b"[1e400]", "the number 1e400 is beyond the range of a 64-bit float"),
        (b"-1E+999", "beyond the range of a 64-bit float"),
        (b'{"data": "\\ud800"}', "lone surrogate"),
        (b'{"\\udc00": 1}', "lone surrogate"),
        (b'["a", "\\uD83D"]', "lone surrogate"),
    ],
)
def test_what_a_json_value_cannot_hold_is_refused(raw: bytes, message: str) -> None:
    with pytest.raises(MalformedMessageError, match=message):
        load_json(raw, "body")


def test_a_surrogate_pair_escape_is_one_character() -> None:
    assert load_json(b'["\\ud83d\\ude00", "\\\\ud800"]', "body") == ["\U0001f600", "\\ud800"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (float("nan"), "Out of range float values are not JSON compliant"),
        ({"a": object()}, "Object of type object is not JSON serializable"),
        ({"a": {1, 2}}, "Object of type set is not JSON serializable"),
    ],
)
def test_unserializable_data_is_a_cefmt_error(value: Any, message: str) -> None:
    with pytest.raises(EncodeError, match=message):
        dump_json(value)


def test_a_cycle_is_a_cefmt_error() -> None:
    cycle: list[Any] = []
    cycle.append(cycle)
    with pytest.raises(EncodeError, match="not JSON-serializable"):
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
