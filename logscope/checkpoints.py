"""A run's checkpoints, so advice can name the one to go back to.

Layouts (as the frameworks write them):
- Hugging Face Trainer / TRL: `<output_dir>/checkpoint-<global_step>/`;
- ms-swift: `<output_dir>/v<N>-<date>-<time>/checkpoint-<step>/` (its logging.jsonl sits in
  the `v<N>-...` folder, so the checkpoints are in the run folder);
- veRL: `<default_local_dir>/global_step_<N>/{actor,critic}/`, default_local_dir being
  `checkpoints/<project>/<experiment>` under the working directory; TinyZero and older veRL
  `.../actor/global_step_<N>/`;
- Trinity-RFT: `<checkpoint_root_dir>/<project>/<name>/global_step_<N>/`, its monitor logs in
  `<name>/monitor/` (so the checkpoints are next to the log folder).

They are looked for in `--checkpoints DIR` when given, else in the run folder, and next to
it when the run folder is a tracker's log folder (monitor/, logs/, tensorboard_log/ ...).
"""

from __future__ import annotations

import os
import re
from collections import deque
from dataclasses import dataclass
from pathlib import Path

_NAMES = re.compile(r"^(?:checkpoint[-_](?P<hf>\d+)|global_step_?(?P<verl>\d+))$")
_LOG_FOLDERS = frozenset(
    {"monitor", "logs", "log", "tensorboard_log", "tensorboard", "runs", "metrics", "wandb"}
)
_SKIP = frozenset({".git", "wandb", "mlruns", "__pycache__", "node_modules", ".venv"})
MAX_DEPTH = 5  # checkpoints/<project>/<experiment>/global_step_N is four folders down
# folders listed at most per search: a log checked in a big folder (a home directory, a
# data folder of thousands of runs) must not cost seconds; nearest folders come first
MAX_FOLDERS = 2000


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A saved checkpoint: the step it holds and its folder."""

    step: int
    path: str
    layout: str  # "hf" (Trainer, TRL, ms-swift) or "verl" (veRL, TinyZero, Trinity-RFT)

    @property
    def resume(self) -> str:
        """How to start again from it, in the framework's own words."""
        if self.layout == "verl":
            return f"trainer.resume_mode=resume_path trainer.resume_from_path={self.path}"
        return f"resume_from_checkpoint={self.path!r}"


@dataclass(frozen=True, slots=True)
class Found:
    """The checkpoints of a run, and the folders searched (named when none is found)."""

    checkpoints: tuple[Checkpoint, ...]
    looked_in: tuple[str, ...]
    complete: bool = True  # False when the search stopped at MAX_FOLDERS folders

    def before(self, step: int) -> Checkpoint | None:
        """The last checkpoint saved strictly before `step` (its weights predate the problem)."""
        earlier = [c for c in self.checkpoints if c.step < step]
        return earlier[-1] if earlier else None


def find(run_path: str, checkpoint_dir: str | None = None) -> Found:
    """Checkpoints of the run at `run_path`, sorted by step (one per step)."""
    roots = _roots(run_path, checkpoint_dir)
    by_step: dict[int, Checkpoint] = {}
    complete = True
    for root in roots:
        found, whole = _walk(root)
        complete = complete and whole
        for checkpoint in found:
            by_step.setdefault(checkpoint.step, checkpoint)
    checkpoints = tuple(by_step[s] for s in sorted(by_step))
    return Found(checkpoints, tuple(str(r) for r in roots), complete)


def _roots(run_path: str, checkpoint_dir: str | None) -> list[Path]:
    if checkpoint_dir is not None:
        return [Path(checkpoint_dir)]
    folder = Path(run_path)
    if not folder.is_dir():
        folder = folder.parent
        if not folder.is_dir():
            return []  # a run inside a tracker database: no folder of its own
    roots = [folder]
    if folder.name in _LOG_FOLDERS and folder.parent != folder:
        roots.append(folder.parent)
    return roots


def _walk(root: Path) -> tuple[list[Checkpoint], bool]:
    """Checkpoint folders up to MAX_DEPTH below `root`, nearest first, without entering
    them; False beside them when MAX_FOLDERS folders were listed before the end."""
    found: list[Checkpoint] = []
    pending = deque([(root, 0)])
    listed = 0
    while pending:
        if listed == MAX_FOLDERS:
            return found, False
        folder, depth = pending.popleft()
        listed += 1
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name in _SKIP or entry.name.startswith(".") or not _is_dir(entry):
                continue
            match = _NAMES.match(entry.name)
            if match and _saved(entry.path):
                layout = "hf" if match["hf"] else "verl"
                found.append(Checkpoint(int(match["hf"] or match["verl"]), entry.path, layout))
            elif depth + 1 < MAX_DEPTH:
                pending.append((Path(entry.path), depth + 1))
    return found, True


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _saved(path: str) -> bool:
    """A checkpoint folder with something in it (an empty one was never written)."""
    try:
        with os.scandir(path) as entries:
            return any(True for _ in entries)
    except OSError:
        return False
