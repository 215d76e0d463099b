"""Real offline W&B run folders, written by the wandb SDK itself (the `test` extra).

Each script runs in its own interpreter with WANDB_MODE=offline, so nothing reaches the
network and wandb's process-wide state stays out of the test process. What each run logs is
returned alongside, so tests compare the reader's result with the values actually logged.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

NAN, INF = math.nan, math.inf
_HOMES = ("CACHE", "CONFIG", "DATA", "ARTIFACT")

# (step, logged dict) of the main run; nested dicts, NaN/Inf, text, booleans, a step gap
MAIN_ROWS: list[tuple[int, dict[str, object]]] = [
    (
        step,
        {
            "train/loss": 2.0 / (step + 1),
            "train": {"kl": 0.01 * step, "deep": {"x": step}},
            "grad_norm": NAN if step == 3 else (INF if step == 4 else -INF if step == 5 else 1.5),
            "phase": "warmup" if step < 2 else "main",
            "<img src=x onerror=alert(1)>": float(step),
            "flag": step % 2 == 0,
        },
    )
    for step in range(8)
] + [(20, {"train/loss": 0.05})]

MAIN = """
import math, wandb
run = wandb.init(project="logscope-test", name="main run", id="main0001",
                 config={"lr": 1e-3, "model": {"name": "tiny"}})
rows = ROWS
for step, row in rows:
    run.log(row, step=step)
run.log({"big": "x" * 70000})  # one record spanning three 32 KiB blocks
run.log({"table": wandb.Table(columns=["a"], data=[[1]])})
run.finish()

# a second run in the same process: enough history records for several 32 KiB blocks
run = wandb.init(project="logscope-test", id="long0001")
for step in range(400):
    run.log({"loss": 1.0 / (step + 1), "reward": step * 0.5, "name_padding_" * 3: step})
run.finish()
"""

RESUMED = """
import sys, wandb
start = int(sys.argv[1])
run = wandb.init(project="logscope-test", id="resume01", resume="allow")
for step in range(start, start + 3):
    run.log({"loss": float(step)}, step=step)
run.finish()
"""


def run_script(code: str, folder: Path, *args: str) -> None:
    env = {
        **os.environ,
        "WANDB_MODE": "offline",
        "WANDB_DIR": str(folder),
        # keep wandb's caches, config and artifact staging out of the user's home
        **{f"WANDB_{kind}_DIR": str(folder / ".wandb-home" / kind.lower()) for kind in _HOMES},
        "WANDB_SILENT": "true",
        "WANDB_DISABLE_GIT": "true",
        "WANDB_CONSOLE": "off",
    }
    script = folder / "log.py"
    script.write_text(textwrap.dedent(code).replace("ROWS", _literal(MAIN_ROWS)))
    subprocess.run(
        [sys.executable, str(script), *args],
        env=env,
        cwd=folder,
        check=True,
        capture_output=True,
        timeout=120,
    )
    script.unlink()


def _literal(rows: list[tuple[int, dict[str, object]]]) -> str:
    """A Python literal of the rows; nan/inf spelled so the script can evaluate them."""
    text = repr(rows)
    return text.replace("nan", "math.nan").replace("inf", "math.inf")


def make_runs(root: Path) -> dict[str, Path]:
    """`two/wandb/` holds runs main0001 (values of MAIN_ROWS, a 70 kB text, a table) and
    long0001 (400 steps over several blocks); `resumed/wandb/` two folders of run resume01
    (steps 0-2, then 3-5)."""
    pytest.importorskip("wandb")
    made = {}
    for name, code, starts in (("two", MAIN, [()]), ("resumed", RESUMED, [("0",), ("3",)])):
        folder = root / name
        folder.mkdir()
        for args in starts:
            run_script(code, folder, *args)
        made[name] = folder
    return made


def wandb_file(folder: Path, run_id: str) -> Path:
    """The `.wandb` file of `run_id` under folder/wandb/."""
    (path,) = sorted(folder.glob(f"wandb/*run-*-{run_id}/run-{run_id}.wandb"))[:1]
    return path
