"""Run one Faust worker for a profile until SIGTERM/SIGINT (``fp worker``)."""

from __future__ import annotations

from faust.worker import Worker

from app.profiles.loader import Profile
from app.runtime.faust_app import build_app

__all__ = ["run_worker"]


def run_worker(profile: Profile) -> int:
    """Block running the worker; returns its exit code."""
    app = build_app(profile)
    worker = Worker(app, loglevel=profile.wiring.worker.log_level, quiet=True)
    worker.execute_from_commandline()  # exits the process via sys.exit when stopped
    return 0
