"""``cefmt codecs``: the registry, with who provides each key and whether it loads."""

from __future__ import annotations

import argparse
import json

from cefmt import CloudEventError, codecs, default_registry

from ._text import printable

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "codecs",
        help="list the registered codecs and broken plugins",
        description="List every registered codec key with its distribution and entry point. Each codec is "
        "loaded to check it (unless --no-load); broken plugins are named with the reason, and make the "
        "exit status 1.",
    )
    parser.add_argument("--no-load", action="store_true", help="read metadata only; import no plugin")
    parser.add_argument("--json", action="store_true", help="one JSON object per codec")
    parser.set_defaults(run=run, parser=parser)


def run(args: argparse.Namespace) -> int:
    rows = []
    broken = 0
    for info in codecs():
        status = "not loaded" if args.no_load else "loaded"
        error = info.error
        if error is None and not args.no_load:
            try:
                default_registry.lookup(*info.key)
            except CloudEventError as exc:
                error = getattr(exc, "reason", None) or str(exc)
        if error is not None:
            status = f"BROKEN: {error}"
            broken += 1
        elif info.loaded:
            status = "loaded"
        rows.append(("/".join(info.key), info.distribution, info.target, status))
    if args.json:
        for key, distribution, target, status in rows:
            doc = {"key": key, "distribution": distribution, "target": target, "status": status.split(":")[0].lower()}
            if status.startswith("BROKEN"):
                doc["error"] = status.partition(": ")[2]
            print(json.dumps(doc))  # ensure_ascii: every control character is escaped
    else:
        headings = ("KEY", "DISTRIBUTION", "TARGET", "STATUS")
        widths = [max(len(row[i]) for row in [headings, *rows]) for i in range(3)]
        for row in [headings, *rows]:
            line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[3]
            print(printable(line))
        if broken:
            print(f"\n{broken} codec(s) broken")
    return 1 if broken else 0
