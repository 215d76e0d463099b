"""Which files in a path are logs, and which of them belong to the same run.

A folder whose logs sit at its top (or in `logs/`, `checkpoint-*/`) is one run. A folder
whose logs sit only in sub-folders (`runs/a/`, `runs/b/`, or `sample_logs/`) holds one run
per sub-folder. Hugging Face writes `trainer_state.json` into every `checkpoint-*/` as well
as the output root; each copy holds the full history up to its step, so only the most
complete copy is read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from logscope.errors import InputError
from logscope.ingest import trainer_state

_SAME_RUN_DIRS = re.compile(r"^(checkpoint-\d+|logs?|metrics|global_step_?\d+)$")
_SKIP_DIRS = {".git", "__pycache__", "node_modules", ".venv", "venv", "wandb"}


@dataclass
class RunFiles:
    """The files of one logical run, and what discovery decided to leave out."""

    root: Path
    files: list[tuple[Path, str]] = field(default_factory=list)  # (path, format)
    notes: list[str] = field(default_factory=list)


def sniff(path: Path) -> str | None:
    """The format of a single file, judged from its name."""
    if path.name == "trainer_state.json":
        return "trainer_state"
    if path.suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    return None


def discover(path: Path) -> list[RunFiles]:
    """Runs under `path`; InputError when it is missing or holds no log at all."""
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if path.is_file():
        fmt = sniff(path) or "jsonl"
        return [RunFiles(path.parent if fmt == "trainer_state" else path, [(path, fmt)])]
    groups: dict[Path, list[Path]] = {}
    for file in _log_files(path):
        groups.setdefault(_run_root(file, path), []).append(file)
    if not groups:
        raise InputError(
            f"{path}: no training log found (looked for *.jsonl, logging.jsonl, trainer_state.json)"
        )
    return [_select(root, files) for root, files in sorted(groups.items())]


def _log_files(folder: Path) -> list[Path]:
    found = []
    for file in sorted(folder.rglob("*")):
        rel = file.relative_to(folder).parts
        if any(part in _SKIP_DIRS or part.startswith(".") for part in rel[:-1]):
            continue
        if file.is_file() and sniff(file):
            found.append(file)
    return found


def _run_root(file: Path, base: Path) -> Path:
    parts = file.relative_to(base).parts
    if len(parts) == 1 or _SAME_RUN_DIRS.match(parts[0]):
        return base
    return base / parts[0]


def _select(root: Path, files: list[Path]) -> RunFiles:
    """Keep every JSONL file and the most complete trainer_state.json."""
    run = RunFiles(root)
    states = [f for f in files if sniff(f) == "trainer_state"]
    run.files = [(f, "jsonl") for f in files if sniff(f) == "jsonl"]
    if states:
        # the highest global_step wins; on a tie the copy nearest the root (saved last)
        best = max(states, key=lambda f: (trainer_state.global_step(f), -len(f.parts)))
        run.files.append((best, "trainer_state"))
        if len(states) > 1:
            run.notes.append(
                f"read {best.relative_to(root)} (most complete of {len(states)} "
                "trainer_state.json copies); the others repeat its history"
            )
    return run
