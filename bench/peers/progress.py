"""What every peer shares: its spec from the command line and the first-to-last-event clock."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Progress", "load_spec"]


def load_spec() -> dict[str, Any]:
    """``{"bootstrap", "topics", "expected", "measure_seconds", "group", "result", ...}``."""
    return json.loads(sys.argv[1])


@dataclass
class Progress:
    """Counts consumed events; times them from the first to the ``expected``-th, or to the
    last one before ``measure_seconds`` ran out, whichever comes first."""

    expected: int
    result: Path
    measure_seconds: float
    seen: int = 0
    first: float | None = None
    last: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, n: int = 1) -> bool:
        """Count ``n`` more consumed events; True once ``expected`` were seen (result written)."""
        now = time.perf_counter()
        if self.first is None:
            self.first = now
        self.seen += n
        if self.last is not None:
            return True
        if self.seen < self.expected and now - self.first < self.measure_seconds:
            return False
        self.last = now
        seconds = self.last - self.first
        body = {"events": self.seen, "seconds": seconds, "eps": self.seen / seconds}
        body |= {"complete": self.seen >= self.expected} | self.extra
        tmp = self.result.with_suffix(".tmp")
        tmp.write_text(json.dumps(body))
        tmp.replace(self.result)  # the harness polls for the file: never let it see half of it
        return True
