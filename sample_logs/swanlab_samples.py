"""The SwanLab sample: a veRL GRPO run logging to SwanLab offline, crashed and resumed.

    python sample_logs/generate.py        # rebuilds every sample, this one included

`verl_swanlab/` is written by the real swanlab SDK in offline mode (pip install swanlab; no
network, no account): the committed `.swanlab` files came from swanlab 0.10.3. Without
swanlab installed the committed files are kept as they are. The SDK's console-capture and
file-save records (they hold machine paths) are dropped with the SDK's own reader and writer,
and its `files/`, `media/` and `debug/` folders are left out, except `files/config.yaml`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from wandb_samples import VERL_ROWS  # noqa: E402  (a sibling script, not a package)

RUN_ID = "q7w3verlgrpo2gsm8kx01"
# (folder timestamp, first step, last step, finish state): crashed after step 60, resumed
# from the step-40 checkpoint in a new process (SwanLab starts a second folder for the id)
SEGMENTS = (("20261101_101010", 1, 60, "crashed"), ("20261101_123000", 41, 100, "success"))

_SCRIPT = """
import math, random, sys
import swanlab

first, last = int(sys.argv[1]), int(sys.argv[2])
state, shift = sys.argv[3], float(sys.argv[4])
swanlab.init(
    project="verl_grpo_gsm8k", experiment_name="qwen2.5-3b-grpo", mode="offline",
    id=sys.argv[5], resume="allow",
    config={
        "algorithm": {"adv_estimator": "grpo"},
        "actor_rollout_ref": {"actor": {"optim": {"lr": 1e-6}}},
        "data": {"max_response_length": 1024},
        "trainer": {"total_training_steps": 100, "logger": ["console", "swanlab"]},
    },
)
ROWS
for step, row in rows(first, last, shift):
    swanlab.log({key: value for key, value in row.items() if value is not None}, step=step)
if state == "crashed":
    swanlab.finish(state="crashed", error="torch.OutOfMemoryError: CUDA out of memory.")
else:
    swanlab.finish()
"""


def _strip_machine_records(path: Path) -> None:
    """Keep the start, column, scalar, media and finish records; drop console lines and
    file-save records (absolute paths of the machine that wrote them)."""
    from swanlab.proto.swanlab.record.v1.record_pb2 import Record
    from swanlab.sdk.internal.core_python.store import DataStoreReader, DataStoreWriter

    reader = DataStoreReader()
    reader.open(path)
    kept = []
    for data in reader:
        record = Record()
        record.ParseFromString(data)
        if record.WhichOneof("record_type") not in ("log", "save"):
            kept.append(data)
    reader.close()
    path.unlink()
    writer = DataStoreWriter()
    writer.open(path)
    for data in kept:
        writer.write(data)
    writer.close()


def verl_swanlab() -> None:
    """veRL GRPO (Qwen2.5-3B on GSM8K) with `trainer.logger=['console','swanlab']`, offline:
    crashed after step 60 (CUDA OOM), resumed from the step-40 checkpoint in a second folder
    of the same run id; responses hit max_response_length more and more from step 66;
    actor/grad_norm is NaN at step 88."""
    try:
        import swanlab  # noqa: F401
    except ImportError:
        print(
            "verl_swanlab: swanlab is not installed; the committed sample is kept", file=sys.stderr
        )
        return
    root = HERE / "verl_swanlab"
    shutil.rmtree(root, ignore_errors=True)
    with tempfile.TemporaryDirectory() as work:
        script = Path(work) / "main_ppo.py"
        script.write_text(_SCRIPT.replace("ROWS", VERL_ROWS))
        env = {**os.environ, "HOME": work}
        for stamp, first, last, state in SEGMENTS:
            before = set(Path(work).glob("swanlog/run-*"))
            shift = "0.0" if first == 1 else "0.01"
            args = [str(first), str(last), state, shift, RUN_ID]
            subprocess.run(
                [sys.executable, str(script), *args],
                env=env,
                cwd=work,
                check=True,
                timeout=300,
                capture_output=True,
            )
            (made,) = set(Path(work).glob("swanlog/run-*")) - before
            target = root / "swanlog" / f"run-{stamp}-{RUN_ID}"
            (target / "files").mkdir(parents=True)
            log = target / f"run-{RUN_ID}.swanlab"
            shutil.copy(made / f"run-{RUN_ID}.swanlab", log)
            shutil.copy(made / "files" / "config.yaml", target / "files" / "config.yaml")
            _strip_machine_records(log)


if __name__ == "__main__":
    verl_swanlab()
