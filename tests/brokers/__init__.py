"""Smoke tests of the test brokers: raw bytes with headers or properties through each real broker and client."""
