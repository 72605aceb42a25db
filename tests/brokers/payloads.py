"""What the smoke tests send: bytes no text codec would pass through untouched, and header values to match."""

from __future__ import annotations

#: Every byte value once, then a NUL and a lone UTF-8 continuation byte: a client or broker that decodes,
#: strips or re-encodes the body changes it.
RAW_BODY = bytes(range(256)) + b"\x00\x80 end"

#: Header / property values with non-ASCII text, as a CloudEvents binding would carry attributes.
TEXT_HEADERS = {
    "ce_specversion": "1.0",
    "ce_id": "smoke-1",
    "ce_source": "https://example.com/brokers",
    "ce_type": "com.example.smoke",
    "ce_subject": "naïve/☃",
}

CONTENT_TYPE = "application/octet-stream"
