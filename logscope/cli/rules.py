"""`logscope rules list|check|lint|show|test`: the rule packs."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from logscope.cli.boundary import fail, say
from logscope.cli.common import EXIT_FINDINGS, EXIT_OK, rules_app

if TYPE_CHECKING:
    from logscope.rules.pack import Pack


class ListFormat(str, Enum):
    table = "table"
    json = "json"


@rules_app.command("list")
def rules_list(
    rules: Annotated[
        list[Path] | None,
        typer.Option("--rules", "-r", help="Also list this rule pack file (repeatable)."),
    ] = None,
    pack: Annotated[
        list[str] | None,
        typer.Option("--pack", "-p", help="Only the rules of this pack (repeatable)."),
    ] = None,
    output_format: Annotated[
        ListFormat,
        typer.Option(
            "--format",
            "-f",
            help="table (people) or json (an array of rules: id, pack, severity, check, "
            "metric, source).",
        ),
    ] = ListFormat.table,
) -> None:
    """List every rule: id, severity, check, metric.

    [b]Examples[/b]

      logscope rules list --pack kto
      logscope rules list --format json | jq -r '.[] | select(.severity == "error") | .id'
    """
    from logscope.pipeline import load_packs
    from logscope.rules.selection import check_names

    packs = load_packs(rules or [])
    if pack:
        check_names(packs, pack_names=[("--pack", set(pack))])
        packs = [p for p in packs if p.name in set(pack)]
    if output_format is ListFormat.json:
        _rules_json(packs)
    else:
        _rules_table(packs)


def _rules_json(packs: list[Pack]) -> None:
    """One JSON array on stdout (strings as written in the packs; JSON escapes the rest)."""
    import json

    rows = [
        {
            "id": r.id,
            "pack": p.name,
            "severity": str(r.severity),
            "check": r.check,
            "metric": r.metric,
            "source": r.source,
        }
        for p in packs
        for r in p.rules
    ]
    typer.echo(json.dumps(rows, indent=2))


def _rules_table(packs: list[Pack]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from logscope.report.text import safe

    table = Table(box=None, header_style="dim", pad_edge=False)
    for column in ("rule", "severity", "check", "metric"):
        table.add_column(column)
    for p in packs:
        for r in p.rules:
            table.add_row(Text(safe(r.id)), str(r.severity), r.check, Text(safe(r.metric)))
    console = Console(highlight=False)
    console.print(table)
    console.print(
        safe(
            f"{sum(len(p.rules) for p in packs)} rules in {len(packs)} packs: "
            + ", ".join(p.name for p in packs)
        ),
        markup=False,
    )


@rules_app.command("check")
def rules_check(
    files: Annotated[list[Path], typer.Argument(help="Rule pack YAML files.", show_default=False)],
) -> None:
    """Validate rule pack files; every problem is listed with file:line:col.

    [b]Example[/b]

      logscope rules check my_rules.yaml
    """
    from logscope.rules.load import load_files

    packs = load_files(files)
    for p in packs:
        typer.echo(f"{p.path}: ok, pack '{p.name}' with {len(p.rules)} rules")


@rules_app.command("lint")
def rules_lint(
    files: Annotated[list[Path], typer.Argument(help="Rule pack YAML files.", show_default=False)],
    runs: Annotated[
        list[Path] | None,
        typer.Option("--run", help="Also accept the metric keys this run logs (repeatable)."),
    ] = None,
) -> None:
    """Validate rule packs, then flag rules that can never fire.

    After the checks of `rules check`: metric patterns, alias spellings, `where:` columns
    and detect keys that match no metric in the catalogue (or in the --run given), and
    aliases no rule uses. Exit 1 on warnings, 2 on an invalid file.

    [b]Examples[/b]

      logscope rules lint team_rules.yaml
      logscope rules lint team_rules.yaml --run runs/grpo-7b/   # your own metric names
    """
    from logscope import catalogue
    from logscope.ingest import read_run
    from logscope.rules.engine import shared_aliases
    from logscope.rules.lint import Known, lint
    from logscope.rules.load import load_builtin, load_files

    packs = load_files(files)
    shared = shared_aliases(load_builtin() + packs)
    extra = [key for run in runs or [] for key in read_run(run).metrics]
    warnings = lint(packs, shared, Known(catalogue.load(), extra))
    for warning in warnings:
        say("warning", str(warning))
    for p in packs:
        mine = sum(1 for w in warnings if w.where.startswith(p.path))
        typer.echo(f"{p.path}: {mine or 'no'} warning{'s' * (mine != 1)}, {len(p.rules)} rules")
    if warnings:
        raise typer.Exit(1)


@rules_app.command("show")
def rules_show(
    rule_id: Annotated[
        str, typer.Argument(help="A rule id, e.g. kto/margin-negative-after-warmup.")
    ],
    rules: Annotated[
        list[Path] | None, typer.Option("--rules", "-r", help="Also search this rule file.")
    ] = None,
) -> None:
    """Show one rule in full: what it checks, its message, advice, source, and an example
    of it firing (from its pack's YAML tests).

    [b]Example[/b]

      logscope rules show common/grad-norm-nonfinite
    """
    import dataclasses

    from logscope.documents import cited_files
    from logscope.pipeline import load_packs
    from logscope.rules.testing import example

    packs = load_packs(rules or [])
    for pack in packs:
        for rule in pack.rules:
            if rule.id != rule_id:
                continue
            shared = next((dict(p.aliases) for p in packs if p.name == "common"), {})
            params = {f.name: getattr(rule.params, f.name) for f in dataclasses.fields(rule.params)}
            lines = [
                f"{rule.id}  ({rule.severity}, pack {pack.name}: {pack.title})",
                f"metric    {rule.metric}  = {', '.join(pack.patterns(rule.metric, shared))}",
                f"check     {rule.check} {params}",
            ]
            if rule.where:
                lines.append(f"where     {rule.where}")
                if rule.where_template != rule.where:
                    names = ", ".join(f"{k}={v}" for k, v in pack.vars.items())
                    lines.append(f"          from {rule.where_template} with {names}")
            if rule.after_step is not None or rule.before_step is not None:
                lines.append(f"steps     after {rule.after_step}, up to {rule.before_step}")
            lines += [
                f"message   {rule.message}",
                f"advice    {rule.advice}",
                f"source    {rule.source}",
                *(f"document  {file} (reference set)" for file in cited_files(rule.source)),
                f"defined   {rule.origin}",
            ]
            found = example(rule.id, Path(pack.path))
            if found:
                lines.append(f"example   {found.name} ({found.where})")
                lines += [f"            {key}: {value}" for key, value in found.series.items()]
                lines.append(f"          → {found.message}")
            typer.echo("\n".join(lines))
            return
    known = sorted(r.id for p in packs for r in p.rules if rule_id.split("/")[0] in r.id)
    hint = f" (in that pack: {', '.join(known)})" if known else " (see: logscope rules list)"
    fail(f"no rule '{rule_id}'{hint}")


@rules_app.command("test")
def rules_test(
    files: Annotated[
        list[Path], typer.Argument(help="Rule test files (*.test.yaml).", show_default=False)
    ],
) -> None:
    """Run rule unit tests written in YAML (series in, expected findings out).

    Exit 0 when all pass, 1 when one fails, 2 when a file is invalid.

    [b]Example[/b]

      logscope rules test rules/kto.test.yaml my_rules.test.yaml
    """
    from logscope.rules.testing import run_file

    passed = failed = 0
    for file in files:
        outcomes = run_file(file)
        for outcome in outcomes:
            if outcome.passed:
                passed += 1
                typer.echo(f"ok    {outcome.name}")
            else:
                failed += 1
                typer.echo(f"FAIL  {outcome.name}  ({outcome.where})")
                for problem in outcome.problems:
                    typer.echo(f"      {problem}")
    typer.echo(f"{passed} passed, {failed} failed")
    raise typer.Exit(EXIT_FINDINGS if failed else EXIT_OK)
