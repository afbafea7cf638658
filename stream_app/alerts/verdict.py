"""What a rule says about an account right now, before the lifecycle decides what to publish."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

__all__ = ["SEVERITY_RANK", "Condition", "Metric", "Severity", "Verdict"]

Severity = Literal["info", "warning", "critical"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}


class Condition(StrEnum):
    FIRING = "firing"  # the rule's fire criteria hold
    HOLDING = "holding"  # between the fire and resolve criteria, or not enough data to tell
    CLEAR = "clear"  # the resolve criteria hold


@dataclass(frozen=True, slots=True)
class Metric:
    """The measurement behind a verdict (``AlertMetric`` once published; plain until then,
    since most verdicts publish nothing)."""

    name: str
    current: float | None
    baseline: float | None
    change_pct: float | None
    window: str


@dataclass(frozen=True, slots=True)
class Verdict:
    rule: str
    condition: Condition
    metric: Metric
    title: str = ""
    summary: str = ""
    severity: Severity = "warning"
