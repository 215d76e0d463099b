"""Writer tests run as a lone process, whatever launcher runs the suite."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _clean_rank_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A suite started under torchrun must not make every writer think it is rank 3."""
    for name in ("RANK", "LOCAL_RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
