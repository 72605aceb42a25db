"""The benchmark suite: cefmt against the official CloudEvents SDK (2.x and 1.x) and the bare stdlib floor.

    python benchmarks/run.py            # the full run (a few minutes), writes benchmarks/RESULTS.md
    python benchmarks/run.py --docs     # ... and the section of docs/performance.md between the bench markers
    python benchmarks/run.py --quick    # a smoke run of a few seconds (CI): prints its table, writes no file

Each implementation runs in its own process (``benchmarks/_worker.py``): cefmt and the floor with this
interpreter, each SDK with the interpreter of its own virtual environment, which is created on first
use under ``$CEFMT_BENCH_VENVS`` (default ``~/.cache/cefmt-bench``). Processes alternate, A B C D A B
C D ..., and every figure is the median over rounds. The headline is ratios, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORKER = HERE / "_worker.py"
RESULTS = HERE / "RESULTS.md"
PERFORMANCE = ROOT / "docs" / "performance.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"

#: Each SDK's virtual environment: directory name and pip requirement (the latest release of the line).
SDKS = {"sdk2": ("sdk2", "cloudevents>=2,<3"), "sdk1": ("sdk1", "cloudevents>=1,<2")}
SDK_IMPORTS = {"sdk2": "import cloudevents.core.bindings.http", "sdk1": "import cloudevents.http"}

# task: (at most this many times the floor, at least this many times faster than each SDK); None = no target
TARGETS: dict[str, tuple[float | None, float | None]] = {
    "http binary encode, small": (1.5, 3.0),
    "http binary decode, small": (1.5, 3.0),
    "http structured encode, small": (1.5, 1.6),
    "http structured decode, small": (1.5, 3.0),
    "http binary encode, 10kb": (1.15, 1.0),
    "http binary decode, 10kb": (1.15, 1.0),
    "http structured encode, 10kb": (1.15, 1.0),
    "http structured decode, 10kb": (1.15, 1.0),
    "json batch encode, 1000": (1.3, None),
    "json batch decode, 1000": (1.3, None),
}
IMPORT_TARGET = 1.2
ORDER = [
    *TARGETS,
    "kafka binary encode, small",
    "kafka binary decode, small",
    "msgpack structured encode, small",
    "msgpack structured decode, small",
    "create event, small",
]


# -- environments -----------------------------------------------------------------------------------------


def venv_root() -> Path:
    return Path(os.environ.get("CEFMT_BENCH_VENVS") or Path.home() / ".cache" / "cefmt-bench")


def sdk_python(impl: str) -> Path:
    """The interpreter of an SDK's virtual environment, created and filled on first use."""
    name, requirement = SDKS[impl]
    venv = venv_root() / name
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import cloudevents"]
    if python.exists() and subprocess.run(probe, check=False, capture_output=True).returncode == 0:
        return python
    print(f"creating {venv} with {requirement} ...", file=sys.stderr)
    venv.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", requirement], check=True)
    return python


def interpreter(impl: str) -> Path:
    return Path(sys.executable) if impl in ("cefmt", "floor") else sdk_python(impl)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


# -- running workers --------------------------------------------------------------------------------------


def run_worker(impl: str, extra: list[str]) -> dict[str, Any]:
    command = [str(interpreter(impl)), "-W", "ignore", str(WORKER), impl, *extra]
    done = subprocess.run(command, check=False, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{impl} worker failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def alternate(impls: list[str], rounds: int, extra: list[str]) -> tuple[dict[str, dict[str, float]], dict[str, str]]:
    """Every implementation once per round, the order rotating; the median per task over rounds."""
    samples: dict[str, dict[str, list[float]]] = {impl: {} for impl in impls}
    versions: dict[str, str] = {}
    for round_no in range(rounds):
        shift = round_no % len(impls)
        for impl in impls[shift:] + impls[:shift]:
            started = time.perf_counter()
            out = run_worker(impl, extra)
            versions[impl] = out["version"]
            for task, seconds in out["results"].items():
                samples[impl].setdefault(task, []).append(seconds)
            print(f"  round {round_no + 1}/{rounds} {impl:5} {time.perf_counter() - started:5.1f}s", file=sys.stderr)
    medians = {impl: {task: statistics.median(v) for task, v in tasks.items()} for impl, tasks in samples.items()}
    return medians, versions


IMPORT_SNIPPET = "import time; t = time.perf_counter(); {}; print(time.perf_counter() - t)"


def import_times(impls: dict[str, tuple[Path, str]], runs: int) -> dict[str, float]:
    """Median seconds of an import statement in a fresh interpreter, the interpreters alternating."""
    found: dict[str, list[float]] = {name: [] for name in impls}
    for _ in range(runs):
        for name, (python, statement) in impls.items():
            done = subprocess.run(
                [str(python), "-c", IMPORT_SNIPPET.format(statement)], capture_output=True, text=True, check=True
            )
            found[name].append(float(done.stdout))
    return {name: statistics.median(values) for name, values in found.items()}


# -- the report -------------------------------------------------------------------------------------------


def _x(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}x"


def _verdict(ok: list[bool]) -> str:
    return "—" if not ok else ("yes" if all(ok) else "**no**")


def render(
    times: dict[str, dict[str, float]],
    versions: dict[str, str],
    *,
    imports: dict[str, float],
    memory: dict[str, float],
    memory_events: int,
    settings: str,
) -> str:
    cefmt, floor = times.get("cefmt", {}), times.get("floor", {})
    sdk2, sdk1 = times.get("sdk2", {}), times.get("sdk1", {})
    lines = [
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d} on {machine()}; Python {platform.python_version()}; "
        f"{versions.get('cefmt', 'cefmt')} (attrs {version('attrs')}, cattrs {version('cattrs')}, "
        f"msgpack {version('msgpack')}); SDK 2.x: {versions.get('sdk2', 'not run')}; "
        f"SDK 1.x: {versions.get('sdk1', 'not run')}. {settings}",
        "",
        "*vs floor*: cefmt's time over the standard library doing the same work without validation (lower is "
        "better). *vs SDK*: the SDK's time over cefmt's (how many times faster cefmt is). Decoding includes "
        "reading `event.data`.",
        "",
        "| task | vs floor | target | vs SDK 2.x | vs SDK 1.x | target | met | cefmt | floor |",
        "| --- | ---: | ---: | ---: | ---: | ---: | :-: | ---: | ---: |",
    ]
    for task in ORDER:
        if task not in cefmt:
            continue
        mine = cefmt[task]
        max_floor, min_sdk = TARGETS.get(task, (None, None))
        vs_floor = mine / floor[task] if task in floor else None
        vs_sdk2 = sdk2[task] / mine if task in sdk2 else None
        vs_sdk1 = sdk1[task] / mine if task in sdk1 else None
        checks = []
        if max_floor is not None and vs_floor is not None:
            checks.append(vs_floor <= max_floor)
        if min_sdk is not None:
            checks.extend(ratio >= min_sdk for ratio in (vs_sdk2, vs_sdk1) if ratio is not None)
        lines.append(
            f"| {task} | {_x(vs_floor)} | {'≤ ' + _x(max_floor) if max_floor else '—'} | {_x(vs_sdk2)} | "
            f"{_x(vs_sdk1)} | {'≥ ' + _x(min_sdk) if min_sdk else '—'} | {_verdict(checks)} | "
            f"{mine * 1e6:,.1f} µs | {floor[task] * 1e6:,.1f} µs |"
            if task in floor
            else f"| {task} | — | — | {_x(vs_sdk2)} | {_x(vs_sdk1)} | — | — | {mine * 1e6:,.1f} µs | — |"
        )
    if imports:
        base = imports.get("attrs, cattrs, msgpack")
        header = "| import (fresh interpreter, median) | time | vs `import attrs, cattrs, msgpack` | target | met |"
        lines += ["", header]
        lines.append("| --- | ---: | ---: | ---: | :-: |")
        for name, seconds in imports.items():
            ratio = seconds / base if base else None
            is_cefmt = name == "cefmt"
            target = f"≤ {IMPORT_TARGET:.2f}x" if is_cefmt else "—"
            met = _verdict([ratio <= IMPORT_TARGET]) if is_cefmt and ratio is not None else "—"
            lines.append(f"| `import {name}` | {seconds * 1e3:.1f} ms | {_x(ratio)} | {target} | {met} |")
    if memory:
        lines += ["", f"| peak memory, {memory_events:,} decoded small events kept | total | per event | vs cefmt |"]
        lines.append("| --- | ---: | ---: | ---: |")
        for impl, peak in memory.items():
            ratio = peak / memory["cefmt"] if "cefmt" in memory else None
            label = {"cefmt": "cefmt", "floor": "floor (dicts)", "sdk2": "SDK 2.x", "sdk1": "SDK 1.x"}[impl]
            lines.append(f"| {label} | {peak / 2**20:.1f} MiB | {peak / memory_events:,.0f} B | {_x(ratio)} |")
    return "\n".join(lines) + "\n"


def update_docs(table: str) -> bool:
    """Replace what lies between the bench markers of docs/performance.md; False when the markers are missing."""
    text = PERFORMANCE.read_text(encoding="utf-8")
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        return False
    PERFORMANCE.write_text(text[: start + len(START)] + "\n" + table + text[end:], encoding="utf-8")
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    parser.add_argument("--impls", default="cefmt,floor,sdk2,sdk1", help="comma-separated (cefmt,floor,sdk2,sdk1)")
    parser.add_argument("--rounds", type=int, help="alternating rounds (default 7, quick 2)")
    parser.add_argument("--task", action="append", default=[], help="only this task (repeatable)")
    parser.add_argument(
        "--output", type=Path, help=f"markdown file to write (default {RESULTS.relative_to(ROOT)}; none with --quick)"
    )
    parser.add_argument(
        "--docs", action="store_true", help="also update the section of docs/performance.md between the markers"
    )
    args = parser.parse_args()
    # A smoke run's figures are not results: it leaves every tracked file as it is.
    output = args.output if args.output is not None or args.quick else RESULTS
    update = args.docs and not args.quick
    if args.docs and args.quick:
        print("--quick: docs/performance.md is left as it is (smoke figures are not results)", file=sys.stderr)

    impls = [impl for impl in args.impls.split(",") if impl]
    rounds = args.rounds or (2 if args.quick else 7)
    min_time, samples = (0.002, 3) if args.quick else (0.04, 5)
    memory_events = 5_000 if args.quick else 100_000
    import_runs = 3 if args.quick else 15
    extra = ["--min-time", str(min_time), "--samples", str(samples)]
    for task in args.task:
        extra += ["--task", task]
    started = time.perf_counter()

    print(f"timing {', '.join(impls)}: {rounds} alternating rounds", file=sys.stderr)
    times, versions = alternate(impls, rounds, extra)

    print("import times", file=sys.stderr)
    statements = {"cefmt": (Path(sys.executable), "import cefmt")}
    statements["attrs, cattrs, msgpack"] = (Path(sys.executable), "import attrs, cattrs, msgpack")
    for impl in ("sdk2", "sdk1"):
        if impl in impls:
            statements[SDK_IMPORTS[impl].removeprefix("import ")] = (sdk_python(impl), SDK_IMPORTS[impl])
    imports = import_times(statements, import_runs) if not args.task else {}

    print(f"peak memory of {memory_events:,} decoded events", file=sys.stderr)
    memory = {}
    if not args.task:
        for impl in impls:
            memory[impl] = run_worker(impl, ["--memory-events", str(memory_events)])["memory"]

    settings = (
        f"Medians of {rounds} alternating runs per implementation, each the median of {samples} samples of "
        f"≥{min_time * 1e3:g} ms{' (quick mode: smoke figures only)' if args.quick else ''}."
    )
    table = render(times, versions, imports=imports, memory=memory, memory_events=memory_events, settings=settings)
    print(table)
    if output is not None:
        output.write_text("# Benchmark results\n\nRegenerate with `just bench`.\n\n" + table, encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)
    if update and not update_docs(table):
        print(f"docs/performance.md has no {START} ... {END} section: left unchanged", file=sys.stderr)
    print(f"done in {time.perf_counter() - started:.0f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
