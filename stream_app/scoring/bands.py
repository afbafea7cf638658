"""Score -> band, with hysteresis so an account sitting on a border does not flap.

Rule: every band is a score interval (healthy ``[healthy, 100]``, at_risk
``[critical, healthy)``, critical ``[0, critical)``). An account stays in its previous band while
the score lies in that band's interval widened by ``margin`` on both sides; otherwise it takes the
plain band of the score. So leaving a band needs crossing its border by the margin (with the
defaults: healthy is left below 67, critical at 43 or more, at_risk at 73 or more / below 37).
"""

from __future__ import annotations

from stream_app.contracts.outputs import Band
from stream_app.scoring.config import BandThresholds

__all__ = ["band_for", "plain_band"]


def plain_band(score: float, thresholds: BandThresholds) -> Band:
    if score >= thresholds.healthy:
        return "healthy"
    if score >= thresholds.critical:
        return "at_risk"
    return "critical"


def band_for(
    score: float, previous_band: Band | None, thresholds: BandThresholds, margin: float
) -> Band:
    """The band of ``score``, sticking to ``previous_band`` until the border is crossed by
    ``margin``."""
    if previous_band is not None and _within_widened(score, previous_band, thresholds, margin):
        return previous_band
    return plain_band(score, thresholds)


def _within_widened(score: float, band: Band, thresholds: BandThresholds, margin: float) -> bool:
    if band == "healthy":
        return score >= thresholds.healthy - margin
    if band == "critical":
        return score < thresholds.critical + margin
    return thresholds.critical - margin <= score < thresholds.healthy + margin
