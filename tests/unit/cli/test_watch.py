from __future__ import annotations

from stream_app.cli.watch import render


def test_render_shows_counts_and_rates():
    before = {("cs.tickets.v1", "processed"): 10.0}
    now = {("cs.tickets.v1", "processed"): 60.0, ("cs.tickets.v1", "invalid"): 2.0}
    text = render(now, before, seconds=5.0)
    header, row = text.splitlines()
    assert header.split() == ["topic", "processed", "late", "duplicate", "invalid", "events/s"]
    assert row.split() == ["cs.tickets.v1", "60", "0", "0", "2", "10.4"]
