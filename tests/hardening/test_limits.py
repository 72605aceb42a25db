"""Resource limits: safe defaults, per-call settings, and every check made before the work it bounds."""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import cefmt
from cefmt import DEFAULT_LIMITS, CloudEvent, InvalidAttributeError, LimitExceededError, Limits, decode
from cefmt.codec import body_to_data, load_json
from cefmt.http import HTTPMessage

from .cases import Case, case_id, cases, decode_case, encode_case

BINARY = {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"}


def test_defaults_are_documented_values() -> None:
    assert Limits() == DEFAULT_LIMITS
    assert (Limits().max_message_bytes, Limits().max_batch_length, Limits().max_nesting_depth) == (
        16 * 1024 * 1024, 10_000, 128,
    )  # fmt: skip
    assert (Limits().max_header_count, Limits().max_header_value_length, Limits().max_attribute_count) == (
        256, 8192, 256,
    )  # fmt: skip


@pytest.mark.parametrize("value", [0, -1, 1.5, "10", True])
def test_limits_must_be_positive_ints(value: Any) -> None:
    with pytest.raises(InvalidAttributeError, match="max_batch_length"):
        Limits(max_batch_length=value)


def test_error_names_the_limit_the_value_and_the_maximum() -> None:
    with pytest.raises(LimitExceededError) as caught:
        decode(b'{"a": "' + b"x" * 100 + b'"}', "json", limits=Limits(max_message_bytes=50))
    assert (caught.value.limit, caught.value.value, caught.value.maximum) == ("size of JSON event", 109, 50)
    assert isinstance(caught.value, cefmt.MalformedMessageError)


def test_size_is_checked_before_decoding_or_parsing() -> None:
    # Invalid UTF-8 and invalid JSON: a LimitExceededError proves nothing was decoded or parsed first.
    for transport in ("json",):
        with pytest.raises(LimitExceededError):
            decode(b"\xff" * 101, transport, limits=Limits(max_message_bytes=100))
    with pytest.raises(LimitExceededError):
        load_json(b"\xff[" * 60, "body", limits=Limits(max_message_bytes=100))
    with pytest.raises(LimitExceededError):
        body_to_data(b"\xff" * 101, "application/json", limits=Limits(max_message_bytes=100))


def test_a_huge_body_is_refused_without_a_copy() -> None:
    class Huge:
        """A body that says it holds 2 GiB and fails if anything reads it."""

        def __len__(self) -> int:
            return 2 * 1024**3

        def __bytes__(self) -> bytes:
            raise AssertionError("the body was read before its size was checked")

    big = memoryview(bytearray(DEFAULT_LIMITS.max_message_bytes + 1))
    with pytest.raises(LimitExceededError, match="size of body"):
        decode((BINARY, big), "http")
    with pytest.raises(LimitExceededError):
        DEFAULT_LIMITS.check_message_size(Huge())


def test_nesting_depth_is_checked_before_parsing() -> None:
    deep = b'{"specversion":"1.0","id":"1","source":"/s","type":"t","data":' + b"[" * 200 + b"]" * 200 + b"}"
    with pytest.raises(LimitExceededError, match="JSON nesting depth 201 exceeds the limit of 128"):
        decode(deep, "json")
    assert decode(deep, "json", limits=Limits(max_nesting_depth=201)).data is not None
    with pytest.raises(LimitExceededError):
        decode((BINARY | {"content-type": "application/json"}, b"[" * 129 + b"]" * 129), "http")


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("[]", 1), ('{"a":{"b":[1]}}', 3), ('["[[[[", "]]]]"]', 1), ('["\\"[[[", {"x": ["\\\\"]}]', 3),
        ('[{"": "\\\\\\"{{{"}, [[[]]]]', 4), ("[" * 50 + "]" * 50, 50), ('"[[[[[[[[["', 0),
    ],
)  # fmt: skip
def test_depth_scan_ignores_brackets_in_strings(text: str, depth: int) -> None:
    json.loads(text)  # the examples are valid JSON
    Limits(max_nesting_depth=max(depth, 1)).check_json(text)
    Limits(max_nesting_depth=max(depth, 1)).check_json(text.encode())
    if depth > 1:
        with pytest.raises(LimitExceededError, match=f"depth {depth} exceeds"):
            Limits(max_nesting_depth=depth - 1).check_json(text.encode())


# JSON whose strings are made of the characters the depth scan must see through.
_TRICKY_JSON = st.recursive(
    st.none() | st.integers() | st.text(alphabet='[]{}"\\ab', max_size=6),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(alphabet='[]{}"\\k', max_size=4), inner, max_size=4)
    ),
    max_leaves=60,
)


def _true_depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max(map(_true_depth, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(_true_depth, value.values()), default=0)
    return 0


@given(_TRICKY_JSON, st.integers(-2, 2), st.booleans())
def test_depth_scan_agrees_with_the_parsed_depth(value: Any, offset: int, spaced: bool) -> None:
    text = json.dumps(value, separators=(", ", ": ") if spaced else (",", ":"))
    depth = _true_depth(value)
    limit = max(depth + offset, 1)
    if depth > limit:
        with pytest.raises(LimitExceededError, match=f"depth {depth} exceeds"):
            Limits(max_nesting_depth=limit).check_json(text.encode())
    else:
        Limits(max_nesting_depth=limit).check_json(text.encode())
        Limits(max_nesting_depth=limit).check_json(text)


def test_batch_length_is_checked_before_any_event_is_built() -> None:
    batch = b'[{"specversion":"1.0","id":"1","source":"/s","type":"t"}, 1, 2]'  # items 2 and 3 are invalid
    with pytest.raises(LimitExceededError, match="batch length 3 exceeds the limit of 2"):
        decode(batch, "json", limits=Limits(max_batch_length=2))
    with pytest.raises(LimitExceededError, match="batch length"):
        decode(
            ({"content-type": "application/cloudevents-batch+json"}, batch), "http", limits=Limits(max_batch_length=2)
        )


def test_header_count_is_checked_before_headers_are_read() -> None:
    read: list[int] = []

    def pairs() -> Iterator[tuple[str, str]]:
        for index in range(1_000_000):
            read.append(index)
            yield (f"x-{index}", "v")

    with pytest.raises(LimitExceededError, match="header count 11 exceeds the limit of 10"):
        cefmt.default_registry.lookup("1.0", "http", "binary").decode(
            (pairs(), b""), limits=Limits(max_header_count=10)
        )
    assert len(read) == 11
    many = BINARY | {f"x-{i}": "v" for i in range(300)}
    with pytest.raises(LimitExceededError, match="header count 304"):
        decode((many, b""), "http")
    assert decode((many, b""), "http", limits=Limits(max_header_count=304)).id == "1"
    with pytest.raises(LimitExceededError, match="header count"):
        decode(HTTPMessage(many, b""), "http", "binary")


def test_header_value_length() -> None:
    long_time = BINARY | {"ce-time": "2018-04-05T17:31:00Z" + "0" * 10_000}
    with pytest.raises(LimitExceededError, match="length of header 'ce-time' 10020 exceeds the limit of 8192"):
        decode((long_time, b""), "http")
    with pytest.raises(LimitExceededError, match="ce-time"):
        decode(HTTPMessage(long_time, b""), "http")
    # Headers cefmt does not read (cookies, tokens) are the application's business.
    assert decode((BINARY | {"authorization": "x" * 20_000}, b""), "http").id == "1"


def test_attribute_count() -> None:
    doc = {"specversion": "1.0", "id": "1", "source": "/s", "type": "t"} | {f"x{i}": "v" for i in range(300)}
    with pytest.raises(LimitExceededError, match="attribute count 304 exceeds the limit of 256"):
        decode(json.dumps(doc).encode(), "json")
    assert len(decode(json.dumps(doc).encode(), "json", limits=Limits(max_attribute_count=304)).extensions) == 300


def test_repeated_headers_join_in_linear_time() -> None:
    # Regression: repeated non-CloudEvents headers were joined one at a time, quadratic in their number.
    headers = [*BINARY.items(), *[("x-a", "v" * 1000)] * 5000]
    message = decode((headers, b""), "http", limits=Limits(max_header_count=6000))
    assert message.id == "1"


def _accepts_limits(case: Case) -> bool:
    """The codec's decoder takes ``limits=``, and so does the format a binding's structured mode uses."""
    version, transport, mode, fmt = case
    decoders = [cefmt.default_registry.lookup(version, transport, mode).decode]
    if fmt is not None:
        decoders.append(cefmt.default_registry.lookup(version, fmt, mode).decode)
    return all("limits" in inspect.signature(decoder).parameters for decoder in decoders)


LIMITED = [case for case in cases() if _accepts_limits(case)]


def test_every_builtin_decoder_takes_limits() -> None:
    builtin = {case for case in cases() if case[1] in ("json", "http") and case[3] in (None, "json")}
    assert builtin <= set(LIMITED)


@pytest.mark.parametrize("case", LIMITED, ids=case_id)
def test_every_codec_taking_limits_refuses_an_oversized_message(case: Case) -> None:
    """Any codec whose decoder accepts ``limits=`` must refuse a message over ``max_message_bytes``."""
    event = CloudEvent(id="1", source="/s", type="t", specversion=case[0], data=b"\x00" * 5000)
    message = encode_case([event] if case[2] == "batch" else event, case)
    decode_case(message, case, limits=Limits(max_message_bytes=10_000))
    with pytest.raises(LimitExceededError):
        decode_case(message, case, limits=Limits(max_message_bytes=4000))


@pytest.mark.parametrize("case", [case for case in LIMITED if case[2] == "batch"], ids=case_id)
def test_every_batch_codec_taking_limits_refuses_a_long_batch(case: Case) -> None:
    events = [CloudEvent(id=str(i), source="/s", type="t", specversion=case[0]) for i in range(3)]
    message = encode_case(events, case)
    with pytest.raises(LimitExceededError):
        decode_case(message, case, limits=Limits(max_batch_length=2))


def test_http_passes_limits_only_to_formats_that_take_them() -> None:
    """A third-party format written without ``limits=`` still decodes when a caller gives limits."""
    import cefmt
    from cefmt import CloudEvent, Codec, LimitExceededError, Limits, decode

    def plain_decode(raw: bytes) -> CloudEvent:
        return CloudEvent(id=raw.decode(), source="/s", type="t")

    cefmt.register("1.0", "plainfmt", "structured", Codec(encode=lambda e: e.id.encode(), decode=plain_decode))
    message = ({"content-type": "application/cloudevents+plainfmt"}, b"42")
    assert decode(message, "http", limits=Limits(max_message_bytes=10)).id == "42"
    with pytest.raises(LimitExceededError):  # the binding still bounds the body itself
        decode(message, "http", limits=Limits(max_message_bytes=1))
