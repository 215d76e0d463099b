"""Rule packs, as one import: the model (rules.pack), loading (rules.load) and `--set`
overrides (rules.overrides) live in their own modules; this name stays for callers."""

from __future__ import annotations

from logscope.rules.load import (
    builtin_dir,
    fill_where,
    load_builtin,
    load_files,
    load_pack,
)
from logscope.rules.overrides import override
from logscope.rules.pack import Pack, Rule

__all__ = [
    "Pack",
    "Rule",
    "builtin_dir",
    "fill_where",
    "load_builtin",
    "load_files",
    "load_pack",
    "override",
]
