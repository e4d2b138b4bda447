"""The IG bad-input corpus (cases.yaml, raw files, good envelopes); load it with ``loader``."""
