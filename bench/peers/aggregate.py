"""The per-account windowed aggregation the peers compute: what the engine's state keeps.

Per account and UTC day of event time: usage events, distinct users, key features used,
ticket activity by action and survey scores. Written the plain way a team would start with
(dicts and lists, JSON-serialisable) and shared by the naive Faust and Quix peers so both do
exactly the same work. Pure standard library: it runs in the Quix peer's own virtualenv.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

__all__ = ["DAY_SECONDS", "RETENTION_DAYS", "day_of", "event_time", "fold", "new_bucket"]

DAY_SECONDS = 86_400
RETENTION_DAYS = 35  # the engine keeps 5 weeks of usage buckets
KEY_FEATURES = frozenset(
    ("report.created", "export.run", "alert.configured", "integration.synced")
)  # the demo's key features (stream_app/scoring/default.toml)


def event_time(value: dict[str, Any]) -> float:
    return datetime.fromisoformat(value["occurred_at"]).timestamp()


def day_of(value: dict[str, Any]) -> int:
    return int(event_time(value) // DAY_SECONDS)


def new_bucket() -> dict[str, Any]:
    return {"events": 0, "users": [], "features": [], "tickets": {}, "surveys": []}


def fold(bucket: dict[str, Any], value: dict[str, Any]) -> dict[str, Any]:
    """``bucket`` with one input event (usage, ticket or survey, told apart by their fields)."""
    if "action" in value:
        tickets = bucket["tickets"]
        tickets[value["action"]] = tickets.get(value["action"], 0) + 1
    elif "survey" in value:
        bucket["surveys"].append([value["survey"], value["score"]])
    else:
        bucket["events"] += 1
        if value["user_id"] not in bucket["users"]:
            bucket["users"].append(value["user_id"])
        feature = value["event_type"]
        if feature in KEY_FEATURES and feature not in bucket["features"]:
            bucket["features"].append(feature)
    return bucket
