"""DLA, the decision log and audit: one append-only audit record per decision chain."""
