"""Synthetic traffic for demos, load and tests."""
