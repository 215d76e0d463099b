"""Project configuration: a team's rule files, parameter overrides and rule selection,
without repeating flags.

    rules: [team_rules.yaml]          # paths relative to this file
    set: ["kto/grad-norm-high.value=200", "kto/kl-low.severity=info"]
    select: [common, kto]             # or a comma-separated string
    ignore: [kto/stage-target-loss]
    pack: [kto]                       # packs to apply even when not detected

Configuration is trusted, data is not. The file is `logscope.yaml`, or a `[tool.logscope]`
table in a pyproject.toml (in one folder, logscope.yaml wins), found in the working
directory or the nearest of its parents (the repository), or named with `--config FILE`;
`--isolated` reads none. It is never read from the run folders being checked: a run folder
arrives with the data (a pull request can add one), and a configuration inside it could
switch checks off or add rules. One found there is named in a note and ignored.

Command-line options win: --rules, --set and --pack add to these, --select and --ignore
replace them. Every rule or pack name, in the file or on the command line, must exist.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from logscope.errors import RulePackError

if TYPE_CHECKING:
    from logscope.rules.pack import Pack

NAME = "logscope.yaml"
PYPROJECT = "pyproject.toml"
KEYS = {"rules", "set", "select", "ignore", "pack"}


@dataclass(frozen=True)
class ProjectConfig:
    """What a logscope.yaml or [tool.logscope] table sets, and where it was found."""

    path: Path | None = None
    rules: list[Path] = field(default_factory=list)
    settings: list[str] = field(default_factory=list)
    select: str | None = None
    ignore: str | None = None
    packs: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # configurations found and ignored
    ignored: list[Path] = field(default_factory=list)  # their files


def find_config(start: Path) -> Path | None:
    """The nearest logscope.yaml, or pyproject.toml with a [tool.logscope] table, in
    `start` (the working directory) or its parents."""
    for folder in [start.resolve(), *start.resolve().parents]:
        found = _config_in(folder)
        if found is not None:
            return found
    return None


def untrusted_configs(paths: Iterable[Path], cwd: Path, trusted: Path | None) -> list[Path]:
    """Configuration files in or above the checked paths that are below the working
    directory (the data, not the repository): each path, the folders between it and the
    working directory's tree, and its direct sub-folders (the runs of a sweep)."""
    found: dict[Path, None] = {}
    home = cwd.resolve()
    trusted_folders = {home, *home.parents}
    for path in paths:
        try:
            start = path.resolve()
            folder = start if start.is_dir() else start.parent
            chain = [folder, *folder.parents]
            for above in chain:
                if above in trusted_folders:
                    break
                if (config := _config_in(above)) is not None:
                    found[config] = None
            if start.is_dir():
                for child in sorted(start.iterdir()):
                    if child.is_dir() and (config := _config_in(child)) is not None:
                        found[config] = None
        except OSError:  # unreadable folders are reported by discovery, not here
            continue
    if trusted is not None:
        found.pop(trusted.resolve(), None)
    return list(found)


def project_config(
    paths: Iterable[Path], *, config_file: Path | None = None, isolated: bool = False
) -> ProjectConfig:
    """The trusted configuration for a command on `paths`, with notes about ignored ones."""
    if config_file is not None and isolated:
        raise RulePackError(["--config and --isolated exclude each other"])
    cwd = Path.cwd()
    if isolated:
        path = None
    elif config_file is not None:
        if not config_file.is_file():
            raise RulePackError([f"--config {config_file}: no such file"])
        path = config_file
    else:
        path = find_config(cwd)
    config = load_config(path)
    ignored = untrusted_configs(paths, cwd, path)
    notes = [
        f"{found}: a configuration inside the run folders being checked is ignored "
        "(configuration comes from the working directory and its parents, or --config)"
        for found in ignored
    ]
    return ProjectConfig(**{**config.__dict__, "notes": notes, "ignored": ignored})


def load_config(path: Path | None) -> ProjectConfig:
    if path is None:
        return ProjectConfig()
    doc, place = _read(path)
    if not isinstance(doc, dict):
        raise RulePackError([f"{path}: expected a mapping with keys {', '.join(sorted(KEYS))}"])
    errors = [
        f"{place(k)}: unknown key '{k}'{_suggest(k)} (expected: {', '.join(sorted(KEYS))})"
        for k in sorted(set(doc) - KEYS)
    ]
    rules = _strings(doc.get("rules"), "rules", place, errors)
    settings = _strings(doc.get("set"), "set", place, errors)
    packs = _strings(doc.get("pack"), "pack", place, errors)
    for key in ("select", "ignore"):
        if doc.get(key) is not None and not isinstance(doc.get(key), str):
            _strings(doc.get(key), key, place, errors)
    if errors:
        raise RulePackError(errors)
    if path.name == PYPROJECT:
        path = path.with_name(f"{PYPROJECT} [tool.logscope]")
    return ProjectConfig(
        path=path,
        rules=[path.parent / r for r in rules],  # relative to the file that names them
        settings=settings,
        select=_csv(doc.get("select")),
        ignore=_csv(doc.get("ignore")),
        packs=packs,
    )


class _Place:
    """file:line:col of a top-level key, where the format records it."""

    def __init__(self, path: Path, doc: Any) -> None:
        self.path, self.doc = path, doc

    def __call__(self, key: str) -> str:
        where = getattr(self.doc, "where", None)
        if where is None:
            return str(self.path)
        line, column = where(key)
        return f"{self.path}:{line}:{column}"


def _read(path: Path) -> tuple[Any, _Place]:
    """The parsed file; a broken one is a RulePackError naming file:line:col."""
    import yaml

    try:
        if path.name == PYPROJECT:
            doc = _toml(path).get("tool", {}).get("logscope", {})
            return doc, _Place(path.with_name(f"{PYPROJECT} [tool.logscope]"), doc)
        from logscope.rules.yaml_lines import load

        doc = load(path.read_text(encoding="utf-8"))
        return ({} if doc is None else doc), _Place(path, doc)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        message = f"{where}: invalid YAML in the project configuration: {problem}"
        raise RulePackError([message]) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise RulePackError([f"{path}: cannot read the project configuration ({exc})"]) from None


def choose_packs(
    config: ProjectConfig,
    *,
    rule_files: list[Path],
    forced: list[str],
    settings: list[str],
    select: str | None,
    ignore: str | None,
) -> tuple[list[Pack], list[Path], list[str], list[str], set[str] | None, set[str] | None]:
    """The packs a command runs and the names that choose among them, with the project
    configuration merged in and every name checked (a typo is an error, with a suggestion).

    Returns (packs, rule files, forced packs, settings, select, ignore); raises
    RulePackError listing every problem.
    """
    from logscope.pipeline import load_packs
    from logscope.rules.selection import check_names

    files = [*config.rules, *rule_files]
    all_settings = [*config.settings, *settings]
    all_forced = [*config.packs, *forced]
    chosen_select = _names(select if select is not None else config.select)
    chosen_ignore = _names(ignore if ignore is not None else config.ignore)
    packs = load_packs(files, (), all_settings)
    origin = str(config.path) if config.path else "logscope.yaml"
    check_names(
        packs,
        rule_names=[
            ("--select" if select is not None else f"{origin}: select", chosen_select or set()),
            ("--ignore" if ignore is not None else f"{origin}: ignore", chosen_ignore or set()),
        ],
        pack_names=[("--pack", set(forced)), (f"{origin}: pack", set(config.packs))],
    )
    return packs, files, all_forced, all_settings, chosen_select, chosen_ignore


def _names(value: str | None) -> set[str] | None:
    return {v.strip() for v in value.split(",") if v.strip()} if value else None


def _suggest(key: str) -> str:
    from logscope.rules.selection import did_you_mean

    hint = did_you_mean(key, KEYS)
    return hint if "did you mean" in hint else ""


def _strings(value: Any, key: str, place: _Place, errors: list[str]) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    errors.append(f"{place(key)}: '{key}' must be a list of texts")
    return []


def _csv(value: Any) -> str | None:
    if value is None:
        return None
    return ",".join(value) if isinstance(value, list) else str(value)


def _config_in(folder: Path) -> Path | None:
    candidate = folder / NAME
    if candidate.is_file():
        return candidate
    pyproject = folder / PYPROJECT
    if pyproject.is_file() and _has_section(pyproject):
        return pyproject
    return None


def _toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
    with path.open("rb") as handle:
        data: dict[str, Any] = tomllib.load(handle)
    return data


def _has_section(path: Path) -> bool:
    """Whether a pyproject.toml has a [tool.logscope] table; a broken one that mentions it
    counts, so that its error shows rather than being skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    mentions = (line for line in text.splitlines() if "tool.logscope" in line)
    if all(line.lstrip().startswith("#") for line in mentions):  # none, or in comments only:
        return False  # most pyproject files need no parse (tomllib: ~0.01 s of start-up)
    try:
        return isinstance(_toml(path).get("tool", {}).get("logscope"), dict)
    except (OSError, ValueError):
        return True


def shown(path: Path | str) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (OSError, ValueError, RuntimeError):
        return str(path)


def config_file(config: ProjectConfig) -> str | None:
    """The configuration file applied, as shown (pyproject.toml with its table name)."""
    if config.path is None:
        return None
    name = config.path.name
    if name.startswith(f"{PYPROJECT} "):  # "pyproject.toml [tool.logscope]"
        return f"{shown(config.path.with_name(PYPROJECT))} {name[len(PYPROJECT) + 1 :]}"
    return shown(config.path)


def resolved_settings(
    config: ProjectConfig,
    packs: list[Pack],
    *,
    rule_files: list[Path],
    forced: list[str],
    settings: list[str],
    select: str | None,
    ignore: str | None,
) -> dict[str, Any]:
    """What `check --show-settings` prints: the configuration in force and where each part
    comes from. `rule_files` ... `ignore` are the command-line values (before merging), so
    that every entry can name its origin; packs are all loaded packs, each with the rules
    left after select/ignore and when it applies (detection needs a run, so "if detected")."""
    from logscope.rules.selection import selected

    origin = config_file(config) or "logscope.yaml"
    chosen_select = _names(select if select is not None else config.select)
    chosen_ignore = _names(ignore if ignore is not None else config.ignore)
    all_forced = {*config.packs, *forced}

    def keeps(rule: Any) -> bool:
        if chosen_select and not selected(rule, chosen_select):
            return False
        return not (chosen_ignore and selected(rule, chosen_ignore))

    def names(value: set[str] | None, option: str, cli: str | None) -> dict[str, Any]:
        source = None if value is None else option if cli is not None else origin
        return {"names": sorted(value or ()), "from": source}

    return {
        "config": {"file": config_file(config), "ignored": [shown(p) for p in config.ignored]},
        "rule_files": [{"path": shown(p), "from": origin} for p in config.rules]
        + [{"path": shown(p), "from": "--rules"} for p in rule_files],
        "set": [{"setting": v, "from": origin} for v in config.settings]
        + [{"setting": v, "from": "--set"} for v in settings],
        "select": names(chosen_select, "--select", select),
        "ignore": names(chosen_ignore, "--ignore", ignore),
        "packs": [
            {
                "name": pack.name,
                "path": shown(pack.path),
                "applies": (
                    "forced"
                    if pack.name in all_forced
                    else "with --baseline"
                    if pack.requires_baseline
                    else "always"
                    if pack.detect is None
                    else "if detected"
                ),
                "rules": sum(1 for rule in pack.rules if keeps(rule)),
                "of": len(pack.rules),
            }
            for pack in packs
        ],
    }


def settings_text(info: dict[str, Any]) -> list[str]:
    """`resolved_settings` as aligned lines for people (paths and names as they are; the
    caller escapes them for the terminal)."""
    config = info["config"]
    lines = [f"config      {config['file'] or 'none (no logscope.yaml found, or --isolated)'}"]
    lines += [
        f"ignored     {p} (inside the run folders: data, not configuration)"
        for p in config["ignored"]
    ]
    lines += [f"rule file   {f['path']} (from {f['from']})" for f in info["rule_files"]]
    lines += [f"set         {s['setting']} (from {s['from']})" for s in info["set"]]
    for key in ("select", "ignore"):
        chosen = info[key]
        if chosen["from"] is not None:
            lines.append(f"{key:<11} {', '.join(chosen['names'])} (from {chosen['from']})")
    in_force = [p for p in info["packs"] if p["rules"]]
    off = [p["name"] for p in info["packs"] if not p["rules"]]
    lines.append(f"packs       {len(in_force)} in force, {sum(p['rules'] for p in in_force)} rules")
    width = max((len(p["name"]) for p in in_force), default=0)
    lines += [
        f"  {p['name']:<{width}}  {p['applies']:<15} {p['rules']:>3}/{p['of']:<3} rules  "
        + p["path"]
        for p in in_force
    ]
    if off:
        lines.append(f"  off by select/ignore: {', '.join(off)}")
    return lines
