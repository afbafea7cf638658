"""Bands with hysteresis: plain thresholds first, then a band is left only past the margin."""

from __future__ import annotations

import pytest

from stream_app.scoring import band_for

from .fixtures import CONFIG

THRESHOLDS = CONFIG.for_segment("default").bands
MARGIN = THRESHOLDS.hysteresis_margin


@pytest.mark.parametrize(
    ("score", "previous", "expected"),
    [
        (70.0, None, "healthy"),
        (69.9, None, "at_risk"),
        (40.0, None, "at_risk"),
        (39.9, None, "critical"),
        (100.0, None, "healthy"),
        (0.0, None, "critical"),
        (67.0, "healthy", "healthy"),
        (66.9, "healthy", "at_risk"),
        (30.0, "healthy", "critical"),
        (72.9, "at_risk", "at_risk"),
        (73.0, "at_risk", "healthy"),
        (37.0, "at_risk", "at_risk"),
        (36.9, "at_risk", "critical"),
        (42.9, "critical", "critical"),
        (43.0, "critical", "at_risk"),
        (90.0, "critical", "healthy"),
    ],
)
def test_band_for(score, previous, expected):
    assert band_for(score, previous, THRESHOLDS, MARGIN) == expected


def test_zero_margin_means_plain_thresholds():
    assert band_for(69.9, "healthy", THRESHOLDS, 0.0) == "at_risk"
    assert band_for(70.0, "at_risk", THRESHOLDS, 0.0) == "healthy"
