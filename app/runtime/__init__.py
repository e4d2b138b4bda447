"""Runtime wiring: the Faust app built from a profile, metrics, logs, the worker process."""
