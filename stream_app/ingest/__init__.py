"""Ingestion core: decode and validate records, de-duplicate events, build dead letters."""

from stream_app.ingest.decoder import Decoder, Rejection
from stream_app.ingest.ingestor import IngestLimits, Ingestor, IngestResult, Outcome, RawRecord
from stream_app.ingest.ledger import Admission, EventLedger

__all__ = [
    "Admission",
    "Decoder",
    "EventLedger",
    "IngestLimits",
    "IngestResult",
    "Ingestor",
    "Outcome",
    "RawRecord",
    "Rejection",
]
