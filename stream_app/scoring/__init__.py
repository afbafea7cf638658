"""The pure scoring core: account signals in, an explainable 0..100 health score out.

No Faust, Kafka or Redis here; the engine and the backtest call the same functions.
"""

from stream_app.scoring.bands import band_for, plain_band
from stream_app.scoring.components import ComponentResult, Driver
from stream_app.scoring.config import (
    DEFAULT_CONFIG_PATH,
    ResolvedModel,
    ScoringConfig,
    load_scoring_config,
)
from stream_app.scoring.model import (
    PreviousScore,
    ScoredComponent,
    ScoreResult,
    score_account,
    to_health_score,
)
from stream_app.scoring.signals import AccountSignals, SurveyResponse

__all__ = [
    "DEFAULT_CONFIG_PATH",
    "AccountSignals",
    "ComponentResult",
    "Driver",
    "PreviousScore",
    "ResolvedModel",
    "ScoreResult",
    "ScoredComponent",
    "ScoringConfig",
    "SurveyResponse",
    "band_for",
    "load_scoring_config",
    "plain_band",
    "score_account",
    "to_health_score",
]
