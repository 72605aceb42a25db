"""Bugs the hardening work found, each kept as a test of the input that showed it."""

from __future__ import annotations

import contextlib
import pickle
from typing import Any

import pytest

from cefmt import CloudEvent, CloudEventError, Timestamp, decode, encode
from cefmt.http import HTTPMessage

BINARY = {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"}


@pytest.mark.parametrize("name", ["time", "ext"])
def test_a_naive_timestamp_is_refused_like_a_naive_datetime(name: str) -> None:
    # A Timestamp built without a tzinfo was accepted as is: it printed as UTC ("Z") but compared unequal
    # to itself after a round trip or a pickle, breaking the lossless rule.
    # Now the Timestamp itself cannot be built naive.
    with pytest.raises(CloudEventError, match="names its UTC offset"):
        CloudEvent({"id": "1", "source": "/s", "type": "t", name: Timestamp(2020, 1, 2, nanosecond=5)})


def test_timestamps_survive_pickle_and_round_trip() -> None:
    stamp = Timestamp.parse("2020-01-02T03:04:05.123456789+05:30")
    event = CloudEvent({"id": "1", "source": "/s", "type": "t", "time": stamp, "at": stamp})
    assert pickle.loads(pickle.dumps(event)) == event
    assert decode(encode(event, "http", "binary"), "http", extension_types={"at": Timestamp}) == event


@pytest.mark.parametrize(
    "message",
    [
        pytest.param(HTTPMessage([("content-type", "")], b"[]"), id="list-of-pairs-headers"),  # was AttributeError
        pytest.param(HTTPMessage({"ce-specversion": 5}, b""), id="int-header-value"),  # was TypeError
        pytest.param(HTTPMessage(BINARY, "text"), id="str-body"),  # type: ignore[arg-type]
    ],
)
def test_hand_built_http_messages_of_other_shapes_are_read_or_refused(message: Any) -> None:
    with contextlib.suppress(CloudEventError):
        decode(message, "http")


def test_hand_built_http_message_with_pairs_still_decodes() -> None:
    assert decode(HTTPMessage(list(BINARY.items()), b""), "http").id == "1"  # type: ignore[arg-type]
