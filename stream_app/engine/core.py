"""The engine's core loop, shared by the live worker and the offline backtest.

``apply`` takes a validated record into its account's state; ``tick`` re-scores the accounts
whose state or windows moved and returns the health scores and risk alerts worth publishing.
Nothing here knows Faust, Kafka or Redis: state lives behind :class:`StateStore` (a
changelog-backed table live, a dict offline), alert states behind :class:`AlertStore`, and the
caller sends what ``tick`` returns.

Scheduling, so that 100k accounts are never scanned every second:
- an account touched by an event is *dirty* and re-scored on the next tick (this also
  debounces a burst of events into one evaluation);
- after each evaluation an account is *due* again when the current UTC day of event time has
  closed (midnight plus the grace for late events), when its windows move, until its state has
  aged out completely ("silence is a signal");
- a tick evaluates every dirty account and at most ``due_budget`` due ones, so a midnight with
  many accounts is spread over several ticks.

Catch-up (the input read since the last tick more than ``catchup_lag`` behind the wall clock,
e.g. a month of backlog):
the scores published on the way are stale the moment they are sent, and re-scoring was most of
the worker's time, so a tick then evaluates at most ``catchup_budget`` touched accounts
(longest-waiting first, the rest stay dirty and absorb more events) and no due ones (the NSM
detector judges every closed day on the next evaluation anyway). Accounts given tickets or
surveys have just the rules that read those (urgent-ticket burst, detractor) judged on the
next tick, without a score: a burst must not age out of its window while its account waits.
Once caught up, accounts with new events are evaluated on every tick as before, and those left
dirty by the catch-up (or by a recovery) at ``catchup_budget`` per tick next to them, so the end
of a catch-up does not hold fresh scores back behind thousands of stale ones. Each event is also
judged on its own time: a live one has its account scored on the next tick even in a backlog.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from pydantic import BaseModel

from stream_app.clock import Clock
from stream_app.contracts.inputs import InputEvent, ProductUsageEvent, SurveyEvent, TicketEvent
from stream_app.contracts.outputs import DeadLetter, HealthScore, RiskAlert
from stream_app.engine.alerting import AccountAlerting, AlertStore
from stream_app.ingest import Ingestor, IngestResult, Outcome, RawRecord
from stream_app.scoring import (
    PreviousScore,
    ScoreResult,
    ScoringConfig,
    score_account,
    to_health_score,
)
from stream_app.state import AccountState, WindowSpec, day_of
from stream_app.state.spec import DAY_SECONDS

__all__ = ["EngineCore", "Published", "StateStore"]

SCORE_STEP = 1.0  # DESIGN §4: emit when the score moves by at least one point
MIN_SPARE = 4  # background evaluations per tick however busy: due accounts are never starved


class StateStore(Protocol):
    def get(self, account_id: str) -> AccountState | None: ...
    def put(self, account_id: str, state: AccountState) -> None: ...
    def keys(self) -> Iterable[str]: ...
    def owns(self, account_id: str) -> bool:
        """False for accounts whose partition this worker only holds as a standby."""
        ...


@dataclass
class DictStateStore:
    """State in a plain dict: the backtest's store, and the unit tests'."""

    data: dict[str, AccountState]

    def get(self, account_id: str) -> AccountState | None:
        return self.data.get(account_id)

    def put(self, account_id: str, state: AccountState) -> None:
        self.data[account_id] = state

    def keys(self) -> Iterable[str]:
        return self.data.keys()

    def owns(self, account_id: str) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class Published:
    """What one tick publishes: scores worth sending, and alerts already stored (live, the
    alert store's write is the publication; the caller only counts them)."""

    scores: list[HealthScore]
    alerts: list[RiskAlert]


class EngineCore:
    def __init__(
        self,
        ingestor: Ingestor,
        scoring: ScoringConfig,
        spec: WindowSpec,
        store: StateStore,
        alert_store: AlertStore,
        wall_clock: Clock,
        due_budget: int = 40,
        lane_of: Callable[[str], int] = lambda account_id: 0,
        catchup_lag: float | None = None,
        catchup_budget: int = 25,
    ) -> None:
        self.ingestor = ingestor
        self.scoring = scoring
        self.spec = spec
        self.store = store
        self.alerting = AccountAlerting(scoring, spec, alert_store)
        self.wall_clock = wall_clock
        self.due_budget = due_budget
        self.catchup_lag = catchup_lag  # seconds; None: never in catch-up (the backtest)
        self.catchup_budget = catchup_budget
        self.evaluations = 0  # accounts evaluated so far (the bench's evaluations per event)
        self.watermark = float("-inf")  # newest event time seen (epoch seconds)
        # Newest usage event time per lane (the live worker's partition): partitions are read
        # at different speeds in a backlog, so a day is complete for an account only once
        # *its* partition's usage has moved past it, not once the fastest partition's has.
        self.lane_of = lane_of
        self._usage_time: dict[int, float] = {}
        # dirty accounts in the order they became dirty; True: evaluate on the next tick (a
        # non-usage event, or any event while not catching up), False: may wait its turn
        self._dirty: dict[str, bool] = {}
        # midnight re-scores, a heap per lane: an account comes due when *its* lane's clock
        # passes its due time, so a silent account's days are judged once they are complete
        # in its partition, whichever partition the watermark came from
        self._due: dict[int, list[tuple[float, str]]] = {}
        self._due_at: dict[str, float] = {}
        # accounts evaluated before their lane's clock was known (after a restart, until the
        # replay reads usage of their partition): evaluated again once it is
        self._awaiting_lane: dict[int, set[str]] = {}
        # the newest event time read since the last tick: how far behind the input is
        self._newest_since_tick = float("-inf")
        # accounts a catch-up gave tickets or surveys: their event-driven alert rules are
        # judged on the next tick even if their full evaluation waits its turn
        self._event_rules_due: set[str] = set()
        # recovered accounts whose score is published on their next evaluation even if it
        # has not moved: what a crash lost between the scores topic and Redis is sent again
        self._republish: set[str] = set()

    # ------------------------------------------------------------------ input side

    def validate(self, kind: str, record: RawRecord) -> BaseModel | DeadLetter:
        return self.ingestor.validate(kind, record)

    def apply(self, kind: str, record: RawRecord, model: BaseModel) -> IngestResult:
        account_id: str = model.account_id  # type: ignore[attr-defined]
        state = self.store.get(account_id) or AccountState()
        result = self.ingestor.admit(record, model, state.ledger_for(kind))
        # The lane clock says how far the account's partition has been read, in its own order.
        # A re-keyed record comes from another partition, maybe days ahead, so it never moves
        # it. A duplicate read in lane order does: after a restart the partition is replayed
        # from the committed offset, and a replayed record's effect is already in its state.
        in_lane_order = record.partition == self.lane_of(account_id)
        if result.outcome is Outcome.DUPLICATE and in_lane_order:
            self.observe(model)
        if result.outcome in (Outcome.DUPLICATE, Outcome.INVALID):
            return result
        state.apply(model, self.spec)
        self.store.put(account_id, state)
        self.observe(model, in_lane_order=in_lane_order)
        # an event from a backlog waits its turn (a score published for it is stale anyway);
        # judged per event, as the topics of a backlog are read at different speeds
        backlog = (
            self._behind(model.occurred_at.timestamp())
            if isinstance(model, InputEvent)
            else self.catching_up
        )
        if backlog and isinstance(model, TicketEvent | SurveyEvent):
            self._event_rules_due.add(account_id)
        if not self._dirty.get(account_id, False):
            self._dirty[account_id] = not backlog
        return result

    def observe(self, model: BaseModel, *, in_lane_order: bool = True) -> None:
        """Let ``model``'s event time move the clocks (also for events another shard applies);
        a usage event moves its lane's clock only if it arrived in the lane's own order."""
        if not isinstance(model, InputEvent):
            return
        timestamp = model.occurred_at.timestamp()
        self._newest_since_tick = max(self._newest_since_tick, timestamp)
        self.watermark = max(self.watermark, timestamp)
        if in_lane_order and isinstance(model, ProductUsageEvent):
            self._move_lane_clock(self.lane_of(model.account_id), timestamp)

    def _move_lane_clock(self, lane: int, timestamp: float) -> None:
        if lane not in self._usage_time:
            for account_id in self._awaiting_lane.pop(lane, ()):
                self._dirty.setdefault(account_id, False)
        self._usage_time[lane] = max(self._usage_time.get(lane, timestamp), timestamp)

    @property
    def lane_clocks(self) -> dict[int, float]:
        """Each lane's clock as of now (a copy), for the store to keep with the states."""
        return dict(self._usage_time)

    def ingest(self, kind: str, record: RawRecord) -> IngestResult:
        validated = self.validate(kind, record)
        if isinstance(validated, DeadLetter):
            return IngestResult(Outcome.INVALID, dead_letter=validated)
        return self.apply(kind, record, validated)

    def advance_watermark(self, timestamp: float) -> None:
        """Move event time forward without an event (a live worker whose inputs went quiet)."""
        self.watermark = max(self.watermark, timestamp)
        for lane, usage_time in self._usage_time.items():
            self._usage_time[lane] = max(usage_time, timestamp)

    def recover(self, lane_clocks: Mapping[int, float]) -> None:
        """After the store was rebuilt (a restart or new partitions): re-score every account,
        publishing its score once even if it has not moved (a crash can lose a score on its
        way to Redis), and resume event time where the recovered state left it.

        Lane clocks resume from ``lane_clocks``, those the store kept after the states their
        usage produced (a partition's lane mark), never from the states themselves: a crash
        in the middle of a flush can leave one account's state further on than another's of
        the same partition, and the newest would close the other's days without their events
        (the fault suite saw a steady account fire a critical NSM alert). The replay from the
        committed offset moves them on, in order (duplicates included, see ``apply``).
        """
        accounts = self.store.keys()  # a StateStore is not iterable itself
        for account_id in accounts:
            self._dirty.setdefault(account_id, False)
            self._republish.add(account_id)
            state = self.store.get(account_id)
            if state is None:
                continue
            self.watermark = max(self.watermark, state.watermark)
        for lane, usage_time in lane_clocks.items():
            self._move_lane_clock(lane, usage_time)

    # ------------------------------------------------------------------ output side

    @property
    def has_work(self) -> bool:
        """Whether a tick now would evaluate anything (due accounts wait out a catch-up)."""
        return bool(self._dirty) or (self._next_due() is not None and not self.catching_up)

    def tick(self) -> Published:
        published = Published([], [])
        if self.watermark == float("-inf"):
            return published
        catching_up = self.catching_up
        self._newest_since_tick = float("-inf")
        if catching_up:
            # touched accounts at the catch-up budget; due ones wait (they stay scheduled)
            accounts = self._take_dirty(self.catchup_budget)
            budget = 0
        else:
            # accounts with fresh events first; what they leave of ``due_budget`` (never less
            # than MIN_SPARE) goes to the accounts a catch-up left dirty, then to due ones, so
            # that background work does not hold fresh scores back on a loaded worker
            fresh = sum(self._dirty.values())
            budget = max(MIN_SPARE, self.due_budget - fresh)
            accounts = self._take_dirty(min(budget, self.catchup_budget))
            budget -= len(accounts) - fresh
        while budget > 0 and (lane := self._next_due()) is not None:
            due_at, account_id = heapq.heappop(self._due[lane])
            if self._due_at.get(account_id) == due_at:
                del self._due_at[account_id]
                accounts.add(account_id)
                budget -= 1
        as_of = datetime.fromtimestamp(self.watermark, UTC)
        for account_id in sorted(accounts):
            self._evaluate(account_id, as_of, published)
        event_rules_only, self._event_rules_due = self._event_rules_due - accounts, set()
        for account_id in sorted(event_rules_only):
            state = self.store.get(account_id)
            if state is not None and self.store.owns(account_id):
                published.alerts.extend(
                    self.alerting.evaluate_event_rules(account_id, state, as_of)
                )
        return published

    def _lane_clock(self, lane: int) -> float:
        """How far ``lane``'s event time has got (the watermark before its first usage)."""
        return self._usage_time.get(lane, self.watermark)

    def _next_due(self) -> int | None:
        """The lane whose earliest due account is due and earliest of all, if any."""
        ready = [
            (heap[0][0], lane)
            for lane, heap in self._due.items()
            if heap and heap[0][0] <= self._lane_clock(lane)
        ]
        return min(ready)[1] if ready else None

    @property
    def catching_up(self) -> bool:
        """True while a backlog is read: the newest event read since the last tick trails the
        wall clock by more than ``catchup_lag``. Not the watermark: the topics of a backlog
        are read at different speeds, and the small ticket and survey topics, read to their
        end in seconds, took the watermark to the present while a month of usage was still
        to come (the bench's worker left catch-up after 10 s). Once the input is drained, the
        work a catch-up put off runs, however old the last event: otherwise an account that
        went silent in an old log would wait for new input to be judged, and whether its
        alerts exist at all would depend on restarts (decisions §29)."""
        return self._behind(self._newest_since_tick)

    def _behind(self, timestamp: float) -> bool:
        """Whether an event of ``timestamp`` is from a backlog (-inf: nothing was read)."""
        return (
            self.catchup_lag is not None
            and timestamp != float("-inf")
            and self.wall_clock.now().timestamp() - timestamp > self.catchup_lag
        )

    def _take_dirty(self, budget: int) -> set[str]:
        """Every account due on the next tick, plus the ``budget`` ones that may wait which
        have waited longest; the others stay dirty (in order)."""
        taken: set[str] = set()
        kept: dict[str, bool] = {}
        for account_id, urgent in self._dirty.items():
            if urgent:
                taken.add(account_id)
            elif budget > 0:
                taken.add(account_id)
                budget -= 1
            else:
                kept[account_id] = False
        self._dirty = kept
        return taken

    def _evaluate(self, account_id: str, as_of: datetime, published: Published) -> None:
        self.evaluations += 1
        state = self.store.get(account_id)
        if state is None or not self.store.owns(account_id):
            return  # a partition handed to another worker since it was scheduled
        now = as_of.timestamp()
        lane = self.lane_of(account_id)
        if lane not in self._usage_time:
            self._awaiting_lane.setdefault(lane, set()).add(account_id)
        lane_clock = self._lane_clock(lane)
        if not state.is_settled(now, self.spec):
            grace = self.spec.grace_seconds
            next_due = (day_of(min(now, lane_clock) - grace) + 1) * DAY_SECONDS + grace
            self._schedule(account_id, next_due)
        previous = (
            PreviousScore(state.last_score, state.last_band)  # type: ignore[arg-type]
            if state.last_score is not None
            else None
        )
        result = score_account(state.signals(account_id, as_of, self.spec), self.scoring, previous)
        score = self._score_to_publish(account_id, state, result, as_of)
        judged_through = state.nsm_judged_through
        usage_time = self._usage_time.get(lane, float("-inf"))
        published.alerts.extend(
            self.alerting.evaluate(account_id, state, result, as_of, usage_time)
        )
        if score is not None:
            published.scores.append(score)
        if score is not None or state.nsm_judged_through != judged_through:
            self.store.put(account_id, state)

    def _score_to_publish(
        self, account_id: str, state: AccountState, result: ScoreResult | None, as_of: datetime
    ) -> HealthScore | None:
        """The score record if it is worth publishing (or the account was recovered since its
        last evaluation); remembers it in ``state`` if so."""
        republish = account_id in self._republish
        self._republish.discard(account_id)
        if result is None or not (republish or _worth_publishing(result, state)):
            return None
        today = day_of(as_of.timestamp())
        week_ago = [day for day in state.score_history if day <= today - 7]
        delta_7d = round(result.score - state.score_history[max(week_ago)], 1) if week_ago else None
        health = to_health_score(
            result,
            account_id=account_id,
            previous_score=state.last_score,
            delta_7d=delta_7d,
            as_of=as_of,
            computed_at=self.wall_clock.now(),
        )
        state.last_score, state.last_band = result.score, result.band
        state.last_confidence = result.confidence
        state.score_history[today] = result.score
        return health

    def _schedule(self, account_id: str, due_at: float) -> None:
        if self._due_at.get(account_id) == due_at:
            return
        self._due_at[account_id] = due_at
        heapq.heappush(self._due.setdefault(self.lane_of(account_id), []), (due_at, account_id))


def _worth_publishing(result: ScoreResult, state: AccountState) -> bool:
    """DESIGN §4's rule (moved >= 1 point or band changed), plus a change of ``confidence``.

    Confidence changes when a component gains or loses its data (a first survey, the last
    ticket ageing out); consumers that weigh scores by confidence must hear about it even if
    the number itself barely moved.
    """
    return (
        state.last_score is None
        or abs(result.score - state.last_score) >= SCORE_STEP
        or result.band != state.last_band
        or result.confidence != state.last_confidence
    )
