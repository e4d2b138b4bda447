"""Scenario Runner: the only readiness authority (verify gates, write the run ledger, READY)."""
