"""Committed input corpora: raw bytes that components must handle, with the expected outcome."""
