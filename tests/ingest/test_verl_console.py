"""veRL / TinyZero console logs: step lines found among everything else a job prints."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logscope.ingest import discover, read_run, verl_console

ESC = "\x1b"
# shaped like a real Ray + vLLM job's stdout: banner, config dump, warnings, tqdm bars
# redrawn with \r, Ray's coloured (TaskRunner pid=...) prefix, numpy 2 reprs, a traceback
LOG = (
    "2025-03-01 10:00:00,123 INFO worker.py:1841 -- Started a local Ray instance.\n"
    "{'actor_rollout_ref': {'actor': {'clip_ratio': 0.2, 'ppo_mini_batch_size': 256}},\n"
    " 'trainer': {'logger': ['console'], 'total_epochs': 15}}\n"
    f"{ESC}[36m(TaskRunner pid=2101){ESC}[0m WARNING 03-01 10:01:02 config.py:549 "
    "bf16 is not supported on this device\n"
    "Training Progress:   0%|          | 0/3 [00:00<?, ?it/s]\r"
    "Training Progress:  33%|###3      | 1/3 [00:21<00:42, 21.47s/it]\n"
    f"{ESC}[36m(TaskRunner pid=2101){ESC}[0m step:0 - timing/gen:21.470 - "
    "actor/pg_loss:np.float64(-0.0123) - actor/pg_clipfrac:0.000 - actor/ppo_kl:0.000 - "
    "actor/grad_norm:1.992 - critic/score/mean:0.004 - response_length/mean:239.133 - "
    "actor/lr:1e-06\n"
    "Training Progress:  67%|######6   | 2/3 [00:43<00:21, 21.60s/it]\r"
    "(TaskRunner pid=2101) step:1 - timing/gen:20.9 - actor/pg_loss:np.float64(-0.02) - "
    "actor/pg_clipfrac:tensor(0.0150, device='cuda:0') - actor/ppo_kl:np.float32(0.001) - "
    "actor/grad_norm:nan - critic/score/mean:0.25 - response_length/mean:np.int64(240) - "
    "actor/lr:1e-06\n"
    "Traceback (most recent call last):\n"
    '  File "main_ppo.py", line 99, in <module>\n'
    "ValueError: global_step:7 - not a step line\n"
    "(TaskRunner pid=2101) step:2 - timing/gen:inf - actor/pg_loss:-inf - "
    "actor/grad_norm:2.5 - critic/score/mean:0.5\n"
)


def write(tmp_path: Path, text: str | bytes, name: str = "train.log") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_step_lines_are_read_among_other_output(tmp_path: Path) -> None:
    run = read_run(write(tmp_path, LOG))
    assert run.frame.get_column("step").to_list() == [0, 1, 2]
    assert run.problems == []
    assert run.frame.get_column("actor/pg_loss").to_list() == [-0.0123, -0.02, -math.inf]
    assert run.frame.get_column("actor/pg_clipfrac").to_list() == [0.0, 0.015, None]
    assert run.frame.get_column("response_length/mean").to_list() == [239.133, 240.0, None]
    grad = run.frame.get_column("actor/grad_norm").to_list()
    assert grad[0] == 1.992 and math.isnan(grad[1]) and grad[2] == 2.5
    assert run.frame.get_column("timing/gen").to_list()[2] == math.inf
    assert run.frame.get_column("actor/lr").to_list()[:2] == [1e-06, 1e-06]
    assert "global_step" not in " ".join(run.metrics)


def test_findings_point_at_the_log_line(tmp_path: Path) -> None:
    path = write(tmp_path, LOG)
    run = read_run(path)
    assert run.origin(0) == (str(path), 6)
    assert run.origin(1) == (str(path), 7)  # after a tqdm redraw on the same line


def test_unreadable_fragments_are_reported_with_their_line(tmp_path: Path) -> None:
    text = "step:0 - loss:1.0 - note:hello world - :3\nstep:1 - loss:0.5\n"
    run = read_run(write(tmp_path, text))
    assert run.frame.get_column("loss").to_list() == [1.0, 0.5]
    [problem] = run.problems
    assert problem.line == 1
    assert "'note:hello world'" in problem.message and "1 more" in problem.message


def test_restart_is_seen_as_a_resume(tmp_path: Path) -> None:
    text = "".join(f"step:{s} - loss:{s}\n" for s in (1, 2, 3, 2, 3, 4))
    run = read_run(write(tmp_path, text, "slurm-1234.out"))
    assert [(r.step, r.previous_step, r.line) for r in run.resumes] == [(2, 3, 4)]
    assert run.frame.get_column("loss").to_list() == [1.0, 2.0, 3.0, 4.0]


def test_a_resumed_job_s_logs_are_read_in_job_order(tmp_path: Path) -> None:
    write(tmp_path, "step:1 - loss:1.0\nstep:2 - loss:2.0\n", "slurm-999.out")
    write(tmp_path, "step:2 - loss:2.5\nstep:3 - loss:3.0\n", "slurm-1000.out")
    run = read_run(tmp_path)
    assert run.frame.get_column("loss").to_list() == [1.0, 2.5, 3.0]  # the later job wins
    assert [Path(s.path).name for s in run.sources] == ["slurm-999.out", "slurm-1000.out"]


def test_non_utf8_bytes_are_reported_and_the_rest_read(tmp_path: Path) -> None:
    data = b"step:0 - loss:1.0\nboot \xff\xfe garbage\nstep:1 - loss:0.5\n"
    run = read_run(write(tmp_path, data))
    assert run.frame.get_column("loss").to_list() == [1.0, 0.5]
    assert [(p.line, "not UTF-8" in p.message) for p in run.problems] == [(2, True)]


@pytest.mark.parametrize(
    "name", ["<img src=x onerror=alert(1)>", "a\x07b", "val/score@4", "über/λ", "x" * 300]
)
def test_hostile_metric_names_are_kept_verbatim(tmp_path: Path, name: str) -> None:
    run = read_run(write(tmp_path, f"step:0 - {name}:1.5\nstep:1 - {name}:2\n"))
    assert run.frame.get_column(name).to_list() == [1.5, 2.0]


def test_only_logs_holding_step_lines_are_claimed(tmp_path: Path) -> None:
    write(tmp_path, "just some notes\nstep: read the paper\n", "notes.txt")
    write(tmp_path, "INFO nothing here\n", "slurm-1.out")
    log = write(tmp_path, LOG, "slurm-2.out")
    assert discover.sniff(tmp_path / "notes.txt") is None
    [found] = discover.discover(tmp_path)
    assert found.files == [(log, verl_console.FORMAT)]


def test_console_log_joins_the_run_of_its_folder(tmp_path: Path) -> None:
    (tmp_path / "metrics.jsonl").write_text('{"step": 5, "eval/acc": 0.5}\n')
    write(tmp_path, LOG, "stdout.txt")
    run = read_run(tmp_path)
    assert run.frame.get_column("step").to_list() == [0, 1, 2, 5]
    assert {s.format for s in run.sources} == {"jsonl", "verl_console"}


def test_a_file_without_step_lines_named_directly_is_reported(tmp_path: Path) -> None:
    run = read_run(write(tmp_path, "Ray started\nCUDA out of memory\n", "slurm-7.out"))
    assert run.frame.height == 0
    assert "no veRL step line" in run.problems[0].message
    as_jsonl = read_run(write(tmp_path, '{"step": 1, "loss": 2.0}\n', "metrics.log"))
    assert as_jsonl.frame.get_column("loss").to_list() == [2.0]


keys = st.text(alphabet="abcdefghij/_@.-", min_size=1, max_size=10).map(lambda k: "m" + k)
values = st.floats(allow_nan=True, allow_infinity=True)
wrappers = st.sampled_from(["{!r}", "np.float64({!r})", "tensor({!r})", "{:.3f}"])


@settings(max_examples=80, deadline=None, derandomize=True, database=None)
@given(
    st.lists(st.dictionaries(keys, values, min_size=1, max_size=5), min_size=1, max_size=8),
    wrappers,
)
def test_values_round_trip_as_verl_prints_them(rows: list[dict[str, float]], wrap: str) -> None:
    """Whatever floats veRL prints (repr, numpy 2 repr, torch repr, TinyZero's .3f), the
    reader returns them: exactly, or as rounded by the .3f format."""
    text = "".join(
        f"step:{step} - " + " - ".join(f"{k}:{wrap.format(v)}" for k, v in row.items()) + "\n"
        for step, row in enumerate(rows)
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "train.log"
        path.write_text(text)
        part = verl_console.read(path)
    assert part.problems == []
    for step, row in enumerate(rows):
        for key, value in row.items():
            got = part.frame.get_column(key)[step]
            expected = float(wrap.format(value)) if wrap == "{:.3f}" else value
            assert got == expected or (math.isnan(got) and math.isnan(expected))


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.binary(max_size=300),
    st.integers(min_value=0, max_value=len(LOG.encode())),
    st.binary(min_size=1, max_size=8),
)
def test_damaged_logs_never_crash(noise: bytes, cut: int, splice: bytes) -> None:
    """Random bytes, a cut, or bytes spliced into a real log: read, report, never raise."""
    data = LOG.encode()
    for damaged in (noise, data[:cut], data[:cut] + splice + data[cut:], b"step:" + noise):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "train.log"
            path.write_bytes(damaged)
            part = verl_console.read(path)
            assert part.frame.schema["step"] == pl.Int64
            assert part.frame.get_column("step").null_count() == 0
            assert all(p.path == str(path) and p.message for p in part.problems)
            if part.frame.height == 0:
                assert part.problems  # nothing read is always explained
