"""WSP's checkpoint table: name and key encoding (``app.wsp.checkpoint.checkpoint_key``, v1).

Checkpoints are written while the READY event that started the stream is current, so they live
in that control partition's changelog: the worker that redelivers the READY finds them.
"""

from __future__ import annotations

__all__ = ["WSP_CHECKPOINT_TABLE"]

WSP_CHECKPOINT_TABLE = "wsp-checkpoints-v1"
