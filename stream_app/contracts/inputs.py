"""Input event contracts (DESIGN §2): what product services, the support desk, the survey tool
and the CRM publish. These pydantic models are the source of truth; ``schemas/`` is generated.

Validation runs in pydantic's strict JSON mode: ``"3"`` is not an integer and ``1700000000`` is
not a timestamp. Unknown fields are ignored, so producers can add fields before we read them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import orjson
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

__all__ = [
    "INPUT_MODELS",
    "AccountId",
    "AccountProfile",
    "InputEvent",
    "ProductUsageEvent",
    "SurveyEvent",
    "TicketEvent",
]

MAX_PROPERTIES_BYTES = 8 * 1024
MAX_PROPERTIES_KEYS = 64

# Printable text without control characters: ids end up in Redis keys, logs and HTTP paths.
Identifier = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")
]
AccountId = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@-]+$")
]
ShortText = Annotated[str, StringConstraints(max_length=64, pattern=r"^[^\x00-\x1f\x7f]*$")]


# Event time is turned into epoch seconds and back into UTC datetimes (windows, ``as_of``): an
# instant outside these bounds, such as 0001-01-01T00:00:00+14:00 (year 0 in UTC), would make
# that conversion raise in the score tick instead of being rejected at the door.
EARLIEST_EVENT_TIME = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_EVENT_TIME = datetime(3000, 1, 1, tzinfo=UTC)


def _plausible_time(value: datetime) -> datetime:
    if not EARLIEST_EVENT_TIME <= value < LATEST_EVENT_TIME:
        raise ValueError(
            f"must be from {EARLIEST_EVENT_TIME.isoformat()} to before "
            f"{LATEST_EVENT_TIME.isoformat()}"
        )
    return value


EventTime = Annotated[AwareDatetime, AfterValidator(_plausible_time)]


def _bounded_properties(value: dict[str, Any]) -> dict[str, Any]:
    if len(value) > MAX_PROPERTIES_KEYS:
        raise ValueError(f"at most {MAX_PROPERTIES_KEYS} keys allowed, got {len(value)}")
    try:
        size = len(orjson.dumps(value))
    except orjson.JSONEncodeError as exc:  # a TypeError: pydantic would not turn it into a 422
        raise ValueError(f"not representable: {exc}") from None
    if size > MAX_PROPERTIES_BYTES:
        raise ValueError(f"at most {MAX_PROPERTIES_BYTES} bytes allowed, got {size}")
    return value


class _Contract(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", allow_inf_nan=False)


class InputEvent(_Contract):
    """Fields common to every input event."""

    event_id: Identifier = Field(description="Idempotency key: a repeated event_id counts once.")
    account_id: AccountId = Field(description="The customer account; also the partition key.")
    occurred_at: EventTime = Field(
        description="RFC 3339 timestamp with offset, from 1970 to before 3000; event time, "
        "which all windows use."
    )
    schema_version: int = Field(default=1, ge=1, le=1000)


class ProductUsageEvent(InputEvent):
    """Something a user did in the product (topic ``cs.product-usage.v1``)."""

    user_id: Identifier
    event_type: Identifier = Field(examples=["report.created"])
    quantity: float = Field(default=1.0, ge=0, le=1e12)
    properties: Annotated[dict[str, Any], AfterValidator(_bounded_properties)] = Field(
        default_factory=dict,
        description=f"Free-form context, at most {MAX_PROPERTIES_KEYS} keys and "
        f"{MAX_PROPERTIES_BYTES} bytes of JSON.",
    )


class TicketEvent(InputEvent):
    """A support-ticket lifecycle change (topic ``cs.tickets.v1``)."""

    ticket_id: Identifier
    action: Literal["opened", "updated", "escalated", "resolved", "reopened", "closed"]
    priority: Literal["low", "normal", "high", "urgent"]
    category: ShortText | None = None
    first_response_minutes: float | None = Field(default=None, ge=0, le=1e7)


class SurveyEvent(InputEvent):
    """An NPS or CSAT response (topic ``cs.surveys.v1``).

    ``comment`` is kept for completeness of the contract but is never copied into alerts,
    metrics or logs.
    """

    user_id: Identifier
    survey: Literal["nps", "csat"]
    score: int = Field(description="NPS: 0..10; CSAT: 1..5.")
    comment: str | None = Field(default=None, max_length=4000)

    @model_validator(mode="after")
    def _score_in_scale(self) -> SurveyEvent:
        low, high = (0, 10) if self.survey == "nps" else (1, 5)
        if not low <= self.score <= high:
            raise ValueError(f"{self.survey} score must be in {low}..{high}, got {self.score}")
        return self


class AccountProfile(_Contract):
    """CRM facts about an account (topic ``cs.accounts.v1``, compacted, keyed by account).

    Not an event stream: the latest record per account wins, so it carries no ``event_id``.
    """

    account_id: AccountId
    segment: ShortText = Field(default="default", description="Selects score-model overrides.")
    seats: int | None = Field(default=None, ge=0, le=10_000_000)
    plan: ShortText | None = None
    renewal_date: date | None = None
    arr: float | None = Field(default=None, ge=0, le=1e13)
    updated_at: EventTime | None = None
    schema_version: int = Field(default=1, ge=1, le=1000)


INPUT_MODELS: dict[str, type[_Contract]] = {
    "usage": ProductUsageEvent,
    "ticket": TicketEvent,
    "survey": SurveyEvent,
    "account": AccountProfile,
}
