"""Every ``fp`` command and sub-command answers ``--help``."""

from __future__ import annotations

import argparse

import pytest

from app.cli.main import build_parser, main


def _command_paths(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    paths = [prefix]
    for action in parser._actions:  # argparse exposes sub-parsers only through this attribute
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                paths.extend(_command_paths(sub, (*prefix, name)))
    return paths


COMMANDS = _command_paths(build_parser())


def test_every_issue_two_command_exists() -> None:
    for path in [("broker", "up"), ("broker", "down"), ("broker", "status"), ("worker",),
                 ("demo",), ("profile", "show"), ("schemas", "check")]:
        assert path in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "fp")
def test_help_exits_zero(path: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([*path, "--help"])
    assert info.value.code == 0
    assert "usage: fp" in capsys.readouterr().out


def test_profile_check_reports_policy_stamp(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profile", "check"]) == 0
    assert "policy fraud_platform" in capsys.readouterr().out


def test_bad_profile_exits_2_with_dotted_path(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--profile", "does-not-exist", "profile", "check"]) == 2
    assert "PROFILE_INVALID" in capsys.readouterr().err
