"""Event and output contracts: the pydantic models every producer and subscriber relies on."""

from stream_app.contracts.inputs import (
    INPUT_MODELS,
    AccountProfile,
    InputEvent,
    ProductUsageEvent,
    SurveyEvent,
    TicketEvent,
)
from stream_app.contracts.outputs import (
    OUTPUT_MODELS,
    AlertMetric,
    ComponentScore,
    DeadLetter,
    HealthScore,
    RiskAlert,
)

__all__ = [
    "INPUT_MODELS",
    "OUTPUT_MODELS",
    "AccountProfile",
    "AlertMetric",
    "ComponentScore",
    "DeadLetter",
    "HealthScore",
    "InputEvent",
    "ProductUsageEvent",
    "RiskAlert",
    "SurveyEvent",
    "TicketEvent",
]
