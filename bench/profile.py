"""py-spy on the running engine worker, and a readable summary of where its time went.

py-spy samples the worker from outside (``--nonblocking``: the worker is never paused), so the
profiled run pays only a few percent. The summary lists functions by *inclusive* share (the
fraction of samples with the function anywhere on the stack) and by *self* share (the fraction
where it is the innermost frame).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Profiler", "format_summary", "summarise"]


class Profiler:
    def __init__(self, pid: int, output: Path, rate: int = 97) -> None:
        self.output = output
        spy = Path(sys.executable).with_name("py-spy")
        self.process = subprocess.Popen(
            [
                str(spy),
                "record",
                "--pid",
                str(pid),
                "--rate",
                str(rate),
                "--format",
                "raw",
                "--function",
                "--nonblocking",
                "--output",
                str(output),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> Path:
        """Ctrl-C is how py-spy is told to write what it has."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGINT)
            self.process.wait(60)
        return self.output


@dataclass(frozen=True)
class Row:
    function: str
    inclusive: float
    self_share: float


def _frame_name(frame: str) -> str:
    # "apply (stream_app/engine/core.py:101)" -> "stream_app/engine/core.py:apply"
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/work/", "lib/python3."):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{path}:{name}"


def summarise(raw: Path, top: int = 25) -> tuple[int, list[Row], list[Row]]:
    """(samples, top by inclusive share, top by self share) from py-spy's raw output."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = [_frame_name(f) for f in stack.split(";")]
        total += count
        own[frames[-1]] += count
        for name in set(frames):
            inclusive[name] += count

    def rows(counter: Counter[str]) -> list[Row]:
        return [
            Row(name, inclusive[name] / total, own[name] / total)
            for name, _ in counter.most_common(top)
        ]

    return total, rows(inclusive), rows(own)


def format_summary(raw: Path, top: int = 25) -> str:
    total, by_inclusive, by_self = summarise(raw, top)
    lines = [f"py-spy: {total} samples", "", "inclusive  self   function"]
    lines += [f"{r.inclusive:8.1%} {r.self_share:6.1%}   {r.function}" for r in by_inclusive]
    lines += ["", "self    inclusive  function"]
    lines += [f"{r.self_share:6.1%} {r.inclusive:8.1%}   {r.function}" for r in by_self]
    return "\n".join(lines)
