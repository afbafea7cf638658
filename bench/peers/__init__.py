"""The engine's peers, each a standalone process: ``python -m bench.peers.<name> SPEC_JSON``.

Every peer consumes the same preloaded input topics until it has seen ``expected`` events, then
writes ``{"events", "seconds", "eps"}`` (first to last event consumed, timed in-process) to the
``result`` path of its spec. The Quix peer runs in its own virtualenv (see bench/README.md), so
nothing here may import ``stream_app`` or third-party packages at module level.
"""
