"""Typed payloads through cattrs, and the data contract of the record (issue #13)."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from datetime import datetime, timezone
from typing import Any, TypedDict

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cefmt
from cefmt import (
    CloudEvent,
    FrozenDict,
    FrozenList,
    InvalidAttributeError,
    InvalidDataError,
    Timestamp,
    UsageError,
    decode,
    encode,
    make_converter,
)
from tests.hardening.cases import Case, case_id, cases, decode_case, encode_case

BASE = {"id": "1", "source": "/orders", "type": "com.example.order.created"}


@attrs.frozen
class Item:
    sku: str
    qty: int


@attrs.frozen
class Order:
    id: str
    items: list[Item]
    placed: Timestamp | None = None


@dataclasses.dataclass(frozen=True)
class Refund:
    order: str
    cents: int


class Note(TypedDict):
    text: str
    pinned: bool


ORDER = Order("o-1", [Item("a", 2), Item("b", 1)], Timestamp.parse("2024-01-02T03:04:05.123456789Z"))


# -- typed data in, its JSON form on the wire, typed data out ---------------------------------------------


def _formats_and_bindings() -> list[Case]:
    # Every registered codec that carries JSON data as JSON (binary modes under a JSON content type too).
    return [case for case in cases() if case[1] in ("json", "msgpack", "http", "kafka")]


@pytest.mark.parametrize("case", _formats_and_bindings(), ids=case_id)
def test_every_codec_writes_typed_data_in_its_json_form_and_reads_it_back_as_that_type(case: Case) -> None:
    event = CloudEvent({**BASE, "specversion": case[0]}, ORDER)
    message = encode_case([event] if case[2] == "batch" else event, case)
    plain = decode_case(message, case)
    plain = plain[0] if isinstance(plain, list) else plain
    assert plain.data["items"][0] == {"sku": "a", "qty": 2}
    assert plain.data["placed"] == "2024-01-02T03:04:05.123456789Z"
    typed = decode_case(message, case, data_type=Order)
    typed = typed[0] if isinstance(typed, list) else typed
    assert typed.data == ORDER and typed == event


def test_dataclass_typeddict_lists_and_unions() -> None:
    assert decode(encode(CloudEvent(BASE, Refund("o-1", 250)), "json"), "json", data_type=Refund).data == Refund(
        "o-1", 250
    )
    note = decode(encode(CloudEvent(BASE, {"text": "hi", "pinned": True}), "json"), "json", data_type=Note).data
    assert note == {"text": "hi", "pinned": True}
    many = CloudEvent(BASE, [Item("a", 1), Item("b", 2)])
    assert decode(encode(many, "json"), "json", data_type=list[Item]).data == [Item("a", 1), Item("b", 2)]
    either = decode(encode(CloudEvent(BASE, {"order": "o", "cents": 1}), "json"), "json", data_type=Refund | Item)
    assert either.data == Refund("o", 1)


def test_data_as_reads_an_event_already_decoded_and_leaves_it_as_it_was() -> None:
    event = decode(encode(CloudEvent(BASE, ORDER), "http", "binary"), "http")
    assert event.data_as(Order) == ORDER
    assert isinstance(event.data, FrozenDict)


def test_a_data_type_map_picks_by_event_type_and_keeps_or_refuses_the_others() -> None:
    order = encode(CloudEvent(BASE, ORDER), "json")
    other = encode(CloudEvent({**BASE, "type": "com.example.audit"}, {"who": "x"}), "json")
    types = {"com.example.order.created": Order}
    assert decode(order, "json", data_type=types).data == ORDER
    assert decode(other, "json", data_type=types).data == {"who": "x"}
    with pytest.raises(InvalidDataError, match=r"no data type for event type 'com\.example\.audit'"):
        decode(other, "json", data_type=types, other_types="refuse")
    with pytest.raises(UsageError, match="other_types"):
        decode(other, "json", data_type=types, other_types="drop")


def test_a_payload_that_does_not_fit_names_the_event_the_type_and_the_path() -> None:
    bad = {"id": "o", "items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}, {"sku": "c", "qty": "x"}]}
    message = encode(CloudEvent({**BASE, "id": "evt-9"}, bad), "json")
    with pytest.raises(InvalidDataError) as info:
        decode(message, "json", data_type=Order)
    error = info.value
    assert str(error) == "event 'evt-9': data does not fit Order: data.items[2].qty: expected int, got 'x'"
    assert (error.event_id, error.data_type, error.problems) == (
        "evt-9",
        "Order",
        ["data.items[2].qty: expected int, got 'x'"],
    )
    # Strict by default: what would be changed silently is refused instead.
    for wrong in (
        {"id": "o", "items": [], "extra": 1},
        {"id": "o", "items": [{"sku": "a", "qty": 1.5}]},
        {"items": []},
    ):
        with pytest.raises(InvalidDataError):
            decode(encode(CloudEvent(BASE, wrong), "json"), "json", data_type=Order)


def test_a_callers_converter_is_used_both_ways() -> None:
    @attrs.frozen
    class Money:
        cents: int

    converter = make_converter()
    converter.register_unstructure_hook(Money, lambda money: f"{money.cents / 100:.2f}")
    converter.register_structure_hook(Money, lambda text, _: Money(round(float(text) * 100)))
    event = CloudEvent(BASE, Money(1250))
    raw = encode(event, "json", converter=converter)
    assert b'"data":"12.50"' in raw
    assert decode(raw, "json", data_type=Money, converter=converter).data == Money(1250)
    batch = encode([event, event], "json", "batch", converter=converter)
    assert [e.data for e in decode(batch, "json", data_type=Money, converter=converter)] == [Money(1250)] * 2


def test_pydantic_models_go_through_the_same_path() -> None:
    pydantic = pytest.importorskip("pydantic")  # in the test extra: always there in CI

    class Invoice(pydantic.BaseModel):
        number: str
        total: float
        due: datetime

    invoice = Invoice(number="I-1", total=9.5, due=datetime(2024, 5, 1, tzinfo=timezone.utc))
    raw = encode(CloudEvent(BASE, invoice), "http", "structured")
    back = decode(raw, "http", data_type=Invoice)
    assert back.data == invoice
    with pytest.raises(InvalidDataError):
        decode(encode(CloudEvent(BASE, {"number": 1}), "json"), "json", data_type=Invoice)


def test_typed_data_needs_a_json_content_type() -> None:
    with pytest.raises(InvalidAttributeError, match="typed data"):
        CloudEvent(BASE, ORDER, datacontenttype="text/plain")


def test_typed_data_with_no_json_form_is_refused_when_written() -> None:
    class Opaque:
        pass

    with pytest.raises(InvalidDataError, match="no JSON form"):
        encode(CloudEvent(BASE, Opaque()), "json")


def test_cattrs_is_not_imported_with_cefmt() -> None:
    import subprocess
    import sys

    code = "import sys, cefmt; cefmt.decode(cefmt.encode(cefmt.CloudEvent(id='1', source='/s', type='t'), 'json'), 'json'); print('cattrs' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
        == "False"
    )


# -- the data contract ------------------------------------------------------------------------------------


def test_the_caller_cannot_change_an_event_through_the_data_it_gave() -> None:
    data = {"items": [1, 2], "meta": {"a": 1}}
    event = CloudEvent(BASE, data)
    data["items"].append(3)
    data["meta"]["a"] = 2
    assert event.data == {"items": [1, 2], "meta": {"a": 1}}


@pytest.mark.parametrize("via", ["made", "decoded"])
def test_a_reader_cannot_change_an_event_through_its_data(via: str) -> None:
    event = CloudEvent(BASE, {"items": [1, 2], "meta": {"a": 1}})
    if via == "decoded":
        event = decode(encode(event, "json"), "json")
    for change in (
        lambda d: d.__setitem__("x", 1),
        lambda d: d["items"].append(3),
        lambda d: d["meta"].update(a=2),
        lambda d: d.pop("items"),
        lambda d: d["items"].sort(),
    ):
        with pytest.raises(UsageError, match="evolve"):
            change(event.data)
    assert event.data == {"items": [1, 2], "meta": {"a": 1}}
    assert isinstance(event.data, dict) and isinstance(event.data["items"], list)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({1: "a"}, "key that is not a string"),
        ({"a": float("nan")}, "NaN or infinite"),
        ([float("inf")], "NaN or infinite"),
        ({"when": object()}, "object, which is not a JSON value"),
        ({"a": {1, 2}}, "set, which is not a JSON value"),
        ({"a": "\ud800"}, "lone surrogate"),
        ("\udcff", "lone surrogate"),
    ],
)
def test_what_is_not_a_json_value_is_refused_where_it_is_given(data: Any, match: str) -> None:
    with pytest.raises(InvalidAttributeError, match=match):
        CloudEvent(BASE, data)


def test_a_container_of_values_the_converter_writes_is_typed_data() -> None:
    when = datetime(2024, 1, 1, tzinfo=timezone.utc)
    event = CloudEvent(BASE, {"when": when})
    assert event.data == {"when": when}
    assert b'"data":{"when":"2024-01-01T00:00:00Z"}' in encode(event, "json")
    assert decode(encode(event, "json"), "json", data_type=dict[str, datetime]).data == {"when": when}


def test_a_tuple_is_a_json_array_as_the_sdk_sends_it() -> None:
    event = CloudEvent(BASE, (1, ("a", True)))
    assert event.data == [1, ["a", True]]
    assert decode(encode(event, "http", "binary"), "http") == event


def test_equality_is_type_aware() -> None:
    assert CloudEvent(BASE, {"a": True}) != CloudEvent(BASE, {"a": 1})
    assert CloudEvent(BASE, {"a": 1}) != CloudEvent(BASE, {"a": 1.0})
    assert CloudEvent(BASE, [1, [2]]) == CloudEvent(BASE, (1, (2,)))
    assert CloudEvent(BASE, b"x") != CloudEvent(BASE, "x")


def test_frozen_data_pickles_and_copies() -> None:
    event = decode(encode(CloudEvent(BASE, {"a": [1, {"b": None}]}), "json"), "json")
    assert isinstance(event.data["a"], FrozenList)
    for copied in (pickle.loads(pickle.dumps(event)), copy.deepcopy(event), copy.copy(event)):
        assert copied == event and isinstance(copied.data, FrozenDict)


@settings(max_examples=60, deadline=None)
@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(2**63), 2**64 - 1)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
        max_leaves=10,
    )
)
def test_json_values_round_trip_exactly_through_every_codec(value: Any) -> None:
    # Integers within msgpack's 64 bits: wider ones are JSON-only (msgpack refuses them, docs/formats/msgpack.md).
    event = CloudEvent(BASE, {"v": value})
    for case in _formats_and_bindings():
        if case[0] != "1.0":
            continue
        message = encode_case([event] if case[2] == "batch" else event, case)
        back = decode_case(message, case)
        assert (back[0] if isinstance(back, list) else back) == event, case


# -- cattrs for cefmt's own shapes ----------------------------------------------------------------------------


def test_limits_from_a_config_mapping() -> None:
    limits = cefmt.Limits.from_dict({"max_message_bytes": 1024, "max_batch_length": 10})
    assert (limits.max_message_bytes, limits.max_batch_length, limits.max_nesting_depth) == (1024, 10, 128)
    with pytest.raises(InvalidDataError, match="unknown fields: max_mesage_bytes"):
        cefmt.Limits.from_dict({"max_mesage_bytes": 1})
    with pytest.raises(InvalidDataError, match="max_batch_length: expected int"):
        cefmt.Limits.from_dict({"max_batch_length": "10"})
    with pytest.raises(InvalidDataError, match="max_batch_length': must be a positive int"):
        cefmt.Limits.from_dict({"max_batch_length": 0})


# -- the docs' examples, run as written ---------------------------------------------------------------------


@pytest.mark.parametrize("page", ["typed-data.md", "tracing.md"])
def test_the_docs_examples_run(page: str) -> None:
    import re

    from tests.conftest import REPO

    text = (REPO / "docs" / page).read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.DOTALL)
    assert blocks
    namespace: dict[str, Any] = {}
    for block in blocks:  # one namespace for the page: later blocks use what earlier ones defined
        exec(compile(block, f"docs/{page}", "exec", dont_inherit=True), namespace)
