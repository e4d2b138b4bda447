"""The IG's default payload registry: every versioned payload contract and the stream it feeds.

Business traffic (``auth_request``, ``clearing``, ``refund``, ``reversal``) is admitted to the
traffic stream, the label feed (``label_event``) to the labels stream. The contracts themselves
live in :mod:`app.rails.payloads`; this module only decides where each one goes.
"""

from __future__ import annotations

from app.ig.payload_registry import PayloadRegistry, PayloadSpec
from app.rails.payloads import LABEL_EVENT_TYPES, PAYLOAD_MODELS

__all__ = ["default_payload_registry"]


def default_payload_registry() -> PayloadRegistry:
    """A registry of every model in :data:`~app.rails.payloads.PAYLOAD_MODELS`.

    Label event types go to ``"labels"``, every other event type to ``"traffic"``.
    """
    return PayloadRegistry(
        {
            key: PayloadSpec(model, "labels" if key[0] in LABEL_EVENT_TYPES else "traffic")
            for key, model in PAYLOAD_MODELS.items()
        }
    )
