"""`logscope check`: the CI gate.

No `from __future__ import annotations` here: Typer reads the command's parameters from its
annotations, and evaluated once when the function is defined they cost Typer no `eval` of
each string at every start (~5 ms of a small check)."""

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from logscope.cli.common import (
    AllowEmptyOption,
    CheckpointsOption,
    ColorMode,
    ConfigOption,
    FailOn,
    FormatOption,
    IgnoreOption,
    IsolatedOption,
    PackOption,
    ProgressOption,
    RulesOption,
    SelectOption,
    SetOption,
    app,
    choose_rules,
    config_used,
    fail_level,
    fail_on_option,
    finish,
    output_style,
    print_settings,
    read_baseline,
    show,
    stdout_writer,
    with_progress,
    write,
)

if TYPE_CHECKING:
    from logscope.report import Stream


@app.command()
def check(
    paths: Annotated[
        list[str] | None,
        typer.Argument(
            help="Run folders, log files, or object-storage URLs (s3://, gs://, hf://).",
            metavar="PATHS",
            show_default=False,
        ),
    ] = None,
    output_format: FormatOption = "table",
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write the --format report to this file; the table still shows on stdout.",
        ),
    ] = None,
    fail_on: Annotated[
        FailOn, fail_on_option("Exit 1 when a finding is at or above this severity.")
    ] = FailOn.error,
    pack: PackOption = None,
    rules: RulesOption = None,
    select: SelectOption = None,
    ignore: IgnoreOption = None,
    quiet: Annotated[
        int,
        typer.Option(
            "--quiet",
            "-q",
            count=True,
            help="-q: one line per incident and finding; -qq: nothing, exit code only.",
        ),
    ] = 0,
    color: Annotated[ColorMode, typer.Option(help="Colour in the table report.")] = ColorMode.auto,
    summary: Annotated[
        bool, typer.Option("--summary", help="Only the table of runs, not each run's details.")
    ] = False,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            "-j",
            min=0,
            help="Check runs in N processes (0: every usable core, affinity and container "
            "CPU quota counted; default: all of them for a sweep of 4,000 runs or more, "
            "two for 1,000 runs or more when a core is idle, else 1).",
            show_default=False,
        ),
    ] = None,
    executor: Annotated[
        str,
        typer.Option(
            "--executor",
            help="Where runs are checked: local (processes, see --jobs), ray (the cluster "
            "RAY_ADDRESS or `ray start` names, else a local one) or ray://HOST:PORT.",
        ),
    ] = "local",
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline",
            "-b",
            help="A known-good run to compare with (adds the baseline pack's tolerance rules).",
        ),
    ] = None,
    settings: SetOption = None,
    tb_purge: Annotated[
        bool,
        typer.Option(
            "--tb-purge",
            help="TensorBoard restarts drop the points they overwrite, as TensorBoard shows "
            "them (default: later write wins per step, restart recorded).",
        ),
    ] = False,
    no_crc: Annotated[
        bool, typer.Option("--no-crc", help="Skip TensorBoard record checksums (faster).")
    ] = False,
    html_path: Annotated[
        Path | None,
        typer.Option("--html", help="Also write the HTML report (plots, findings) to this file."),
    ] = None,
    progress: ProgressOption = None,
    config_file: ConfigOption = None,
    isolated: IsolatedOption = False,
    allow_empty: AllowEmptyOption = False,
    checkpoints: CheckpointsOption = None,
    show_settings: Annotated[
        bool,
        typer.Option(
            "--show-settings",
            help="Print the configuration in force (config file applied or ignored, rule "
            "files, --set overrides, select/ignore, packs and rules left) and exit 0 without "
            "reading runs; with --format json as JSON.",
        ),
    ] = False,
) -> None:
    """Check runs against the rule packs; the exit code gates CI.

    Exit codes: 0 no finding at or above --fail-on; 1 such findings; 2 bad usage, an
    invalid rule file, or an input that could not be read at all. With many runs, an
    unreadable one is reported and the others are still checked; 2 wins over 1.

    [b]Examples[/b]

      logscope check sample_logs/kto_diverging
      logscope check runs/*/ --fail-on warning
      logscope check run/ --format json -o verdict.json
      logscope check runs/* --summary --jobs 0 --format junit -o logscope.xml
      logscope check run/ --rules my_rules.yaml --ignore kto/stage-target-loss
      logscope check new_run/ --baseline runs/known_good/
      logscope check run/ --set kto/grad-norm-high.value=200 --set kto/kl-low.severity=info
      logscope check run/ --html report.html       [dim]# plus the HTML report[/dim]
      logscope check wandb/                        [dim]# W&B run folders, offline too[/dim]
      logscope check wandb_export_2026-11-02.csv   [dim]# one run per exported W&B run[/dim]
      logscope check s3://bucket/runs/kto-7b/      [dim]# object storage (logscope[cloud])[/dim]
      logscope check sweep/ --executor ray         [dim]# on a Ray cluster (logscope[ray])[/dim]
      logscope check runs/ --show-settings         [dim]# the configuration in force[/dim]

    A logscope.yaml (or pyproject.toml \\[tool.logscope]) in the working directory or a
    folder above it, or the --config file, sets defaults for --rules, --set, --select,
    --ignore and --pack (keys rules, set, select, ignore, pack); one inside the run folders
    is ignored; --show-settings prints what applies. Unknown rule or pack names are an
    error, as is a selection that leaves a run no rule to check (unless --allow-empty).
    """
    from logscope.cli.startup import loading

    with loading():  # Polars, numpy, the rules and checks, Rich (see cli/startup.py)
        from logscope.ingest import ReadOptions
        from logscope.pipeline import TextSink
        from logscope.pipeline import check as run_check
        from logscope.report import REPORTERS, Document, Layout

        if not REPORTERS[output_format].machine or output is not None:
            import logscope.report.terminal  # noqa: F401  (the table shown on stdout)

    if not paths and not show_settings:
        raise typer.BadParameter("name at least one run to check", param_hint="'PATHS...'")
    paths = paths or []
    chosen = choose_rules(
        paths, config_file, isolated, rules, pack, settings, select, ignore, quiet=quiet
    )
    if show_settings:
        print_settings(chosen, rules, pack, settings, select, ignore, fmt=output_format)
        return
    packs = chosen.packs
    if executor != "local":
        from logscope.remote import ray_address

        ray_address(executor)  # a misspelt executor is a usage error before any reading
    from logscope.cores import usable as usable_cores

    reference = read_baseline(baseline)
    severity = fail_level(fail_on)
    reporter = REPORTERS[output_format]
    stream = None
    if reporter.streams and output is None and html_path is None:
        stream = reporter.stream(stdout_writer(), severity)  # a sweep's, batch by batch
    with _closed_on_failure(stream, chosen.config):
        result = with_progress(
            lambda progress: run_check(
                paths,
                packs,
                forced=chosen.forced,
                select=chosen.select,
                ignore=chosen.ignore,
                progress=progress,
                jobs=jobs if jobs != 0 else usable_cores(),
                rule_files=chosen.rule_files,
                settings=chosen.settings,
                baseline=reference,
                read_options=ReadOptions(tensorboard_purge=tb_purge, check_crc=not no_crc),
                allow_empty=allow_empty,
                checkpoints=checkpoints,
                executor=executor,
                on_texts=TextSink(stream.render, stream.texts) if stream else None,
            ),
            show=progress,
            quiet=quiet,
        )
    if stream is not None:
        stream.close(result.errors, config_used(chosen.config))
        finish(result, severity, quiet=quiet)
    doc = Document(
        reports=result.reports,
        fail_on=severity,
        errors=result.errors,
        packs=packs,
        config=config_used(chosen.config),
    )
    if html_path is not None:
        write(REPORTERS["html"].render(doc), html_path)
    if reporter.machine or output is not None:
        write(reporter.render(doc), output)  # a file is never coloured
        summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
        if reporter.step_summary and summary_file:
            write(REPORTERS[reporter.step_summary].render(doc), Path(summary_file), append=True)
    if not reporter.machine or output is not None:
        colored, width = output_style(color)
        layout = Layout(color=colored, width=width, quiet=quiet, summary_only=summary)
        show(REPORTERS["table"].render(doc, layout))
    finish(result, severity, quiet=quiet)


@contextmanager
def _closed_on_failure(stream: "Stream | None", config: Any) -> Iterator[None]:
    """A streamed report whose check fails (a crash, Ctrl-C) after some runs were written
    is still one JSON document: the runs written so far, and the failure among `errors`.
    The command still exits 2 with its one-line message (cli/boundary)."""
    try:
        yield
    except (Exception, KeyboardInterrupt) as exc:
        if stream is not None and stream.runs:
            why = "interrupted" if isinstance(exc, KeyboardInterrupt) else type(exc).__name__
            message = f"the check stopped before every run was checked ({why}); see stderr"
            with suppress(OSError):  # stdout closed (a pipe that went away): nothing to end
                stream.close([message], config_used(config))
        raise
