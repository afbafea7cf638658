"""Per-account windowed state on event time, and the signals the score model reads from it.

One :class:`AccountState` per account holds everything the engine knows about it: the
de-duplication ledger, daily usage buckets, tickets, surveys, the CRM profile and the memory of
what was last emitted. Keeping it in one record means one changelog write covers an event's
effect *and* its de-duplication, which is what makes replays after a crash idempotent.

All windows are on event time (``occurred_at``); buckets are UTC days. Old buckets, closed
tickets and surveys expire relative to the account's watermark, so state is bounded.
"""

from __future__ import annotations

import statistics
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from stream_app.alerts.nsm_decline import NsmHistory
from stream_app.alerts.rules import SurveyFact
from stream_app.contracts.inputs import AccountProfile, ProductUsageEvent, SurveyEvent, TicketEvent
from stream_app.ingest.ledger import EventLedger
from stream_app.scoring.signals import AccountSignals, SurveyResponse
from stream_app.state.sketch import add_to_sketch, distinct_count, merge_sketches
from stream_app.state.spec import DAY_SECONDS, NsmSpec, WindowSpec

__all__ = ["AccountState", "ClosedDays", "DayBucket", "TicketState", "day_of"]

OPEN_ACTIONS = {"opened": True, "reopened": True, "escalated": True, "updated": None}
CLOSED_ACTIONS = {"resolved", "closed"}
SCORE_HISTORY_DAYS = 8
MAX_UNJUDGED_DAYS = 35
NSM_UNITS = {"distinct_users": "active user-days", "count": "events", "sum": "units"}


def day_of(timestamp: float) -> int:
    return int(timestamp // DAY_SECONDS)


@dataclass(slots=True)
class DayBucket:
    events: int = 0
    users: bytes = b""  # HLL sketch of user ids
    features: int = 0  # bitmask over WindowSpec.key_features
    # one entry per configured NSM, in WindowSpec.nsms order: an HLL sketch for
    # distinct_users, a number for count and sum ([] until the day's first usage event)
    nsm: list[float | bytes] = field(default_factory=list)
    escalations: int = 0
    reopens: int = 0


@dataclass(slots=True)
class TicketState:
    priority: str
    is_open: bool
    updated_at: float
    opened_at: float  # event time of the first event seen for the ticket


@dataclass(frozen=True, slots=True)
class ClosedDays:
    """Window aggregates over the days before ``today`` (see ``AccountState._closed_days``)."""

    today: int
    first_seen: float | None
    week_users: bytes  # sketch: the engagement week's earlier days
    week_events: int
    baseline_users: float | None
    baseline_events: float | None
    baseline_days: int
    features: int  # bitmask: the adoption window's earlier days
    escalations: int  # the support window's earlier days
    reopens: int
    nsm_earlier: float | bytes  # the primary NSM over its window's earlier days
    nsm_baseline: float | None


@dataclass(slots=True)
class AccountState:
    # one de-duplication ledger per input kind: topics are consumed at independent speeds, so
    # a survey from today must not make the ledger's floor reject usage still being caught up
    ledgers: dict[str, EventLedger] = field(default_factory=dict)
    first_seen: float | None = None  # event time of the first usage event
    days: dict[int, DayBucket] = field(default_factory=dict)
    tickets: dict[str, TicketState] = field(default_factory=dict)
    tickets_seen: bool = False
    surveys: list[tuple[float, str, int]] = field(default_factory=list)  # (time, survey, score)
    segment: str = "default"
    seats: int | None = None
    # what was last emitted: previous_score, the emission rule, hysteresis and delta_7d
    last_score: float | None = None
    last_band: str | None = None
    last_confidence: float | None = None
    score_history: dict[int, float] = field(default_factory=dict)  # day -> last score that day
    nsm_judged_through: int | None = None  # the last closed day the NSM detector judged
    # daily distinct-users NSMs (NSM index ->): user key -> bit mask of the days the user was
    # active, bit i for day ``users_from + i``, for the lost-regulars test (alerts/lost_regulars)
    nsm_users: dict[int, dict[int, int]] = field(default_factory=dict)
    users_from: int | None = None
    # derived, never persisted: rebuilt from ``days`` on demand
    _closed: ClosedDays | None = field(default=None, repr=False, compare=False)
    _nsm_history: tuple[int, tuple[NsmHistory, ...]] | None = field(
        default=None, repr=False, compare=False
    )
    # (NSM index, first day of a step) -> the NSM over that closed step, and the last closed
    # day they were computed for: a backlog judges day after day, and each day's history
    # reads the same five weeks of steps, one sketch union each
    _nsm_steps: dict[tuple[int, int], float] = field(
        default_factory=dict, repr=False, compare=False
    )
    _nsm_steps_through: int | None = field(default=None, repr=False, compare=False)
    _expired_on: int | None = field(default=None, repr=False, compare=False)
    # day -> the bucket's changelog encoding: every state write encodes the whole state, and
    # re-packing a month of unchanged days was most of that cost (decisions §39)
    _encoded_days: dict[int, bytes] = field(default_factory=dict, repr=False, compare=False)

    def encoded_days(self, encode: Callable[[int, DayBucket], bytes]) -> list[bytes]:
        """Each day bucket's ``encode(day, bucket)``, in ``days`` order, cached per day until
        the bucket changes. Every change goes through :meth:`_bucket`, which drops the day's
        entry; a bucket changed any other way would keep a stale encoding."""
        cache = self._encoded_days
        encoded = []
        for day, bucket in self.days.items():
            row = cache.get(day)
            if row is None:
                row = cache[day] = encode(day, bucket)
            encoded.append(row)
        return encoded

    # ----------------------------------------------------------------- applying events

    def ledger_for(self, kind: str) -> EventLedger:
        ledger = self.ledgers.get(kind)
        if ledger is None:
            ledger = self.ledgers[kind] = EventLedger()
        return ledger

    @property
    def watermark(self) -> float:
        """The newest event time seen for this account, over all input kinds."""
        return max((ledger.watermark for ledger in self.ledgers.values()), default=float("-inf"))

    def apply(self, record: object, spec: WindowSpec) -> None:
        if isinstance(record, ProductUsageEvent):
            self._apply_usage(record, spec)
        elif isinstance(record, TicketEvent):
            self._apply_ticket(record)
        elif isinstance(record, SurveyEvent):
            self._apply_survey(record, spec)
        elif isinstance(record, AccountProfile):
            self.segment, self.seats = record.segment, record.seats
        self.expire(spec)

    def _bucket(self, timestamp: float) -> DayBucket:
        day = day_of(timestamp)
        if self._closed is not None and day < self._closed.today:
            self._closed = None  # a late event changed a day the cache summarises
        if self._nsm_history is not None and day <= self._nsm_history[0]:
            self._nsm_history = None
        if self._nsm_steps_through is not None and day <= self._nsm_steps_through:
            self._nsm_steps, self._nsm_steps_through = {}, None  # a late event, rare
        self._encoded_days.pop(day, None)  # the caller is about to change the bucket
        bucket = self.days.get(day)
        if bucket is None:
            bucket = self.days[day] = DayBucket()
        return bucket

    def _apply_usage(self, event: ProductUsageEvent, spec: WindowSpec) -> None:
        ts = event.occurred_at.timestamp()
        self.first_seen = ts if self.first_seen is None else min(self.first_seen, ts)
        bucket = self._bucket(ts)
        bucket.events += 1
        users_before = bucket.users
        bucket.users = add_to_sketch(users_before, event.user_id)
        bucket.features |= spec.feature_bit(event.event_type)
        if len(bucket.nsm) < len(spec.nsms):  # the day's first event, or NSMs were added
            bucket.nsm += [
                b"" if n.measure == "distinct_users" else 0.0 for n in spec.nsms[len(bucket.nsm) :]
            ]
        for i, nsm in enumerate(spec.nsms):
            if not nsm.counts(event.event_type):
                continue
            if nsm.measure == "distinct_users":
                if nsm.tracks_users:
                    self._track_user(i, nsm.tracked_users, day_of(ts), event.user_id)
                sketch = bucket.nsm[i]
                # an NSM over every event type is the users sketch: share it (and its bytes in
                # the changelog, see codec) instead of building the same sketch twice
                bucket.nsm[i] = (
                    bucket.users if sketch == users_before else add_to_sketch(sketch, event.user_id)  # type: ignore[arg-type]
                )
            else:
                bucket.nsm[i] += 1 if nsm.measure == "count" else event.quantity  # type: ignore[operator]

    def _track_user(self, index: int, limit: int, day: int, user_id: str) -> None:
        if self.users_from is None:
            self.users_from = day
        elif day < self.users_from:  # a late event before the first tracked day: rare
            shift = self.users_from - day
            self.nsm_users = {
                i: {key: mask << shift for key, mask in users.items()}
                for i, users in self.nsm_users.items()
            }
            self.users_from = day
        users = self.nsm_users.setdefault(index, {})
        key = zlib.crc32(user_id.encode())  # stable across processes, unlike hash()
        mask = users.get(key)
        if mask is None and len(users) >= limit:
            return  # the users tracked so far are a fair sample: most are the regulars
        users[key] = (mask or 0) | 1 << (day - self.users_from)

    def _apply_ticket(self, event: TicketEvent) -> None:
        ts = event.occurred_at.timestamp()
        self.tickets_seen = True
        if event.action == "escalated":
            self._bucket(ts).escalations += 1
        elif event.action == "reopened":
            self._bucket(ts).reopens += 1
        known = self.tickets.get(event.ticket_id)
        if known is not None:
            known.opened_at = min(known.opened_at, ts)
            if known.updated_at > ts:
                return  # an older event than we know: its counters apply, its status does not
        is_open = event.action not in CLOSED_ACTIONS
        if known is not None and event.action == "updated":
            is_open = known.is_open
        opened_at = known.opened_at if known is not None else ts
        self.tickets[event.ticket_id] = TicketState(event.priority, is_open, ts, opened_at)

    def _apply_survey(self, event: SurveyEvent, spec: WindowSpec) -> None:
        self.surveys.append((event.occurred_at.timestamp(), event.survey, event.score))
        self.surveys.sort()
        if len(self.surveys) > spec.max_surveys:
            del self.surveys[: len(self.surveys) - spec.max_surveys]

    # ----------------------------------------------------------------- expiry

    def expire(self, spec: WindowSpec) -> None:
        """Drop what no window can see any more, relative to the account's watermark.

        Windows move by whole days and reads filter by time anyway, so the scans run once per
        new watermark day (and whenever the ticket cap is exceeded), not on every event.
        """
        watermark = self.watermark
        if watermark == float("-inf"):
            return
        today = day_of(watermark)
        if today == self._expired_on and len(self.tickets) <= spec.max_open_tickets:
            return
        self._expired_on = today
        # days the NSM detector has yet to judge still need their baselines: a backlog can move
        # the watermark weeks ahead between two evaluations (at most MAX_UNJUDGED_DAYS kept)
        judged = self.nsm_judged_through
        pending = today if judged is None else max(judged + 1, today - MAX_UNJUDGED_DAYS)
        oldest_day = min(today, pending) - spec.usage_retention_days
        if self.days and min(self.days) < oldest_day:
            self.days = {day: b for day, b in self.days.items() if day >= oldest_day}
            self._encoded_days = {
                day: row for day, row in self._encoded_days.items() if day >= oldest_day
            }
            self._closed = None
            self._nsm_steps = {k: v for k, v in self._nsm_steps.items() if k[1] >= oldest_day}
        if self.users_from is not None and self.users_from < oldest_day:
            shift = oldest_day - self.users_from
            self.nsm_users = {
                i: {key: kept for key, mask in users.items() if (kept := mask >> shift)}
                for i, users in self.nsm_users.items()
            }
            self.users_from = oldest_day
        closed_before = watermark - spec.support_days * DAY_SECONDS
        if len(self.tickets) > spec.max_open_tickets or any(
            not t.is_open and t.updated_at < closed_before for t in self.tickets.values()
        ):
            kept = {
                k: t for k, t in self.tickets.items() if t.is_open or t.updated_at >= closed_before
            }
            newest = sorted(kept.items(), key=lambda item: item[1].updated_at)[
                -spec.max_open_tickets :
            ]
            self.tickets = dict(newest)
        survey_floor = watermark - spec.survey_days * DAY_SECONDS
        if self.surveys and self.surveys[0][0] < survey_floor:
            self.surveys = [s for s in self.surveys if s[0] >= survey_floor]
        if self.score_history and min(self.score_history) < today - SCORE_HISTORY_DAYS:
            self.score_history = {
                d: s for d, s in self.score_history.items() if d >= today - SCORE_HISTORY_DAYS
            }

    # ----------------------------------------------------------------- reading signals

    def signals(self, account_id: str, as_of: datetime, spec: WindowSpec) -> AccountSignals:
        now = as_of.timestamp()
        today = day_of(now)
        closed = self._closed_days(today, spec)
        bucket = self.days.get(today) or DayBucket()
        usage_seen = self.first_seen is not None and self.first_seen <= now
        features = closed.features | bucket.features
        open_counts: dict[str, int] = {}
        for ticket in self.tickets.values():
            if ticket.is_open:
                open_counts[ticket.priority] = open_counts.get(ticket.priority, 0) + 1
        survey_floor = now - spec.survey_days * DAY_SECONDS
        surveys = tuple(
            SurveyResponse(survey, score, (now - ts) / DAY_SECONDS)  # type: ignore[arg-type]
            for ts, survey, score in self.surveys
            if survey_floor <= ts <= now
        )
        nsm = spec.nsm
        nsm_current = _combine(nsm.measure, [closed.nsm_earlier, *bucket.nsm[:1]])
        return AccountSignals(
            account_id=account_id,
            as_of=as_of,
            segment=self.segment,
            seats=self.seats,
            active_users_7d=(
                distinct_count((closed.week_users, bucket.users)) if usage_seen else None
            ),
            active_users_baseline=closed.baseline_users,
            events_7d=float(closed.week_events + bucket.events) if usage_seen else None,
            events_baseline=closed.baseline_events,
            baseline_days_observed=closed.baseline_days if usage_seen else 0,
            key_features_used=(
                frozenset(f for i, f in enumerate(spec.key_features) if features >> i & 1)
                if usage_seen
                else None
            ),
            open_tickets=open_counts if self.tickets_seen else None,
            escalations_30d=closed.escalations + bucket.escalations,
            reopens_30d=closed.reopens + bucket.reopens,
            surveys_90d=surveys,
            nsm_name=nsm.name,
            nsm_current=nsm_current if usage_seen else None,
            nsm_baseline=closed.nsm_baseline,
        )

    def _closed_days(self, today: int, spec: WindowSpec) -> ClosedDays:
        """Window aggregates over the days before ``today``, cached until they can change.

        Only today's bucket moves with live traffic; the other days change at midnight or with
        a late event, both of which drop the cache. Scoring then merges one cached summary with
        one bucket instead of re-reading five weeks of sketches on every evaluation.
        """
        cached = self._closed
        if cached is not None and cached.today == today and cached.first_seen == self.first_seen:
            return cached

        def days_back(start: int, length: int) -> list[DayBucket]:
            """Buckets of the ``length`` days ending ``start`` days before today."""
            return [
                b
                for d in range(today - start - length + 1, today - start + 1)
                if (b := self.days.get(d))
            ]

        first_day = day_of(self.first_seen) if self.first_seen is not None else today
        week = spec.engagement_days
        earlier_this_week = days_back(1, week - 1)
        baseline_weeks = [
            days_back(week * w, week)
            for w in range(1, spec.baseline_weeks + 1)
            if today - week * w - week + 1 >= first_day  # only weeks fully after the first event
        ]
        nsm = spec.nsm
        nsm_baselines = [
            days_back(nsm.window_days * w, nsm.window_days)
            for w in range(1, nsm.baseline_windows + 1)
            if today - nsm.window_days * (w + 1) + 1 >= first_day
        ]
        nsm_earlier = days_back(1, nsm.window_days - 1)
        features = 0
        for bucket in days_back(1, spec.adoption_days - 1):
            features |= bucket.features
        support = days_back(1, spec.support_days - 1)
        self._closed = ClosedDays(
            today=today,
            first_seen=self.first_seen,
            week_users=merge_sketches(b.users for b in earlier_this_week),
            week_events=sum(b.events for b in earlier_this_week),
            baseline_users=_median([distinct_count(b.users for b in w) for w in baseline_weeks]),
            baseline_events=_median([float(sum(b.events for b in w)) for w in baseline_weeks]),
            baseline_days=max(0, min(spec.baseline_weeks * week, today - week - first_day + 1)),
            features=features,
            escalations=sum(b.escalations for b in support),
            reopens=sum(b.reopens for b in support),
            nsm_earlier=_merge(nsm.measure, [b.nsm[0] for b in nsm_earlier if b.nsm]),
            nsm_baseline=_median(
                [_combine(nsm.measure, [b.nsm[0] for b in w if b.nsm]) for w in nsm_baselines]
            ),
        )
        return self._closed

    # ----------------------------------------------------------------- alert facts

    def nsm_histories(self, last_closed_day: int, spec: WindowSpec) -> tuple[NsmHistory, ...]:
        """Every NSM's per-step values up to ``last_closed_day``, for the decline detector.

        Cached until another day closes or a late event changes a closed day: the detector
        reads dozens of sketches, and only the closing of a day can change what it sees.
        """
        cached = self._nsm_history
        if cached is not None and cached[0] == last_closed_day:
            return cached[1]
        histories = tuple(
            self._nsm_history_of(i, nsm, last_closed_day) for i, nsm in enumerate(spec.nsms)
        )
        self._nsm_history = (last_closed_day, histories)
        return histories

    def _nsm_history_of(self, index: int, nsm: NsmSpec, last_closed_day: int) -> NsmHistory:
        step = nsm.step_days
        last = (last_closed_day + 1) // step * step - 1  # the end of the last complete step
        steps = nsm.window_days // step

        known = self._nsm_steps
        through = self._nsm_steps_through
        self._nsm_steps_through = last if through is None else max(through, last)

        def over_step(start: int) -> float:
            value = known.get((index, start))
            if value is None:
                value = known[index, start] = _combine(
                    nsm.measure,
                    [
                        b.nsm[index]
                        for d in range(start, start + step)
                        if (b := self.days.get(d)) is not None and len(b.nsm) > index
                    ],
                )
            return value

        def window_ending(end: int) -> tuple[float, ...]:
            first = end - steps * step + 1
            return tuple(over_step(start) for start in range(first, end + 1, step))

        baselines = []
        user_days: tuple[int, ...] = ()
        days = observed_days = 0
        if self.first_seen is not None:
            first_day = day_of(self.first_seen)  # partial: a baseline starts after it
            for shift in range(1, nsm.baseline_windows + 1):
                end = last - shift * nsm.baseline_shift_days
                if end - steps * step + 1 <= first_day:
                    break
                baselines.append(window_ending(end))
            users = self.nsm_users.get(index)
            if users and self.users_from is not None and last >= self.users_from:
                days = last - self.users_from + 1
                through_last = (1 << days) - 1  # days after ``last`` are not judged yet
                user_days = tuple(kept for mask in users.values() if (kept := mask & through_last))
                observed_days = min(days, last - first_day)
        return NsmHistory(
            nsm.name,
            step,
            NSM_UNITS[nsm.measure],
            window_ending(last),
            tuple(baselines),
            user_days,
            days,
            observed_days,
        )

    def urgent_opened_at(self) -> list[float]:
        return [t.opened_at for t in self.tickets.values() if t.priority == "urgent"]

    def open_tickets(self, priority: str) -> int:
        return sum(1 for t in self.tickets.values() if t.is_open and t.priority == priority)

    def survey_facts(self) -> list[SurveyFact]:
        return [SurveyFact(at, survey, score) for at, survey, score in self.surveys]

    def is_settled(self, as_of: float, spec: WindowSpec) -> bool:
        """True once ageing alone can no longer change this account's score."""
        newest = max(
            [max(self.days, default=-(10**9)) * DAY_SECONDS]
            + [t.updated_at for t in self.tickets.values() if not t.is_open]
            + [s[0] for s in self.surveys[-1:]]
        )
        horizon = max(spec.usage_retention_days, spec.survey_days) * DAY_SECONDS
        return as_of - newest > horizon + DAY_SECONDS


def _merge(measure: str, values: list[float | bytes]) -> float | bytes:
    """Several days' NSM values as one (a merged sketch, or a sum)."""
    if measure == "distinct_users":
        return merge_sketches(values)  # type: ignore[arg-type]
    return float(sum(values))  # type: ignore[arg-type]


def _combine(measure: str, values: list[float | bytes]) -> float:
    """The NSM over several days' values (distinct users across them, or their sum)."""
    if measure == "distinct_users":
        return distinct_count(values)  # type: ignore[arg-type]
    return float(sum(values))  # type: ignore[arg-type]


def _median(values: list[float]) -> float | None:
    """A baseline robust to one unusual week (a spike of guests, a holiday)."""
    return statistics.median(values) if values else None
