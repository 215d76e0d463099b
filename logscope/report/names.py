"""Short run names for the HTML report: what a person calls the run, the full path on hover.

A run named by its tracker (W&B display name, MLflow `run_name`, SwanLab experiment name)
is shown by that name; any other run by its path without the leading folders every run of
the report shares (`sample_logs/kto_diverging` and `sample_logs/kto_healthy` become
`kto_diverging` and `kto_healthy`; one run keeps its last folder, a file its folder too).
Two runs that would look alike get their short path after the name. Long names are cut in
the middle, never at the end, where sweeps put what differs (`…lr1e-6`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from logscope.run import Run

# metadata keys that hold a tracker's run name, by reader; first found wins
NAME_KEYS = ("run_name", "wandb.name", "swanlab.name")
ID_KEYS = ("run_id", "wandb.run_id", "swanlab.run_id")
LONGEST = 44


@dataclass(frozen=True, slots=True)
class RunName:
    short: str  # shown
    full: str  # the run's path, for the tooltip
    ident: str | None = None  # the tracker's run id, when it has one

    @property
    def tooltip(self) -> str:
        return self.full + (f" · run id {self.ident}" if self.ident else "")


def short_names(runs: list[Run]) -> list[RunName]:
    """One RunName per run, in order; distinct whenever the runs' paths are."""
    paths = [_trimmed(r.path) for r in runs]
    by_path = _without_common_prefix(paths)
    named = [tracker_name(r.meta) for r in runs]
    shown = [name or path for name, path in zip(named, by_path, strict=True)]
    repeated = {s for s, n in Counter(shown).items() if n > 1}
    shown = [
        f"{s} ({p})" if s in repeated and name else s
        for s, p, name in zip(shown, by_path, named, strict=True)
    ]
    return [
        RunName(middle_cut(s), r.path, _text_of(r.meta, ID_KEYS))
        for s, r in zip(shown, runs, strict=True)
    ]


def tracker_name(meta: dict[str, Any]) -> str | None:
    """The run's own name, when its tracker recorded one (for W&B also the Trainer's
    `run_name` in the logged config, when the run record has no display name)."""
    name = _text_of(meta, NAME_KEYS)
    if name:
        return name
    config = meta.get("config")
    if isinstance(config, dict):
        value = config.get("run_name")
        if isinstance(value, dict):  # config.yaml's {key: {value: ...}}
            value = value.get("value")
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def middle_cut(text: str, longest: int = LONGEST) -> str:
    if len(text) <= longest:
        return text
    head = (longest - 1) * 2 // 5
    return text[:head] + "…" + text[len(text) - (longest - 1 - head) :]


def _text_of(meta: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = meta.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _trimmed(path: str) -> str:
    return path.rstrip("/") or path


def _without_common_prefix(paths: list[str]) -> list[str]:
    """Drop the leading folders all paths share; each keeps at least its last part."""
    parts = [p.split("/") for p in paths]
    shared = 0
    if parts:
        shortest = min(len(p) for p in parts)
        while shared < shortest - 1 and len({p[shared] for p in parts}) == 1:
            shared += 1
        if len(parts) == 1:  # one run: its folder, or a file with its folder
            shared = max(len(parts[0]) - (2 if "." in parts[0][-1] else 1), 0)
    return ["/".join(p[shared:]) or path for p, path in zip(parts, paths, strict=True)]
