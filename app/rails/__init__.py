"""Rails: contracts every component shares (pure, no I/O)."""
