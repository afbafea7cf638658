"""Read API over the score store on the worker's Faust web server (DESIGN §7).

- ``GET /accounts/{account_id}/health``: the account's latest HealthScore JSON; 404 if unknown.
- ``GET /accounts/at-risk?limit=N``: ``{"accounts": [...]}``, lowest score first (N: 1..1000,
  default 20).

Errors are ``{"error": "..."}``: 400 for a bad id or limit, 503 when Redis fails. Faust hands
route parameters (aiohttp's ``match_info``, already percent-decoded) to the handler as keyword
arguments, so ``%2F`` or ``%00`` arrive as ``/`` or NUL: the id is checked against the contract's
rule before it reaches a Redis key.
"""

from __future__ import annotations

import re

import faust
from faust.web import Request, Response, View

from stream_app.serving.score_store import ScoreStore, ScoreStoreUnavailable, validate_account_id

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "register_account_views"]

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000
# Plain ASCII digits only: int() would also take " 5", "+5", "1_0" and non-ASCII digits.
_DIGITS = re.compile(r"[0-9]{1,4}")
_BAD_LIMIT = f"limit must be an integer in 1..{MAX_LIMIT}"
_BAD_ID = "invalid account id: 1-128 characters from A-Z a-z 0-9 . _ : @ -"
_UNAVAILABLE = "score store unavailable"


def register_account_views(app: faust.App, store: ScoreStore) -> None:
    @app.page("/accounts/{account_id}/health")
    async def account_health(web: View, request: Request, account_id: str) -> Response:
        try:
            validate_account_id(account_id)
        except ValueError:
            return web.error(400, _BAD_ID)
        try:
            record = await store.get(account_id)
        except ScoreStoreUnavailable:
            return web.error(503, _UNAVAILABLE)
        if record is None:
            return web.error(404, "unknown account")
        return web.json(record["json"])

    @app.page("/accounts/at-risk")
    async def accounts_at_risk(web: View, request: Request) -> Response:
        limit = _parse_limit(request.query.getall("limit", []))
        if limit is None:
            return web.error(400, _BAD_LIMIT)
        try:
            accounts = await store.at_risk(limit)
        except ScoreStoreUnavailable:
            return web.error(503, _UNAVAILABLE)
        return web.json({"accounts": accounts})


def _parse_limit(values: list[str]) -> int | None:
    """The ``limit`` query parameter, or None when it is not one integer in 1..MAX_LIMIT."""
    if not values:
        return DEFAULT_LIMIT
    if len(values) > 1 or not _DIGITS.fullmatch(values[0]):
        return None
    limit = int(values[0])
    return limit if 1 <= limit <= MAX_LIMIT else None
