"""`logscope explain`: what a metric means, from the catalogue of the reference documents."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from logscope.cli.boundary import fail, say
from logscope.cli.common import app


class ExplainFormat(str, Enum):
    """What explain can render (not a run report: no junit, github or html here)."""

    table = "table"
    json = "json"


@app.command()
def explain(
    names: Annotated[
        list[str] | None,
        typer.Argument(help="Metric keys as logged, e.g. rewards/margins.", show_default=False),
    ] = None,
    family: Annotated[
        str | None,
        typer.Option(
            "--list", "-l", help="List the catalogue: 'all' or a family (kto, verl, ...)."
        ),
    ] = None,
    rules: Annotated[
        list[Path] | None,
        typer.Option("--rules", "-r", help="Also count this rule pack file's rules (repeatable)."),
    ] = None,
    fmt: Annotated[ExplainFormat, typer.Option("--format", "-f", help="table or json.")] = (
        ExplainFormat.table
    ),
) -> None:
    """Explain a metric: its meaning, good range, warning signs, source, and rules.

    Answers from the metric catalogue built from the reference documents; any spelling works
    (train/ and eval/ prefixes, MLflow's _at_). Exit 1 when a metric is not in the catalogue
    (the rules that would watch it are still shown).

    [b]Examples[/b]

      logscope explain rewards/margins
      logscope explain train/actor/pg_clipfrac eval/gsm8k/accuracy/mean@4
      logscope explain --list verl
    """
    import json

    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from logscope import catalogue
    from logscope.explain import explain as explain_one
    from logscope.explain import render
    from logscope.pipeline import load_packs
    from logscope.report.text import safe

    entries = catalogue.load()
    packs = load_packs(rules or [])
    console = Console(highlight=False)
    if family:
        shown = [e for e in entries if family in ("all", e.family)]
        if not shown:
            families = sorted({e.family for e in entries})
            fail(f"no catalogue family '{family}' (families: all, {', '.join(families)})")
        table = Table(box=None, header_style="dim", pad_edge=False)
        for column in ("metric", "family", "good"):
            table.add_column(column, overflow="fold")
        for e in shown:
            table.add_row(Text(safe(e.key)), Text(safe(e.family)), Text(safe(e.good)))
        console.print(table)
        console.print(f"{len(shown)} metrics", markup=False)
        return
    if not names:
        fail("name a metric (e.g. logscope explain rewards/margins) or use --list all")
    found = [explain_one(name, entries, packs) for name in names]
    if fmt is ExplainFormat.json:
        typer.echo(json.dumps([f.to_dict() for f in found], indent=2))
    else:
        for i, one in enumerate(found):
            grid = Table.grid(padding=(0, 2))
            grid.add_column(style="dim", no_wrap=True)
            grid.add_column(overflow="fold")
            for label, text in render(one):
                grid.add_row(label, Text(safe(text), style="" if label else "bold"))
            if i:
                console.print()
            console.print(grid)
    unknown = [f for f in found if not f.known]
    for f in unknown:
        hint = f"; did you mean {', '.join(f.suggestions)}?" if f.suggestions else ""
        say(
            "error",
            f"{f.name}: not in the metric catalogue{hint} "
            "(logscope explain --list all shows every key)",
        )
    if unknown:
        raise typer.Exit(1)
