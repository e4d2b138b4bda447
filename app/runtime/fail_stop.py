"""Fail-stop: an agent whose batch fails on infrastructure ends the worker process at once.

faust's own error path is wrong for us: it commits the consumer's offsets
(``Consumer.on_task_error``), the ``take_events`` generator acks the failed batch when it is
closed, and the supervisor restarts the actor *in the same process* — so the batch's records
would be skipped, never decided, executed or audited. Every agent is built to recover from a
``kill -9`` (tested: state is rebuilt from the log, effects are idempotent), so the safe reaction
is the same as a crash: exit without committing and let the process supervisor (systemd,
Kubernetes, ``fp demo``'s WorkerProcess) start the worker again. Bad *input* never gets here:
agents turn it into anomalies or quarantine records.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import NoReturn

__all__ = ["FAIL_STOP_EXIT_CODE", "fail_stop"]

logger = logging.getLogger(__name__)

FAIL_STOP_EXIT_CODE = 70
"""``EX_SOFTWARE``: the worker stopped itself after an agent failure."""


def fail_stop(agent: str, exc: BaseException) -> NoReturn:
    """Log the failure with its traceback, flush the logs and exit the process (no commit)."""
    logger.critical("agent %s failed: %r; stopping the worker without committing (it is "
                    "restarted and recovers as from a crash)", agent, exc, exc_info=exc)
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stderr.flush()
    os._exit(FAIL_STOP_EXIT_CODE)
