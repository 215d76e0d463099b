"""Run metadata of a W&B run folder: the run, config and exit records of the `.wandb` log,
and `files/config.yaml`, `files/wandb-summary.json`, `files/wandb-metadata.json` when
present (offline folders often lack them; then the log's own records are all there is).

RunRecord (wandb_internal.proto): run_id = 1, entity = 2, project = 3, config = 4,
display_name = 8, starting_step = 14, resumed = 18; ConfigRecord.update = 1 holds
ConfigItem{key = 1, nested_key = 2, value_json = 16}; RunExitRecord.exit_code = 1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from logscope.ingest.protowire import safe_fields
from logscope.model import Problem

Span = tuple[int, int]  # payload start, length
_RUN_TEXT = {1: "wandb.run_id", 2: "wandb.entity", 3: "wandb.project", 8: "wandb.name"}


def run_info(
    data: bytes, runs: list[Span], configs: list[Span], exits: list[Span], notes: list[str]
) -> dict[str, Any]:
    """Metadata from the run records, config records and exit record (spans into `data`)."""
    meta: dict[str, Any] = {}
    config: dict[str, Any] = {}
    for pos, size in runs:
        for num, wire, at, val in safe_fields(data, int(pos), int(pos + size)):
            if wire == 2 and num in _RUN_TEXT:
                meta[_RUN_TEXT[num]] = _text(data, at, val)
            elif wire == 2 and num == 4:
                config.update(_config_items(data, at, at + val))
            elif wire == 0 and num == 14:
                meta["wandb.starting_step"] = val
            elif wire == 0 and num == 18 and val:
                meta["wandb.resumed"] = True
    for pos, size in configs:
        config.update(_config_items(data, int(pos), int(pos + size)))
    config.pop("_wandb", None)
    if config:
        meta["config"] = config
    if not exits:
        notes.append("no exit record: the run was still running, crashed or was killed")
    for pos, size in exits:
        meta["wandb.exit_code"] = 0  # protobuf leaves a zero field out
        for num, wire, _at, val in safe_fields(data, int(pos), int(pos + size)):
            if num == 1 and wire == 0:
                meta["wandb.exit_code"] = val
                if val:
                    notes.append(f"the run exited with code {val} (failed)")
    return meta


def _text(data: bytes, at: int, size: int) -> str:
    return data[at : at + size].decode("utf-8", "replace")


def _config_items(data: bytes, start: int, end: int) -> dict[str, Any]:
    """ConfigRecord.update items (`key`/`nested_key`, `value_json`) as a flat dict."""
    found: dict[str, Any] = {}
    for num, wire, at, val in safe_fields(data, start, end):
        if num != 1 or wire != 2:
            continue
        key, parts, value = "", [], None
        for inum, iwire, iat, ival in safe_fields(data, at, at + val):
            if iwire != 2:
                continue
            if inum == 1:
                key = _text(data, iat, ival)
            elif inum == 2:
                parts.append(_text(data, iat, ival))
            elif inum == 16:
                value = parse_json(_text(data, iat, ival))
        found[".".join(parts) or key] = value
    return found


def parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


WANDB_FILES = (
    ("config.yaml", "config"),
    ("wandb-summary.json", "summary"),
    ("wandb-metadata.json", "wandb.metadata"),
)


def folder_files(
    folder: Path, name: str, meta: dict[str, Any], wanted: tuple[tuple[str, str], ...] = WANDB_FILES
) -> list[Problem]:
    """`files/config.yaml` (`{key: {value: ...}}`, as W&B and SwanLab write it), and the
    other `files/` JSON documents in `wanted` (file name, metadata key)."""
    problems: list[Problem] = []
    files = folder / "files"
    for file_name, key in wanted:
        file = files / file_name
        load = _load_yaml if file_name.endswith(".yaml") else _load_json
        if not file.is_file():
            continue
        where = str(Path(name).parent / "files" / file.name)
        try:
            value = load(file)
        except Exception as exc:  # any parse error: report and go on with the history
            why = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
            problems.append(Problem(where, f"not readable ({why}); its metadata was skipped"))
            continue
        if not isinstance(value, dict):
            problems.append(Problem(where, "expected a mapping at the top; skipped"))
            continue
        if key == "config":
            value = {
                k: v.get("value") if isinstance(v, dict) and "value" in v else v
                for k, v in value.items()
                if k != "_wandb" and k != "wandb_version"
            }
            meta["config"] = {**meta.get("config", {}), **value}
        elif key == "summary":
            meta[key] = {k: v for k, v in value.items() if not str(k).startswith("_wandb")}
        else:
            meta[key] = value
    return problems


def _load_yaml(path: Path) -> Any:
    import yaml

    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
