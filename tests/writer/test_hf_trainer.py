"""End to end: a real Trainer (and TRL's KTOTrainer) trains a tiny random GPT-2 on the CPU
with LogscopeCallback attached; `logscope check` then reads the log it wrote."""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hf_support import LMDataset, kto_rows, model, sentences, tokenizer
from writer_support import strict_lines

pytestmark = [
    pytest.mark.slow,
    # warnings raised inside transformers / TRL / torch are theirs, not logscope's
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::UserWarning"),
]

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
hf = pytest.importorskip("logscope.integrations.hf")


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing may come from a hub: the model, tokenizer and data are built in code."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    monkeypatch.setenv("WANDB_DISABLED", "true")


def train(
    out: Path, *, learning_rate: float, max_steps: int, max_grad_norm: float = 1.0, **options: Any
) -> tuple[Any, Any, io.StringIO]:
    tok = tokenizer()
    stream = io.StringIO()
    callback = hf.LogscopeCallback(stream=stream, **options)
    args = transformers.TrainingArguments(
        output_dir=str(out),
        per_device_train_batch_size=8,
        max_steps=max_steps,
        learning_rate=learning_rate,
        max_grad_norm=max_grad_norm,
        logging_steps=1,
        eval_strategy="steps",
        eval_steps=5,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
        seed=0,
    )
    trainer = transformers.Trainer(
        model=model(tok.vocab_size),
        args=args,
        train_dataset=LMDataset(tok, sentences(64)),
        eval_dataset=LMDataset(tok, sentences(16, seed=1)),
        callbacks=[callback],
    )
    trainer.train()
    callback.close()
    return trainer, callback, stream


def test_a_healthy_trainer_run_is_logged_and_passes_logscope_check(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    trainer, callback, stream = train(tmp_path, learning_rate=5e-4, max_steps=20, stop_on="error")
    assert trainer.state.global_step == 20 and not callback.should_stop
    lines = strict_lines(tmp_path / "logs" / "metrics.jsonl")
    kinds = [line["kind"] for line in lines]
    assert kinds.count("train") == 20 and kinds.count("eval") == 4 and kinds[-1] == "summary"
    assert all("step" in line and "wall_time" in line for line in lines)
    manifest = json.loads((tmp_path / "logs" / "run.json").read_text())
    assert manifest["framework"]["model_class"] == "GPT2LMHeadModel"
    assert manifest["config"]["training_args"]["learning_rate"] == 5e-4
    assert manifest["config"]["model"]["n_layer"] == 2
    assert "stopped" not in manifest and "end_time" in manifest
    assert "logscope: no findings in 25 logged rows" in stream.getvalue()

    result = cli(["check", tmp_path, "--format", "json"], exit_code=0)
    (run,) = json.loads(result.stdout)["runs"]
    assert run["status"] == "pass" and run["findings"] == []
    assert run["packs"] == ["common"]
    assert run["steps"] == {"first": 1, "last": 20, "count": 20}
    assert run["sources"][0]["path"].endswith("logs/metrics.jsonl")


def test_a_diverging_run_is_stopped_early_by_stop_on_error(tmp_path: Path, cli) -> None:  # type: ignore[no-untyped-def]
    """A huge learning rate without clipping overflows the gradients at once. Trainer hides the
    NaN loss (logging_nan_inf_filter) but not the grad norm, and the callback stops it."""
    trainer, callback, stream = train(
        tmp_path, learning_rate=1e30, max_grad_norm=0.0, max_steps=50, stop_on="error"
    )
    assert callback.should_stop
    assert trainer.state.global_step < 10  # of 50
    assert callback.monitor is not None and callback.monitor.stop_reason is not None
    assert callback.monitor.stop_reason.rule == "common/grad-norm-nonfinite"
    text = stream.getvalue()
    assert text.count("logscope ERROR") == 1 and 'Stopping training (stop_on="error")' in text
    stopped = json.loads((tmp_path / "logs" / "run.json").read_text())["stopped"]
    assert stopped["step"] == trainer.state.global_step
    assert stopped["metric"] == "grad_norm" and stopped["value"] == "NaN"

    result = cli(["check", tmp_path, "--format", "json"], exit_code=1)
    (run,) = json.loads(result.stdout)["runs"]
    assert run["status"] == "fail"
    assert ("common/grad-norm-nonfinite", "grad_norm") in {
        (f["rule"], f["metric"]) for f in run["findings"]
    }


def test_trl_kto_trainer_with_the_callback(tmp_path: Path) -> None:
    trl = pytest.importorskip("trl")
    datasets = pytest.importorskip("datasets")
    from logscope.pipeline import check, load_packs

    tok = tokenizer()
    policy = model(tok.vocab_size)
    stream = io.StringIO()
    callback = hf.LogscopeCallback(stream=stream, every=1)
    args = trl.KTOConfig(
        output_dir=str(tmp_path),
        per_device_train_batch_size=8,
        max_steps=12,
        learning_rate=1e-3,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
        seed=0,
        max_length=32,
    )
    trainer = trl.KTOTrainer(
        model=policy,
        ref_model=copy.deepcopy(policy),
        args=args,
        train_dataset=datasets.Dataset.from_list(kto_rows(64)),
        processing_class=tok,
        callbacks=[callback],
    )
    trainer.train()
    callback.close()
    lines = strict_lines(tmp_path / "logs" / "metrics.jsonl")
    assert {"rewards/chosen", "rewards/rejected", "rewards/margins", "kl"} <= set(lines[0])
    manifest = json.loads((tmp_path / "logs" / "run.json").read_text())
    assert manifest["framework"]["name"] == "trl"
    assert manifest["framework"]["trl"] == trl.__version__

    (report,) = check([tmp_path], load_packs()).reports
    assert report.packs == ["common", "kto"]
    assert report.run.steps == {"first": 1, "last": 12, "count": 12}
    # everything the offline check reports was announced while training ran
    assert callback.monitor is not None
    live = {(f.rule, f.metric) for f in callback.monitor.findings}
    assert {(f.rule, f.metric) for f in report.findings} <= live
