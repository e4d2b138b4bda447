"""AL, the action layer: executes DF's action intents effectively once (DESIGN section 6).

- ``policy``: the kill switch and retry discipline (``policy.action``).
- ``executor``: the seam to whatever performs side effects (requests under idempotency keys).
- ``payment_switch`` + ``side_effect_log``: the built-in simulated switch and its durable log.
- ``execute``: pure rules (triage, backoff, conclusion, the outcome record).
- ``rounds``: a batch's attempts in rounds against an executor.

The agent is ``app.agents.action_layer``; its table ``app.tables.al``.
"""
