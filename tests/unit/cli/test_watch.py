from __future__ import annotations

from stream_app.cli.watch import render, render_riskiest


def test_render_shows_counts_and_rates():
    before = {("cs.tickets.v1", "processed"): 10.0}
    now = {("cs.tickets.v1", "processed"): 60.0, ("cs.tickets.v1", "invalid"): 2.0}
    text = render(now, before, seconds=5.0)
    header, row = text.splitlines()
    assert header.split() == ["topic", "processed", "late", "duplicate", "invalid", "events/s"]
    assert row.split() == ["cs.tickets.v1", "60", "0", "0", "2", "10.4"]


def test_riskiest_accounts_show_score_change_band_and_top_driver():
    accounts = [
        {
            "account_id": "acme",
            "score": 31.5,
            "previous_score": 44.0,
            "band": "critical",
            "drivers": ["3 urgent tickets open", "no active users this week"],
        },
        {
            "account_id": "globex",
            "score": 72.0,
            "previous_score": None,
            "band": "healthy",
            "drivers": [],
        },
    ]
    header, first, second = render_riskiest(accounts).splitlines()
    assert header.split()[:4] == ["account", "score", "Δ", "band"]
    assert first.split() == ["acme", "31.5", "-12.5", "critical", "3", "urgent", "tickets", "open"]
    assert second.split() == ["globex", "72.0", "new", "healthy", "-"]
    assert render_riskiest([]) == "no scores yet"
