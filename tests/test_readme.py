"""The README's opening commands and its first code example stay true."""

from __future__ import annotations

import re

from .conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_first_two_blocks_are_the_main_job_and_the_test_suite() -> None:
    blocks = re.findall(r"```bash\n(.*?)```", README, re.DOTALL)
    assert "cefmt convert examples/sample-events.jsonl" in blocks[0]
    assert (REPO / "examples" / "sample-events.jsonl").is_file()
    assert "just test" in blocks[1]
    assert "just test" in (REPO / ".ci" / "run").read_text(encoding="utf-8")


def test_the_use_example_runs() -> None:
    section = README.split("## Use", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None
    exec(compile(code.group(1), "README.md", "exec"), {})
