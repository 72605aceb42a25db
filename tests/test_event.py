from __future__ import annotations

import copy
import pickle
from datetime import datetime, timezone

import attrs
import pytest

from cefmt import (
    CloudEvent,
    CloudEventError,
    Extensions,
    InvalidAttributeError,
    MissingAttributeError,
    Timestamp,
    UnsupportedSpecVersionError,
)

BASE = {"type": "com.example.sampletype1", "source": "https://example.com/event-producer"}


def test_sdk_style_construction_and_reads() -> None:
    event = CloudEvent(dict(BASE, comexampleext="value"), {"message": "Hello World!"})
    assert event["specversion"] == "1.0" and event.specversion == "1.0"
    assert len(event["id"]) == 36 and event["id"] != CloudEvent(BASE)["id"]
    assert event.data == {"message": "Hello World!"} == event.get_data()
    assert event.extensions == {"comexampleext": "value"}
    assert event["comexampleext"] == "value" and event.get("missing", 5) == 5
    assert "comexampleext" in event and "subject" not in event
    assert set(event) == {"specversion", "id", "source", "type", "datacontenttype", "comexampleext"}
    assert event.get_attributes()["source"] == BASE["source"]
    with pytest.raises(KeyError):
        event["subject"]


def test_json_data_makes_its_content_type_explicit() -> None:
    assert CloudEvent(BASE, {"a": 1}).datacontenttype == "application/json"
    assert CloudEvent(BASE, [1]).datacontenttype == "application/json"
    assert CloudEvent(BASE, "text").datacontenttype == "application/json"
    assert CloudEvent(BASE, b"raw").datacontenttype is None
    assert CloudEvent(BASE).datacontenttype is None
    assert CloudEvent(dict(BASE, datacontenttype="application/ld+json"), {"a": 1}).datacontenttype == (
        "application/ld+json"
    )
    with pytest.raises(InvalidAttributeError, match="not a JSON media type"):
        CloudEvent(dict(BASE, datacontenttype="text/plain"), {"a": 1})


def test_keywords_and_mapping_are_one_thing() -> None:
    a = CloudEvent(BASE | {"id": "1"}, b"x")
    b = CloudEvent(id="1", data=b"x", **BASE)
    assert a == b
    assert CloudEvent(id="1", extensions={"ext": 1}, **BASE)["ext"] == 1
    with pytest.raises(CloudEventError, match="twice"):
        CloudEvent(BASE, b"x", data=b"y")
    with pytest.raises(InvalidAttributeError, match="not an attribute"):
        CloudEvent(BASE | {"data": 1})


def test_frozen_and_evolve_makes_a_new_event() -> None:
    event = CloudEvent(BASE | {"id": "1"})
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        event.id = "2"  # type: ignore[misc]
    changed = event.evolve(subject="s", ext="e")
    assert (changed.subject, changed["ext"], event.subject, "ext" in event) == ("s", "e", None, False)
    assert changed.evolve(ext=None, subject=None) == event
    assert attrs.evolve(event, subject="x").subject == "x"
    with pytest.raises(InvalidAttributeError):
        event.evolve(time="yesterday")


@pytest.mark.parametrize(
    ("attributes", "error", "attribute"),
    [
        ({"source": "/s"}, MissingAttributeError, "type"),
        ({"type": "t"}, MissingAttributeError, "source"),
        ({"type": "", "source": "/s"}, InvalidAttributeError, "type"),
        ({"type": "t", "source": "/s", "id": ""}, InvalidAttributeError, "id"),
        ({"type": "t", "source": "/s", "id": 25}, InvalidAttributeError, "id"),
        ({"type": "t", "source": "a b"}, InvalidAttributeError, "source"),
        ({"type": "t\nx", "source": "/s"}, InvalidAttributeError, "type"),
        ({"type": "t\x85", "source": "/s"}, InvalidAttributeError, "type"),
        ({"type": "t\ufffe", "source": "/s"}, InvalidAttributeError, "type"),
        ({"type": "t", "source": "/s", "subject": ""}, InvalidAttributeError, "subject"),
        ({"type": "t", "source": "/s", "dataschema": "relative/path"}, InvalidAttributeError, "dataschema"),
        ({"type": "t", "source": "/s", "datacontenttype": "xyz"}, InvalidAttributeError, "datacontenttype"),
        ({"type": "t", "source": "/s", "time": "2018-04-05"}, InvalidAttributeError, "time"),
        ({"type": "t", "source": "/s", "time": datetime(2020, 1, 1)}, InvalidAttributeError, "time"),
        ({"type": "t", "source": "/s", "MyExt": "x"}, InvalidAttributeError, "MyExt"),
        ({"type": "t", "source": "/s", "my_ext": "x"}, InvalidAttributeError, "my_ext"),
        ({"type": "t", "source": "/s", "ext": 1.5}, InvalidAttributeError, "ext"),
        ({"type": "t", "source": "/s", "ext": 2**31}, InvalidAttributeError, "ext"),
        ({"type": "t", "source": "/s", "ext": -(2**31) - 1}, InvalidAttributeError, "ext"),
        ({"type": "t", "source": "/s", "ext": [1]}, InvalidAttributeError, "ext"),
        ({"type": "t", "source": "/s", "specversion": "0.3", "datacontentencoding": "base64"},
         InvalidAttributeError, "datacontentencoding"),
    ],
)  # fmt: skip
def test_invalid_events_name_attribute_and_rule(attributes: dict[str, object], error: type, attribute: str) -> None:
    with pytest.raises(error) as info:
        CloudEvent(attributes)
    assert info.value.attribute == attribute
    assert attribute in str(info.value) and info.value.rule in str(info.value)
    assert isinstance(info.value, ValueError)


def test_unsupported_specversion_lists_the_supported() -> None:
    with pytest.raises(UnsupportedSpecVersionError, match=r"supported: 1\.0, 0\.3"):
        CloudEvent(BASE | {"specversion": "0.9"})


def test_extension_values_keep_their_types() -> None:
    when = datetime(2023, 3, 31, 15, 12, tzinfo=timezone.utc)
    event = CloudEvent(BASE, extinteger=10, extboolean=True, extstring="text", extbinary=b"Ma", exttimestamp=when)
    assert [type(v) for v in event.extensions.values()] == [int, bool, str, bytes, Timestamp]
    assert event.extensions != {"extinteger": 10, "extboolean": 1, "extstring": "text", "extbinary": b"Ma",
                                "exttimestamp": when}  # fmt: skip
    assert Extensions({"a": True}) != Extensions({"a": 1})
    assert CloudEvent(BASE, ext=bytearray(b"x"))["ext"] == b"x"


def test_time_accepts_text_and_aware_datetimes() -> None:
    text = CloudEvent(BASE, time="2018-04-05T17:31:00.123456789Z").time
    assert isinstance(text, Timestamp) and text.nanosecond == 789
    aware = CloudEvent(BASE, time=datetime(2018, 4, 5, 17, 31, tzinfo=timezone.utc)).time
    assert aware == datetime(2018, 4, 5, 17, 31, tzinfo=timezone.utc)


def test_v03_schemaurl_is_dataschema() -> None:
    event = CloudEvent(BASE | {"specversion": "0.3", "schemaurl": "/schema"})
    assert event.dataschema == "/schema" == event["schemaurl"]
    with pytest.raises(InvalidAttributeError, match="together"):
        CloudEvent(BASE | {"specversion": "0.3", "schemaurl": "/a", "dataschema": "/b"})


def test_equality_hash_repr_pickle() -> None:
    event = CloudEvent(BASE | {"id": "1", "time": "2020-01-01T00:00:00.000000001Z"}, {"k": [1, 2]}, ext=b"\x00")
    twin = CloudEvent(BASE | {"id": "1", "time": "2020-01-01T00:00:00.000000001Z"}, {"k": [1, 2]}, ext=b"\x00")
    assert event == twin and hash(event) == hash(twin) and len({event, twin}) == 1
    assert event != twin.evolve(data={"k": [1, 3]})
    assert "id='1'" in repr(event) and "ext=b'\\x00'" in repr(event)
    for copied in (pickle.loads(pickle.dumps(event)), copy.deepcopy(event)):
        assert copied == event and type(copied.time) is Timestamp and copied.time.nanosecond == 1
        assert type(copied.extensions) is Extensions


def test_headers_objects_without_mapping_interface_are_accepted() -> None:
    class Items:
        def items(self) -> list[tuple[str, str]]:
            return list(BASE.items())

    assert CloudEvent(Items()).type == BASE["type"]
    with pytest.raises(CloudEventError, match="mapping"):
        CloudEvent(42)
