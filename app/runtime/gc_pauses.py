"""Keep the cyclic garbage collector's full passes out of the decision loop's latency (issue #13).

Measured on ``make demo`` (one worker at 100 rows/s): CPython ran a full (generation 2)
collection every ~10 s, each one 100-230 ms long and finding next to nothing (0-70 objects),
because it walks every tracked object, and the folds keep millions of long-lived ones (graph
edges, feature windows). The event loop is blocked meanwhile, so each pass lands whole on the
p99 of every hop.

Policy: whatever survives a full pass is moved to the permanent generation (``gc.freeze``), so
the next full pass walks only what was allocated since. Reference counting still frees frozen
objects as usual; what freezing gives up is collecting *cycles* among them. Those are rare here
(the folds' state is acyclic), and :meth:`GcPauses.reclaim` takes them back: it unfreezes and
runs one full pass, once every ``wiring.worker.gc_reclaim_s`` (a single pause of the old kind,
minutes apart instead of seconds). ``fp_gc_full_pass_seconds`` times every full pass.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass
from typing import Any

from prometheus_client import Histogram

__all__ = ["GcPauses"]

FULL_PASS_SECONDS = Histogram(
    "fp_gc_full_pass_seconds",
    "Length of each full (generation 2) pass of the cyclic garbage collector: the event loop "
    "is blocked meanwhile.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)


@dataclass
class GcPauses:
    """Installs the policy of the module doc on the interpreter (one per process)."""

    installed: bool = False
    _started: float = 0.0

    def install(self) -> None:
        """Freeze what exists now (imports, config) and after every full pass from here on."""
        if self.installed:
            return
        gc.collect()
        gc.freeze()
        gc.callbacks.append(self._on_gc)
        self.installed = True

    def uninstall(self) -> None:
        """Stop freezing and give every frozen object back to the collector."""
        if self.installed:
            gc.callbacks.remove(self._on_gc)
            gc.unfreeze()
            self.installed = False

    def reclaim(self) -> int:
        """Collect cycles among frozen objects: unfreeze, one full pass, freeze again; returns
        the objects collected. Blocks for one full pass over the heap: call it rarely."""
        gc.unfreeze()
        return gc.collect()  # the callback times it and freezes the survivors

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
            return
        FULL_PASS_SECONDS.observe(time.perf_counter() - self._started)
        # The survivors are long-lived: later passes skip them. (O(1); never count the frozen
        # objects here: gc.get_freeze_count walks them all, 4.6 % of a loop worker's samples.)
        gc.freeze()
