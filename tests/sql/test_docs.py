"""docs/sql.md stays true: every Python block runs as written (``>>>`` sessions as doctests, the others as
code), every ``sql`` block compiles, and the page names every error class and built-in function."""

from __future__ import annotations

import doctest
import re

import pytest

import cefmt.sql
from cefmt.sql._builtins import BUILTINS
from tests.conftest import REPO

PAGE = REPO / "docs" / "sql.md"
TEXT = PAGE.read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", TEXT, re.DOTALL)


def test_the_sessions_run_as_shown() -> None:
    result = doctest.testfile(str(PAGE), module_relative=False, optionflags=doctest.ELLIPSIS, encoding="utf-8")
    assert result.attempted >= 20
    assert result.failed == 0


@pytest.mark.parametrize("code", [code for kind, code in BLOCKS if kind == "python" and ">>>" not in code])
def test_the_code_blocks_run(code: str) -> None:
    exec(compile(code, "docs/sql.md", "exec"), {})


@pytest.mark.parametrize("text", [code for kind, code in BLOCKS if kind == "sql"])
def test_the_sql_examples_compile(text: str) -> None:
    assert cefmt.sql.compile(text).canonical


def test_every_block_is_checked() -> None:
    kinds = {kind for kind, _ in BLOCKS}
    assert kinds <= {"python", "sql", "ebnf", "toml", "bash"}  # bash blocks run in tests/test_docs.py
    assert sum(kind == "python" for kind, _ in BLOCKS) >= 8


def test_the_page_names_every_error_class_and_builtin() -> None:
    errors = [name for name in cefmt.sql.__all__ if name.endswith("Error")]
    assert len(errors) == 10
    assert [name for name in errors if f"`cefmt.sql.{name}`" not in TEXT] == []
    assert [name for name in BUILTINS if f"`{name}(" not in TEXT] == []


def test_the_benchmark_table_is_filled_in() -> None:
    assert "BENCHMARK-TABLE" not in TEXT
    assert "| `type LIKE 'com.example.%' AND EXISTS subject` |" in TEXT
