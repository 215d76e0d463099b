"""The command line as a user meets it: exit codes, messages, output formats, files."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from logscope import __version__

DIVERGING = "kto_diverging"  # errors, warnings and infos
HF = "hf_output"  # one info (a lone grad-norm spike that recovers: issue 14), no error
WARNED = "grpo_no_signal"  # warnings, no error
HEALTHY = "kto_healthy"  # nothing


def test_version(cli) -> None:  # type: ignore[no-untyped-def]
    assert cli(["--version"]).stdout.strip() == f"logscope {__version__}"


def test_help_lists_examples(cli) -> None:  # type: ignore[no-untyped-def]
    out = cli(["check", "--help"]).stdout
    assert "Examples" in out and "--fail-on" in out and "logscope check sample_logs" in out


@pytest.mark.parametrize(
    ("sample", "fail_on", "code"),
    [
        (HEALTHY, "error", 0),
        (HEALTHY, "info", 0),
        (HF, "error", 0),
        (HF, "warning", 0),
        (HF, "info", 1),  # boundary is inclusive
        (WARNED, "error", 0),
        (WARNED, "warning", 1),
        (DIVERGING, "error", 1),
        (DIVERGING, "never", 0),
    ],
)
def test_fail_on_decides_the_exit_code(
    cli, samples: Path, sample: str, fail_on: str, code: int
) -> None:  # type: ignore[no-untyped-def]
    cli(["check", samples / sample, "--fail-on", fail_on], exit_code=code)


def test_fail_on_from_environment(cli, samples: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("LOGSCOPE_FAIL_ON", "warning")
    cli(["check", samples / WARNED], exit_code=1)


def test_json_contract(cli, samples: Path) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads(cli(["check", samples / DIVERGING, "-f", "json"], exit_code=1).stdout)
    assert doc["logscope_version"] == __version__
    (run,) = doc["runs"]
    assert set(run) >= {"path", "sources", "packs", "steps", "status", "findings"}
    assert run["packs"] == ["common", "kto"]
    assert set(run["sources"][0]) >= {"path", "format", "rows", "problems"}
    finding = run["findings"][0]
    assert set(finding) >= {
        "rule",
        "severity",
        "metric",
        "step",
        "last_step",
        "value",
        "message",
        "advice",
        "source",
    }
    assert finding["severity"] in ("info", "warning", "error")


def test_json_is_strict_even_with_nan(cli, samples: Path) -> None:  # type: ignore[no-untyped-def]
    text = cli(["check", samples / "sft_nan_truncated", "-f", "json"], exit_code=1).stdout
    doc = json.loads(text, parse_constant=lambda token: pytest.fail(f"bare {token} in JSON"))
    assert doc["runs"][0]["findings"][0]["value"] == "NaN"


def test_table_report(cli, samples: Path) -> None:  # type: ignore[no-untyped-def]
    out = cli(["check", samples / DIVERGING], exit_code=1).stdout
    assert out.startswith(f"{samples / DIVERGING}  FAIL")
    assert (
        "ERROR   kto/margin-negative-after-warmup  rewards/margins  steps 21–40 (fired at 23)"
        in out
    )
    assert "→ Stop, revert to the last checkpoint, reduce the learning rate by 50%." in out
    assert "\x1b[" not in out  # no colour when stdout is not a terminal
    assert " ".join(out.split()).endswith(
        "9 findings (5 errors, 4 warnings) in 1 run; 36 rule evaluations, 1 skipped (1 "
        "metric not found)"
    )
    assert any(ch in out for ch in "▁▂▃▄▅▆▇█")  # sparklines in the metrics table


def test_color_always_and_never(cli, samples: Path) -> None:  # type: ignore[no-untyped-def]
    assert "\x1b[" in cli(["check", samples / HF, "--color", "always"]).stdout
    assert "\x1b[" not in cli(["check", samples / HF, "--color", "never"]).stdout


def test_quiet_levels(cli, samples: Path) -> None:  # type: ignore[no-untyped-def]
    quiet = cli(["check", samples / HF, "-q"]).stdout
    # the lone spike is info (issue 14): no incident, one grep-able line (issue 16)
    (line,) = quiet.splitlines()
    assert line.startswith(f"{samples / HF}: info common/grad-norm-spike step 85:")
    assert "findings" not in quiet
    assert cli(["check", samples / DIVERGING, "-qq"], exit_code=1).stdout == ""


def test_output_file(cli, samples: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "verdict.json"
    result = cli(["check", samples / HF, "-f", "json", "-o", target])
    assert f"{samples / HF}  PASS" in result.stdout  # the table still shows
    assert json.loads(target.read_text())["runs"][0]["status"] == "pass"


def test_several_runs_in_one_call(cli, samples: Path) -> None:  # type: ignore[no-untyped-def]
    out = cli(["check", samples / HEALTHY, samples / DIVERGING], exit_code=1).stdout
    assert f"{samples / HEALTHY}  PASS" in out and f"{samples / DIVERGING}  FAIL" in out
    assert "in 2 runs" in out


def test_missing_path_is_a_usage_error(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["check", tmp_path / "nope"], exit_code=2)
    assert result.stderr.strip() == f"error: {tmp_path / 'nope'}: no such file or folder"


def test_folder_without_logs(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "notes.txt").write_text("hi")
    result = cli(["check", tmp_path], exit_code=2)
    assert "no training log found" in result.stderr and "Traceback" not in result.stderr


def test_unreadable_log_is_exit_2_with_the_reason(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "metrics.jsonl"
    log.write_bytes(b"\x1f\x8b\x08\x00 gzip bytes")
    result = cli(["check", log], exit_code=2)
    assert f"error: {log}: no metric rows could be read" in result.stderr
    # gzip logs are read since issue 13: this one is damaged, and says so
    assert "gzip-compressed, and compressed data damaged or cut short" in result.stderr


def test_invalid_rule_file_is_exit_2(cli, samples: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rules = tmp_path / "mine.yaml"
    rules.write_text("pack: mine\nrules:\n  - id: mine/x\n    check: nope\n")
    result = cli(["check", samples / HF, "--rules", rules], exit_code=2)
    assert f"{rules}:4:5: rule 'mine/x': unknown check 'nope'" in result.stderr
    assert "Traceback" not in result.stderr


def test_user_rules_add_to_the_builtin_packs(cli, samples: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    rules = tmp_path / "mine.yaml"
    rules.write_text(
        "pack: mine\nrules:\n  - id: mine/lr-set\n    severity: error\n    metric: learning_rate\n"
        "    check: threshold\n    op: '>'\n    value: 1e-7\n    after_step: 100\n"
        "    message: 'lr {value:g} at {step}'\n    advice: 'decay it'\n    source: 'team notes'\n"
    )
    doc = json.loads(
        cli(["check", samples / HEALTHY, "--rules", rules, "-f", "json"], exit_code=1).stdout
    )
    assert doc["runs"][0]["packs"] == ["common", "kto", "mine"]
    assert doc["runs"][0]["findings"][0]["message"] == "lr 5e-07 at 101"


def test_unknown_forced_pack(cli, samples: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["check", samples / HEALTHY, "--pack", "ppo-ish"], exit_code=2)
    assert "--pack ppo-ish: no such pack" in result.stderr


def test_select_and_ignore_options(cli, samples: Path) -> None:  # type: ignore[no-untyped-def]
    doc = json.loads(
        cli(["check", samples / DIVERGING, "-f", "json", "--select", "kto/kl-high"]).stdout
    )
    assert [f["rule"] for f in doc["runs"][0]["findings"]] == ["kto/kl-high"]
    ignore_all = ["check", samples / DIVERGING, "-f", "json", "--ignore", "kto,common"]
    doc = json.loads(cli([*ignore_all, "--allow-empty"]).stdout)  # issue 13: asked for
    assert doc["runs"][0]["findings"] == []
    assert "leaves no rule to check" in cli(ignore_all, exit_code=2).stderr


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_check_never_writes_into_the_run_folder(cli, samples: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    run = tmp_path / "run"
    shutil.copytree(samples / HF, run)
    before = _digest(run)
    cli(["check", run, "-f", "json"])
    cli(["check", run])
    assert _digest(run) == before


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_export_round_trips_every_value(cli, samples: Path, tmp_path: Path, suffix: str) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / f"m{suffix}"
    result = cli(["export", samples / "sft_nan_truncated", "-o", out])
    assert f"wrote 40 steps × 8 metrics to {out}" in result.stderr
    assert "last line is incomplete" in result.stderr
    if suffix == ".parquet":
        frame = pl.read_parquet(out)
    elif suffix == ".csv":
        frame = pl.read_csv(out)
    else:
        frame = pl.read_ndjson(out).with_columns(pl.col("grad_norm").cast(pl.Float64))
    assert frame.columns[:2] == ["step", "wall_time"]
    assert "eval_loss" in frame.columns
    grad = frame.filter(pl.col("step") == 260).get_column("grad_norm")
    assert grad.is_nan().all()


def test_export_unknown_format(cli, samples: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["export", samples / HF, "-o", tmp_path / "x.xlsx"], exit_code=2)
    assert "unknown export format '.xlsx'" in result.stderr


def test_rules_list_and_check(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = cli(["rules", "list"]).stdout
    assert "kto/margin-negative-after-warmup" in out and "rules in 8 packs" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("pack: x\nrules: 3\n")
    assert "'rules' must be a list" in cli(["rules", "check", bad], exit_code=2).stderr


def test_python_dash_m_and_console_script(samples: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "logscope", "check", str(samples / HEALTHY), "-qq"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def test_library_entry_point(samples: Path) -> None:
    import logscope

    run = logscope.read(samples / "swift_grpo")
    assert run.frame.height == 100
    assert run.frame.schema["step"] == pl.Int64
    assert [r.step for r in run.resumes] == [41]


def test_control_characters_in_metric_names_cannot_drive_the_terminal(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    log = tmp_path / "evil.jsonl"
    log.write_text(
        '{"step": 1, "\\u001b[2Jloss\\u0007": 1.0}\n{"step": 2, "\\u001b[2Jloss\\u0007": NaN}\n'
    )
    for args in (["check", log], ["check", log, "-q"], ["check", log, "--color", "always"]):
        out = cli(args, exit_code=1).stdout
        assert "\x1b[2J" not in out and "\x07" not in out
        assert "\\x1b[2Jloss\\x07" in out


def _log(path: Path, steps: range, **curves: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{"step": s, **{k: f(s) for k, f in curves.items()}} for s in steps]  # type: ignore[operator]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_baseline_with_a_different_logging_cadence(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The baseline logged every 10 steps, the run every step: curves still line up."""
    base = _log(
        tmp_path / "base" / "m.jsonl",
        range(0, 201, 10),
        reward=lambda s: s / 200,
        loss=lambda s: 1 - s / 400,
    )
    same = _log(
        tmp_path / "same" / "m.jsonl",
        range(0, 201),
        reward=lambda s: s / 200,
        loss=lambda s: 1 - s / 400,
    )
    slow = _log(
        tmp_path / "slow" / "m.jsonl",
        range(0, 201),
        reward=lambda s: s / 400,
        loss=lambda s: 1 - s / 400,
    )
    cli(["check", same.parent, "--baseline", base.parent])
    doc = json.loads(
        cli(["check", slow.parent, "--baseline", base.parent, "-f", "json"], exit_code=1).stdout
    )
    (run,) = doc["runs"]
    assert run["baseline"] == str(base.parent)
    assert {f["rule"] for f in run["findings"]} == {
        "baseline/final-reward-worse",
        "baseline/reward-curve-behind",
    }
    assert "baseline" in run["packs"]


def test_diff_command(cli, samples: Path) -> None:  # type: ignore[no-untyped-def]
    out = cli(["diff", samples / HEALTHY, samples / DIVERGING], exit_code=1).stdout
    assert "baseline final" in out and "run final" in out
    # like for like: both runs at step 40, where the diverging run stops (not at step 145)
    assert "baseline/final-loss-worse" in out and "67.6% worse" in out
    assert "the run is shorter (run to step 40, baseline to step 145)" in " ".join(out.split())
    cli(["diff", samples / HEALTHY, samples / HEALTHY])


def test_unreadable_baseline_is_a_usage_error(cli, samples: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["check", samples / HEALTHY, "--baseline", tmp_path / "missing"], exit_code=2)
    assert f"error: {tmp_path / 'missing'}: no such file or folder" in result.stderr


def test_set_overrides_a_rule_parameter_and_severity(cli, samples: Path) -> None:  # type: ignore[no-untyped-def]
    args = ["check", samples / DIVERGING, "-f", "json"]
    default = {
        f["rule"]: f for f in json.loads(cli(args, exit_code=1).stdout)["runs"][0]["findings"]
    }
    assert "kto/kl-high" in default and default["kto/grad-norm-high"]["severity"] == "warning"
    changed = json.loads(
        cli(
            [*args, "--set", "kto/kl-high.value=2", "--set", "kto/grad-norm-high.severity=info"],
            exit_code=1,
        ).stdout
    )
    rules = {f["rule"]: f for f in changed["runs"][0]["findings"]}
    assert "kto/kl-high" not in rules and rules["kto/grad-norm-high"]["severity"] == "info"


def test_bad_set_is_a_usage_error_naming_every_problem(cli, samples: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(
        ["check", samples / HF, "--set", "kto/kl-high.valu=2", "--set", "nope.x=1"], exit_code=2
    )
    assert "--set kto/kl-high.valu=2: check 'threshold' has no parameter 'valu'" in result.stderr
    assert "--set nope.x=1: no rule 'nope'" in result.stderr


def test_set_a_pack_var_names_the_vars_and_checks_the_sql(cli, samples: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["check", samples / HF, "--set", "coordexp.estepkey=x"], exit_code=2)
    assert "pack 'coordexp' has no var 'estepkey' (vars: estep_key)" in result.stderr
    for bad in ('coordexp.estep_key=a" = 1 OR "b', "coordexp.estep_key="):
        result = cli(["check", samples / HF, "--set", bad], exit_code=2)
        assert "a var names a metric key: not empty, no '\"'" in result.stderr


PROJECT_FILES = {
    "logscope.yaml": (
        "set: ['kto/kl-high.value=2']\nignore: [common]\n",
        "sett: []\n",
        ":1:1: unknown key 'sett'",
    ),
    "pyproject.toml": (
        '[project]\nname = "x"\n\n[tool.logscope]\nset = ["kto/kl-high.value=2"]\n'
        'ignore = ["common"]\n',
        "[tool.logscope]\nset = [\n",
        ": cannot read the project configuration",
    ),
}


@pytest.mark.parametrize("name", PROJECT_FILES)
def test_project_config_beside_the_runs(  # type: ignore[no-untyped-def]
    cli, samples: Path, tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read from the working directory (the repository) above the runs."""
    import shutil

    good, bad, complaint = PROJECT_FILES[name]
    shutil.copytree(samples / DIVERGING, tmp_path / "runs" / "a")
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).write_text(good)
    doc = json.loads(cli(["check", tmp_path / "runs" / "a", "-f", "json"], exit_code=1).stdout)
    rules = {f["rule"] for f in doc["runs"][0]["findings"]}
    assert "kto/kl-high" not in rules and not any(r.startswith("common/") for r in rules)
    (tmp_path / name).write_text(bad)
    result = cli(["check", tmp_path / "runs" / "a"], exit_code=2)
    assert f"{tmp_path / name}{complaint}" in result.stderr


def test_metrics_lists_coverage(cli, samples: Path) -> None:  # type: ignore[no-untyped-def]
    out = cli(["metrics", samples / HF]).stdout
    block = out[out.index("\nkl ") : out.index("\nlearning_rate")]  # the kl row, wrapped
    assert " ".join(block.split()).endswith("common/kl-nonfinite, kto/kl-high, kto/kl-low")
    assert "metrics, " in out and "not covered by any rule; packs: common, kto" in out
    assert cli(["metrics", samples / "missing"], exit_code=2).stderr.startswith("error: ")


def test_diff_of_a_run_against_its_own_first_steps_is_like_for_like(  # type: ignore[no-untyped-def]
    cli, samples: Path, tmp_path: Path
) -> None:
    """Issue 13: the healthy run's first 60 steps are not 'final loss 23.7% worse'."""
    (log,) = (samples / HEALTHY).rglob("*.jsonl")
    first = tmp_path / "first60" / "m.jsonl"
    first.parent.mkdir()
    first.write_text("".join(log.read_text().splitlines(keepends=True)[:60]))
    out = " ".join(cli(["diff", samples / HEALTHY, first.parent]).stdout.split())
    assert "0 findings" in out and "worse" not in out
    assert (
        "the run (run to step 60, baseline to step 145): final values are compared at step 60"
        in out
    )
    assert "baseline final @60" in out
    cli(["diff", first.parent, samples / HEALTHY])  # the longer run against the shorter


def test_a_metric_key_that_looks_like_a_pattern_works_in_every_command(  # type: ignore[no-untyped-def]
    cli, tmp_path: Path
) -> None:
    """`^x_loss$` with a gap: Polars reads such names as regexes unless logscope says not to."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "m.jsonl").write_text(
        '{"step":1,"^x_loss$":1.0,"loss":2}\n{"step":2,"loss":2.1}\n'
        '{"step":3,"^x_loss$":0.5,"loss":2.2}\n'
    )
    assert "^x_loss$" in cli(["check", run]).stdout
    assert "^x_loss$" in cli(["metrics", run]).stdout
    cli(["report", run, "-o", tmp_path / "r.html"])
    assert "^x_loss$" in (tmp_path / "r.html").read_text()
    cli(["diff", run, run])
    cli(["tail", run])
    cli(["export", run, "-o", tmp_path / "m.csv"])
    assert "^x_loss$" in (tmp_path / "m.csv").read_text()
