"""Bus census: exact per-run, per-event-type counts of a topic, idempotent under redelivery."""

from app.census.counting import CensusCount, apply_record, merge_counts

__all__ = ["CensusCount", "apply_record", "merge_counts"]
