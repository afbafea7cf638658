"""Offline quality measurement of the alerts against a cohort's ground truth."""

from stream_app.quality.alerts import AlertQuality, measure_alert_quality

__all__ = ["AlertQuality", "measure_alert_quality"]
