"""Checks of DESIGN section 10's invariants over what is on the bus (tests and operators)."""
