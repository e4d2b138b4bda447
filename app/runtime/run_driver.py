"""The main job on one world: SR, streaming, drain, evaluation, summary and report.

``run_main_job`` expects the bus and a worker to be up; ``start_run`` (``fp run start``) brings
up what is missing (the embedded broker for the ``tansu`` wiring, a worker unless one answers
``/v1/health``; its log goes to ``wiring.worker.log_dir``) and stops what it started. The job
watches its worker (:class:`app.runtime.supervisor.WorkerWatch`) between steps and on every
progress poll: a worker it started that exits, or any worker whose health stops answering, ends
the job at once with :class:`~app.runtime.supervisor.WorkerLostError` naming the exit code and
the worker's last error (issue #11 item 11), instead of a stall and a summary of zeros.
Whether the run drained is judged from the durable
record (``app.reporting.follow``), never from a worker's counters; truth is read only after the
run, by reference, through ``app.reporting.scorecard`` (which alone reaches ``app.evaluation``).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer

from app.cli.sr_cmd import sr_run
from app.eb.topics import Topic, topic_name
from app.objectstore.config import open_object_store
from app.oracle.locator import parse_locator
from app.profiles.loader import Profile
from app.profiles.wiring import TansuBroker
from app.rails.errors import FraudPlatformError
from app.rails.run_facts import RunFactsView
from app.reporting.drain import DrainProgress, StallWatch, run_failure
from app.reporting.follow import (
    RunFollower,
    read_admission_times,
    written_before,
)
from app.reporting.label_health import run_label_health
from app.reporting.progress import progress_line
from app.reporting.render import render_text
from app.reporting.report import ReportPaths, write_report
from app.reporting.scorecard import evaluate_run
from app.reporting.sections import summary_sections
from app.reporting.summary import MainJobSummary, build_summary, chart_data
from app.runtime.bus_address import bootstrap_servers, embedded_broker
from app.runtime.supervisor import (
    HEALTH_GRACE_S,
    WorkerLostError,
    WorkerProcess,
    WorkerWatch,
    describe_exit,
    http_json,
)
from app.sr.ledger import RunLedger
from app.sr.run_request import parse_run_request
from app.wsp.stream_plan import plan_for

__all__ = ["DEFAULT_STALL_S", "REPORTS_DIR", "MainJobResult", "PartitionsMismatchError", "Steps",
           "check_partitions", "run_main_job", "start_run"]

DEFAULT_STALL_S = 60.0
"""No progress on any step for this long: stop waiting and report what is missing."""
REPORTS_DIR = ".fp/reports"
"""Where reports go, relative to the profile's base dir (one new folder per report)."""
_POLL_S = 1.0
WORKER_LOG = "worker.log"
"""The log file of a worker the job starts, in ``wiring.worker.log_dir``."""


class PartitionsMismatchError(FraudPlatformError):
    """Platform topics already exist with another partition count than the profile's."""

    reason_code = "PARTITIONS_MISMATCH"
_PLAIN_EVERY_S = 15.0  # progress line interval when stderr is not a terminal


@dataclass
class Steps:
    """Numbered step lines (``[4/8] ...``) shared by ``fp demo`` and ``fp run start``."""

    total: int
    done: int = 0

    def say(self, text: str) -> None:
        self.done += 1
        print(f"[{self.done}/{self.total}] {text}", flush=True)


@dataclass
class MainJobResult:
    run_id: str
    status: str
    reason: str = ""
    reused: bool = False
    planned_rows: int = 0
    summary: MainJobSummary | None = None
    report: ReportPaths | None = None
    phases_s: dict[str, float] = field(default_factory=dict)
    worker_exit: int | None = None
    """Exit code of the worker the job started and stopped (None: it used a running one)."""
    failure: tuple[str, str] | None = None
    """``(reason code, message)`` of a run that admitted nothing, or decided nothing although
    its world has triggers (:func:`app.reporting.drain.run_failure`)."""

    @property
    def ok(self) -> bool:
        return self.status == "READY" and self.summary is not None and self.summary.drained \
            and self.failure is None


def _deployed(profile: Profile, agent: str) -> bool:
    """Whether the profile's workers run ``agent`` (the run driver waits only for those)."""
    agents = profile.wiring.worker.agents
    return agents is None or agent in agents


async def _planned_rows(profile: Profile, facts_key: str) -> tuple[int, bool, frozenset[str]]:
    """Rows the run streams, whether any of its streamed outputs is a decision trigger, and the
    event types of its label feeds."""
    async with open_object_store(profile.wiring.object_store, base_dir=profile.base_dir) as store:
        view = RunFactsView.model_validate_json(await store.get(facts_key))
    testing = profile.policy.testing
    triggers = set(profile.policy.decision.triggers)
    has_triggers = any(o.streamed and o.row_count and o.event_type in triggers
                       for o in view.outputs)
    label_types = frozenset(o.event_type for o in view.outputs
                            if o.role == "label_feed" and o.event_type)
    return plan_for(view, testing.max_rows_per_output if testing.mode == "smoke" else None
                    ).total_rows, has_triggers, label_types


class _ProgressDisplay:
    """A redrawn line on a terminal; a plain line every few seconds in a log."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self._last = 0.0

    def show(self, p: DrainProgress, *, final: bool = False) -> None:
        if self.tty:
            sys.stderr.write("\r  " + progress_line(p) + ("\n" if final else ""))
        elif final or time.monotonic() - self._last >= _PLAIN_EVERY_S:
            sys.stderr.write("  " + progress_line(p) + "\n")
            self._last = time.monotonic()
        sys.stderr.flush()


async def _mark_drained(profile: Profile, run_id: str) -> None:
    """Tell SR's ledger the run drained, so a later bus does not get it back (app.ig.restore)."""
    async with open_object_store(profile.wiring.object_store, base_dir=profile.base_dir) as store:
        await RunLedger(store, run_id).mark_drained()


async def _written_before(profile: Profile) -> set[str]:
    async with open_object_store(profile.wiring.object_store, base_dir=profile.base_dir) as store:
        return await written_before(store)


async def _follow(profile: Profile, run_id: str, planned_rows: int, stall_s: float, *,
                  skip: set[str], watch: WorkerWatch | None) -> tuple[RunFollower, DrainProgress]:
    """Poll the run's record until it drained or stalled; check the worker on every poll.

    Raises:
        WorkerLostError: the watched worker exited or stopped answering its health.
    """
    servers, worker = bootstrap_servers(profile), profile.wiring.worker
    follower = RunFollower(
        run_id=run_id, planned_rows=planned_rows, servers=servers,
        traffic_topic=topic_name(Topic.TRAFFIC, worker.topic_prefix),
        rtdl_topic=topic_name(Topic.RTDL, worker.topic_prefix), partitions=worker.partitions,
        outcomes_expected=_deployed(profile, "al"), audit_expected=_deployed(profile, "dla"),
        triggers=profile.policy.decision.triggers)
    follower.skip(skip)
    display, stall = _ProgressDisplay(), StallWatch(stall_s, time.monotonic)
    async with open_object_store(profile.wiring.object_store, base_dir=profile.base_dir) as store:
        while True:
            progress = await follower.poll(store)
            if progress.drained or stall.stalled(progress.key()):
                display.show(progress, final=True)
                return follower, progress
            display.show(progress)
            if watch is not None:
                try:
                    await asyncio.to_thread(watch.check, f"while run {run_id} streamed")
                except WorkerLostError:
                    display.show(progress, final=True)
                    raise
            await asyncio.sleep(_POLL_S)


def run_main_job(profile: Profile, world: str, scenario: str, *, run_label: str,
                 steps: Steps, stall_s: float = DEFAULT_STALL_S,
                 reports_dir: Path | None = None,
                 watch: WorkerWatch | None = None) -> MainJobResult:
    """SR -> stream -> drain -> evaluate -> summary -> report, on a bus and worker already up.

    The report goes to a new folder under ``reports_dir`` (default ``.fp/reports`` under the
    profile's base dir). ``watch`` is asked after SR, on every progress poll and when the wait
    ends (a stall is blamed on a lost worker when there is one).

    Raises:
        WorkerLostError: the watched worker exited or stopped answering, before the run drained.
    """
    clock = time.monotonic()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        result.phases_s[name] = now - clock
        clock = now

    before = asyncio.run(_written_before(profile))
    request = parse_run_request(world_locator=world, scenario_id=scenario, run_label=run_label)
    outcome = asyncio.run(sr_run(profile, request))
    result = MainJobResult(outcome.run_id, outcome.status, outcome.reason_code or "",
                           reused=outcome.reused)
    lap("sr")
    if watch is not None:
        watch.check(f"while SR declared run {outcome.run_id}")
    if outcome.ready is None:
        steps.say(f"SR: run {outcome.run_id} {outcome.status} ({result.reason}): stopping")
        return result
    result.planned_rows, has_triggers, label_types = asyncio.run(
        _planned_rows(profile, outcome.ready.run_facts.object_key))
    again = " (an existing run: nothing new is streamed; use another --label)" \
        if outcome.reused else ""
    speedup, rate = profile.policy.streaming.speedup, profile.wiring.streaming.rows_per_s
    steps.say(f"SR: run {outcome.run_id} READY{again}; {result.planned_rows:,} rows planned; "
              + (f"streaming at {rate:g} rows/s (offered load)" if rate else
                 f"streaming at {speedup:g}x event time" if speedup else
                 "streaming at full speed (speedup 0)"))
    # A new run's segments all come after ``before``; a reused run's may be anywhere.
    follower, progress = asyncio.run(_follow(
        profile, outcome.run_id, result.planned_rows, stall_s,
        skip=set() if outcome.reused else before, watch=watch))
    lap("stream_and_drain")
    if watch is not None and not progress.drained:
        watch.check(f"while run {outcome.run_id} drained (no progress for {stall_s:.0f}s)")
    no_audit = "" if progress.audit_expected else "; audit: not expected (no DLA deployed)"
    if (failure := run_failure(progress, has_triggers=has_triggers)) is not None:
        result.failure = failure
        steps.say(f"run {outcome.run_id} failed [{failure[0]}]: {failure[1]}")
        return result
    if progress.drained:
        asyncio.run(_mark_drained(profile, outcome.run_id))
        steps.say(f"drained in {result.phases_s['stream_and_drain']:.1f}s: every expected step "
                  f"complete{no_audit}")
    else:
        steps.say(f"stopped waiting after {stall_s:.0f}s without progress{no_audit}; missing:"
                  + "".join(f"\n      {m}" for m in progress.missing()))
    evaluation, truth = asyncio.run(evaluate_run(profile, outcome.run_id, follower.decisions))
    admitted_ms = asyncio.run(read_admission_times(
        bootstrap_servers(profile), follower.traffic_topic, follower.admitted_positions))
    lap("evaluate")
    steps.say(f"evaluated {evaluation.decisions:,} decisions against the world's truth "
              f"({evaluation.truth_flows:,} flows, read by reference after its gate PASSed)")
    labels = None
    if _deploys_labels(profile):
        labels, behind = asyncio.run(run_label_health(
            profile, outcome.run_id,
            admitted_label_events=sum(follower.admitted_by_type.get(t, 0) for t in label_types),
            decisions=follower.decisions, truth=truth))
        if behind:
            steps.say(f"the Label Store did not hold {behind:,} admitted label events yet: "
                      "label health counts what it held")
    result.summary = build_summary(
        run_id=outcome.run_id, planned_rows=result.planned_rows, receipts=follower.receipts,
        admitted_by_type=follower.admitted_by_type, decisions=follower.decisions,
        outcomes=follower.outcomes, audit_records=follower.audit_records, evaluation=evaluation,
        admitted_ms=admitted_ms, outcomes_expected=follower.tracker.outcomes_expected,
        missing=progress.missing(), labels=labels)
    steps.say("summary\n" + render_text(summary_sections(result.summary)).rstrip())
    data = chart_data(follower.decisions, follower.outcomes, admitted_ms, truth)
    result.report = write_report(result.summary, data,
                                 reports_dir or profile.resolve(REPORTS_DIR))
    lap("report")
    steps.say(f"report: {result.report.html}\n      (also {result.report.markdown.name} and "
              f"{len(result.report.charts)} PNG charts in {result.report.folder})")
    return result


def _deploys_labels(profile: Profile) -> bool:
    agents = profile.wiring.worker.agents
    return agents is None or "labels" in agents


async def _partition_counts(servers: list[str], wanted: Callable[[str], bool]) -> dict[str, int]:
    """Partition counts of the existing topics whose name is ``wanted`` (cluster metadata)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False)
    await consumer.start()
    try:
        names = await consumer.topics()
        return {name: len(consumer.partitions_for_topic(name) or ())
                for name in sorted(names) if wanted(name)}
    finally:
        await consumer.stop()


def check_partitions(profile: Profile) -> None:
    """Refuse early when the profile's topics exist with another partition count.

    faust crashes on such a mix (``PartitionsMismatch`` between a source topic and a table's
    changelog) or, worse, runs on it while the run's summary reads only the profile's count of
    partitions. Checks the platform topics under ``wiring.worker.topic_prefix`` and the
    changelog topics of ``wiring.worker.app_id``; topics that do not exist yet are fine.

    Raises:
        PartitionsMismatchError: naming each topic and its partition count.
    """
    worker = profile.wiring.worker
    platform = {topic_name(t, worker.topic_prefix) for t in Topic}

    def ours(name: str) -> bool:
        return name in platform or (name.startswith(f"{worker.app_id}-")
                                    and name.endswith("-changelog"))

    counts = asyncio.run(_partition_counts(bootstrap_servers(profile), ours))
    wrong = {name: n for name, n in counts.items() if n != worker.partitions}
    if wrong:
        listed = ", ".join(f"{name} has {n}" for name, n in sorted(wrong.items()))
        raise PartitionsMismatchError(
            f"the profile's wiring.worker.partitions is {worker.partitions}, but existing topics "
            f"differ: {listed}; use the partition count the topics were created with, or "
            f"another topic_prefix and app_id (or a fresh broker)")


def start_run(profile: Profile, profile_arg: str, world: str, scenario: str, *,
              log_dir: Path | None = None, run_label: str = "default",
              stall_s: float = DEFAULT_STALL_S, reports_dir: Path | None = None,
              health_grace_s: float = HEALTH_GRACE_S) -> MainJobResult:
    """``fp run start``: bring up what is missing, run the main job, stop what it started.

    The worker it starts logs to ``log_dir`` (default: the profile's ``wiring.worker.log_dir``)
    and is watched as its own process; a worker that was already answering ``/v1/health`` is
    watched through its health (lost after ``health_grace_s`` without a 200).

    Raises:
        ContractError: a bad request or world locator, before anything is started.
        PartitionsMismatchError: the profile's topics exist with another partition count.
        WorkerStartError: the worker it started exited or was not ready in time.
        WorkerLostError: the worker exited or stopped answering before the run drained.
    """
    parse_locator(parse_run_request(world_locator=world, scenario_id=scenario,
                                    run_label=run_label).world_locator)
    started_broker = False
    if isinstance(profile.wiring.broker, TansuBroker):
        broker = embedded_broker(profile)
        started_broker = broker.running() is None
        state = asyncio.run(broker.up(timeout_s=profile.wiring.broker.start_timeout_s))
        if started_broker:
            print(f"embedded broker started at {state.bootstrap}", flush=True)
    logs = log_dir if log_dir is not None else profile.resolve(profile.wiring.worker.log_dir)
    worker = WorkerProcess(profile_arg, profile.wiring.worker.web_port, logs / WORKER_LOG)
    # Anything answering (even 503: starting, rebalancing) is a worker; start one only if none.
    started_worker = http_json(worker.health_url)[0] == 0
    result: MainJobResult | None = None
    try:
        check_partitions(profile)
        if started_worker:
            worker.start()
            print(f"worker started; log {worker.log_path}", flush=True)
        else:
            print(f"using the worker answering at {worker.base_url} (watched through its "
                  "health)", flush=True)
        worker.wait_ready()
        watch = WorkerWatch(worker, owned=started_worker, grace_s=health_grace_s)
        result = run_main_job(profile, world, scenario, run_label=run_label, steps=Steps(5),
                              stall_s=stall_s, reports_dir=reports_dir, watch=watch)
        return result
    finally:
        code = worker.stop()  # None when it did not start one
        if code is not None:
            print(f"worker stopped ({describe_exit(code)})", flush=True)
            if result is not None:
                result.worker_exit = code
        if started_broker:
            embedded_broker(profile).down()
