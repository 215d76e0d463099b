"""Write the labelled scenarios to a folder: one run folder per scenario, plus labels.json.

    python benchmarks/detection/detect_generate.py OUT [--fast]

Deterministic (seeded from each scenario's id); the data is never committed
(benchmarks/data/ is git-ignored; run.py uses a temporary folder by default).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from detect_formats import WRITERS
from detect_scenarios import Scenario, records, scenarios


def write_scenario(root: Path, s: Scenario) -> dict[str, object]:
    folder = root / s.id
    shutil.rmtree(folder, ignore_errors=True)
    WRITERS[s.fmt](folder, records(s), s.layout)
    return {
        "id": s.id,
        "family": s.family,
        "format": s.fmt,
        "fast": s.fast,
        "tags": s.tags,
        "logged_steps": len(s.sim.steps),
        "max_steps": s.sim.max_steps,
        "resumed_at": s.resume_at,
        "torn": s.layout.torn,
        "label": asdict(s.label),
    }


def generate(
    root: Path, *, fast_only: bool = False, long_runs: bool = True
) -> list[dict[str, object]]:
    """Write every scenario under `root`; returns (and saves) the labels."""
    root.mkdir(parents=True, exist_ok=True)
    labels = [write_scenario(root, s) for s in scenarios(fast_only=fast_only, long_runs=long_runs)]
    (root / "labels.json").write_text(json.dumps(labels, indent=1))
    return labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--fast", action="store_true", help="only the regression subset")
    args = parser.parse_args()
    labels = generate(args.out, fast_only=args.fast)
    print(f"{len(labels)} scenarios written to {args.out}")


if __name__ == "__main__":
    main()
