"""IG's own errors (infrastructure or corrupted durable state; bad input never raises).

    FraudPlatformError (app.rails.errors)
    └── ArchiveCorruptError    an archived admission no longer parses: restore stops loudly
"""

from __future__ import annotations

from app.rails.errors import FraudPlatformError

__all__ = ["ArchiveCorruptError"]


class ArchiveCorruptError(FraudPlatformError):
    """An archive line is not the valid envelope IG archived; nothing is republished from it."""

    reason_code = "ARCHIVE_CORRUPT"

    def __init__(self, stream: str, partition: int, offset: int, problem: str) -> None:
        self.stream, self.partition, self.offset = stream, partition, offset
        super().__init__(
            f"archived {stream} record at partition {partition} offset {offset} is invalid "
            f"({problem}); the archive under ig/archive/ was changed outside IG: restore the "
            "segment from a backup before restarting the worker")
