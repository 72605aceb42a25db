"""Each format's page in docs/formats/ runs as written: its Python blocks execute verbatim, and it has
the type mapping (every CloudEvents type, both ways)."""

from __future__ import annotations

import contextlib
import io
import re

import pytest

from tests.conftest import REPO

PAGES = ["protobuf", "avro", "avro-compact", "xml", "cbor"]
TYPES = ["Boolean", "Integer", "String", "Binary", "URI", "URI-reference", "Timestamp"]


def _page(name: str) -> str:
    return (REPO / "docs" / "formats" / f"{name}.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", PAGES)
def test_the_example_runs_verbatim(name: str) -> None:
    blocks = re.findall(r"```python\n(.*?)```", _page(name), re.DOTALL)
    assert blocks, f"docs/formats/{name}.md has no Python example"
    for block in blocks:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(block, f"docs/formats/{name}.md", "exec"), {})


@pytest.mark.parametrize("name", PAGES)
def test_the_page_maps_every_cloudevents_type(name: str) -> None:
    table = _page(name).split("| CloudEvents type |", 1)[1].split("\n\n", 1)[0]
    rows = [line.split("|")[1].strip() for line in table.splitlines()[2:]]
    mapped = {part.strip().split(" ")[0] for row in rows for part in row.split(",")}
    assert set(TYPES) <= mapped, f"docs/formats/{name}.md does not map {set(TYPES) - mapped}"
