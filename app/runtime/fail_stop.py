"""Fail-stop: an agent whose batch fails on infrastructure ends the worker process at once.

faust's own error path is wrong for us: it commits the consumer's offsets
(``Consumer.on_task_error``), the ``take_events`` generator acks the failed batch when it is
closed, and the supervisor restarts the actor *in the same process* — so the batch's records
would be skipped, never decided, executed or audited. Every agent is built to recover from a
``kill -9`` (tested: state is rebuilt from the log, effects are idempotent), so the safe reaction
is the same as a crash: exit without committing and let the process supervisor (systemd,
Kubernetes, ``fp demo``'s WorkerProcess) start the worker again. Bad *input* never gets here:
agents turn it into anomalies or quarantine records.

Exit codes of a worker process:

- ``0``: stopped cleanly (SIGTERM/SIGINT, shutdown finished in time);
- ``70`` (:data:`FAIL_STOP_EXIT_CODE`): an agent failed on infrastructure, or the broker watch
  found the bus lost for longer than ``wiring.worker.broker_loss_fail_stop_s``
  (:mod:`app.runtime.broker_watch`);
- ``75`` (:data:`SHUTDOWN_DEADLINE_EXIT_CODE`): asked to stop, but the clean shutdown did not
  finish within ``wiring.worker.shutdown_deadline_s`` (faust flushing or committing to a dead
  broker), or a second SIGTERM/SIGINT arrived; nothing was committed past what was acked.

Both non-zero codes mean "restart me": the worker recovers as from a ``kill -9``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from typing import NoReturn

__all__ = ["FAIL_STOP_EXIT_CODE", "SHUTDOWN_DEADLINE_EXIT_CODE", "arm_exit_deadline",
           "exit_now", "fail_stop"]

logger = logging.getLogger(__name__)

FAIL_STOP_EXIT_CODE = 70
"""``EX_SOFTWARE``: the worker stopped itself after an agent failure or a lost broker."""

SHUTDOWN_DEADLINE_EXIT_CODE = 75
"""``EX_TEMPFAIL``: a requested shutdown did not finish in time; the process ended anyway."""


def _flush_logs() -> None:
    for handler in logging.getLogger().handlers:
        with contextlib.suppress(OSError, ValueError):
            report = getattr(handler, "report_suppressed", None)  # log_setup.OneLineHandler
            if report is not None:
                report()
            handler.flush()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()


def exit_now(code: int) -> NoReturn:
    """Flush the logs and end the process with ``code`` at once (no cleanup, no commit)."""
    _flush_logs()
    os._exit(code)


def fail_stop(agent: str, exc: BaseException) -> NoReturn:
    """Log the failure with its traceback, flush the logs and exit the process (no commit)."""
    logger.critical("agent %s failed: %r; stopping the worker without committing (it is "
                    "restarted and recovers as from a crash)", agent, exc, exc_info=exc)
    exit_now(FAIL_STOP_EXIT_CODE)


def arm_exit_deadline(seconds: float, why: str) -> threading.Timer:
    """End the process with :data:`SHUTDOWN_DEADLINE_EXIT_CODE` if it still runs in ``seconds``.

    A daemon thread, so it fires even while the event loop is stuck, and never keeps a
    finished process alive. Returns the timer (``cancel()`` disarms it).
    """

    def expire() -> None:
        logger.critical("%s: not finished after %.0fs; exiting with code %d", why, seconds,
                        SHUTDOWN_DEADLINE_EXIT_CODE)
        exit_now(SHUTDOWN_DEADLINE_EXIT_CODE)

    timer = threading.Timer(seconds, expire)
    timer.name = "fp-exit-deadline"
    timer.daemon = True
    timer.start()
    return timer
