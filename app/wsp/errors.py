"""WSP's errors: a view that cannot be streamed, a pack that disagrees with its view, a resume
that does not fit the plan.

    FraudPlatformError (app.rails.errors)
    └── WspError                     base of every error WSP raises on purpose
        ├── StreamPlanError          the run_facts_view cannot be planned (truth marked streamed,
        │                            framing info missing, a part path without ``utc_day``)
        ├── PartDigestMismatchError  a part's bytes differ from the digest SR verified
        │                            (no PASS, no read: nothing of that part is used)
        ├── PackContentError         a verified part breaks the view or the pack format (columns
        │                            missing, rows out of event-time order, null key or time,
        │                            row count differs from the view)
        └── CheckpointConflictError  a checkpoint belongs to another plan, run or output, or
                                     claims more rows than the plan has

All of them mean the run cannot be streamed as planned: they are infrastructure or evidence
failures, never bad *input* to quarantine. An operator re-runs SR (a damaged pack fails its gates
there) or clears the checkpoints of a deliberately re-planned run.
"""

from __future__ import annotations

from app.rails.errors import FraudPlatformError

__all__ = [
    "CheckpointConflictError",
    "PackContentError",
    "PartDigestMismatchError",
    "StreamPlanError",
    "WspError",
]


class WspError(FraudPlatformError):
    """Base of WSP's errors; carries a stable ``reason_code``."""

    reason_code = "WSP_ERROR"


class StreamPlanError(WspError):
    """The run_facts_view cannot be turned into a stream plan."""

    reason_code = "STREAM_PLAN_INVALID"

    def __init__(self, run_id: str, output_id: str | None, problem: str,
                 *, reason_code: str | None = None) -> None:
        self.run_id = run_id
        self.output_id = output_id
        self.problem = problem
        where = f" output {output_id!r}" if output_id else ""
        super().__init__(
            f"run {run_id}{where}: {problem}; the run_facts_view cannot be streamed as is "
            "(re-run SR with a valid request)",
            reason_code=reason_code,
        )


class PartDigestMismatchError(WspError):
    """A part's bytes are not the bytes SR verified: refused before any row is read."""

    reason_code = "PART_DIGEST_MISMATCH"

    def __init__(self, output_id: str, path: str, expected_hex: str, actual_hex: str,
                 size_bytes: int) -> None:
        self.output_id = output_id
        self.path = path
        self.expected_hex = expected_hex
        self.actual_hex = actual_hex
        self.size_bytes = size_bytes
        super().__init__(
            f"output {output_id!r}: part {path} has sha256 {actual_hex} ({size_bytes} bytes) but "
            f"the run_facts_view names {expected_hex}; the pack changed after SR verified it. "
            "Nothing of this part was streamed; re-run SR on an intact pack."
        )


class PackContentError(WspError):
    """A verified part's content breaks the view or the pack format."""

    reason_code = "PACK_CONTENT_INVALID"

    def __init__(self, output_id: str, path: str | None, problem: str) -> None:
        self.output_id = output_id
        self.path = path
        self.problem = problem
        where = f" part {path}" if path else ""
        super().__init__(
            f"output {output_id!r}{where}: {problem}; the pack does not match its "
            "run_facts_view or the world pack format (report it to the engine's owner)"
        )


class CheckpointConflictError(WspError):
    """A checkpoint that does not belong to this plan, run or output."""

    reason_code = "CHECKPOINT_CONFLICT"

    def __init__(self, run_id: str, output_id: str, problem: str) -> None:
        self.run_id = run_id
        self.output_id = output_id
        self.problem = problem
        super().__init__(
            f"WSP checkpoint of run {run_id} output {output_id!r}: {problem}; refusing to "
            "resume (a changed plan is a new run: never mix two plans' progress)"
        )
