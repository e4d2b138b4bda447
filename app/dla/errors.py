"""DLA's errors: its own truth (segments, index) damaged or disagreeing with the log.

    FraudPlatformError
    ├── ObjectStoreError
    │   └── SegmentUnreadableError    a segment or index object DLA wrote does not parse
    ├── AuditRestoreError             the rtdl log no longer holds what a segment references
    └── MalformedAuditIdError         a lookup id that is not 64 lowercase hex (a caller error)

Both are infrastructure failures, not bad input: they fail loudly (the worker restarts, an
operator looks), because continuing would write an audit log that contradicts itself.
Bad *rtdl* input never raises: it becomes an ``audit_anomaly`` line.
"""

from __future__ import annotations

from app.rails.errors import FraudPlatformError, ObjectStoreError

__all__ = ["AuditRestoreError", "MalformedAuditIdError", "SegmentUnreadableError"]


class SegmentUnreadableError(ObjectStoreError):
    reason_code = "DLA_SEGMENT_UNREADABLE"

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(key, f"DLA cannot parse its own object ({problem}); restore it from a "
                              "backup, never edit it in place")


class AuditRestoreError(FraudPlatformError):
    """A segment names an open chain whose records the log does not hold as recorded."""

    reason_code = "DLA_RESTORE_MISMATCH"

    def __init__(self, segment: str, problem: str) -> None:
        self.segment = segment
        super().__init__(f"DLA restore from {segment}: {problem}; the rtdl log differs from "
                         "the one this segment was cut from (check the profile's broker and "
                         "topic prefix)")


class MalformedAuditIdError(FraudPlatformError):
    """An audit lookup id that cannot be a decision, event or action id."""

    reason_code = "AUDIT_ID_MALFORMED"

    def __init__(self, text: str) -> None:
        self.text = text
        super().__init__(f"{text[:80]!r} is not an id: decision, event and action ids are 64 "
                         "lowercase hex characters")
