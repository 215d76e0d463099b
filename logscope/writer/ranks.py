"""Which process this is, as launchers tell it (torchrun, accelerate, deepspeed set these)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Ranks:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def from_env(
    environ: Mapping[str, str] | None = None,
    *,
    rank: int | None = None,
    local_rank: int | None = None,
    world_size: int | None = None,
) -> Ranks:
    """Explicit arguments win; then RANK / LOCAL_RANK / WORLD_SIZE; a lone process is rank 0.

    A launcher that sets only LOCAL_RANK (single node) gives that as the rank too.
    """
    env = os.environ if environ is None else environ
    local = local_rank if local_rank is not None else _int(env, "LOCAL_RANK")
    global_rank = rank if rank is not None else _int(env, "RANK")
    if global_rank is None:
        global_rank = local if local is not None else 0
    size = world_size if world_size is not None else _int(env, "WORLD_SIZE")
    if size is None:  # not told: at least enough processes for this rank
        size = global_rank + 1
    ranks = Ranks(global_rank, local if local is not None else global_rank, size)
    if not 0 <= ranks.rank < ranks.world_size or ranks.local_rank < 0:
        raise ValueError(
            f"rank {ranks.rank} (local rank {ranks.local_rank}) does not fit world size "
            f"{ranks.world_size} "
            "(check RANK and WORLD_SIZE, or pass rank= and world_size=)"
        )
    return ranks


def _int(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ValueError(f"environment variable {name}={raw!r} is not an integer") from None
