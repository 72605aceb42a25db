"""A format plugin whose library is not installed says which extra brings it, through the registry's
PluginLoadError (which names the distribution and chains the cause)."""

from __future__ import annotations

import importlib
import sys

import pytest

import cefmt
from cefmt import CloudEvent, PluginLoadError

CASES = [
    ("cefmt_plugins.cbor_format", "cbor2", "cbor", "cbor"),
    ("cefmt_plugins.avro_format", "fastavro", "avro", "avro"),
    ("cefmt_plugins.avro_format", "fastavro", "avro", "avro-compact"),
    ("cefmt_plugins.xml_format", "defusedxml", "xml", "xml"),
    ("cefmt_plugins.protobuf_format", "google.protobuf", "protobuf", "protobuf"),
]


@pytest.mark.parametrize(("module", "library", "extra", "key"), CASES)
def test_a_missing_library_names_the_extra(
    module: str, library: str, extra: str, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, library, None)  # "not installed"
    monkeypatch.delitem(sys.modules, module, raising=False)
    with pytest.raises(ImportError, match=rf"pip install 'cefmt\[{extra}\]'"):
        importlib.import_module(module)
    registry = cefmt.Registry()  # a fresh one: the default registry keeps what it loaded
    with pytest.raises(PluginLoadError, match=rf"cefmt\[{extra}\]") as info:
        registry.encode(CloudEvent(id="1", source="/s", type="t"), key)
    assert isinstance(info.value.__cause__, ImportError)
