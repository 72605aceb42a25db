"""Interop with the official CloudEvents SDK (PyPI ``cloudevents``, 1.x and 2.x), each in its own venv."""
