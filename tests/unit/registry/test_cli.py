"""``fp registry`` against a profile whose object store lives in the test's tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from app.cli.main import main
from app.profiles.loader import profile_path
from app.registry.resolver import bootstrap_pair

RULE = ("{name: burst, feature: card.count_5m, op: '>=', value: 5, points: 50, "
        "reason_code: CARD_BURST_5M}")


def _bundle_yaml(version: int = 1, scope: str = "auth", rule: str = RULE) -> str:
    return (f"bundle_id: analyst-scorecard\nversion: {version}\nscope: {scope}\n"
            "kind: scorecard\ndescription: an analyst's edit\n"
            "features: [card.count_5m]\n"
            f"bands: {{step_up: 40, review: 60, decline: 90}}\nrules:\n  - {rule}\n")


@pytest.fixture
def profile(tmp_path: Path) -> str:
    body = yaml.safe_load(profile_path("local").read_text())
    body["wiring"]["object_store"] = {"type": "local", "root": str(tmp_path / "objects")}
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(body))
    return str(path)


def fp(profile: str, *args: str) -> int:
    return main(["--profile", profile, "registry", *args])


def test_list_marks_the_bootstrap_active_on_a_fresh_store(
        profile: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert fp(profile, "list") == 0
    out = capsys.readouterr().out
    boot = bootstrap_pair()[0]
    line = next(line for line in out.splitlines() if "bootstrap-scorecard@2" in line)
    assert line.split()[:2] == ["ACTIVE", "auth"]
    assert boot.digest.hex[:16] in line


def test_put_activate_list_show(profile: str, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(_bundle_yaml())
    assert fp(profile, "put", str(path)) == 0
    digest = capsys.readouterr().out.split("sha256:")[1].split()[0]
    assert fp(profile, "activate", digest[:12], "--scope", "auth", "--reason", "pilot") == 0
    assert "activation #1" in capsys.readouterr().out
    assert fp(profile, "list") == 0
    marks = {line.split()[2]: line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]}
    assert marks == {"analyst-scorecard@1": "ACTIVE", "bootstrap-scorecard@2": "-"}
    assert fp(profile, "show", "analyst-scorecard@1") == 0
    shown = capsys.readouterr().out
    assert "# status in scope auth: ACTIVE" in shown
    assert yaml.safe_load(shown)["rules"][0]["reason_code"] == "CARD_BURST_5M"


def test_show_output_is_a_bundle_put_accepts_unchanged(
        profile: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert fp(profile, "show", "bootstrap-scorecard@2") == 0
    path = tmp_path / "copy.yaml"
    path.write_text(capsys.readouterr().out)
    assert fp(profile, "put", str(path)) == 0
    assert bootstrap_pair()[0].digest.hex in capsys.readouterr().out


@pytest.mark.parametrize(("args", "code"), [
    (("show", "0123456789abcdef"), "BUNDLE_NOT_FOUND"),
    (("show", "analyst-scorecard@3"), "BUNDLE_NOT_FOUND"),
    (("show", "not a ref"), "BUNDLE_REF_INVALID"),
    (("activate", "bootstrap-scorecard@2", "--scope", "card-not-present"),
     "BUNDLE_SCOPE_MISMATCH"),
    (("activate", "xyz", "--scope", "auth"), "BUNDLE_REF_INVALID"),
])
def test_errors_are_one_line_and_exit_2(profile: str, args: tuple[str, ...], code: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert fp(profile, *args) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"fp: error [{code}]")
    assert err.count("\n") == 1


@pytest.mark.parametrize(("text", "where"), [
    (_bundle_yaml(rule=RULE.replace("'>='", "'=~'")), "rules.0.op"),
    (_bundle_yaml(rule=RULE.replace("value: 5", "value: [5]")), "rules.0"),
    (_bundle_yaml(version=0), "version"),
    ("bundle_id: [unclosed\n", "not valid YAML"),
])
def test_put_of_an_invalid_bundle_names_the_field(profile: str, tmp_path: Path, text: str,
                                                  where: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    assert fp(profile, "put", str(path)) == 2
    err = capsys.readouterr().err
    assert err.startswith("fp: error [BUNDLE_INVALID]") and where in err
    assert err.count("\n") == 1
    assert not (tmp_path / "objects" / "registry" / "bundles").exists()


def test_put_of_a_missing_file_is_a_clear_error(profile: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert fp(profile, "put", str(tmp_path / "nope.yaml")) == 2
    assert "cannot read the file" in capsys.readouterr().err


def test_empty_reason_is_an_argparse_error(profile: str) -> None:
    with pytest.raises(SystemExit) as info:
        fp(profile, "activate", "bootstrap-scorecard@2", "--scope", "auth", "--reason", " ")
    assert info.value.code == 2
