"""cefmt_plugins is written with the public kit only, as a third party would write it: every module
imports ``cefmt`` / ``cefmt.codec``, the standard library, msgpack and attrs (both core dependencies), the
field library of its own extra (cbor2, fastavro, defusedxml, protobuf and grpcio-tools, pyarrow, pyspark),
and nothing private."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import cefmt_plugins

PLUGINS = Path(cefmt_plugins.__file__).parent
ALLOWED = {"cefmt", "cefmt.codec", "cefmt_plugins", "msgpack", "attrs"}  # attrs: a core dependency, for records
#: The field libraries plugins bring in through their extras (pyproject.toml): a plugin may import its own.
FIELD_LIBRARIES = {"cbor2", "fastavro", "defusedxml", "google", "grpc_tools", "pyarrow", "pyspark"}


def _imports(path: Path) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # a relative import stays inside cefmt_plugins
                found.append((node.lineno, "cefmt_plugins"))
            else:
                assert node.module is not None
                found.append((node.lineno, node.module))
                # `from cefmt import _registry` would reach a private module through the front door
                found.extend((node.lineno, f"{node.module}.{a.name}") for a in node.names if a.name.startswith("_"))
    return found


def _allowed(module: str) -> bool:
    top = module.split(".", maxsplit=1)[0]
    if module in ALLOWED or top in sys.stdlib_module_names or top == "__future__" or top in FIELD_LIBRARIES:
        return True
    return top == "cefmt_plugins" and not any(part.startswith("_") for part in module.split(".")[1:])


@pytest.mark.parametrize("path", sorted(PLUGINS.rglob("*.py")), ids=lambda p: str(p.relative_to(PLUGINS)))
def test_plugins_import_only_public_names(path: Path) -> None:
    bad = [f"line {line}: {module}" for line, module in _imports(path) if not _allowed(module)]
    assert not bad, f"{path.name} imports beyond the public kit: {bad}"


def test_the_checker_catches_a_private_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("from cefmt._registry import Codec\nfrom cefmt import _event\nimport cefmt.codec\n")
    assert [m for _, m in _imports(sample) if not _allowed(m)] == ["cefmt._registry", "cefmt._event"]


def test_every_plugin_module_is_checked() -> None:
    assert {str(p.relative_to(PLUGINS)) for p in PLUGINS.rglob("*.py")} >= {
        "kafka.py", "msgpack_format.py", "cbor_format.py", "xml_format.py", "avro_format/__init__.py",
        "protobuf_format/__init__.py",
    }  # fmt: skip


def _private_attributes(path: Path) -> list[tuple[int, str]]:
    """``thing._name`` reached on anything but ``self`` or ``cls``: another object's private parts."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                continue
            found.append((node.lineno, ast.unparse(node)))
    return found


@pytest.mark.parametrize("path", sorted(PLUGINS.rglob("*.py")), ids=lambda p: str(p.relative_to(PLUGINS)))
def test_plugins_reach_no_private_attribute(path: Path) -> None:
    # A third party's plugin cannot rely on cefmt's private attributes (event._data, extensions._items):
    # neither do ours.
    bad = [f"line {line}: {text}" for line, text in _private_attributes(path)]
    assert not bad, f"{path.name} reaches private attributes: {bad}"


def test_the_checker_catches_a_private_attribute(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("class A:\n    def f(self, event):\n        return self._x, event._data, event.__class__\n")
    assert [text for _, text in _private_attributes(sample)] == ["event._data"]
