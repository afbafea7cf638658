"""Serving: the worker's HTTP endpoints (and, from the scoring issue on, Redis)."""
