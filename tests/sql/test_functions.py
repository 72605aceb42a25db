"""User-defined functions: run-time registration, entry-point plugins, the overload rules of CESQL 1.0
section 3.5, and the errors a function can give (3.5.3)."""

from __future__ import annotations

import importlib
import pickle
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import cefmt.sql
from cefmt import CloudEvent
from cefmt.sql import Function, FunctionDefinitionError, FunctionRegistry, Result

EVENT = CloudEvent(type="com.example.t", source="/s", seq="41", note="Hello")


@pytest.fixture
def registry() -> FunctionRegistry:
    return FunctionRegistry(group="cefmt.sql.test-none")


def run(registry: FunctionRegistry, text: str) -> Result:
    return cefmt.sql.compile(text, functions=registry).evaluate(EVENT)


def test_arguments_are_cast_to_the_declared_types(registry: FunctionRegistry) -> None:
    seen: list[tuple[object, ...]] = []

    def record(*args: object) -> str:
        seen.append(args)
        return "ok"

    registry.register("RECORD", record, args=(str, int, bool, object), returns=str)
    assert run(registry, "RECORD(seq + 1, seq, 'true', seq)") == Result("ok")
    assert seen == [("42", 41, True, "41")]
    assert run(registry, "RECORD(1, 'x', TRUE, 1)").error.kind == "cast"  # type: ignore[union-attr]
    assert len(seen) == 1  # a failed cast stops before the call


def test_the_spec_example_my_string_predicate(registry: FunctionRegistry) -> None:
    """Section 3.7: MY_STRING_PREDICATE(sequence + 10) casts sequence to Integer, adds, casts to String."""
    registry.register("MY_STRING_PREDICATE", lambda text: text == "51", args=(str,), returns=bool)
    assert run(registry, "my_string_predicate(seq + 10)") == Result(True)


def test_variadic_and_overloads(registry: FunctionRegistry) -> None:
    registry.register("PICK", lambda: "none", returns=str)
    registry.register("PICK", lambda a: f"one {a}", args=(str,), returns=str)
    registry.register("PICK", lambda a, b, *rest: f"{a}{b}{len(rest)}", args=(str, str), variadic=int, returns=str)
    assert run(registry, "PICK()").value == "none"
    assert run(registry, "PICK(1)").value == "one 1"
    assert run(registry, "PICK(1, 2)").value == "120"
    assert run(registry, "PICK(1, 2, '3', 4)").value == "122"
    assert run(registry, "PICK(1, 2, 'x')").error.kind == "cast"  # type: ignore[union-attr]
    signatures = next(info.signatures for info in registry.functions() if info.name == "PICK")
    assert signatures == ("PICK() -> String", "PICK(String) -> String", "PICK(String, String, Integer...) -> String")


@pytest.mark.parametrize(
    ("first", "second", "reason"),
    [
        ({"args": ()}, {"args": (), "variadic": str}, "the variadic definition has 0 fixed parameters"),
        ({"args": (str, str, str)}, {"args": (str, str, str), "variadic": str}, "needs more than 3"),
    ],
)
def test_overloads_a_call_could_not_tell_apart_are_rejected(
    registry: FunctionRegistry, first: dict[str, object], second: dict[str, object], reason: str
) -> None:
    registry.register("ABC", lambda *a: 1, returns=int, **first)  # type: ignore[arg-type]
    with pytest.raises(FunctionDefinitionError, match=reason):
        registry.register("ABC", lambda *a: 1, returns=int, **second)  # type: ignore[arg-type]
    assert run(registry, "ABC(" + ", ".join("'x'" for _ in first["args"]) + ")").value == 1  # type: ignore[arg-type]


def test_overload_sets_from_a_plugin_are_checked_whole() -> None:
    from cefmt.sql._functions import check_overloads

    one, two = Function(len, args=(), variadic=str, returns=int), Function(len, args=(str,), variadic=int, returns=int)
    with pytest.raises(FunctionDefinitionError, match="more than one variadic"):
        check_overloads("ABC", [one, two])
    with pytest.raises(FunctionDefinitionError, match="two definitions take the same number"):
        check_overloads("ABC", [Function(len, args=(str,), returns=int)] * 2)
    with pytest.raises(FunctionDefinitionError, match="no definition"):
        check_overloads("ABC", [])


def test_a_second_variadic_definition_replaces_the_first(registry: FunctionRegistry) -> None:
    registry.register("V", lambda *a: 1, variadic=str, returns=int)
    registry.register("V", lambda x, *a: 2, args=(str,), variadic=int, returns=int)
    assert run(registry, "V(1)").value == 2
    assert run(registry, "V()").error.kind == "missingFunction"  # type: ignore[union-attr]


def test_the_spec_example_overload_set_is_accepted(registry: FunctionRegistry) -> None:
    registry.register("ABC", len, args=(str,), returns=int)
    registry.register("ABC", lambda x, y: 2, args=(str, str), returns=int)
    registry.register("ABC", lambda x, y, z, *more: 3, args=(str, str, str), variadic=str, returns=int)
    calls = ["ABC(" + ", ".join(["'abcd'"] * count) + ")" for count in (1, 2, 3, 4)]
    assert [run(registry, call).value for call in calls] == [4, 2, 3, 3]
    assert run(registry, "ABC()").error.kind == "missingFunction"  # type: ignore[union-attr]


def test_registering_the_same_arity_again_replaces_it(registry: FunctionRegistry) -> None:
    registry.register("TWICE", lambda x: x * 2, args=(int,), returns=int)
    registry.register("TWICE", lambda x: x + x + 1, args=(int,), returns=int)
    assert run(registry, "TWICE(2)").value == 5


@pytest.mark.parametrize(
    ("name", "options", "reason"),
    [
        ("LENGTH", {"args": (str,), "returns": int}, "is a built-in function"),
        ("int", {"args": (str,), "returns": int}, "is a built-in function"),
        ("has-dash", {"returns": int}, "a function name is letters and '_'"),
        ("F1", {"returns": int}, "a function name is letters and '_'"),
        ("_F", {"returns": int}, "a function name is letters and '_'"),
        ("F", {"args": (float,), "returns": int}, "a parameter type must be one of"),
        ("F", {"variadic": list, "returns": int}, "the variadic type must be one of"),
        ("F", {"returns": object}, "the return type must be one of"),
        ("F", {"returns": float}, "the return type must be one of"),
    ],
)
def test_bad_definitions_are_rejected(
    registry: FunctionRegistry, name: str, options: dict[str, object], reason: str
) -> None:
    with pytest.raises(FunctionDefinitionError, match=reason) as caught:
        registry.register(name, lambda *a: 1, **options)  # type: ignore[arg-type]
    assert isinstance(caught.value, cefmt.CloudEventError)
    with pytest.raises(FunctionDefinitionError, match="call must be callable"):
        Function("not callable", returns=int)  # type: ignore[arg-type]


def test_what_a_failing_function_returns(registry: FunctionRegistry) -> None:
    """Section 3.5.3: a function returns a value of its type even when it fails; a user function that
    raises or returns a wrong value gives the zero value of its return type and a FunctionEvaluationError."""

    def explode(x: str) -> str:
        raise KeyError(x)

    def partial(x: str) -> str:
        raise cefmt.sql.FunctionEvaluationError("only half", value=x[:1])

    registry.register("EXPLODE", explode, args=(str,), returns=str)
    registry.register("PARTIAL", partial, args=(str,), returns=str)
    registry.register("WRONG", lambda: 1.5, returns=int)
    registry.register("BOOLISH", lambda: 1, returns=bool)
    registry.register("HUGE", lambda: 2**40, returns=int)
    registry.register("BADVALUE", lambda: (_ for _ in ()).throw(cefmt.sql.FunctionEvaluationError("x", value=3)),
                      returns=str)  # fmt: skip

    result = run(registry, "EXPLODE(note)")
    assert result.value == "" and result.error.kind == "functionEvaluation"  # type: ignore[union-attr]
    assert str(result.error) == "EXPLODE: raised KeyError: 'Hello'"
    assert isinstance(result.error.__cause__, KeyError)
    assert run(registry, "PARTIAL(note)").value == "H"
    assert str(run(registry, "PARTIAL(note)").error) == "PARTIAL: only half"
    assert run(registry, "PARTIAL(note) = 'H'").value is False  # not at the top: the operator's zero
    assert run(registry, "WRONG()").value == 0
    assert str(run(registry, "WRONG()").error) == "WRONG: returned 1.5, not an Integer"
    assert run(registry, "BOOLISH()").value is False
    assert run(registry, "HUGE()").value == 0
    assert run(registry, "BADVALUE()").value == ""  # the offered value is not a String
    assert not cefmt.sql.compile("PARTIAL(note) = 'H'", functions=registry).matches(EVENT)


def test_a_function_missing_at_compile_time_is_reported_by_each_evaluation_or_at_once(
    registry: FunctionRegistry,
) -> None:
    expr = cefmt.sql.compile("UNKNOWN(1) OR TRUE", functions=registry)
    assert [str(error) for error in expr.unresolved] == ["cannot call UNKNOWN with 1 argument: no such function"]
    assert expr.evaluate(EVENT).error.kind == "missingFunction"  # type: ignore[union-attr]
    with pytest.raises(cefmt.sql.MissingFunctionError, match="UNKNOWN"):
        cefmt.sql.compile("UNKNOWN(1) OR TRUE", functions=registry, strict=True)
    assert cefmt.sql.compile("LENGTH('a') = 1", functions=registry, strict=True).matches(EVENT)


def test_registration_is_seen_by_expressions_compiled_afterwards(registry: FunctionRegistry) -> None:
    before = cefmt.sql.compile("LATER()", functions=registry)
    registry.register("LATER", lambda: True, returns=bool)
    assert before.evaluate(EVENT).error is not None
    assert cefmt.sql.compile("LATER()", functions=registry).matches(EVENT)
    registry.unregister("later")
    assert cefmt.sql.compile("LATER()", functions=registry).evaluate(EVENT).error is not None


def test_the_module_level_functions_use_the_default_registry() -> None:
    cefmt.sql.register_function("SHOUT", str.upper, args=(str,), returns=str)
    try:
        assert cefmt.sql.compile("SHOUT(note)").evaluate(EVENT) == Result("HELLO")
        assert any(info.name == "SHOUT" for info in cefmt.sql.functions())
    finally:
        cefmt.sql.unregister_function("SHOUT")
    assert cefmt.sql.compile("SHOUT(note)").evaluate(EVENT).error is not None


def test_a_registry_pickles_with_its_functions() -> None:
    registry = FunctionRegistry()
    registry.register("SHOUT", str.upper, args=(str,), returns=str)
    expr = cefmt.sql.compile("SHOUT(note) = 'HELLO'", functions=registry)
    copy = pickle.loads(pickle.dumps(expr))
    assert copy.matches(EVENT)


def test_builtins_are_listed_with_signatures() -> None:
    rows = {info.name: info for info in FunctionRegistry(group="cefmt.sql.test-none").functions()}
    assert rows["SUBSTRING"].signatures == (
        "SUBSTRING(String, Integer) -> String",
        "SUBSTRING(String, Integer, Integer) -> String",
    )
    assert rows["CONCAT_WS"].signatures == ("CONCAT_WS(String, String...) -> String",)
    assert rows["INT"].signatures == ("INT(Any) -> Integer",)
    assert {info.distribution for info in rows.values()} == {"cefmt"}
    assert len(rows) == 13


# -- entry points ----------------------------------------------------------------------------------------

GOOD = """
import os
from cefmt.sql import Function
with open(os.environ["SQLPLUG_LOG"], "a") as log:
    log.write("imported\\n")
greet = Function(lambda name: "hi " + name, args=(str,), returns=str)
pad = [
    Function(lambda text: text.rjust(5), args=(str,), returns=str),
    Function(lambda text, width: text.rjust(width), args=(str, int), returns=str),
]
not_a_function = 42
"""


def _dist(root: Path, name: str, entry_points: dict[str, str], modules: dict[str, str] | None = None) -> None:
    info = root / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    lines = "\n".join(f"{key} = {value}" for key, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[cefmt.sql.functions]\n{lines}\n")
    for module, source in (modules or {}).items():
        (root / f"{module}.py").write_text(textwrap.dedent(source))


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    log = tmp_path / "imports.log"
    log.write_text("")
    monkeypatch.setenv("SQLPLUG_LOG", str(log))
    site = tmp_path / "site"
    _dist(site, "sqlplug", {"GREET": "sqlplug_mod:greet", "Pad": "sqlplug_mod:pad", "ODD": "sqlplug_mod:not_a_function"},
          {"sqlplug_mod": GOOD})  # fmt: skip
    _dist(site, "brokensql", {"BROKEN": "brokensql_mod:fn"},
          {"brokensql_mod": "raise ImportError('needs libfoo, which is not installed')"})  # fmt: skip
    _dist(site, "dupa", {"TWIN": "sqlplug_mod:greet"})
    _dist(site, "dupb", {"TWIN": "sqlplug_mod:greet"})
    _dist(site, "oddname", {"not-a-name": "sqlplug_mod:greet", "LENGTH": "sqlplug_mod:greet"})
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    yield log
    for module in ("sqlplug_mod", "brokensql_mod"):
        sys.modules.pop(module, None)


def test_listing_reads_metadata_only(plugins: Path) -> None:
    rows = [info for info in FunctionRegistry().functions() if info.distribution not in ("cefmt",)]
    by_name = {info.name: info for info in rows}
    assert by_name["GREET"].distribution == "sqlplug" and not by_name["GREET"].loaded
    assert by_name["PAD"].target == "sqlplug_mod:pad"
    assert "more than one distribution" in (by_name["TWIN"].error or "")
    assert "is a built-in function" in (by_name["LENGTH"].error or "")
    assert "is not a function name" in (by_name["not-a-name"].error or "")
    assert plugins.read_text() == ""  # nothing imported


def test_a_plugin_is_imported_on_first_use_only(plugins: Path) -> None:
    registry = FunctionRegistry()
    assert cefmt.sql.compile("LENGTH('x') = 1", functions=registry).matches(EVENT)
    assert cefmt.sql.compile("NOSUCH(1) OR TRUE", functions=registry).evaluate(EVENT).error is not None
    assert plugins.read_text() == ""
    assert cefmt.sql.compile("greet(note)", functions=registry).evaluate(EVENT) == Result("hi Hello")
    assert cefmt.sql.compile("PAD('a') = '    a' AND PAD('a', 2) = ' a'", functions=registry).matches(EVENT)
    assert plugins.read_text() == "imported\n"
    assert [info.signatures for info in registry.functions() if info.name == "PAD"] == [
        ("PAD(String) -> String", "PAD(String, Integer) -> String")
    ]


def test_a_broken_plugin_is_named_and_takes_nothing_else_down(plugins: Path) -> None:
    registry = FunctionRegistry()
    expr = cefmt.sql.compile("BROKEN(1)", functions=registry)
    error = expr.evaluate(EVENT).error
    assert isinstance(error, cefmt.sql.MissingFunctionError)
    assert "distribution 'brokensql' (brokensql_mod:fn) failed to load: ImportError: needs libfoo" in str(error)
    assert isinstance(error.__cause__, ImportError)
    odd = cefmt.sql.compile("ODD()", functions=registry).evaluate(EVENT).error
    assert "gives int, not a cefmt.sql.Function" in str(odd)
    twin = cefmt.sql.compile("TWIN('x')", functions=registry).evaluate(EVENT).error
    assert "more than one distribution provides it: dupa (sqlplug_mod:greet), dupb (sqlplug_mod:greet)" in str(twin)
    assert cefmt.sql.compile("LENGTH('abc')", functions=registry).evaluate(EVENT) == Result(3)  # built-in wins
    assert cefmt.sql.compile("GREET('x')", functions=registry).evaluate(EVENT) == Result("hi x")


def test_a_failed_plugin_is_tried_again(plugins: Path, tmp_path: Path) -> None:
    registry = FunctionRegistry()
    assert cefmt.sql.compile("BROKEN(1)", functions=registry).unresolved
    (tmp_path / "site" / "brokensql_mod.py").write_text(
        "from cefmt.sql import Function\nfn = Function(lambda x: x + 1, args=(int,), returns=int)\n"
    )
    sys.modules.pop("brokensql_mod", None)
    importlib.invalidate_caches()
    assert cefmt.sql.compile("BROKEN(1)", functions=registry).evaluate(EVENT) == Result(2)


def test_run_time_registration_takes_precedence_over_an_entry_point(plugins: Path) -> None:
    registry = FunctionRegistry()
    registry.register("GREET", lambda name: "hello " + name, args=(str,), returns=str)
    assert cefmt.sql.compile("GREET('x')", functions=registry).evaluate(EVENT) == Result("hello x")
    assert plugins.read_text() == ""
    registry.unregister("GREET")
    assert cefmt.sql.compile("GREET('x')", functions=registry).evaluate(EVENT) == Result("hi x")
