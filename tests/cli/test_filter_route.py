"""``cefmt convert --where``, ``--route EXPR=OUT --otherwise OUT`` and ``--data-types``, as real processes."""

from __future__ import annotations

import json
from pathlib import Path

from cefmt.stream import read_events

from .conftest import SAMPLE, run


def _types() -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in SAMPLE.read_bytes().splitlines():
        kind = json.loads(line)["type"]
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def test_where_keeps_matching_events_and_the_summary_counts_the_rest(tmp_path: Path) -> None:
    first = sorted(_types())[0]
    out = tmp_path / "out.jsonl"
    result = run("convert", str(SAMPLE), str(out), "--to", "json", "--where", f"type = '{first}'")
    assert result.returncode == 0, result.stderr
    kept = list(read_events(out, "json"))
    assert len(kept) == _types()[first] and {event.type for event in kept} == {first}
    assert f"{3000 - len(kept)} filtered out" in result.stderr.decode()


def test_a_bad_expression_is_a_usage_error_naming_the_position(tmp_path: Path) -> None:
    result = run("convert", str(SAMPLE), str(tmp_path / "out.jsonl"), "--to", "json", "--where", "type LIKE")
    assert result.returncode == 2
    assert b"--where 'type LIKE'" in result.stderr and b"position" in result.stderr
    assert not (tmp_path / "out.jsonl").exists()


def test_route_splits_one_pass_into_outputs_with_counts(tmp_path: Path) -> None:
    kinds = sorted(_types())
    first, second = tmp_path / "first.msgpack", tmp_path / "second.jsonl"
    rest = tmp_path / "rest.jsonl"
    result = run(
        "convert", str(SAMPLE), "--to", "msgpack",
        "--route", f"type = '{kinds[0]}'={first}",
        "--route", f"type = '{kinds[1]}' OR type = '{kinds[0]}'={second}",
        "--otherwise", str(rest),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    counts = _types()
    assert len(list(read_events(first, "msgpack"))) == counts[kinds[0]]
    assert {e.type for e in read_events(second, "msgpack")} == {kinds[1]}  # the first match wins
    assert len(list(read_events(rest, "msgpack"))) == 3000 - counts[kinds[0]] - counts[kinds[1]]
    summary = result.stderr.decode()
    assert f"routed {counts[kinds[0]]} to {first}, {counts[kinds[1]]} to {second}" in summary


def test_route_usage_errors(tmp_path: Path) -> None:
    out = str(tmp_path / "o.jsonl")
    assert run("convert", str(SAMPLE), out, "--to", "json", "--route", f"true={out}").returncode == 2
    assert run("convert", str(SAMPLE), "--to", "json", "--route", "no-equals-sign").returncode == 2
    assert run("convert", str(SAMPLE), "--to", "json", "--route", f"true={out}", "--otherwise", out).returncode == 2
    assert run("convert", str(SAMPLE), "--to", "json").returncode == 2  # no output at all


def test_data_types_from_a_module_and_what_does_not_fit(tmp_path: Path) -> None:
    (tmp_path / "mytypes.py").write_text(
        "import attrs\n\n@attrs.frozen\nclass Reading:\n    celsius: float\n\nTYPES = {'com.example.reading': Reading}\n"
    )
    lines = (
        b'{"specversion":"1.0","id":"1","source":"/s","type":"com.example.reading","data":{"celsius":21.5}}\n'
        b'{"specversion":"1.0","id":"2","source":"/s","type":"com.example.reading","data":{"celsius":"warm"}}\n'
        b'{"specversion":"1.0","id":"3","source":"/s","type":"com.example.other","data":{"x":1}}\n'
    )
    source = tmp_path / "in.jsonl"
    source.write_bytes(lines)
    dead = tmp_path / "dead.jsonl"
    result = run("convert", str(source), str(tmp_path / "out.jsonl"), "--to", "json", "--data-types", "mytypes:TYPES",
                 "--dead-letter", str(dead), cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["id"] for line in (tmp_path / "out.jsonl").read_bytes().splitlines()] == ["1", "3"]
    report = json.loads(dead.read_text())
    assert report["error_type"] == "InvalidDataError" and "data.celsius: expected float, got 'warm'" in report["error"]
    refused = run("validate", str(source), "--data-types", "mytypes:TYPES", "--other-types", "refuse", cwd=tmp_path)
    assert refused.returncode == 1 and b"no data type for event type 'com.example.other'" in refused.stdout
    missing = run("validate", str(source), "--data-types", "nosuchmodule:X", cwd=tmp_path)
    assert missing.returncode == 2 and b"cannot import nosuchmodule" in missing.stderr
