"""Load a profile once, at start, into a frozen validated model (policy + wiring).

A profile is ``profiles/NAME.yaml`` (or any path). Unknown keys and bad values fail with a
:class:`ProfileError` naming the file and the dotted path of the first bad field.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.profiles.policy import Policy
from app.profiles.wiring import Wiring
from app.rails.errors import ProfileError
from app.rails.policy_rev import PolicyRev, policy_rev_of

__all__ = ["PROFILES_DIR_ENV", "Profile", "load_profile", "profile_path", "repo_root"]

PROFILES_DIR_ENV = "FP_PROFILES_DIR"


def repo_root() -> Path:
    """The checkout this package runs from (profiles/ and .fp/ live there)."""
    return Path(__file__).resolve().parents[2]


class Profile(BaseModel):
    """A validated profile; ``base_dir`` anchors its relative paths."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    policy: Policy
    wiring: Wiring
    base_dir: Path = Field(exclude=True)
    source_path: Path | None = Field(
        default=None, exclude=True,
        description="The file it was loaded from (AL re-reads it for kill-switch changes).")

    @cached_property
    def policy_rev(self) -> PolicyRev:
        """The stamp for receipts, decisions and outcomes: name, revision, content digest."""
        body = self.policy.model_dump(mode="json")
        return policy_rev_of(self.policy.name, self.policy.revision, body)

    def resolve(self, path: str) -> Path:
        """Resolve a wiring path (relative ones against ``base_dir``)."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.base_dir / p


def profile_path(name_or_path: str) -> Path:
    """Find a profile by name (``$FP_PROFILES_DIR`` or ``<repo>/profiles``) or by path."""
    as_path = Path(name_or_path)
    if as_path.suffix in {".yaml", ".yml"}:
        return as_path
    directory = Path(os.environ.get(PROFILES_DIR_ENV) or repo_root() / "profiles")
    return directory / f"{name_or_path}.yaml"


def _dotted(loc: tuple[Any, ...]) -> str:
    # Discriminated unions add the tag as a path element ("object_store.local.root"); keep it:
    # it tells the reader which variant was validated.
    return ".".join(str(part) for part in loc)


def load_profile(name_or_path: str = "local", *, base_dir: Path | None = None) -> Profile:
    """Read, parse and validate a profile.

    Args:
        name_or_path: ``local``/``dev``/``prod`` or a path to a YAML file.
        base_dir: anchor for relative wiring paths; the repo root by default.

    Raises:
        ProfileError: missing file, YAML syntax error, or a field that fails validation.
    """
    path = profile_path(name_or_path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProfileError(source, "", "no such profile file") from None
    except OSError as exc:
        raise ProfileError(source, "", f"cannot read: {exc.strerror}") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProfileError(source, "", f"not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ProfileError(source, "", "top level must be a mapping with policy and wiring")
    try:
        return Profile.model_validate({**raw, "base_dir": base_dir or repo_root(),
                                       "source_path": path.resolve()})
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ProfileError(source, _dotted(first["loc"]), first["msg"]) from exc
