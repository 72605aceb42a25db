"""The benchmark suite: cefmt (accelerated and pure Python) against its Python peers and the stdlib floor.

    python benchmarks/run.py            # the full run (several minutes), writes benchmarks/RESULTS.md
    python benchmarks/run.py --docs     # ... and the section of docs/performance.md between the bench markers
    python benchmarks/run.py --quick    # a smoke run of a few seconds (CI): prints its table, writes no file

Peers: the official CloudEvents SDK 2.x and 1.x and cloudevents-pydantic, each in a virtual environment
of its own, created on first use under ``$CEFMT_BENCH_VENVS`` (default ``~/.cache/cefmt-bench``). Every
implementation runs in its own process (``benchmarks/_worker.py``); processes alternate, A B C D A B C
D ..., and every figure is the median over rounds. Each process also times the *floor* beside its own
tasks (the standard library with cefmt's own shortcuts, see _worker.py), so that the ratio to the floor
is taken under the same conditions as the time it divides. The headline is ratios measured in one run.
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

#: Each peer's virtual environment: directory name, pip requirement, import to time.
PEERS = {
    "sdk2": ("sdk2", "cloudevents==2.2.0", "import cloudevents.core.bindings.http"),
    "sdk1": ("sdk1", "cloudevents>=1,<2", "import cloudevents.http"),
    "pydantic": ("pydantic", "cloudevents-pydantic==0.2.0", "import cloudevents_pydantic.bindings.http"),
}
LABELS = {
    "cefmt": "cefmt", "cefmt-pure": "cefmt, pure Python", "sdk2": "SDK 2.x", "sdk1": "SDK 1.x",
    "pydantic": "cloudevents-pydantic",
}  # fmt: skip

SMALL = ("readme", "typical")
HTTP_ROWS = [f"http {mode} {way}, {shape}" for shape in (*SMALL, "10kb") for mode in ("binary", "structured")
             for way in ("encode", "decode")]  # fmt: skip
ORDER = [
    *HTTP_ROWS,
    "json batch encode, 1000",
    "json batch decode, 1000",
    "kafka binary encode, readme",
    "kafka binary decode, readme",
    "msgpack structured encode, readme",
    "msgpack structured decode, readme",
    "create event, readme",
]


def floor_target(task: str) -> float | None:
    """At most this many times the floor (the issue's targets), or None."""
    if task.startswith("http ") and task.endswith(SMALL):
        return 1.5 if " decode," in task else 1.2
    if task.startswith("http ") and task.endswith("10kb"):
        return 1.1
    if task.startswith("json batch"):
        return 1.3
    return None


def peer_target(task: str, peer: str) -> float:
    """At least this many times faster than ``peer`` (1.0: never slower)."""
    if peer == "sdk2" and task.startswith("http ") and task.endswith(SMALL):
        return 3.0
    if peer == "pydantic":
        return 1.5
    return 1.0


IMPORT_TARGET = 1.2
MEMORY_TARGET = 0.6  # retained bytes per decoded event, against SDK 2.x


# -- environments -----------------------------------------------------------------------------------------


def venv_root() -> Path:
    return Path(os.environ.get("CEFMT_BENCH_VENVS") or Path.home() / ".cache" / "cefmt-bench")


def peer_python(impl: str) -> Path:
    """The interpreter of a peer's virtual environment, created and filled on first use."""
    name, requirement, statement = PEERS[impl]
    venv = venv_root() / name
    python = venv / "bin" / "python"
    probe = [str(python), "-c", statement]
    if python.exists() and subprocess.run(probe, check=False, capture_output=True).returncode == 0:
        return python
    print(f"creating {venv} with {requirement} ...", file=sys.stderr)
    venv.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", requirement], check=True)
    return python


def command_of(impl: str) -> tuple[list[str], dict[str, str]]:
    """How to start a worker for ``impl``: the interpreter and worker name, and the environment."""
    env = {key: value for key, value in os.environ.items() if key != "CEFMT_PURE"}
    if impl == "cefmt":
        return [sys.executable, "-W", "ignore", str(WORKER), "cefmt"], env
    if impl == "cefmt-pure":
        return [sys.executable, "-W", "ignore", str(WORKER), "cefmt"], {**env, "CEFMT_PURE": "1"}
    return [str(peer_python(impl)), "-W", "ignore", str(WORKER), impl], env


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
    command, env = command_of(impl)
    done = subprocess.run([*command, *extra], check=False, capture_output=True, text=True, cwd=ROOT, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{impl} worker failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


Samples = dict[str, dict[str, list[float]]]


def alternate(impls: list[str], rounds: int, extra: list[str]) -> tuple[Samples, Samples, dict[str, str]]:
    """Every implementation once per round, the order rotating: per task, its times and its ratios to
    the floor timed in the same process, one per round."""
    times: Samples = {impl: {} for impl in impls}
    ratios: Samples = {impl: {} for impl in impls}
    versions: dict[str, str] = {}
    for round_no in range(rounds):
        shift = round_no % len(impls)
        for impl in impls[shift:] + impls[:shift]:
            started = time.perf_counter()
            out = run_worker(impl, extra)
            versions[impl] = out["version"]
            for task, seconds in out["results"].items():
                times[impl].setdefault(task, []).append(seconds)
                if task in out["floor"]:
                    ratios[impl].setdefault(task, []).append(seconds / out["floor"][task])
                    times.setdefault("floor", {}).setdefault(task, []).append(out["floor"][task])
            print(f"  round {round_no + 1}/{rounds} {impl:10} {time.perf_counter() - started:5.1f}s", file=sys.stderr)
    return times, ratios, versions


IMPORT_SNIPPET = "import time; t = time.perf_counter(); {}; print(time.perf_counter() - t)"


def import_times(impls: dict[str, tuple[Path, str]], runs: int) -> dict[str, float]:
    """Median seconds of an import statement in a fresh interpreter, the interpreters alternating."""
    found: dict[str, list[float]] = {name: [] for name in impls}
    env = {key: value for key, value in os.environ.items() if key != "CEFMT_PURE"}
    # An installed package carries its bytecode (pip compiles it), and so do the peers' virtual environments;
    # a checkout gets it on its first import, or never under PYTHONDONTWRITEBYTECODE. Compile cefmt's too, so
    # that every import timed here reads bytecode rather than compiling source.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "cefmt")], check=True)
    for _ in range(runs):
        for name, (python, statement) in impls.items():
            done = subprocess.run(
                [str(python), "-c", IMPORT_SNIPPET.format(statement)],
                capture_output=True,
                text=True,
                check=True,
                env=env,
            )
            found[name].append(float(done.stdout))
    return {name: statistics.median(values) for name, values in found.items()}


# -- the report -------------------------------------------------------------------------------------------


def _x(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}x"


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:,.1f} µs"


def _verdict(ok: list[bool]) -> str:
    return "—" if not ok else ("yes" if all(ok) else "**no**")


def render(
    times: Samples,
    ratios: Samples,
    versions: dict[str, str],
    *,
    imports: dict[str, float],
    memory: dict[str, dict[str, float]],
    memory_events: int,
    settings: str,
) -> str:
    med = {impl: {task: statistics.median(v) for task, v in tasks.items()} for impl, tasks in times.items()}
    vs_floor = {impl: {task: statistics.median(v) for task, v in tasks.items()} for impl, tasks in ratios.items()}
    cefmt, floor = med.get("cefmt", {}), med.get("floor", {})
    peers = [impl for impl in PEERS if impl in med]
    peer_names = ", ".join(f"{LABELS[p]}: {versions.get(p, 'not run')}" for p in peers)
    lines = [
        f"Measured {datetime.now(timezone.utc):%Y-%m-%d} on {machine()}; Python {platform.python_version()}; "
        f"{versions.get('cefmt', 'cefmt')} (attrs {version('attrs')}, cattrs {version('cattrs')}, "
        f"msgpack {version('msgpack')}); {peer_names}. {settings}",
        "",
        "*vs floor*: cefmt's time over the floor's, timed in the same process (lower is better; the floor is "
        "the standard library doing the job with cefmt's own shortcuts and no validation). *Peer* columns: the "
        "peer's time, and how many times faster cefmt is. Decoding includes reading `event.data`. *met*: every "
        "target of the row (floor, ≥3x SDK 2.x on small HTTP rows, ≥1.5x cloudevents-pydantic, never slower "
        "than any peer).",
        "",
        "| task | cefmt | vs floor (target) | pure Python: time, vs floor | "
        + " | ".join(LABELS[p] for p in peers)
        + " | met |",
        "| --- | ---: | ---: | ---: | " + " | ".join("---:" for _ in peers) + " | :-: |",
    ]
    for task in ORDER:
        if task not in cefmt:
            continue
        mine = cefmt[task]
        checks: list[bool] = []
        ratio = vs_floor.get("cefmt", {}).get(task)
        target = floor_target(task)
        if ratio is not None and target is not None:
            checks.append(ratio <= target)
        floor_cell = "—" if ratio is None else f"{_x(ratio)}" + (f" (≤ {target:g}x)" if target else "")
        pure = med.get("cefmt-pure", {}).get(task)
        pure_ratio = vs_floor.get("cefmt-pure", {}).get(task)
        pure_cell = "—" if pure is None else f"{_us(pure)}, {_x(pure_ratio)}"
        cells = []
        for peer in peers:
            theirs = med[peer].get(task)
            if theirs is None:
                cells.append("—")
                continue
            faster = theirs / mine
            wanted = peer_target(task, peer)
            checks.append(faster >= wanted)
            mark = "" if faster >= wanted else " ✗"
            cells.append(f"{_us(theirs)}, {faster:.2f}x{mark}")
        lines.append(
            f"| {task} | {_us(mine)} | {floor_cell} | {pure_cell} | {' | '.join(cells)} | {_verdict(checks)} |"
        )
    if floor:
        lines += ["", "Floor times (median over every process): " + "; ".join(
            f"{task}: {_us(seconds)}" for task, seconds in floor.items() if task in ORDER[:16]
        ) + "."]  # fmt: skip
    if imports:
        base = imports.get("attrs")
        lines += ["", "| import (fresh interpreter, median) | time | vs `import attrs` | target | met |"]
        lines.append("| --- | ---: | ---: | ---: | :-: |")
        for name, seconds in imports.items():
            ratio = seconds / base if base else None
            is_cefmt = name == "cefmt"
            target = f"≤ {IMPORT_TARGET:.2f}x" if is_cefmt else "—"
            met = _verdict([ratio <= IMPORT_TARGET]) if is_cefmt and ratio is not None else "—"
            lines.append(f"| `import {name}` | {seconds * 1e3:.1f} ms | {_x(ratio)} | {target} | {met} |")
    if memory:
        sdk2 = memory.get("sdk2", {}).get("retained")
        lines += [
            "",
            f"| {memory_events:,} decoded events kept (fresh messages) | retained per event | vs SDK 2.x | target "
            "| one full collection with them alive |",
            "| --- | ---: | ---: | ---: | ---: |",
        ]
        for impl, found in memory.items():
            ratio = found["retained"] / sdk2 if sdk2 else None
            target = f"≤ {MEMORY_TARGET:g}x" if impl == "cefmt" else "—"
            met = "" if impl != "cefmt" or ratio is None else (" (met)" if ratio <= MEMORY_TARGET else " (**not met**)")
            lines.append(
                f"| {LABELS[impl]} | {found['retained']:,.0f} B | {_x(ratio)}{met} | {target} "
                f"| {found['full_collection'] * 1e3:,.1f} ms |"
            )
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
    parser.add_argument(
        "--impls",
        default="cefmt,cefmt-pure,sdk2,sdk1,pydantic",
        help="comma-separated (cefmt,cefmt-pure,sdk2,sdk1,pydantic)",
    )
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
    unknown = set(impls) - set(LABELS)
    if unknown:
        parser.error(f"unknown implementations: {', '.join(sorted(unknown))}")
    rounds = args.rounds or (2 if args.quick else 7)
    min_time, samples = (0.002, 3) if args.quick else (0.04, 5)
    memory_events = 5_000 if args.quick else 100_000
    import_runs = 3 if args.quick else 15
    extra = ["--min-time", str(min_time), "--samples", str(samples)]
    for task in args.task:
        extra += ["--task", task]
    started = time.perf_counter()

    print(f"timing {', '.join(impls)}: {rounds} alternating rounds", file=sys.stderr)
    times, ratios, versions = alternate(impls, rounds, extra)

    print("import times", file=sys.stderr)
    statements = {"cefmt": (Path(sys.executable), "import cefmt"), "attrs": (Path(sys.executable), "import attrs")}
    for impl in PEERS:
        if impl in impls:
            statement = PEERS[impl][2]
            statements[statement.removeprefix("import ")] = (peer_python(impl), statement)
    imports = import_times(statements, import_runs) if not args.task else {}

    print(f"memory of {memory_events:,} decoded events", file=sys.stderr)
    memory = {}
    if not args.task:
        for impl in impls:
            memory[impl] = run_worker(impl, ["--memory-events", str(memory_events)])["memory"]

    settings = (
        f"Medians of {rounds} alternating runs per implementation, each the median of {samples} samples of "
        f"≥{min_time * 1e3:g} ms{' (quick mode: smoke figures only)' if args.quick else ''}."
    )
    table = render(
        times, ratios, versions, imports=imports, memory=memory, memory_events=memory_events, settings=settings
    )
    print(table)
    if output is not None:
        output.write_text("# Benchmark results\n\nRegenerate with `just bench`.\n\n" + table, encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)
    if update and not update_docs(table):
        print(f"docs/performance.md has no {START} ... {END} section: left unchanged", file=sys.stderr)
    print(f"done in {time.perf_counter() - started:.0f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
