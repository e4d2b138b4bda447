"""Errors of the offline tools.

- :class:`ParityInputError`, :class:`DatasetInputError`: bad input (one clear line at the CLI,
  exit 2, never a traceback);
- :class:`NothingToBuildError`: the input is fine but holds nothing to build from (no audited
  decision, no label as of then, every trigger immature): exit 1. Not a platform error on
  purpose, so ``fp`` does not report it as bad input.
"""

from __future__ import annotations

from app.rails.errors import FraudPlatformError

__all__ = ["DatasetInputError", "NothingToBuildError", "ParityInputError"]


class ParityInputError(FraudPlatformError):
    """The run cannot be compared: a malformed run id, no traffic or no decisions of it."""

    reason_code = "PARITY_INPUT_INVALID"


class DatasetInputError(FraudPlatformError):
    """A dataset cannot be defined from these arguments (run id, time, maturity, labels)."""

    reason_code = "DATASET_INPUT_INVALID"


class NothingToBuildError(Exception):
    """The runs and labels as of then give no dataset (the message says which part is empty)."""
