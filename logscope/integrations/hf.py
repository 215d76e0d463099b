"""LogscopeCallback: every Trainer `on_log` dict through MetricWriter, with live checks.

Works with transformers' Trainer and every TRL trainer built on it (SFT, DPO, KTO, GRPO,
PPO). This is the only logscope module that imports transformers (the `[hf]` extra).

Each line gets `"kind"`: "train", "eval" (or the evaluation's own metric prefix, such as
"test"), or "summary" for the end-of-training line. With `stop_on="error"` the first error
finding sets `control.should_training_stop`, so the Trainer stops after the current step;
the reason goes to the banner, the `logscope.monitor` logger and run.json ("stopped").
Every rank evaluates the same gathered metrics, so all ranks stop at the same step.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TextIO

from transformers import TrainerCallback, TrainerControl, TrainerState, TrainingArguments

from logscope.writer.jsonl import FsyncPolicy, MetricWriter, OnError
from logscope.writer.monitoring import Monitor, check_options

log = logging.getLogger("logscope.monitor")

_RUNTIME = re.compile(r"^(?P<prefix>.+)_runtime$")
DEFAULT_SUBDIR = (
    "logs"  # <output_dir>/logs/: `logscope check <output_dir>` reads it with trainer_state.json
)


class LogscopeCallback(TrainerCallback):  # type: ignore[misc]
    """Write Trainer logs as logscope JSON Lines and check them while training runs.

    `path`: a folder or `.jsonl` file; default `<output_dir>/logs/` (metrics.jsonl and
    run.json). `stop_on`: None (only announce), "error", "warning" or "info".
    `live=False` only writes. `rules`: extra rule files besides the built-in packs;
    `select`/`ignore`: rule ids or packs, as for `logscope check`. `every`: evaluate
    every N logged rows (default: grows with the run, see logscope.writer.live).
    `per_rank`: each rank writes `rank<N>/metrics.jsonl` (default: the main process only).
    `on_error`: "warn" (default) reports a failing write (a full disk) once and goes on;
    "raise" lets the OSError stop training.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        stop_on: str | None = None,
        announce: str | None = "warning",
        live: bool = True,
        rules: Iterable[str | Path] = (),
        select: Iterable[str] | None = None,
        ignore: Iterable[str] | None = None,
        every: int | None = None,
        per_rank: bool = False,
        fsync: FsyncPolicy = "close",
        stream: TextIO | None = None,
        on_error: OnError = "warn",
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.options: dict[str, Any] = {
            "stop_on": stop_on,
            "announce": announce,
            "live": live,
            "rules": tuple(rules),
            "select": select,
            "ignore": ignore,
            "every": every,
            "stream": stream,
        }
        self.per_rank = per_rank
        self.fsync: FsyncPolicy = fsync
        self.on_error: OnError = on_error
        # fail on a misspelt option now, in the user's script, not at the first log
        check_options(stop_on=stop_on, announce=announce, every=every)
        self.monitor: Monitor | None = None
        self._broken = False

    # -- Trainer events ----------------------------------------------------------------

    def on_train_begin(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        **kwargs: Any,
    ) -> None:
        self._ensure_open(args, kwargs.get("model"))

    def on_log(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        logs: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> TrainerControl:
        monitor = self._ensure_open(args, kwargs.get("model"))
        if monitor is None or not logs:
            return control
        row = dict(logs)
        row.setdefault("kind", line_kind(logs))
        try:
            monitor.log(row, step=state.global_step)
        except Exception as exc:  # a logging add-on must never end a training run
            self._give_up("writing a log line", exc)
            return control
        if monitor.should_stop and not control.should_training_stop:
            control.should_training_stop = True
        return control

    def on_train_end(
        self,
        args: TrainingArguments,
        state: TrainerState,
        control: TrainerControl,
        **kwargs: Any,
    ) -> None:
        """Final evaluation and summary; the file stays open for a later trainer.evaluate()."""
        if self.monitor is None:
            return
        try:
            self.monitor.summarize()
            if self.monitor.writer is not None:
                self.monitor.writer.mark_end()
        except Exception as exc:
            self._give_up("finishing the run", exc)

    # -- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        """Close the log (fsync, end_time in run.json). Safe to call more than once."""
        if self.monitor is not None:
            self.monitor.close()

    @property
    def should_stop(self) -> bool:
        return self.monitor is not None and self.monitor.should_stop

    def _ensure_open(self, args: TrainingArguments, model: Any) -> Monitor | None:
        if self.monitor is not None or self._broken:
            return self.monitor
        try:
            path = self.path or Path(args.output_dir or ".") / DEFAULT_SUBDIR
            writer = MetricWriter(
                path,
                framework=framework_info(model),
                config=_config(args, model),
                per_rank=self.per_rank,
                fsync=self.fsync,
                rank=args.process_index,
                local_rank=max(args.local_process_index, 0),
                world_size=args.world_size,
                on_error=self.on_error,
            )
            self.monitor = Monitor(writer, **self.options)
        except Exception as exc:
            self._give_up("opening the log", exc)
        return self.monitor

    def _give_up(self, what: str, exc: Exception) -> None:
        if isinstance(exc, OSError) and self.on_error == "raise":
            raise exc  # the user asked for write failures to stop the run
        if not self._broken:
            log.warning(
                "logscope: %s failed (%s: %s); the callback is off for the rest of this run. "
                "Training continues.",
                what,
                type(exc).__name__,
                exc,
            )
        self._broken = True
        self.monitor = None


def line_kind(logs: Mapping[str, Any]) -> str:
    """ "eval" for Trainer.evaluate() lines (any `<prefix>_runtime` key gives its prefix),
    "summary" for the end-of-training line (`train_runtime`), else "train"."""
    for key in logs:
        found = _RUNTIME.match(str(key))
        if found:
            prefix = found["prefix"]
            return "summary" if prefix == "train" else prefix
    return "train"


def framework_info(model: Any = None) -> dict[str, Any]:
    """Versions of the libraries that shape the metrics, and the model class."""
    import transformers

    info: dict[str, Any] = {"name": "transformers", "transformers": transformers.__version__}
    for name in ("trl", "torch", "accelerate", "peft", "deepspeed"):
        module = sys.modules.get(name)
        version = getattr(module, "__version__", None)
        if version:
            info[name] = str(version)
    if "trl" in info:
        info["name"] = "trl"
    if model is not None:
        info["model_class"] = type(model).__name__
    return info


def _config(args: TrainingArguments, model: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"training_args": args.to_dict()}
    model_config = getattr(model, "config", None)
    to_dict = getattr(model_config, "to_dict", None)
    if callable(to_dict):
        config["model"] = to_dict()
    return config
