"""WSP, the World Streamer Producer: READY + run_facts_view -> StreamPlan -> envelopes for IG.

The pure core (no faust, no broker, no wall clock except through injected callables):

- :mod:`app.wsp.stream_plan`: the plan, derived from ``run_facts_view`` alone (no scanning;
  truth and reference outputs never streamed), with a digest checkpoints refer to;
- :mod:`app.wsp.row_source`: one output's rows from the pack by reference, each part verified
  against SR's digest before use (no PASS, no read), resumable at a row index;
- :mod:`app.wsp.merge`: one deterministic event-time stream over all planned outputs;
- :mod:`app.wsp.framing`: row -> canonical envelope (stable engine event ids, ``ts_utc`` =
  event time, emission clock injected) -> ``fp.ig.ingress.v1`` record keyed by IG's dedupe key;
- :mod:`app.wsp.pacing`: speedup on an injected clock (compresses wall gaps, never ``ts_utc``);
- :mod:`app.wsp.progress`: the event-time progress header on every row, and the progress
  and end markers to every ingress partition (IG turns them into traffic watermarks);
- :mod:`app.wsp.checkpoint`: monotonic per (run_id, output_id) progress bound to one plan;
- :mod:`app.wsp.errors`: the error hierarchy.
"""

from app.wsp.checkpoint import WspCheckpoint, advance, checkpoint_key, resume_row, resume_rows
from app.wsp.errors import (
    CheckpointConflictError,
    PackContentError,
    PartDigestMismatchError,
    StreamPlanError,
    WspError,
)
from app.wsp.framing import PRODUCER, NowMicros, RunContext, frame, ingress_record
from app.wsp.merge import MergeKey, merge_batches, merge_key, plan_rows
from app.wsp.pacing import (
    Monotonic,
    Pacer,
    RatePacer,
    Sleep,
    check_speedup,
    pacer_for,
    wall_offset_seconds,
)
from app.wsp.progress import (
    MARKER_BEFORE_SLEEP_S,
    MARKER_EVERY_ROWS,
    MARKER_EVERY_S,
    MarkerCadence,
    ProgressMarker,
    end_markers,
    progress_markers,
    row_headers,
)
from app.wsp.row_source import (
    DEFAULT_BATCH_ROWS,
    SourceRow,
    load_part,
    read_output_batches,
    read_output_rows,
)
from app.wsp.stream_plan import (
    STREAM_PLAN_FORMAT,
    PlannedFile,
    PlannedOutput,
    StreamPlan,
    plan_for,
)

__all__ = [
    "DEFAULT_BATCH_ROWS",
    "MARKER_BEFORE_SLEEP_S",
    "MARKER_EVERY_ROWS",
    "MARKER_EVERY_S",
    "PRODUCER",
    "STREAM_PLAN_FORMAT",
    "CheckpointConflictError",
    "MarkerCadence",
    "MergeKey",
    "Monotonic",
    "NowMicros",
    "Pacer",
    "PackContentError",
    "PartDigestMismatchError",
    "PlannedFile",
    "PlannedOutput",
    "ProgressMarker",
    "RatePacer",
    "RunContext",
    "Sleep",
    "SourceRow",
    "StreamPlan",
    "StreamPlanError",
    "WspCheckpoint",
    "WspError",
    "advance",
    "check_speedup",
    "checkpoint_key",
    "end_markers",
    "frame",
    "ingress_record",
    "load_part",
    "merge_batches",
    "merge_key",
    "pacer_for",
    "plan_for",
    "plan_rows",
    "progress_markers",
    "read_output_batches",
    "read_output_rows",
    "resume_row",
    "resume_rows",
    "row_headers",
    "wall_offset_seconds",
]
