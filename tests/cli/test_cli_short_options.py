"""A short option means one thing in every command (README): `-f` is `--format` everywhere
except `tail -f`, which is `--follow` as in Unix tail."""

from __future__ import annotations

from collections import defaultdict

import click
import typer.main

# the one documented exception: (command, short option) -> its long option
EXCEPTIONS = {("tail", "-f"): "--follow"}


def _options() -> dict[str, dict[str, str]]:
    """short option -> {command path: its long option} for every command and sub-command."""
    from logscope.cli import app

    found: dict[str, dict[str, str]] = defaultdict(dict)

    def walk(command: click.Command, name: str) -> None:
        for sub_name, sub in getattr(command, "commands", {}).items():
            walk(sub, f"{name} {sub_name}".strip())
        for param in command.params:
            names = [*param.opts, *param.secondary_opts]
            longs = [n for n in names if n.startswith("--")]
            for short in (n for n in names if n.startswith("-") and not n.startswith("--")):
                found[short][name] = longs[0] if longs else short

    walk(typer.main.get_command(app), "")
    return found


def test_every_short_option_has_one_meaning() -> None:
    options = _options()
    assert options["-f"], "no command has -f"
    for short, commands in options.items():
        meanings = {
            long for command, long in commands.items() if (command, short) not in EXCEPTIONS
        }
        assert len(meanings) == 1, (short, commands)
    assert options["-f"]["check"] == "--format"  # README and CI scripts use check -f json
    for (command, short), long in EXCEPTIONS.items():
        assert options[short][command] == long


def test_tail_follow_and_check_format(cli, samples) -> None:  # type: ignore[no-untyped-def]
    import json

    out = cli(["check", samples / "kto_healthy", "-f", "json"]).stdout
    assert json.loads(out)["runs"][0]["status"] == "pass"
    assert "--follow" in cli(["tail", "--help"]).stdout
