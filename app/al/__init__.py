"""AL, the action layer: executes DF's action intents effectively once (DESIGN section 6)."""
