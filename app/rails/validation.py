"""Pydantic validation errors as plain lines a user can act on (``dotted.path: problem``)."""

from __future__ import annotations

from pydantic import ValidationError

__all__ = ["field_problems"]


def field_problems(exc: ValidationError) -> list[str]:
    """One ``dotted.path: problem`` line per invalid field (``$`` for the document itself)."""
    out = []
    for err in exc.errors(include_url=False):
        path = ".".join(str(part) for part in err["loc"]) or "$"
        out.append(f"{path}: {err['msg']}")
    return out
