"""The CloudEvents SDK's sending example, with only the import changed to ``cefmt.http``.

python examples/sdk_sender.py http://127.0.0.1:3000/
"""

import sys

import requests

from cefmt.http import CloudEvent, to_binary, to_structured


def send(url: str) -> None:
    """Send one event in binary mode and one in structured mode."""
    attributes = {
        "type": "com.example.sampletype1",
        "source": "https://example.com/event-producer",
    }
    data = {"message": "Hello World!"}
    event = CloudEvent(attributes, data)

    headers, body = to_binary(event)
    requests.post(url, data=body, headers=headers, timeout=10).raise_for_status()

    headers, body = to_structured(event)
    requests.post(url, data=body, headers=headers, timeout=10).raise_for_status()
    print(f"sent {event['id']} twice (binary, structured)")


if __name__ == "__main__":
    send(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:3000/")
