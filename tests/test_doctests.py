"""Every docstring example in cefmt and cefmt_plugins runs and gives what it shows."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import cefmt
import cefmt_plugins


def _modules() -> list[str]:
    names = []
    for package in (cefmt, cefmt_plugins):
        names.append(package.__name__)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
            names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"


def _type_checking_docstrings(module: object) -> dict[str, str]:
    """Docstrings of functions defined for type checkers only (``if TYPE_CHECKING:``): doctest cannot
    reach them through the module, since the names are bound to other objects at run time."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(module))  # type: ignore[arg-type]
    found = {}
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and (text := ast.get_docstring(item, clean=False)):
                    found[item.name] = text
    return found


def test_docstring_examples_of_the_typed_signatures() -> None:
    from cefmt import _api

    docstrings = _type_checking_docstrings(_api)
    assert {"encode", "decode"} <= set(docstrings)
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for name, text in docstrings.items():
        runner.run(parser.get_doctest(text, dict(vars(_api)), f"cefmt._api.{name}", _api.__file__, 0))
    assert runner.failures == 0 and runner.tries >= 4
