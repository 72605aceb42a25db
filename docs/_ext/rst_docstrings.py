"""A griffe extension for the API reference (docs/api.md): cefmt's docstrings are written for ``help()`` and
doctest, in reStructuredText's small habits; mkdocstrings renders Markdown. This turns, in each docstring:

* a ``>>>`` example (up to the next blank line) into a fenced ``pycon`` block;
* a paragraph ending in ``::`` and the indented block after it into a fenced ``python`` block;
* ``:func:`~cefmt.decode``` and the other roles into inline code (``decode``; the full name without ``~``);
* ``double backquotes`` into single ones.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

import griffe

_ROLE = re.compile(r":(?:func|class|meth|data|attr|mod|exc|obj|const):`(~?)([^`]+)`")
_LITERAL = re.compile(r"``([^`]+?)``")


def _inline(line: str) -> str:
    line = _ROLE.sub(lambda m: f"`{m.group(2).rsplit('.', 1)[-1] if m.group(1) else m.group(2)}`", line)
    return _LITERAL.sub(r"`\1`", line)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def markdown(text: str) -> str:
    """One docstring, from its reStructuredText habits to Markdown."""
    lines = text.splitlines()
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.lstrip().startswith(">>>"):
            block = []
            while index < len(lines) and lines[index].strip():
                block.append(lines[index])
                index += 1
            out += ["```pycon", *textwrap.dedent("\n".join(block)).splitlines(), "```"]
            continue
        if line.rstrip().endswith("::") and line.strip() != "::":
            out.append(_inline(line.rstrip()[:-1]))
            base = _indent(line)
            index += 1
            block = []
            while index < len(lines) and (not lines[index].strip() or _indent(lines[index]) > base):
                block.append(lines[index])
                index += 1
            out += ["", "```python", *textwrap.dedent("\n".join(block)).strip("\n").splitlines(), "```", ""]
            continue
        out.append(_inline(line))
        index += 1
    return "\n".join(out)


class RestructuredText(griffe.Extension):
    """Rewrites every docstring griffe loads (see the module docstring)."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown(obj.docstring.value)
