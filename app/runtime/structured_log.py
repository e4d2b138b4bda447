"""One JSON line per event of note, carrying the run's pins when there are any.

Log lines name ids, offsets and reason codes, never payload values or secrets.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

__all__ = ["log_event"]


def log_event(logger: logging.Logger, event: str, /, **fields: Any) -> None:
    """Log ``{"event": event, **fields}`` as one compact JSON line at INFO."""
    if logger.isEnabledFor(logging.INFO):
        line = orjson.dumps({"event": event, **fields}, option=orjson.OPT_SORT_KEYS, default=str)
        logger.info(line.decode())
