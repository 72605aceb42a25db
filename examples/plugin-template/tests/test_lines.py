"""Tests a plugin author keeps beside the codec: cefmt lists it, and every path reaches it."""

from __future__ import annotations

import pytest

import cefmt
from cefmt import CloudEvent, MalformedMessageError, decode, encode


def test_cefmt_lists_the_codec_with_this_distribution() -> None:
    rows = {info.key: info.distribution for info in cefmt.codecs()}
    assert rows[("1.0", "lines", "structured")] == "cefmt-lines"
    assert rows[("0.3", "lines", "structured")] == "cefmt-lines"


def test_round_trip_and_use_from_http_structured_mode() -> None:
    event = CloudEvent(id="1", source="/s", type="t", subject="Grüße", data=b"\x00\x01")
    assert decode(encode(event, "lines"), "lines", "structured") == event
    message = encode(event, "http", "structured", format="lines")
    assert message.headers["content-type"] == "application/cloudevents+lines"
    assert decode(message, "http") == event


def test_bad_input_is_a_cefmt_error() -> None:
    with pytest.raises(MalformedMessageError):
        decode(b"no separator", "lines", "structured")
