"""Ingestion Gate: the only admission authority and the only writer of the traffic log."""
