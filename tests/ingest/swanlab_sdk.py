"""Real SwanLab offline run folders, written by the swanlab SDK itself (the `test` extra).

Each script runs in its own interpreter with `mode="offline"` and its own HOME, so nothing
reaches the network and swanlab's process-wide state stays out of the test process. What
each run logs is returned alongside, so tests compare the reader's result with the values
actually logged.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from wandb_sdk import _literal as python_literal

NAN, INF = math.nan, math.inf

# (step, logged dict): nested dicts, NaN/Inf, ints, zeros (protobuf leaves them out), a gap
MAIN_ROWS: list[tuple[int, dict[str, object]]] = [
    (
        step,
        {
            "train/loss": 2.0 / (step + 1),
            "train": {"kl": 0.01 * step, "deep": {"x": step}},
            "grad_norm": NAN if step == 3 else (INF if step == 4 else -INF if step == 5 else 1.5),
            "zero": 0.0,
            "<img src=x onerror=alert(1)>": float(step),
        },
    )
    for step in range(8)
] + [(20, {"train/loss": 0.05})]

MAIN = """
import math, swanlab
swanlab.init(project="logscope-test", experiment_name="main run", mode="offline",
             description="a test run", tags=["a", "b"],
             config={"lr": 1e-3, "model": {"name": "tiny"}})
for step, row in ROWS:
    swanlab.log(row, step=step)
swanlab.log({"sample": swanlab.Text("generated text")}, step=21)
swanlab.log({"sample": swanlab.Text("more text")}, step=22)
swanlab.log({"after": 1.0})  # no step: swanlab counts on from the last one
swanlab.finish()

# a second run: enough scalar records for many 32 KiB blocks
swanlab.init(project="logscope-test", experiment_name="long run", mode="offline", id=LONG_ID)
for step in range(1500):
    swanlab.log({"loss": 1.0 / (step + 1), "reward": step * 0.5}, step=step)
swanlab.finish()
"""

RESUMED = """
import sys, swanlab
start = int(sys.argv[1])
swanlab.init(project="logscope-test", mode="offline", id=RESUME_ID, resume="allow")
for step in range(start, start + 3):
    swanlab.log({"loss": float(step)}, step=step)
swanlab.finish()
"""

LONG_ID = "long0000000000000000a"
RESUME_ID = "resume00000000000000a"


def run_script(code: str, folder: Path, *args: str) -> None:
    home = folder / ".home"
    home.mkdir(exist_ok=True)
    env = {**os.environ, "HOME": str(home), "SWANLAB_MODE": "offline"}
    script = folder / "log.py"
    text = textwrap.dedent(code).replace("ROWS", python_literal(MAIN_ROWS))
    text = text.replace("LONG_ID", repr(LONG_ID)).replace("RESUME_ID", repr(RESUME_ID))
    script.write_text(text)
    subprocess.run(
        [sys.executable, str(script), *args],
        env=env,
        cwd=folder,
        check=True,
        capture_output=True,
        timeout=300,
    )
    script.unlink()


def make_runs(root: Path) -> dict[str, Path]:
    """`two/swanlog/` holds the main run (MAIN_ROWS, two texts) and a 1500-step run;
    `resumed/swanlog/` two folders of one run id (steps 0-2, then 3-5)."""
    pytest.importorskip("swanlab")
    made = {}
    for name, code, starts in (("two", MAIN, [()]), ("resumed", RESUMED, [("0",), ("3",)])):
        folder = root / name
        folder.mkdir()
        for args in starts:
            run_script(code, folder, *args)
        made[name] = folder
    return made


def swanlab_file(folder: Path, run_id: str | None = None) -> Path:
    """The `.swanlab` file of `run_id` (else of the run that is not the long one)."""
    files = sorted(folder.glob("swanlog/run-*/run-*.swanlab"))
    if run_id is not None:
        return next(f for f in files if f.name == f"run-{run_id}.swanlab")
    return next(f for f in files if LONG_ID not in f.name)
