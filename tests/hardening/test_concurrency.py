"""The lazy registry under many threads, and the codecs from a process pool with pickled events."""

from __future__ import annotations

import importlib
import multiprocessing
import pickle
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import cefmt
from cefmt import CloudEvent, Registry, Timestamp
from tests.strategies import json_view
from tests.test_registry import GOOD, _dist

from .cases import VIEWS, Case, cases, decode_case, encode_case, refused

EVENTS = [
    CloudEvent(
        {
            "specversion": version,
            "id": f"e{index}",
            "source": "/s",
            "type": "t",
            "subject": "sübject 😀",
            "time": Timestamp(
                2024, 2, 29, 23, 59, 59, 999999, Timestamp.parse("2020-01-01T00:00:00+05:30").tzinfo, nanosecond=999
            ),
        },
        data,
        count=index,
        flag=True,
        blob=b"\x00\xff",
        at=Timestamp.parse("1970-01-01T00:00:00.000000001Z"),
    )
    for version in cefmt.SPEC_VERSIONS
    for index, data in enumerate([None, b"\x00" * 3000, {"k": [1, 2.5, "é"]}, "text"])
]


def _run_together(count: int, work: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except BaseException as exc:  # noqa: BLE001 - reported below, with the thread's traceback
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def test_first_use_of_every_key_from_sixteen_threads_on_a_fresh_registry() -> None:
    registry = Registry()
    keys = registry.keys()

    def first_use(index: int) -> dict[tuple[str, str, str], int]:
        # Each thread walks the keys from a different start, so every key is first used under contention.
        order = keys[index % len(keys) :] + keys[: index % len(keys)]
        return {key: id(registry.lookup(*key)) for key in order}

    results = _run_together(16, first_use)
    for key in keys:
        assert len({result[key] for result in results}) == 1, f"threads got different codecs for {key}"


def test_decode_with_detection_from_sixteen_threads_on_a_fresh_registry() -> None:
    registry = Registry()
    event = EVENTS[2]
    messages = {t: cefmt.encode(event, t, "structured") for t in ("json", "http")}

    def use(index: int) -> CloudEvent:
        transport = ("json", "http")[index % 2]
        return registry.decode(messages[transport], transport)  # type: ignore[no-any-return]

    assert all(result == json_view(event) for result in _run_together(16, use))


def test_two_keys_of_one_plugin_from_sixteen_threads_import_it_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "imports.log"
    log.write_text("")
    monkeypatch.setenv("FAKEPLUG_LOG", str(log))
    site = tmp_path / "site"
    _dist(site, "twokeys", {"1.0/memo/binary": "twokeys_mod:codec", "0.3/memo/binary": "twokeys_mod:codec"},
          {"twokeys_mod": GOOD})  # fmt: skip
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    try:
        registry = Registry()
        results = _run_together(16, lambda i: registry.lookup(("1.0", "0.3")[i % 2], "memo", "binary"))
        assert log.read_text() == "imported\n"
        assert len({id(codec.encode) for codec in results}) == 1
    finally:
        sys.modules.pop("twokeys_mod", None)


# -- a process pool ---------------------------------------------------------------------------------------


def _encode_all(payload: bytes) -> bytes:
    """In a worker: unpickle events, encode them with every case, pickle the messages back."""
    events, all_cases = pickle.loads(payload)
    out = []
    for case in all_cases:
        for event in events:
            if event.specversion == case[0] and not refused(case, event):  # refusals: tests/hardening/cases.py
                out.append((case, event.id, encode_case([event] if case[2] == "batch" else event, case)))
    return pickle.dumps(out)


def _decode_all(payload: bytes) -> bytes:
    """In a worker: decode messages the parent encoded."""
    messages = pickle.loads(payload)
    return pickle.dumps([(case, event_id, decode_case(message, case)) for case, event_id, message in messages])


def _check(case: Case, event_id: str, decoded: Any) -> None:
    sent = next(e for e in EVENTS if e.id == event_id and e.specversion == case[0])
    got = decoded[0] if case[2] == "batch" else decoded
    view = VIEWS.get(case[1:])
    assert got == view(sent) if view is not None else got.id == sent.id


def test_codecs_from_a_process_pool_with_pickled_events() -> None:
    assert all(pickle.loads(pickle.dumps(event)) == event for event in EVENTS)
    all_cases = cases()
    # spawn: each worker starts from a clean interpreter and discovers the codecs itself.
    with ProcessPoolExecutor(max_workers=4, mp_context=multiprocessing.get_context("spawn")) as pool:
        chunks = [pickle.dumps((EVENTS[i::4], all_cases)) for i in range(4)]
        encoded = [item for blob in pool.map(_encode_all, chunks) for item in pickle.loads(blob)]
        expected = [
            (case, e) for case in all_cases for e in EVENTS if e.specversion == case[0] and not refused(case, e)
        ]
        assert len(encoded) == len(expected)
        for case, event_id, message in encoded:  # workers' messages decode here
            _check(case, event_id, decode_case(message, case))
        ours = [(case, event_id, message) for case, event_id, message in encoded]
        decoded = [item for blob in pool.map(_decode_all, [pickle.dumps(ours[i::4]) for i in range(4)])
                   for item in pickle.loads(blob)]  # fmt: skip
    assert len(decoded) == len(encoded)
    for case, event_id, event in decoded:  # and ours decode there
        _check(case, event_id, event)
