"""The docs are checked: every command has help text and is in the README; the set-up is two commands."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from protokollsok.cli import cli

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_has_help_and_is_in_the_readme(name):
    command = cli.commands[name]
    assert (command.help or "").strip(), f"{name} has no help text"
    assert f"protokollsok {name}" in README


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_option_of_a_command_is_in_the_readme_or_its_help(name):
    command = cli.commands[name]
    for param in command.params:
        for opt in getattr(param, "opts", []):
            if opt.startswith("--") and opt not in ("--help",):
                assert opt in README or (param.help or "").strip(), f"{name} {opt} undocumented"


def test_set_up_is_two_commands():
    block = re.search(r"## Set-up: two commands.*?```sh\n(.*?)```", README, re.S)
    assert block, "README lacks the set-up block"
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]


def test_ci_runs_the_readme_commands():
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text(encoding="utf-8")
    assert "make demo" in ci and "make test" in ci
