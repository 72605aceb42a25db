"""Raise every cefmt error the way a user meets it; docs/errors.md quotes these messages.

``python -m tests.hardening.error_examples`` prints them; ``test_errors_doc.py`` checks that the
catalogue names every error class and quotes each message exactly as cefmt produces it today.
"""

from __future__ import annotations

import importlib
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import cefmt
import cefmt.http
import cefmt.kafka
from cefmt import CloudEvent, CloudEventError, Registry, decode, encode

BINARY = {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"}


def _plugin_errors() -> dict[str, str]:
    from tests.test_registry import _dist

    with tempfile.TemporaryDirectory() as root:
        site = Path(root)
        _dist(site, "brokenplug", {"1.0/stomp/binary": "brokenplug_mod:codec"},
              {"brokenplug_mod": "raise ImportError('No module named stomp')"})  # fmt: skip
        _dist(site, "stompa", {"1.0/stomp/structured": "a_mod:codec"})
        _dist(site, "stompb", {"1.0/stomp/structured": "b_mod:codec"})
        sys.path.insert(0, root)
        importlib.invalidate_caches()
        try:
            registry = Registry()
            return {
                "PluginLoadError": _raise(lambda: registry.lookup("1.0", "stomp", "binary")),
                "CodecConflictError": _raise(lambda: registry.lookup("1.0", "stomp", "structured")),
            }
        finally:
            sys.path.remove(root)
            sys.modules.pop("brokenplug_mod", None)


def _raise(action: Callable[[], object]) -> str:
    try:
        action()
    except CloudEventError as exc:
        return f"{type(exc).__name__}: {exc}"
    raise AssertionError("no error raised")


def examples() -> dict[str, str]:
    """Error class name -> ``"Class: message"`` as raised by cefmt."""
    found = {
        "InvalidAttributeError": _raise(lambda: CloudEvent(id="1", source="/s", type="t", time="lunchtime")),
        "MissingAttributeError": _raise(lambda: decode(b'{"specversion":"1.0","id":"1","source":"/s"}', "json")),
        "UnsupportedSpecVersionError": _raise(
            lambda: decode(b'{"specversion":"0.2","id":"1","source":"/s","type":"t"}', "json")
        ),
        "MalformedMessageError": _raise(lambda: decode((BINARY | {"ce-subject": "a%0"}, b""), "http")),
        "LimitExceededError": _raise(lambda: decode(b"[" * 200 + b"]" * 200, "json")),
        "UnknownCodecError": _raise(
            lambda: encode(CloudEvent(id="1", source="/s", type="t"), "pigeon", "binary")
        ).split("; available:")[0],
        "EncodeError": _raise(
            lambda: encode(
                [
                    CloudEvent(id="1", source="/s", type="t"),
                    CloudEvent(id="2", source="/s", type="t", specversion="0.3"),
                ],
                "json",
                "batch",
            )
        ),
        "UsageError": _raise(lambda: encode(CloudEvent(id="1", source="/s", type="t"), "json", "batch")),
        "InvalidDataError": _raise(
            lambda: decode(
                b'{"specversion":"1.0","id":"7","source":"/s","type":"t","data":{"n":"x"}}',
                "json",
                data_type=dict[str, int],
            )
        ),
        "DataMarshallerError": _raise(
            lambda: cefmt.http.to_binary(CloudEvent(id="1", source="/s", type="t", data="not hex"), bytes.fromhex)
        ),
        "DataUnmarshallerError": _raise(lambda: cefmt.http.from_http(BINARY, b"not json", json.loads)),
        "KeyMapperError": _raise(
            lambda: cefmt.kafka.to_binary(CloudEvent(id="1", source="/s", type="t"), key_mapper=len)
        ),
    }
    found.update(_plugin_errors())
    return found


def error_classes() -> list[str]:
    return sorted(
        name for name, value in vars(cefmt).items() if isinstance(value, type) and issubclass(value, CloudEventError)
    )


if __name__ == "__main__":
    for name, message in examples().items():
        print(f"{name}\n    {message}")
