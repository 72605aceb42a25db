"""``convert(..., workers=N)``: the same output, errors, dead letters and counts as one process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cefmt.stream import RecordError, Stats, _parallel, convert, convert_file

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sample-events.jsonl"


@pytest.fixture
def small_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tasks of 500 records, so that a few thousand make a real pool with several tasks in flight.
    monkeypatch.setattr(_parallel, "TASK_RECORDS", 500)


def _mixed() -> bytes:
    lines = SAMPLE.read_bytes().splitlines(keepends=True)[:2000]
    for at in (3, 777, 1500, 1999):
        lines[at] = b'{"specversion":"1.0","id":"bad","source":"/s","type":"t","time":"lunchtime"}\n'
    lines[1200] = b"not json\n"
    return b"".join(lines)


def _run(workers: int, **options: Any) -> tuple[bytes, Stats, list[Any]]:
    stats = Stats()
    dead: list[Any] = []
    if options.get("on_error") == "dead_letter":
        options["dead_letter"] = dead.append
    out = b"".join(convert([_mixed()], "json", options.pop("dst", "msgpack"), stats=stats, workers=workers, **options))
    return out, stats, dead


@pytest.mark.parametrize("dst", ["msgpack", "http", "json-array"])
def test_the_output_and_counts_are_those_of_one_process(small_tasks: None, dst: str) -> None:
    one, one_stats, one_dead = _run(1, on_error="dead_letter", dst=dst)
    two, two_stats, two_dead = _run(2, on_error="dead_letter", dst=dst)
    assert two == one
    for name in ("records", "events_in", "events_out", "messages_out", "dead_lettered", "bytes_in"):
        assert getattr(two_stats, name) == getattr(one_stats, name), name
    assert [(bad.position, bad.stage, str(bad.error)) for bad in two_dead] == [
        (bad.position, bad.stage, str(bad.error)) for bad in one_dead
    ]


def test_skip_and_where_count_as_one_process_does(small_tasks: None) -> None:
    _, one, _ = _run(1, on_error="skip", where="EXISTS subject")
    _, two, _ = _run(2, on_error="skip", where="EXISTS subject")
    assert (two.skipped, two.filtered, two.events_out) == (one.skipped, one.filtered, one.events_out)
    assert two.skipped == 5 and two.filtered > 0


def test_fail_stops_at_the_same_record_with_the_same_output_before_it(small_tasks: None) -> None:
    def until_failure(workers: int) -> tuple[bytes, str]:
        out: list[bytes] = []
        with pytest.raises(RecordError) as info:
            for chunk in convert([_mixed()], "json", "msgpack", workers=workers):
                out.append(chunk)
        return b"".join(out), str(info.value)

    one, two = until_failure(1), until_failure(2)
    assert two[1] == one[1] and "record 4" in one[1]
    assert two[0] == one[0]


def test_convert_file_with_workers(small_tasks: None, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(SAMPLE.read_bytes())
    one, two = tmp_path / "one.msgpack", tmp_path / "two.msgpack"
    convert_file(source, one, "json", "msgpack")
    stats = convert_file(source, two, "json", "msgpack", workers=2)
    assert two.read_bytes() == one.read_bytes() and stats.events_out == 3000


def test_a_bad_worker_count_is_refused() -> None:
    with pytest.raises(Exception, match="workers must be a whole number of at least 1"):
        next(convert([b""], "json", "msgpack", workers=0))


def test_an_input_of_one_task_starts_no_pool_and_imports_none() -> None:
    # multiprocessing and concurrent.futures cost a third of importing cefmt.stream: a conversion that
    # needs no pool (one task, or workers=1) must not pay for them.
    import subprocess
    import sys

    code = (
        "import sys; from cefmt.stream import convert; "
        f"lines = open({str(SAMPLE)!r}, 'rb').readlines()[:300]; "
        "out = b''.join(convert([b''.join(lines)], 'json', 'msgpack', workers=4)); "
        "print(len(out) > 0, 'multiprocessing' in sys.modules, 'concurrent.futures' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "False", "False"]
