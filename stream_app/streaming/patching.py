"""Wrapping a faust-streaming method once per process (fetch_guard, standby_seek,
commit_guard).

Each guard patches a library class, so it must be installed exactly once however many engines a
process builds (the tests build many): a second wrap would run the guard twice per call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["wrap_once"]

MARK = "_hs_guarded"


def wrap_once(owner: type, name: str, wrap: Callable[[Any], Any]) -> None:
    """Replace ``owner.name`` with ``wrap(original)`` unless it is wrapped already; the
    original stays reachable as ``__wrapped__`` (the tests that pin its defect call it)."""
    original = getattr(owner, name)
    if getattr(original, MARK, False):
        return
    guarded = wrap(original)
    setattr(guarded, MARK, True)
    guarded.__wrapped__ = original
    setattr(owner, name, guarded)
