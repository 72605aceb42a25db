"""The CloudEvents SDK's Flask receiving example, with only the import changed to ``cefmt.http``.

python examples/sdk_receiver.py 3000
"""

import sys

from flask import Flask, request

from cefmt.http import from_http

app = Flask(__name__)


@app.route("/", methods=["POST"])
def home() -> tuple[str, int]:
    """Read the event from the request, whichever content mode it uses."""
    event = from_http(request.headers, request.get_data())
    print(
        f"Found {event['id']} from {event['source']} with type "
        f"{event['type']} and specversion {event['specversion']} data {event.data}",
        flush=True,
    )
    return "", 204


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
