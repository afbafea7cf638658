from __future__ import annotations

from stream_app.engine.core import DictStateStore
from stream_app.observability.census import SCORE_BUCKETS, UNSCORED, Census, take_census
from stream_app.state import AccountState


def scored(score: float | None, band: str | None) -> AccountState:
    state = AccountState()
    state.last_score, state.last_band = score, band
    return state


class OwnsEven(DictStateStore):
    """A worker that owns only some accounts (the others are standby copies)."""

    def keys(self):
        return [key for key in self.data if int(key.rsplit("-", 1)[1]) % 2 == 0]


def test_counts_bands_unscored_and_coverage():
    store = DictStateStore(
        {
            "a-0": scored(85.0, "healthy"),
            "a-1": scored(55.0, "at_risk"),
            "a-2": scored(12.5, "critical"),
            "a-3": scored(72.0, "healthy"),
            "a-4": AccountState(),  # only a profile so far
        }
    )
    census = take_census(store)
    assert census.by_band == {"healthy": 2, "at_risk": 1, "critical": 1, UNSCORED: 1}
    assert census.known == 5 and census.scored == 4
    assert census.coverage == 0.8
    assert census.lowest == ()


def test_score_buckets_are_cumulative_upper_bounds():
    store = DictStateStore(
        {f"a-{i}": scored(s, "healthy") for i, s in enumerate([0.0, 10.0, 10.1, 39.9, 100.0])}
    )
    cumulative = dict(take_census(store).scores_at_most())
    assert list(cumulative) == list(SCORE_BUCKETS)
    assert cumulative[10.0] == 2  # 0 and exactly 10 are "<= 10"
    assert cumulative[20.0] == 3
    assert cumulative[40.0] == 4
    assert cumulative[90.0] == 4
    assert cumulative[100.0] == 5
    assert take_census(store).score_sum == 160.0


def test_lowest_n_is_capped_and_sorted():
    store = DictStateStore({f"a-{i}": scored(float(90 - i), "healthy") for i in range(50)})
    census = take_census(store, lowest=3)
    assert census.lowest == (("a-49", 41.0), ("a-48", 42.0), ("a-47", 43.0))


def test_only_owned_accounts_are_counted():
    store = OwnsEven({f"a-{i}": scored(50.0, "at_risk") for i in range(10)})
    census = take_census(store, lowest=100)
    assert census.by_band == {"at_risk": 5}
    assert {account for account, _ in census.lowest} == {"a-0", "a-2", "a-4", "a-6", "a-8"}


def test_empty_population_has_full_coverage():
    assert Census().coverage == 1.0
    assert take_census(DictStateStore({})).known == 0
