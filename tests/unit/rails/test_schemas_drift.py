"""The committed JSON Schemas under schemas/rails/ are exactly what the models render."""

from __future__ import annotations

from pathlib import Path

from app.rails.schema_export import diff_schemas

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_committed_schemas_match_the_models() -> None:
    drifted = diff_schemas(REPO_ROOT)
    assert not drifted, (
        f"JSON Schemas drifted from the pydantic models: {drifted}. "
        "Run `fp schemas generate` and commit the result (a changed encoding needs a new version)."
    )
