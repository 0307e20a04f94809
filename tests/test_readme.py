"""The README's quick start is what CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    return re.findall(r"```sh\n(python3 -m venv .*)\n```", (ROOT / "README.md").read_text())


def test_readme_has_two_quick_start_commands():
    commands = _readme_commands()
    assert len(commands) == 2
    assert "lpmac run" in commands[0]
    assert commands[1].endswith("pytest")


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert _readme_commands()[1] in ci
