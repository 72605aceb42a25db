"""Stream kinds come from installed codecs (framing and capture), and streams filter, route and type."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest

import cefmt
from cefmt import CloudEvent, CloudEventError, MalformedMessageError
from cefmt.codec import Capture, Codec
from cefmt.stream import Stats, convert, read_events, route, stream_kind, stream_kinds, write_events

EVENTS = [
    CloudEvent({"id": str(n), "source": "/s", "type": f"com.example.{'order' if n % 3 else 'audit'}", "subject": "x" if n % 2 else None},
               {"n": n})
    for n in range(12)
]  # fmt: skip


# -- kinds from plugins ---------------------------------------------------------------------------------------


def _upper_format() -> Codec:
    # A made-up format: the event id in upper case, one per line.
    return Codec(
        encode=lambda event: event.id.upper().encode(),
        decode=lambda raw, **options: CloudEvent(id=raw.decode().lower(), source="/u", type="u"),
        media_type="application/cloudevents+upper",
        framing="lines",
    )


def test_a_format_plugin_is_a_stream_kind_framed_as_it_says() -> None:
    cefmt.register("1.0", "upper", "structured", _upper_format())
    assert stream_kind("upper").framing == "lines" and "upper" in stream_kinds()
    out = b"".join(convert(b"".join(write_events(EVENTS[:3], "json")), "json", "upper"))
    assert out == b"0\n1\n2\n"
    assert [event.id for event in read_events([out], "upper")] == ["0", "1", "2"]
    # The default framing: length-prefixed.
    cefmt.register("1.0", "upper2", "structured", attrs.evolve(_upper_format(), framing="length-prefixed"))
    assert b"".join(convert([b"".join(write_events(EVENTS[:1], "json"))], "json", "upper2")) == b"\x00\x00\x00\x010"


@attrs.frozen
class Pigeon:
    ring: str
    note: bytes


def _pigeon_binding() -> Codec:
    return Codec(
        encode=lambda event: Pigeon(event.id, event.source.encode()),
        decode=lambda message, **options: CloudEvent(id=message.ring, source=message.note.decode(), type="p"),
        detect=lambda message: ("1.0", "binary"),
        capture=Capture(
            to_json=lambda pigeon: {"ring": pigeon.ring, "note": pigeon.note.decode()},
            from_json=lambda doc: Pigeon(doc["ring"], doc["note"].encode()),
        ),
    )


def test_a_binding_with_a_capture_is_a_stream_kind_of_json_lines() -> None:
    cefmt.register("1.0", "pigeon", "binary", _pigeon_binding())
    kind = stream_kind("pigeon")
    assert (kind.framing, kind.default_mode) == ("messages", "binary")
    lines = b"".join(convert([b"".join(write_events(EVENTS[:2], "json"))], "json", "pigeon"))
    assert [json.loads(line) for line in lines.splitlines()] == [
        {"ring": "0", "note": "/s"},
        {"ring": "1", "note": "/s"},
    ]
    assert [event.id for event in read_events([lines], "pigeon")] == ["0", "1"]


def test_a_binding_without_a_capture_says_which_kinds_exist() -> None:
    cefmt.register("1.0", "mute", "binary", Codec(encode=str, decode=str))
    with pytest.raises(CloudEventError, match=r"no capture= for its messages; stream kinds here: .*json"):
        stream_kind("mute")


def test_captured_lines_that_do_not_fit_name_the_member() -> None:
    bad = b'{"headers": {"ce-id": 1}, "body": "x"}\n'
    dead: list[Any] = []
    assert list(read_events([bad], "http", on_error="dead_letter", dead_letter=dead.append)) == []
    assert isinstance(dead[0].error, MalformedMessageError)
    assert "HTTP message line" in str(dead[0].error) and "headers" in str(dead[0].error)


# -- where= ---------------------------------------------------------------------------------------------------


def test_where_keeps_what_the_expression_matches_and_counts_the_rest() -> None:
    stats = Stats()
    source = b"".join(write_events(EVENTS, "json"))
    kept = list(read_events([source], "json", where="type LIKE 'com.example.o%' AND EXISTS subject", stats=stats))
    assert [event.id for event in kept] == [e.id for e in EVENTS if e.type.endswith("order") and e.subject]
    assert stats.filtered == len(EVENTS) - len(kept) and "filtered out" in stats.summary()
    out = b"".join(convert([source], "json", "json", where=cefmt.sql.compile("subject = 'x'")))
    assert out.count(b"\n") == sum(1 for e in EVENTS if e.subject)


def test_a_bad_where_is_refused_before_anything_is_read() -> None:
    with pytest.raises(CloudEventError, match="position"):
        convert(iter(()), "json", "json", where="type LIKE").__next__()


# -- route() ---------------------------------------------------------------------------------------------------


def test_route_sends_each_event_to_its_first_match_in_one_pass(tmp_path: Path) -> None:
    source = b"".join(write_events(EVENTS, "json"))
    reads: list[int] = []

    def chunks() -> Any:
        reads.append(1)
        yield source

    orders, odd, rest = tmp_path / "orders.jsonl", tmp_path / "odd.msgpack", tmp_path / "rest.jsonl"
    stats = route(
        chunks(), [("type = 'com.example.order'", orders), ("INT(id) % 2 = 1", odd)], otherwise=rest, dst="json"
    )
    assert reads == [1]
    got = {path.name: [e.id for e in read_events(path, "json")] for path in (orders, odd, rest)}
    assert got["orders.jsonl"] == [e.id for e in EVENTS if e.type.endswith("order")]
    assert got["odd.msgpack"] == [e.id for e in EVENTS if not e.type.endswith("order") and int(e.id) % 2]
    assert sorted(i for ids in got.values() for i in ids) == sorted(e.id for e in EVENTS)
    assert stats.routed == {str(orders): 8, str(odd): 2, str(rest): 2}


def test_route_without_otherwise_drops_and_counts_what_matches_nothing(tmp_path: Path) -> None:
    stats = route([b"".join(write_events(EVENTS, "json"))], {"subject = 'x'": tmp_path / "x.jsonl"})
    assert stats.routed == {str(tmp_path / "x.jsonl"): 6} and stats.filtered == 6


def test_route_refuses_one_file_twice(tmp_path: Path) -> None:
    with pytest.raises(CloudEventError, match="named twice"):
        route([b""], [("true", tmp_path / "a"), ("false", tmp_path / "a")])


# -- typed data in streams ---------------------------------------------------------------------------------


@attrs.frozen
class Count:
    n: int


def test_typed_data_in_a_stream_and_what_does_not_fit_is_a_bad_record() -> None:
    events = [*EVENTS[:3], CloudEvent({"id": "bad", "source": "/s", "type": "com.example.order"}, {"n": "x"})]
    source = b"".join(write_events(events, "json"))
    dead: list[Any] = []
    typed = list(read_events([source], "json", data_type={"com.example.order": Count}, on_error="dead_letter",
                             dead_letter=dead.append))  # fmt: skip
    assert [type(e.data).__name__ for e in typed] == ["FrozenDict", "Count", "Count"]
    assert [bad.error.event_id for bad in dead] == ["bad"]
    assert "data.n: expected int, got 'x'" in str(dead[0].error)


# -- every binding's captured messages in streams -------------------------------------------------------------


def _bindings() -> list[str]:
    return [name for name in stream_kinds() if stream_kind(name).framing == "messages"]


@pytest.mark.parametrize("kind", _bindings())
def test_every_binding_converts_to_captured_lines_and_back(kind: str) -> None:
    from tests.hardening.cases import VIEWS

    sample = (Path(__file__).resolve().parents[1] / "examples" / "sample-events.jsonl").read_bytes()
    lines = b"".join(sample.splitlines(keepends=True)[:300])
    events = list(read_events([lines], "json"))
    mode = "structured" if kind == "websocket" else "binary"  # WebSocket has no binary mode
    captured = b"".join(convert([lines], "json", kind, mode, on_error="skip"))
    back = list(read_events([captured], kind))
    view = VIEWS[(kind, mode, None if mode == "binary" else "json")]
    assert len(back) == len(events)
    assert back == [view(event) for event in events]
