"""The bounded memo behind cefmt's per-content-type decisions."""

from __future__ import annotations

import pytest

from cefmt import MalformedMessageError
from cefmt._memo import Memo


def test_keeps_at_most_size_values_and_still_answers_past_it() -> None:
    calls: list[str] = []

    def upper(key: str) -> str:
        calls.append(key)
        return key.upper()

    memo: Memo[str, str] = Memo(upper, size=2)
    assert [memo[key] for key in ("a", "b", "c", "a", "c")] == ["A", "B", "C", "A", "C"]
    assert dict(memo) == {"a": "A", "b": "B"}
    assert calls == ["a", "b", "c", "c"]  # "a" answered from the memo, "c" worked out each time


def test_a_failure_is_not_kept() -> None:
    def refuse(key: str) -> str:
        raise MalformedMessageError(f"no {key}")

    memo: Memo[str, str] = Memo(refuse)
    for _ in range(2):
        with pytest.raises(MalformedMessageError, match="no x"):
            memo["x"]
    assert not memo
