"""What the commands print about their input reaches the terminal with every control character escaped."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from cefmt.cli._text import excerpt, printable, printable_json

from .conftest import run

ESCAPES = ("\x1b", "\x07", "\x9b", "\r", "\u202e")


def assert_inert(output: bytes) -> str:
    text = output.decode("utf-8")
    for char in ESCAPES:
        assert char not in text, f"{char!r} reached the terminal raw"
    return text


def test_validate_escapes_a_header_name_from_the_input(tmp_path: Path) -> None:
    message = {
        "headers": {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t", "ce-x\x1b[31m": "v"},
        "body": "",
    }
    path = tmp_path / "messages.jsonl"
    path.write_text(json.dumps(message) + "\n")
    result = run("validate", str(path), "--from", "http")
    assert result.returncode == 1
    assert "ce-x\\x1b[31m" in assert_inert(result.stdout)


def test_validate_json_report_escapes_c1_controls_and_stays_the_same_json(tmp_path: Path) -> None:
    record = '{"specversion":"1.0","id":"x\u009b31m\u202e","source":"/s","type":"t","time":"later"}'
    path = tmp_path / "events.jsonl"
    path.write_text(record + "\n", encoding="utf-8")
    result = run("validate", str(path), "--json")
    assert result.returncode == 1
    line = assert_inert(result.stdout).strip()
    assert "\\u009b31m\\u202e" in line and json.loads(line)["record"] == record


def test_inspect_escapes_the_data_preview(tmp_path: Path) -> None:
    event = {"specversion": "1.0", "id": "1", "source": "/s", "type": "t", "data": {"k": "\u009b31m\x1b]0;title\x07"}}
    path = tmp_path / "events.jsonl"
    path.write_text(json.dumps(event, ensure_ascii=False) + "\n", encoding="utf-8")
    result = run("inspect", str(path))
    assert result.returncode == 0, result.stderr
    assert '{"k":"\\x9b31m\\u001b]0;title\\u0007"}' in assert_inert(result.stdout)


@given(st.text())
def test_printable_leaves_no_control_character(text: str) -> None:
    shown = printable(text)
    assert not any(unicodedata.category(char) in ("Cc", "Cs") for char in shown)
    shown.encode("utf-8")  # no lone surrogate left to fail on
    assert printable(shown) == shown or "\\" in text  # escaping is stable on its own output
    assert "\n" not in excerpt(text)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(),
        lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    )
)
def test_printable_json_is_the_same_json_value(value: object) -> None:
    line = json.dumps(value, ensure_ascii=False)
    try:
        line.encode("utf-8")
    except UnicodeEncodeError:
        return  # a lone surrogate: not JSON text anyone could print
    shown = printable_json(line)
    assert json.loads(shown) == value
    assert not any(0x7F <= ord(char) <= 0x9F for char in shown)
