"""A census of the accounts a worker owns: how many per band, how scores are spread, which
are lowest. It feeds the customer-base gauges (``healthscore_accounts``, ``_coverage_ratio``,
``_accounts_by_score``, ``_account_score``).

Pure: it reads :class:`AccountState` through the engine's :class:`StateStore`, whose ``keys()``
lists only the accounts of partitions this worker owns as an *active*. Standby copies are left
out, so summing a gauge over all workers counts every account exactly once.

Cost: one pass over the owned accounts (about 0.1 s per 100k in CPython), run on a timer
(``HS_CENSUS_INTERVAL``), never per event.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stream_app.engine.core import StateStore

__all__ = ["SCORE_BUCKETS", "UNSCORED", "Census", "take_census"]

UNSCORED = "unscored"  # the band of a known account without a score yet
# Upper bounds of the score distribution: tens, aligned with the band borders (40, 70).
SCORE_BUCKETS = tuple(float(bound) for bound in range(10, 101, 10))


@dataclass(frozen=True)
class Census:
    by_band: dict[str, int] = field(default_factory=dict)  # band (or UNSCORED) -> accounts
    per_bucket: tuple[int, ...] = (0,) * len(SCORE_BUCKETS)  # scores in (prev bound, bound]
    lowest: tuple[tuple[str, float], ...] = ()  # (account_id, score), lowest first
    score_sum: float = 0.0  # over scored accounts: with `scored`, the mean score

    @property
    def known(self) -> int:
        return sum(self.by_band.values())

    @property
    def scored(self) -> int:
        return self.known - self.by_band.get(UNSCORED, 0)

    @property
    def coverage(self) -> float:
        """Scored / known; 1.0 with no accounts at all (nothing is unscored)."""
        return self.scored / self.known if self.known else 1.0

    def scores_at_most(self) -> list[tuple[float, int]]:
        """Cumulative counts per upper bound, like a Prometheus histogram's buckets."""
        total, cumulative = 0, []
        for bound, count in zip(SCORE_BUCKETS, self.per_bucket, strict=True):
            total += count
            cumulative.append((bound, total))
        return cumulative


def take_census(store: StateStore, lowest: int = 0) -> Census:
    """Count the owned accounts of ``store``; keep the ``lowest`` lowest scores (0: none)."""
    by_band: dict[str, int] = {}
    per_bucket = [0] * len(SCORE_BUCKETS)
    scores: list[tuple[float, str]] = []
    score_sum = 0.0
    for account_id in store.keys():  # noqa: SIM118 - a StateStore, not a dict: owned only
        state = store.get(account_id)
        if state is None:
            continue
        if state.last_score is None or state.last_band is None:
            by_band[UNSCORED] = by_band.get(UNSCORED, 0) + 1
            continue
        by_band[state.last_band] = by_band.get(state.last_band, 0) + 1
        per_bucket[bisect_left(SCORE_BUCKETS, state.last_score)] += 1
        score_sum += state.last_score
        if lowest:
            scores.append((state.last_score, account_id))
    riskiest = heapq.nsmallest(lowest, scores) if lowest else []
    return Census(
        by_band=by_band,
        per_bucket=tuple(per_bucket),
        lowest=tuple((account_id, score) for score, account_id in riskiest),
        score_sum=score_sum,
    )
