"""Run one Faust worker for a profile until SIGTERM/SIGINT (``fp worker``).

On top of faust's worker:

- logging is one line per record, rate-limited (:mod:`app.runtime.log_setup`), instead of
  mode's per-``write`` stdout proxy (which turned a printed traceback into one record per token);
- a stop request always ends the process: SIGTERM/SIGINT (or the worker stopping on a crash)
  arms a deadline of ``wiring.worker.shutdown_deadline_s``, after which the process exits with
  code 75 however stuck faust's shutdown is (it flushes and commits to the broker, forever if
  the broker is gone); a second SIGTERM/SIGINT exits with 75 at once. Exit codes:
  :mod:`app.runtime.fail_stop`;
- the garbage collector's full passes skip what survived the last one
  (:mod:`app.runtime.gc_pauses`), so they no longer block the loop for 100 ms and more.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import threading
from typing import Any

import faust
from aiokafka.errors import KafkaError
from faust.worker import Worker

from app.eb.topic_admin import ensure_topics
from app.eb.topics import Topic, topic_name
from app.profiles.loader import Profile
from app.runtime.bus_address import bootstrap_servers
from app.runtime.fail_stop import SHUTDOWN_DEADLINE_EXIT_CODE, arm_exit_deadline, exit_now
from app.runtime.faust_app import build_app
from app.runtime.gc_pauses import GcPauses
from app.runtime.log_setup import install_worker_logging

__all__ = ["PlatformWorker", "run_worker"]

logger = logging.getLogger(__name__)


class PlatformWorker(Worker):
    """faust's Worker with one-line logging and a bounded shutdown."""

    def __init__(self, app: faust.App, *, shutdown_deadline_s: float, **kwargs: Any) -> None:
        self.shutdown_deadline_s = shutdown_deadline_s
        self._deadline: threading.Timer | None = None
        # redirect_stdouts=False: install_worker_logging puts its own stream proxy in place.
        super().__init__(app, quiet=True, redirect_stdouts=False, **kwargs)

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        """Replace mode's console handler (and faust's spinner) with the one-line handler."""
        self.spinner = None
        install_worker_logging(level or logging.INFO)

    def install_signal_handlers(self) -> None:
        super().install_signal_handlers()
        # Same signals, same behaviour (faust's handler runs), plus the deadline.
        self.loop.add_signal_handler(signal.SIGTERM, self._on_stop_signal, signal.SIGTERM)
        self.loop.add_signal_handler(signal.SIGINT, self._on_stop_signal, signal.SIGINT)

    def _on_stop_signal(self, signum: signal.Signals) -> None:
        if self._deadline is not None:
            logger.warning("second %s during shutdown: exiting now with code %d",
                           signum.name, SHUTDOWN_DEADLINE_EXIT_CODE)
            exit_now(SHUTDOWN_DEADLINE_EXIT_CODE)
        self.arm_shutdown_deadline(f"shutdown on {signum.name}")
        if signum is signal.SIGTERM:
            self._on_sigterm()
        else:
            self._on_sigint()

    def arm_shutdown_deadline(self, why: str) -> None:
        """From now on the process ends within ``shutdown_deadline_s`` (idempotent)."""
        if self._deadline is None:
            self._deadline = arm_exit_deadline(self.shutdown_deadline_s, why)

    def on_worker_shutdown(self) -> None:
        """The worker stops for any reason (signal, crash): bound the shutdown too."""
        self.arm_shutdown_deadline("worker shutdown")
        super().on_worker_shutdown()


def run_worker(profile: Profile) -> int:
    """Block running the worker; returns its exit code."""
    _create_platform_topics(profile)
    app = build_app(profile)
    pauses = GcPauses()

    @app.timer(profile.wiring.worker.gc_reclaim_s)  # type: ignore[untyped-decorator]  # faust's
    async def _reclaim_cycles() -> None:
        collected = pauses.reclaim()
        logger.info("gc reclaim: %d objects collected, %d frozen", collected,
                    gc.get_freeze_count())

    pauses.install()  # after the imports and the app: they are frozen once, never walked again
    worker = PlatformWorker(app, loglevel=profile.wiring.worker.log_level,
                            shutdown_deadline_s=profile.wiring.worker.shutdown_deadline_s)
    worker.execute_from_commandline()  # exits the process via sys.exit when stopped
    return 0


def _create_platform_topics(profile: Profile) -> None:
    """Create the platform topics with the profile's partition count before faust starts.

    faust creates its own changelog topics with ``wiring.worker.partitions`` but subscribes to
    source topics as they are; a broker that auto-creates them uses its default count (4 on
    Tansu), and faust then stops with ``PartitionsMismatch`` for any other count (issue #12:
    ``partitions: 1`` did not start). Existing topics are left alone (a mismatch still fails
    loudly, in faust or in ``fp run start``'s check). A broker not reachable yet is faust's to
    wait for: logged, not fatal here.
    """
    worker = profile.wiring.worker
    names = [topic_name(t, worker.topic_prefix) for t in Topic]
    try:
        asyncio.run(asyncio.wait_for(ensure_topics(bootstrap_servers(profile), names,
                                                   partitions=worker.partitions), 20))
    except (OSError, TimeoutError, KafkaError) as exc:
        logging.getLogger(__name__).warning("platform topics not created up front: %r", exc)
