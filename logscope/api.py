"""The Python API: a sweep as one frame, a check as one call, for notebooks and scripts.

`read_runs` gives what tbparse users expect (one long frame with a `run` column) and
`check` runs the same engine as `logscope check`, returning objects and frames instead of
text. Nothing here prints; errors are the CLI's errors (`LogscopeError` subclasses).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from logscope.errors import InputError

if TYPE_CHECKING:
    import polars as pl

    from logscope.model import Finding, Severity
    from logscope.outcome import RunReport
    from logscope.report import Document
    from logscope.run import Run

PathLike = str | Path
FailOn = Literal["info", "warning", "error", "never"]


@dataclass
class Runs:
    """Every run read from one or more paths, in discovery order."""

    runs: list[Run]

    def __len__(self) -> int:
        return len(self.runs)

    def __iter__(self) -> Iterator[Run]:
        return iter(self.runs)

    def __getitem__(self, key: int | str) -> Run:
        """By position, or by the run's name as `frame` spells it in its `run` column."""
        if isinstance(key, int):
            return self.runs[key]
        for run in self.runs:
            if run.path == key:
                return run
        raise KeyError(f"no run named {key!r} (runs: {', '.join(self.names)})")

    @property
    def names(self) -> list[str]:
        return [run.path for run in self.runs]

    @property
    def frame(self) -> pl.DataFrame:
        """One row per (run, step): `run`, `step`, `wall_time`, then every metric of any run
        (null where a run did not log it). The wide layout keeps cross-metric work cheap."""
        import polars as pl

        frames = [r.frame.select(pl.lit(r.path).alias("run"), pl.all()) for r in self.runs]
        if not frames:
            return pl.DataFrame(
                schema={"run": pl.String, "step": pl.Int64, "wall_time": pl.Float64}
            )
        return pl.concat(frames, how="diagonal_relaxed")

    def long(self) -> pl.DataFrame:
        """The tidy view: `run`, `step`, `wall_time`, `metric`, `value`; unlogged points are
        left out, NaN and ±Inf are kept (they are what a health check looks for)."""
        import polars as pl

        wide = self.frame
        index = ["run", "step", "wall_time"]
        if wide.width == len(index):
            return wide.with_columns(
                pl.lit(None, pl.String).alias("metric"), pl.lit(None, pl.Float64).alias("value")
            )
        return wide.unpivot(index=index, variable_name="metric", value_name="value").filter(
            pl.col("value").is_not_null()
        )

    @property
    def metadata(self) -> pl.DataFrame:
        """One row per run: its sources, formats, step range, resumes and read problems."""
        import polars as pl

        rows = [
            {
                "run": r.path,
                "sources": [s.path for s in r.sources],
                "formats": sorted({s.format for s in r.sources}),
                "first_step": r.steps["first"],
                "last_step": r.steps["last"],
                "steps": r.steps["count"],
                "metrics": len(r.metrics),
                "resumes": len(r.resumes),
                "problems": [str(p) for p in r.problems],
            }
            for r in self.runs
        ]
        schema: dict[str, pl.DataType | type[pl.DataType]] = {
            "run": pl.String,
            "sources": pl.List(pl.String),
            "formats": pl.List(pl.String),
            "first_step": pl.Int64,
            "last_step": pl.Int64,
            "steps": pl.Int64,
            "metrics": pl.Int64,
            "resumes": pl.Int64,
            "problems": pl.List(pl.String),
        }
        return pl.DataFrame(rows, schema=schema)

    def to_pandas(self) -> Any:
        """`frame` as a pandas DataFrame (pandas is not a dependency of logscope)."""
        return self.frame.to_pandas()

    def __repr__(self) -> str:
        steps = sum(r.steps["count"] or 0 for r in self.runs)
        return f"<logscope.Runs: {len(self.runs)} runs, {steps} logged steps>"


def _paths(target: PathLike | Iterable[PathLike]) -> list[PathLike]:
    """Paths as given: a URL (`s3://...`) must not pass through Path, which folds `//`."""
    if isinstance(target, str | Path):
        return [target]
    return list(target)


def _options(crc: bool, tb_purge: bool) -> Any:
    from logscope.ingest import ReadOptions

    return ReadOptions(tensorboard_purge=tb_purge, check_crc=crc)


def read_runs(
    paths: PathLike | Iterable[PathLike], *, crc: bool = True, tb_purge: bool = False
) -> Runs:
    """Every run of a folder, sweep, export or list of them.

    A path that holds no log, or a run with no metric row that could be read, raises
    `InputError` with the message `logscope check` prints for it.
    """
    from logscope.ingest import read_runs as read_all

    options = _options(crc, tb_purge)
    runs = [run for path in _paths(paths) for run in read_all(path, None, options)]
    for run in runs:
        require_rows(run)
    return Runs(runs)


def require_rows(run: Run) -> Run:
    """A Run with rows, or the error `check` reports for it (one message for CLI and API)."""
    from logscope.pipeline import unreadable

    problem = unreadable(run)
    if problem:
        raise InputError(problem)
    return run


@dataclass
class CheckOutcome:
    """What `logscope check` decides, as objects: one report per run, and inputs that could
    not be read at all. `exit_code` follows the CLI's contract (0, 1, 2)."""

    reports: list[RunReport]
    errors: list[str] = field(default_factory=list)
    fail_on: Severity | None = None

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.reports for f in r.findings]

    @property
    def exit_code(self) -> int:
        if self.errors:
            return 2
        return 1 if any(r.failed(self.fail_on) for r in self.reports) else 0

    @property
    def passed(self) -> bool:
        return self.exit_code == 0

    @property
    def status(self) -> dict[str, str]:
        """run name -> `pass` | `fail` | `error`, as the JSON report says."""
        from logscope.report.json import run_status

        return {r.run.path: run_status(r, self.fail_on) for r in self.reports}

    @property
    def frame(self) -> pl.DataFrame:
        """The findings as a Polars frame, one row per finding (the JSON fields plus `run`)."""
        import polars as pl

        schema = {
            "run": pl.String,
            "rule": pl.String,
            "severity": pl.String,
            "metric": pl.String,
            "step": pl.Int64,
            "last_step": pl.Int64,
            "value": pl.Float64,
            "message": pl.String,
            "advice": pl.String,
            "source": pl.String,
        }
        rows = [
            {
                "run": r.run.path,
                "rule": f.rule,
                "severity": str(f.severity),
                "metric": f.metric,
                "step": f.step,
                "last_step": f.last_step,
                "value": f.value,
                "message": f.message,
                "advice": f.advice,
                "source": f.source,
            }
            for r in self.reports
            for f in r.findings
        ]
        return pl.DataFrame(rows, schema=schema)

    def document(self) -> Document:
        """What the reporters render (`logscope.report.REPORTERS[name].render(doc, layout)`)."""
        from logscope.report import Document

        return Document(reports=self.reports, fail_on=self.fail_on, errors=self.errors)

    def to_dict(self) -> dict[str, Any]:
        """The document `logscope check --format json` prints."""
        import json

        from logscope.report import REPORTERS, Layout

        rendered = REPORTERS["json"].render(self.document(), Layout())
        document: dict[str, Any] = json.loads(rendered)
        return document

    def __repr__(self) -> str:
        lines = [f"<logscope.CheckOutcome: {len(self.reports)} runs, exit {self.exit_code}>"]
        status = self.status
        for report in self.reports:
            lines.append(f"  {report.run.path}  {status[report.run.path].upper()}")
            for f in report.findings:
                step = "" if f.step is None else f" step {f.step}"
                lines.append(f"    {f.severity:<7} {f.rule}  {f.metric}{step}: {f.message}")
        lines.extend(f"  error: {e}" for e in self.errors)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        from logscope.report.notebook import outcome_html

        return outcome_html(self.document(), self.exit_code)


def check(
    target: PathLike | Iterable[PathLike] | Run | Runs,
    *,
    packs: Sequence[str] = (),
    rules: Sequence[PathLike] = (),
    set: Sequence[str] = (),  # the CLI's --set, spelled the same (shadows the builtin here)
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    fail_on: FailOn = "error",
    baseline: PathLike | Run | None = None,
    crc: bool = True,
    tb_purge: bool = False,
    allow_empty: bool = False,
) -> CheckOutcome:
    """Check runs with the CLI's engine: paths (read as `logscope check` reads them) or runs
    already read. `packs` forces packs, `rules` adds rule files, `set` overrides parameters
    (`"kto/grad-norm-high.value=200"`), `select`/`ignore` name rules or packs.

    Invalid rule files, unknown pack or rule names ("did you mean ...") and unreadable
    baselines raise `LogscopeError`; a path that cannot be read, or a selection that leaves
    a run no rule (unless `allow_empty`), is recorded in `errors` (exit code 2), as on the
    command line. No logscope.yaml is read: what you pass is what applies.
    """
    from logscope import pipeline
    from logscope.config import ProjectConfig, choose_packs
    from logscope.model import Severity
    from logscope.rules import engine

    # the CLI's own choice: every pack and rule name checked (a typo raises RulePackError)
    loaded, files, forced, settings, chosen_select, chosen_ignore = choose_packs(
        ProjectConfig(),
        rule_files=[Path(r) for r in rules],
        forced=list(packs),
        settings=list(set),
        select=_joined(select),
        ignore=_joined(ignore),
    )
    reference = _baseline(baseline, crc, tb_purge)
    level = None if fail_on == "never" else Severity(fail_on)
    runs = _as_runs(target)
    if runs is None:
        result = pipeline.check(
            _paths(target),  # type: ignore[arg-type]
            loaded,
            forced=forced,
            select=chosen_select,
            ignore=chosen_ignore,
            rule_files=files,
            baseline=reference,
            read_options=_options(crc, tb_purge),
            settings=settings,
            allow_empty=allow_empty,
        )
        return CheckOutcome(result.reports, result.errors, level)
    shared = engine.shared_aliases(loaded)
    reports = []
    for run in runs:
        chosen = engine.applicable(run, loaded, {*forced}, baseline=reference is not None)
        reports.append(
            engine.evaluate(
                run,
                chosen,
                select=chosen_select,
                ignore=chosen_ignore,
                shared=shared,
                baseline=reference,
            )
        )
    from logscope.pipeline import empty_selection, unreadable

    errors = [e for e in map(unreadable, runs) if e]
    if not allow_empty:
        found = (empty_selection(r, chosen_select, chosen_ignore) for r in reports)
        errors += [e for e in found if e]
    return CheckOutcome(reports, errors, level)


def _joined(values: Iterable[str] | None) -> str | None:
    """`select`/`ignore` as the CLI's comma-separated text ("kto,common/loss-rising")."""
    if values is None or isinstance(values, str):
        return values
    return ",".join(values)


def _as_runs(target: object) -> list[Run] | None:
    from logscope.run import Run

    if isinstance(target, Run):
        return [target]
    if isinstance(target, Runs):
        return list(target.runs)
    return None


def _baseline(baseline: PathLike | Run | None, crc: bool, tb_purge: bool) -> Run | None:
    from logscope.ingest import read_run
    from logscope.run import Run

    if baseline is None or isinstance(baseline, Run):
        return baseline
    run = read_run(baseline, None, _options(crc, tb_purge))
    if run.frame.height == 0:
        raise InputError(f"{baseline}: the baseline has no metric rows that could be read")
    return run
