"""Runs the cases of ``dropin_cases.py`` through the official SDK's functional API; runs inside the SDK's venv.

SDK 1.x: ``cloudevents.http`` and ``cloudevents.kafka``; SDK 2.x: its compatibility layer with the same
API, ``cloudevents.v1.http`` and ``cloudevents.v1.kafka``. Prints ``{"sdk": VERSION, "results": {name:
result}}`` as JSON. This file imports nothing from cefmt.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from dropin_cases import CASES, run

SDK = version("cloudevents")
ERRORS = ("DataMarshallerError", "DataUnmarshallerError", "KeyMapperError")


def main() -> None:
    if int(SDK.split(".")[0]) < 2:
        from cloudevents import http, kafka
    else:
        from cloudevents.v1 import http, kafka
    results = {
        name: run(
            case, http, kafka, make_event=http.CloudEvent, make_record=kafka.KafkaMessage, text=str, error_names=ERRORS
        )
        for name, case in CASES.items()
    }
    json.dump({"sdk": SDK, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
