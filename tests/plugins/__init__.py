"""Tests of the first-party plugins in cefmt_plugins, each reached through the registry only."""
