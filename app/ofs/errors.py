"""Bad input to the offline rebuild: one clear line at the CLI (exit 2), never a traceback."""

from __future__ import annotations

from app.rails.errors import FraudPlatformError

__all__ = ["ParityInputError"]


class ParityInputError(FraudPlatformError):
    """The run cannot be compared: a malformed run id, no traffic or no decisions of it."""

    reason_code = "PARITY_INPUT_INVALID"
