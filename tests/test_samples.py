"""`logscope check` on every bundled sample finds exactly what sample_logs/README.md says."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

EXPECTED = {
    "kto_healthy": ("pass", 0, []),
    "kto_diverging": (
        "fail",
        1,
        [
            # dated at the first worse point, not at the last good one (issue 14)
            ("error", "common/loss-rising", 2),
            (
                "error",
                "kto/margin-falling-while-negative",
                6,
            ),  # past the midpoint of the first fall
            ("error", "kto/rejected-above-chosen", 11),
            ("error", "kto/margin-negative-after-warmup", 21),
            ("error", "kto/loss-increasing", 10),  # past the midpoint of the rise; 003: revert
            ("warning", "kto/margin-not-increasing", 11),
            ("warning", "kto/kl-high", 33),
            ("warning", "kto/grad-norm-elevated", 28),  # 003: grad norms 50-100 frequently
            ("warning", "kto/grad-norm-high", 35),
            # the 40-step run never completes the table's Early stage (steps 11-50): a stage
            # is judged once the run went through it, as a live follower can (issue 14)
        ],
    ),
    "sft_nan_truncated": ("fail", 1, [("error", "common/grad-norm-nonfinite", 260)]),
    "hf_output": ("pass", 0, [("info", "common/grad-norm-spike", 85)]),
    "swift_grpo": ("pass", 0, []),
    "verl_tensorboard": ("pass", 0, [("info", "common/grad-norm-spike", 75)]),
    # one healthy and one broken run per family (sample_logs/families.py)
    "sft_healthy": ("pass", 0, []),
    "dpo_healthy": ("pass", 0, []),
    "dpo_broken": (
        "fail",
        1,
        [("error", "trl/dpo-margin-negative", 34), ("warning", "trl/dpo-accuracy-low", 51)],
    ),
    "grpo_no_signal": (
        "pass",
        0,
        [
            ("warning", "trl/grpo-no-learning-signal", 40),
            ("warning", "trl/grpo-reward-std-zero", 40),
            ("warning", "trl/completions-clipped", 60),
        ],
    ),
    "ppo_healthy": ("pass", 0, []),
    "ppo_broken": (  # TRL's docs call val/ratio 2.5 too drastic, not a reason to stop
        "pass",
        0,
        [("warning", "trl/ppo-value-ratio", 110), ("warning", "trl/ppo-kl-negative", 111)],
    ),
    "verl_healthy": ("pass", 0, []),
    "verl_broken": (  # no document asks to stop for these: warnings (issue 14)
        "pass",
        0,
        [
            ("warning", "verl/is-ratio-far", 100),
            ("warning", "verl/entropy-collapse", 60),
            ("warning", "verl/pg-clipfrac-high", 60),
            ("warning", "verl/response-truncation", 60),
            ("warning", "verl/value-function-useless", 60),
            ("warning", "verl/is-ratio-drift", 100),
        ],
    ),
    "coordexp_healthy": ("pass", 0, []),
    "coordexp_broken": (
        "pass",
        0,
        [
            ("warning", "coordexp/eval-f1-drop", 60),
            ("warning", "coordexp/hits-max-new-tokens", 61),
            ("warning", "coordexp/parse-truncated", 61),
        ],
    ),
    "trinity_healthy": ("pass", 0, []),
    "trinity_broken": (  # 002 names experience_count, asks for no stop: a warning
        "pass",
        0,
        [
            ("warning", "trinity/no-experiences", 91),
            ("warning", "trinity/eval-accuracy-falling", 60),
        ],
    ),
    "maxent_healthy": ("pass", 0, []),
    "maxent_broken": (
        "pass",
        0,
        [
            ("warning", "maxent_grpo/no-learning-signal", 50),
            ("warning", "maxent_grpo/tau-at-max", 50),
            ("warning", "maxent_grpo/weight-entropy-collapse", 50),
        ],
    ),
    "verl_console_grpo": ("pass", 0, [("warning", "verl/response-truncation", 70)]),
    "mlflow_ppo": (
        "fail",
        1,
        [
            ("error", "common/grad-norm-nonfinite", 88),
            ("warning", "verl/value-function-useless", 53),
        ],
    ),
    "verl_wandb": (
        "fail",
        1,
        [
            ("error", "common/grad-norm-nonfinite", 88),
            ("warning", "verl/response-truncation", 80),
        ],
    ),
    "verl_swanlab": (
        "fail",
        1,
        [
            ("error", "common/grad-norm-nonfinite", 88),
            ("warning", "verl/response-truncation", 80),
        ],
    ),
}

# the family each sample must be detected as (the packs applied beside common)
FAMILY = {
    "kto_healthy": ["kto"],
    "kto_diverging": ["kto"],
    "sft_nan_truncated": [],
    "hf_output": ["kto"],
    "swift_grpo": ["trl"],
    "verl_tensorboard": ["verl"],
    "sft_healthy": [],
    "dpo_healthy": ["trl"],
    "dpo_broken": ["trl"],
    "grpo_no_signal": ["trl"],
    "ppo_healthy": ["trl"],
    "ppo_broken": ["trl"],
    "verl_healthy": ["verl"],
    "verl_broken": ["verl"],
    "coordexp_healthy": ["coordexp"],
    "coordexp_broken": ["coordexp"],
    "trinity_healthy": ["trinity"],
    "trinity_broken": ["trinity"],
    "maxent_healthy": ["maxent_grpo"],
    "maxent_broken": ["maxent_grpo"],
    "verl_wandb": ["verl"],
    "verl_swanlab": ["verl"],
    "verl_console_grpo": ["verl"],
    "mlflow_ppo": ["verl"],
}

# samples holding several runs: {sample: {run name: (status, findings)}}
EXPECTED_RUNS = {
    "trl_grpo_wandb_export": {
        "grpo-lr1e-6": ("pass", []),
        "grpo-lr1e-5-collapsed": (
            "pass",
            [
                ("warning", "trl/grpo-no-learning-signal", 60),
                ("warning", "trl/grpo-reward-std-zero", 60),
            ],
        ),
    },
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample(cli, samples: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    status, code, findings = EXPECTED[name]
    result = cli(["check", samples / name, "--format", "json"], exit_code=code)
    (run,) = json.loads(result.stdout)["runs"]
    assert run["status"] == status
    assert run["packs"] == ["common", *FAMILY[name]]
    assert sorted((f["severity"], f["rule"], f["onset"]) for f in run["findings"]) == sorted(
        findings
    )
    assert all(f["onset"] <= f["step"] for f in run["findings"])


def test_every_sample_is_listed(samples: Path) -> None:
    folders = {p.name for p in samples.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == set(EXPECTED) | set(EXPECTED_RUNS)
    assert set(EXPECTED) == set(FAMILY)
    readme = (samples / "README.md").read_text()
    assert all(f"`{name}/`" in readme for name in folders)


@pytest.mark.parametrize("name", sorted(EXPECTED_RUNS))
def test_multi_run_sample(cli, samples: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    expected = EXPECTED_RUNS[name]
    statuses = {status for status, _ in expected.values()}
    result = cli(["check", samples / name, "--format", "json"], exit_code=int("fail" in statuses))
    runs = {r["path"].rsplit(" [", 1)[1][:-1]: r for r in json.loads(result.stdout)["runs"]}
    assert set(runs) == set(expected)
    for run_name, (status, findings) in expected.items():
        run = runs[run_name]
        assert run["status"] == status
        assert sorted((f["severity"], f["rule"], f["onset"]) for f in run["findings"]) == sorted(
            findings
        )
    assert all(f["onset"] <= f["step"] for f in run["findings"])


def test_truncated_sample_reports_the_cut_line(cli, samples: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["check", samples / "sft_nan_truncated", "--format", "json"], exit_code=1)
    (run,) = json.loads(result.stdout)["runs"]
    (source,) = run["sources"]
    assert source["problems"] == [
        {"line": 45, "message": "last line is incomplete (run killed mid-write, or still writing)"}
    ]
    assert run["steps"] == {"first": 10, "last": 400, "count": 40}


def test_hf_output_reads_only_the_most_complete_trainer_state(cli, samples: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["check", samples / "hf_output", "--format", "json"])
    (run,) = json.loads(result.stdout)["runs"]
    assert [s["path"] for s in run["sources"]] == [
        str(samples / "hf_output" / "trainer_state.json")
    ]
    assert run["steps"] == {"first": 5, "last": 150, "count": 30}
    assert any("most complete of 3" in note for note in run["notes"])


def test_swift_resume_is_recorded(cli, samples: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["check", samples / "swift_grpo", "--format", "json"])
    (run,) = json.loads(result.stdout)["runs"]
    assert [(r["step"], r["previous_step"], r["line"]) for r in run["resumes"]] == [(41, 60, 61)]
    assert run["steps"]["count"] == 100


def test_whole_sample_folder_is_one_run_per_subfolder(cli, samples: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["check", samples, "--format", "json"], exit_code=1)
    runs = json.loads(result.stdout)["runs"]
    # the sample folder each run lies in (a W&B run is named after its own run folder, a
    # tracker database's run below its file: mlflow_ppo/mlruns.db/<run name>)
    folders = sorted(Path(r["path"]).relative_to(samples).parts[0] for r in runs)
    multi = [name for name, named in EXPECTED_RUNS.items() for _ in named]
    assert folders == sorted([*EXPECTED, *multi])


def test_verl_tensorboard_resume_is_recorded(cli, samples: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["check", samples / "verl_tensorboard", "--format", "json"])
    (run,) = json.loads(result.stdout)["runs"]
    assert [(r["step"], r["previous_step"]) for r in run["resumes"]] == [(41, 60)]
    assert [(s["format"], s["rows"], s["problems"]) for s in run["sources"]] == [
        ("tensorboard", 40, []),
        ("tensorboard", 60, []),
    ]
    assert run["steps"] == {"first": 1, "last": 100, "count": 100}


def test_tensorboard_read_options_on_the_command_line(cli, samples: Path) -> None:  # type: ignore[no-untyped-def]
    """--no-crc reads the same values; --tb-purge drops the points the restart overwrote."""
    run = samples / "verl_tensorboard"
    default = json.loads(cli(["check", run, "-f", "json"]).stdout)["runs"][0]
    fast = json.loads(cli(["check", run, "-f", "json", "--no-crc"]).stdout)["runs"][0]
    assert fast["findings"] == default["findings"] and fast["steps"] == default["steps"]
    purged = json.loads(cli(["check", run, "-f", "json", "--tb-purge"]).stdout)["runs"][0]
    assert purged["steps"]["last"] == default["steps"]["last"]


def test_wandb_sample_merges_the_resumed_folders(cli, samples: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["check", samples / "verl_wandb", "--format", "json"], exit_code=1)
    (run,) = json.loads(result.stdout)["runs"]
    assert run["steps"] == {"first": 1, "last": 100, "count": 100}
    assert [(r["step"], r["previous_step"]) for r in run["resumes"]] == [(41, 60)]
    assert [s["format"] for s in run["sources"]] == ["wandb", "wandb"]


def test_verl_console_sample_reports_the_interleaved_line(cli, samples: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["check", samples / "verl_console_grpo", "--format", "json"])
    (run,) = json.loads(result.stdout)["runs"]
    (source,) = run["sources"]
    assert source["format"] == "verl_console"
    assert [p["line"] for p in source["problems"]] == [82]
    assert "(WorkerDict pid=2633) INFO flush" in source["problems"][0]["message"]
    assert run["steps"] == {"first": 1, "last": 100, "count": 100}


def test_mlflow_sample_is_one_named_run_with_veRL_keys(cli, samples: Path) -> None:  # type: ignore[no-untyped-def]
    result = cli(["check", samples / "mlflow_ppo", "--format", "json"], exit_code=1)
    (run,) = json.loads(result.stdout)["runs"]
    assert run["path"] == str(samples / "mlflow_ppo" / "mlruns.db" / "gsm8k-qwen2.5-0.5b-ppo")
    (source,) = run["sources"]
    assert source["format"] == "mlflow_sqlite" and source["problems"] == []
    assert any("'val-core/openai/gsm8k/reward/mean@1'" in n for n in source["notes"])
