"""Profiles: validated once into frozen models; errors name the file and the dotted path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from app.profiles.loader import load_profile, repo_root
from app.rails.errors import ProfileError

PROFILES = ["local", "local-full", "dev", "prod"]
# The only policy knobs environments may differ in (documented in app/profiles/policy.py).
TESTING_POSTURE_KNOBS = {"testing"}


def _raw(name: str) -> dict[str, Any]:
    return dict(yaml.safe_load((repo_root() / "profiles" / f"{name}.yaml").read_text()))


def _write(tmp_path: Path, body: dict[str, Any]) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


@pytest.mark.parametrize("name", PROFILES)
def test_shipped_profiles_load(name: str) -> None:
    profile = load_profile(name)
    assert profile.name == name
    assert profile.policy_rev.name == profile.policy.name


def test_policies_are_equal_across_environments_except_testing_posture() -> None:
    policies = {n: load_profile(n).policy.model_dump(mode="json") for n in PROFILES}
    stripped = [
        {k: v for k, v in body.items() if k not in TESTING_POSTURE_KNOBS}
        for body in policies.values()
    ]
    assert stripped[0] == stripped[1] == stripped[2]


def test_policy_rev_digest_changes_with_policy_content(tmp_path: Path) -> None:
    body = _raw("local")
    body["policy"]["streaming"]["speedup"] = 60
    changed = load_profile(str(_write(tmp_path, body)))
    assert changed.policy_rev.digest != load_profile("local").policy_rev.digest
    assert changed.policy_rev.revision == load_profile("local").policy_rev.revision


def test_profile_is_frozen() -> None:
    profile = load_profile("local")
    with pytest.raises(ValueError):
        profile.policy.streaming.speedup = 5  # type: ignore[misc]  # the point of the test


def test_unknown_key_fails_with_dotted_path(tmp_path: Path) -> None:
    body = _raw("local")
    body["wiring"]["worker"]["web_prot"] = 1
    with pytest.raises(ProfileError) as info:
        load_profile(str(_write(tmp_path, body)))
    assert info.value.path == "wiring.worker.web_prot"
    assert "p.yaml" in str(info.value)


def test_bad_value_fails_with_dotted_path(tmp_path: Path) -> None:
    body = _raw("local")
    body["policy"]["streaming"]["speedup"] = -1
    with pytest.raises(ProfileError) as info:
        load_profile(str(_write(tmp_path, body)))
    assert info.value.path == "policy.streaming.speedup"


def test_bad_backend_type_names_the_discriminator(tmp_path: Path) -> None:
    body = _raw("local")
    body["wiring"]["object_store"] = {"type": "ftp", "root": "x"}
    with pytest.raises(ProfileError) as info:
        load_profile(str(_write(tmp_path, body)))
    assert info.value.path.startswith("wiring.object_store")


def test_secret_value_in_place_of_env_name_is_refused(tmp_path: Path) -> None:
    body = _raw("dev")
    body["wiring"]["object_store"]["secret_access_key_env"] = "wJalr/XUtnFEMI+K7MDENG"
    with pytest.raises(ProfileError) as info:
        load_profile(str(_write(tmp_path, body)))
    assert info.value.path == "wiring.object_store.s3.secret_access_key_env"


def test_missing_profile_fails_clearly() -> None:
    with pytest.raises(ProfileError, match="no such profile file"):
        load_profile("no-such-environment")


def test_malformed_yaml_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("policy: [unclosed\n")
    with pytest.raises(ProfileError, match="not valid YAML"):
        load_profile(str(path))


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ProfileError, match="top level must be a mapping"):
        load_profile(str(path))


def test_relative_wiring_paths_resolve_against_base_dir(tmp_path: Path) -> None:
    profile = load_profile("local", base_dir=tmp_path)
    assert profile.resolve(profile.wiring.worker.datadir) == tmp_path / ".fp" / "worker"
    assert profile.resolve("/abs/path") == Path("/abs/path")
