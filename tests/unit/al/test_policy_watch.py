"""Kill switch by profile change: a changed switch is swapped in with a governance fact; an
invalid edit keeps the live policy."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

from app.profiles.loader import load_profile, repo_root
from app.rails.governance import FactType
from app.rails.reason_codes import ReasonCode
from app.runtime.policy_watch import PolicyWatch

NOW = "2026-01-02T03:04:05.000000Z"
Edit = Callable[..., None]


@pytest.fixture
def profile_file(tmp_path: Path) -> Path:
    path = tmp_path / "profile.yaml"
    path.write_text((repo_root() / "profiles" / "local.yaml").read_text())
    return path


@pytest.fixture
def edit(profile_file: Path) -> Edit:
    """``edit(revision, **kill_switch)``: rewrite the profile's kill switch like an operator."""
    def apply(revision: str, **kill_switch: Any) -> None:
        body = yaml.safe_load(profile_file.read_text())
        body["policy"]["revision"] = revision
        body["policy"]["action"]["kill_switch"] = kill_switch
        profile_file.write_text(yaml.safe_dump(body, sort_keys=False))
    return apply


def _reload_errors() -> float:
    return REGISTRY.get_sample_value("fp_al_policy_reload_errors_total") or 0.0


def _watch(path: Path) -> PolicyWatch:
    return PolicyWatch(load_profile(str(path)), now_utc=lambda: NOW)


def test_the_loaded_profile_knows_its_file(profile_file: Path) -> None:
    assert load_profile(str(profile_file)).source_path == profile_file.resolve()
    assert "source_path" not in load_profile(str(profile_file)).model_dump()


def test_an_unchanged_profile_changes_nothing(profile_file: Path) -> None:
    watch = _watch(profile_file)
    before = watch.live
    assert watch.check() == [] and watch.check() == []
    assert watch.live == before


def test_turning_the_switch_on_swaps_the_policy_and_emits_a_fact(
        profile_file: Path, edit: Edit) -> None:
    watch = _watch(profile_file)
    old_rev = watch.live.policy_rev
    edit("2026.11.1", enabled=True, action_types=["APPROVE_AUTH", "DECLINE_AUTH"],
         reason="issuer outage")
    (fact,) = watch.check()
    assert fact.fact_type is FactType.KILL_SWITCH_CHANGED
    assert fact.scope == "action:APPROVE_AUTH,DECLINE_AUTH"
    assert (fact.from_value, fact.to_value) == ("off", "on:APPROVE_AUTH,DECLINE_AUTH")
    assert fact.details["reason"] == "issuer outage"
    assert fact.reason_codes == (ReasonCode.KILL_SWITCH_ON,)
    assert fact.at_utc == NOW
    assert watch.live.action.kill_switch.enabled
    assert watch.live.policy_rev.revision == "2026.11.1" != old_rev.revision
    assert fact.policy_rev == watch.live.policy_rev
    assert watch.check() == [fact]  # owed until its publication is acked ...
    watch.announced(fact)
    assert watch.check() == []  # ... then never again


def test_turning_it_off_again_is_a_second_fact(profile_file: Path, edit: Edit) -> None:
    watch = _watch(profile_file)
    edit("2026.11.1", enabled=True, action_types=[], reason="all stop")
    (on,) = watch.check()
    edit("2026.11.2", enabled=False, action_types=[], reason="")
    owed = watch.check()  # "on" was never announced: both are owed, in order
    assert owed[0] == on and len(owed) == 2
    off = owed[1]
    assert on.fact_id != off.fact_id
    assert (on.scope, on.to_value) == ("action:*", "on:*")
    assert (off.from_value, off.to_value, off.reason_codes) == ("on:*", "off", ())
    assert off.details["reason"] == "all stop"
    assert not watch.live.action.kill_switch.enabled


def test_an_invalid_edit_keeps_the_live_policy_and_is_reported(
        profile_file: Path, edit: Edit, caplog: pytest.LogCaptureFixture) -> None:
    watch = _watch(profile_file)
    before = watch.live
    errors = _reload_errors()
    edit("2026.11.1", enabled=True, action_types=[], reason="")  # on without a reason
    assert watch.check() == []
    assert watch.check() == []  # the same bad file is reported once
    assert watch.live == before
    assert _reload_errors() == errors + 1
    assert "kill_switch" in caplog.text and "live action policy is kept" in caplog.text
    edit("2026.11.2", enabled=True, action_types=[], reason="fixed")
    assert len(watch.check()) == 1 and watch.live.action.kill_switch.enabled


def test_a_change_elsewhere_in_the_policy_is_not_a_kill_switch_change(
        profile_file: Path) -> None:
    watch = _watch(profile_file)
    body = yaml.safe_load(profile_file.read_text())
    body["policy"]["action"]["retry"]["max_attempts"] = 5
    profile_file.write_text(yaml.safe_dump(body))
    assert watch.check() == []
    assert watch.live.action.retry.max_attempts == 3
