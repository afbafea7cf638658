"""Output record contracts (DESIGN §2): what subscribers of our topics and Redis receive."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from stream_app.contracts.inputs import AccountId

__all__ = [
    "OUTPUT_MODELS",
    "AlertMetric",
    "Band",
    "ComponentScore",
    "DeadLetter",
    "ErrorClass",
    "HealthScore",
    "RiskAlert",
]

Band = Literal["healthy", "at_risk", "critical"]

# A closed set: it is also the `reason` label of healthscore_dlq_total, so it must stay bounded.
ErrorClass = Literal[
    "oversize",
    "not_utf8",
    "not_json",
    "not_object",
    "validation",
    "future_timestamp",
    "too_late",
    "processing_error",
]


class _Output(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DeadLetter(_Output):
    """A rejected input record on ``cs.events-dlq.v1``: enough to find, read and replay it."""

    source_topic: str
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)
    key: str | None = Field(description="Record key as UTF-8 (invalid bytes replaced), truncated.")
    payload_base64: str = Field(description="The original value bytes, base64 (maybe truncated).")
    payload_size: int = Field(ge=0, description="Size of the original value in bytes.")
    payload_truncated: bool = False
    error_class: ErrorClass
    reason: str = Field(description="Why it was rejected, for a person to read.")
    rejected_at: AwareDatetime


class ComponentScore(_Output):
    score: float = Field(ge=0, le=100)
    weight: float = Field(ge=0, le=1)
    inputs: dict[str, Any]


class HealthScore(_Output):
    """The latest explainable health score of one account (``cs.health-scores.v1``, compacted)."""

    account_id: AccountId
    score: float = Field(ge=0, le=100)
    band: Band
    previous_score: float | None = Field(default=None, ge=0, le=100)
    delta_7d: float | None = None
    components: dict[str, ComponentScore]
    drivers: list[str] = Field(description="Top reasons, as text a person can read.")
    confidence: float = Field(ge=0, le=1, description="Share of model weight that had data.")
    model_version: str
    as_of: AwareDatetime = Field(description="Event-time watermark the score reflects.")
    computed_at: AwareDatetime


class AlertMetric(_Output):
    name: str
    current: float | None
    baseline: float | None
    change_pct: float | None
    window: str


class RiskAlert(_Output):
    """A risk alert (``cs.risk-alerts.v1``) with Alertmanager/PagerDuty-style lifecycle."""

    alert_id: str
    dedup_key: str = Field(description="{account_id}:{rule}; one firing alert per key.")
    account_id: AccountId
    rule: str
    severity: Literal["info", "warning", "critical"]
    status: Literal["firing", "resolved"]
    title: str
    summary: str
    metric: AlertMetric
    health_score: float | None = Field(default=None, ge=0, le=100)
    started_at: AwareDatetime
    updated_at: AwareDatetime
    labels: dict[str, str] = Field(default_factory=dict)


OUTPUT_MODELS: dict[str, type[_Output]] = {
    "health_score": HealthScore,
    "risk_alert": RiskAlert,
    "dead_letter": DeadLetter,
}
