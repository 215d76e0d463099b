"""Runs in object storage, read from a real S3-compatible server (moto's server mode) started
on loopback by the tests: nothing is mocked inside logscope or the S3 driver."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("s3fs")
pytest.importorskip("moto")

import s3server
from s3server import upload

import logscope
from logscope.errors import InputError

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"
s3, aws, denied = s3server.s3, s3server.aws, s3server.denied  # fixtures


def test_check_a_run_in_s3_gives_the_local_verdict_named_by_its_url(aws: str, cli) -> None:  # type: ignore[no-untyped-def]
    upload(SAMPLES / "kto_diverging", "s3://runs/team/kto_diverging")
    local = json.loads(cli(["check", SAMPLES / "kto_diverging", "-f", "json"], exit_code=1).stdout)
    remote = json.loads(
        cli(["check", "s3://runs/team/kto_diverging/", "-f", "json"], exit_code=1).stdout
    )
    (mine,) = remote["runs"]
    assert mine["path"] == "s3://runs/team/kto_diverging"
    assert mine["findings"] == local["runs"][0]["findings"]
    assert [s["path"] for s in mine["sources"]] == [
        "s3://runs/team/kto_diverging/logs/training_metrics.jsonl"
    ]


def test_a_sweep_prefix_with_thousands_of_runs(aws: str, tmp_path: Path) -> None:
    """1,100 runs: past S3's 1,000-key page, so the listing must follow continuation."""
    sweep = tmp_path / "sweep"
    for i in range(1100):
        run = sweep / f"run-{i:04d}"
        run.mkdir(parents=True)
        lines = [
            json.dumps({"step": s, "loss": 2.0 - s / 10, "grad_norm": 1.0}) for s in range(1, 6)
        ]
        if i == 1034:
            lines[3] = json.dumps({"step": 4, "loss": float("nan"), "grad_norm": 1.0})
        (run / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    (sweep / "run-0007" / "checkpoint-5").mkdir()
    (sweep / "run-0007" / "checkpoint-5" / "model.safetensors").write_bytes(b"\0" * 4096)
    upload(sweep, "s3://sweeps/big")
    outcome = logscope.check("s3://sweeps/big")
    assert len(outcome.reports) == 1100 and not outcome.errors
    failing = [r.run.path for r in outcome.reports if r.failed(outcome.fail_on)]
    assert failing == ["s3://sweeps/big/run-1034"]
    runs = logscope.read_runs("s3://sweeps/big/run-0007")
    assert runs.names == ["s3://sweeps/big/run-0007"]
    assert runs[0].frame.height == 5


def test_a_missing_bucket_is_a_clear_usage_error(aws: str, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(["check", "s3://no-such-bucket/runs/x"], exit_code=2)
    assert "s3://no-such-bucket/runs/x: no such bucket or prefix" in result.stderr
    with pytest.raises(InputError, match="no such bucket"):
        logscope.read_runs("s3://no-such-bucket/runs/x")


def test_denied_credentials_are_a_clear_usage_error(denied: str, cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(["check", "s3://private/runs/x"], exit_code=2)
    assert "s3://private/runs/x: access denied" in result.stderr
    assert "not-a-secret" not in result.stderr


def test_without_the_cloud_extra_a_url_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "fsspec", None)
    with pytest.raises(InputError, match=r"pip install 'logscope\[cloud\]'"):
        logscope.read_runs("s3://bucket/run")
