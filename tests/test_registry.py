"""The registry against fake installed distributions (``*.dist-info`` folders on ``sys.path``)."""

from __future__ import annotations

import importlib
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import cefmt
from cefmt import (
    CloudEvent,
    Codec,
    CodecConflictError,
    PluginLoadError,
    Registry,
    UnknownCodecError,
)

GOOD = """
import os, time
time.sleep(0.05)  # widen the window a racing double import would need
with open(os.environ["FAKEPLUG_LOG"], "a") as log:
    log.write("imported\\n")

class _Memo:
    media_type = None
    @staticmethod
    def encode(event, **options):
        return ("memo", event.id)
    @staticmethod
    def decode(message, **options):
        from cefmt import CloudEvent
        return CloudEvent(id=message[1], source="/memo", type="memo")

codec = _Memo()
"""


def _dist(root: Path, name: str, entry_points: dict[str, str], modules: dict[str, str] | None = None) -> None:
    info = root / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    lines = "\n".join(f"{key} = {value}" for key, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[cefmt.codecs]\n{lines}\n")
    for module, source in (modules or {}).items():
        (root / f"{module}.py").write_text(textwrap.dedent(source))


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    log = tmp_path / "imports.log"
    log.write_text("")
    monkeypatch.setenv("FAKEPLUG_LOG", str(log))
    site = tmp_path / "site"
    _dist(site, "fakeplug", {"1.0/memo/binary": "fakeplug_mod:codec"}, {"fakeplug_mod": GOOD})
    _dist(site, "brokenplug", {"1.0/broken/binary": "brokenplug_mod:codec"},
          {"brokenplug_mod": "raise ImportError('needs libfoo, which is not installed')"})  # fmt: skip
    _dist(site, "dupa", {"1.0/dup/binary": "fakeplug_mod:codec"})
    _dist(site, "dupb", {"1.0/dup/binary": "fakeplug_mod:codec"})
    _dist(site, "oddname", {"not-a-key": "fakeplug_mod:codec"})
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    yield log
    for module in ("fakeplug_mod", "brokenplug_mod"):
        sys.modules.pop(module, None)


def test_listing_reads_metadata_only(plugins: Path) -> None:
    registry = Registry()
    rows = {(row.key, row.distribution): row for row in registry.codecs()}
    assert rows[(("1.0", "memo", "binary"), "fakeplug")].loaded is False
    assert (("1.0", "http", "binary"), "cefmt") in rows
    assert "fakeplug_mod" not in sys.modules and plugins.read_text() == ""
    odd = [row for row in registry.codecs() if row.distribution == "oddname"]
    assert odd and "not SPEC/TRANSPORT/MODE" in (odd[0].error or "")


def test_first_use_imports_just_that_plugin(plugins: Path) -> None:
    registry = Registry()
    registry.lookup("1.0", "http", "binary")
    assert "fakeplug_mod" not in sys.modules
    codec = registry.lookup("1.0", "memo", "binary")
    assert codec.encode(CloudEvent(id="7", source="/s", type="t")) == ("memo", "7")
    assert registry.lookup("1.0", "memo", "binary") is codec
    assert [row.loaded for row in registry.codecs() if row.key == ("1.0", "memo", "binary")] == [True]


def test_first_use_from_sixteen_threads_imports_once(plugins: Path) -> None:
    registry = Registry()
    barrier = threading.Barrier(16)
    results: list[object] = []

    def use() -> None:
        barrier.wait()
        results.append(registry.lookup("1.0", "memo", "binary"))

    threads = [threading.Thread(target=use) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 16 and len({id(r) for r in results}) == 1
    assert plugins.read_text() == "imported\n"


def test_broken_plugin_is_named_isolated_and_retried(plugins: Path, tmp_path: Path) -> None:
    registry = Registry()
    with pytest.raises(PluginLoadError) as info:
        registry.lookup("1.0", "broken", "binary")
    error = info.value
    assert error.distribution == "brokenplug" and "needs libfoo" in str(error)
    assert isinstance(error.__cause__, ImportError)
    # Every other codec still works.
    assert registry.lookup("1.0", "memo", "binary") is not None
    assert registry.lookup("1.0", "json", "structured") is not None
    # Installing what was missing fixes it without a restart: failures are not cached.
    (tmp_path / "site" / "brokenplug_mod.py").write_text(GOOD)
    sys.modules.pop("brokenplug_mod", None)
    importlib.invalidate_caches()
    assert registry.lookup("1.0", "broken", "binary").encode(CloudEvent(id="1", source="/", type="t"))


def test_plugin_without_encode_and_decode_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "s2"
    _dist(site, "halfplug", {"1.0/half/binary": "halfplug_mod:codec"}, {"halfplug_mod": "codec = object()"})
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    with pytest.raises(PluginLoadError, match=r"halfplug.*no callable encode and decode"):
        Registry().lookup("1.0", "half", "binary")
    sys.modules.pop("halfplug_mod", None)


def test_conflict_names_both_and_touches_only_that_key(plugins: Path) -> None:
    registry = Registry()
    with pytest.raises(CodecConflictError) as info:
        registry.lookup("1.0", "dup", "binary")
    assert {p.split()[0] for p in info.value.providers} == {"dupa", "dupb"}
    assert "dupa" in str(info.value) and "dupb" in str(info.value)
    assert registry.lookup("1.0", "memo", "binary") is not None
    rows = [row for row in registry.codecs() if row.key == ("1.0", "dup", "binary")]
    assert len(rows) == 2 and all(row.error for row in rows)
    # An explicit run-time registration settles it.
    chosen = Codec(encode=lambda e: "chosen", decode=lambda m: m)
    registry.register("1.0", "dup", "binary", chosen)
    assert registry.lookup("1.0", "dup", "binary").encode(None) == "chosen"


def test_same_distribution_twice_on_sys_path_counts_once(
    plugins: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    again = tmp_path / "again"
    _dist(again, "fakeplug", {"1.0/memo/binary": "fakeplug_mod:codec"})
    monkeypatch.syspath_prepend(str(again))
    importlib.invalidate_caches()
    assert Registry().lookup("1.0", "memo", "binary") is not None


def test_unknown_key_lists_what_is_available() -> None:
    with pytest.raises(UnknownCodecError) as info:
        cefmt.encode(CloudEvent(id="1", source="/s", type="t"), "carrier-pigeon", "binary")
    assert info.value.key == ("1.0", "carrier-pigeon", "binary")
    assert "1.0/http/binary" in str(info.value) and isinstance(info.value, LookupError)
    with pytest.raises(UnknownCodecError):
        cefmt.decode(b"{}", "carrier-pigeon")


def test_register_overrides_an_entry_point_and_unregister_restores() -> None:
    event = CloudEvent(id="1", source="/s", type="t")
    cefmt.register("1.0", "http", "binary", Codec(encode=lambda e, **o: "mine", decode=lambda m, **o: event))
    assert cefmt.encode(event, "http", "binary") == "mine"
    cefmt.unregister("1.0", "http", "binary")
    assert cefmt.encode(event, "http", "binary").headers["ce-id"] == "1"


def test_runtime_registration_with_a_plain_object() -> None:
    class Memo:
        @staticmethod
        def encode(event: CloudEvent) -> bytes:
            return event.id.encode()

        @staticmethod
        def decode(message: bytes) -> CloudEvent:
            return CloudEvent(id=message.decode(), source="/memo", type="memo")

    cefmt.register("1.0", "memo", "binary", Memo())
    assert cefmt.encode(CloudEvent(id="9", source="/s", type="t"), "memo", "binary") == b"9"
    assert cefmt.decode(b"9", "memo", "binary").id == "9"
    assert any(row.key == ("1.0", "memo", "binary") and row.loaded for row in cefmt.codecs())
    with pytest.raises(cefmt.CloudEventError, match="no callable encode"):
        cefmt.register("1.0", "memo", "binary", object())


def test_builtin_codecs_are_entry_points_of_the_cefmt_distribution() -> None:
    rows = {row.key: row for row in cefmt.codecs() if row.distribution == "cefmt"}
    for version in ("1.0", "0.3"):
        for key in [(version, "http", m) for m in ("binary", "structured", "batch")] + [
            (version, "json", m) for m in ("structured", "batch")
        ]:
            assert key in rows, key


# -- one dispatch path, and codecs that take their registry -------------------------------------------------


class _Shout:
    """An event format known to one registry only."""

    media_type = "application/cloudevents+shout"

    @staticmethod
    def encode(event: CloudEvent) -> bytes:
        return event.id.upper().encode()

    @staticmethod
    def decode(raw: bytes) -> CloudEvent:
        return CloudEvent(id=raw.decode().lower(), source="/shout", type="shout")


def test_a_private_registry_s_formats_serve_its_own_bindings_only() -> None:
    registry = Registry()
    registry.register("1.0", "shout", "structured", _Shout())
    event = CloudEvent(id="ab", source="/s", type="t")
    headers, body = registry.encode(event, "http", "structured", format="shout")
    assert (headers, body) == ({"content-type": "application/cloudevents+shout"}, b"AB")
    assert registry.decode((headers, body), "http").id == "ab"
    # The default registry has never heard of it, in either direction.
    with pytest.raises(UnknownCodecError):
        cefmt.encode(event, "http", "structured", format="shout")
    with pytest.raises(UnknownCodecError):
        cefmt.decode((headers, body), "http")


def test_the_format_a_content_type_names_follows_what_is_registered() -> None:
    registry = Registry()
    json_codec = registry.format_for("application/cloudevents+json; charset=utf-8")
    assert json_codec is registry.find_format("json")
    assert registry.format_for("application/cloudevents-batch+json", "batch") is registry.find_format("json", "batch")
    assert registry.format_for("text/plain") is None and registry.format_for(None) is None
    assert registry.format_for("application/cloudevents-batch+json") is None  # not a structured type
    with pytest.raises(UnknownCodecError):
        registry.format_for("application/cloudevents+shout")
    # Worked out once per value, and worked out again when what is registered changes.
    registry.register("1.0", "shout", "structured", _Shout())
    registry.register("0.3", "shout", "structured", _Shout())
    assert registry.format_for("application/cloudevents+shout") is registry.find_format("shout")
    replacement = _Shout()
    registry.register("1.0", "json", "structured", replacement)
    registry.register("0.3", "json", "structured", replacement)
    assert registry.format_for("application/cloudevents+json; charset=utf-8").decode(b"ab").id == "ab"
    # Content types come from messages: ever-new ones are answered without being kept forever.
    for n in range(2000):
        assert registry.format_for(f"text/x-{n}") is None
    assert len(registry._structured_formats) <= 256


def test_the_sdk_style_functions_honour_a_run_time_registration() -> None:
    from cefmt.http import from_http, to_binary

    event = CloudEvent(id="1", source="/s", type="t")
    mine = Codec(encode=lambda e: ({"ce-specversion": "1.0", "x-mine": "yes"}, b""), decode=lambda m, **o: event)
    cefmt.register("1.0", "http", "binary", mine)
    assert to_binary(event)[0]["x-mine"] == "yes"
    assert from_http({"ce-specversion": "1.0"}, b"") is event


def test_overriding_restores_what_was_registered_whatever_happened_inside() -> None:
    registry = Registry(group="cefmt.none")
    first = Codec(encode=lambda e: 1, decode=lambda m: m)
    registry.register("1.0", "a", "binary", first)
    with registry.overriding({("1.0", "b", "binary"): first}):
        registry.unregister("1.0", "a", "binary")
        registry.register("1.0", "c", "binary", first)
        assert registry.keys() == [("1.0", "b", "binary"), ("1.0", "c", "binary")]
    assert registry.keys() == [("1.0", "a", "binary")]
    with pytest.raises(RuntimeError), registry.overriding():
        registry.register("1.0", "d", "binary", first)
        raise RuntimeError
    assert registry.keys() == [("1.0", "a", "binary")]


USES_REGISTRY_ON_IMPORT = """
import threading
import cefmt

# A plugin whose import asks the registry something from another thread, and waits for the answer.
answers = []
worker = threading.Thread(target=lambda: answers.append(cefmt.default_registry.lookup("1.0", "json", "structured")))
worker.start()
worker.join(timeout=20)
assert answers, "the registry was locked while this plugin was imported"

class codec:
    encode = staticmethod(lambda event: b"")
    decode = staticmethod(lambda raw: None)
"""


def test_a_plugin_may_use_the_registry_from_another_thread_while_it_is_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    _dist(
        site, "threadplug", {"1.0/threaded/binary": "threadplug_mod:codec"}, {"threadplug_mod": USES_REGISTRY_ON_IMPORT}
    )
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    cefmt.default_registry.refresh()
    try:
        assert cefmt.default_registry.lookup("1.0", "threaded", "binary") is not None
    finally:
        sys.modules.pop("threadplug_mod", None)
        cefmt.default_registry.refresh()


def test_from_http_honours_the_callers_limits() -> None:
    from cefmt import Limits, MalformedMessageError
    from cefmt.http import from_http

    headers = {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t"}
    body = b"x" * (17 * 1024 * 1024)
    with pytest.raises(MalformedMessageError, match="exceeds the limit"):
        from_http(headers, body)
    assert from_http(headers, body, limits=Limits(max_message_bytes=32 * 1024 * 1024)).data == body


def test_a_decoder_without_limits_is_not_given_them() -> None:
    registry = Registry()
    registry.register("1.0", "shout", "structured", _Shout())  # its decode takes no limits=
    from cefmt import Limits

    message = registry.encode(CloudEvent(id="ab", source="/s", type="t"), "http", "structured", format="shout")
    assert registry.decode(message, "http", limits=Limits(max_message_bytes=100)).id == "ab"
