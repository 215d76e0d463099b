"""Long fuzz run over every reader: damaged inputs through `read_runs`, and every Nth also
through the CLI (`logscope check`), counting crashes (anything but Runs / LogscopeError, or
a CLI exit other than 0, 1 or 2 with a clean exit).

    python benchmarks/bench_fuzz.py --inputs 100000 --workers 2

The inputs come from tests/ingest/fuzzing.py (the same generator the CI suite uses) with a
fixed seed per worker, so a run is reproducible; a crashing input is saved under
--crash-dir with its format in the name. Prints inputs/s and the crash count; exit 1 when
any input crashed.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "ingest"))


def _cli_ok(path: Path) -> str | None:
    """None when `logscope check PATH` ends the documented way, else what went wrong."""
    from typer.testing import CliRunner

    from logscope.cli import app

    result = CliRunner().invoke(app, ["check", str(path), "--format", "json"])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return f"CLI exit {result.exit_code}: {type(result.exception).__name__}"
    if result.exit_code not in (0, 1, 2) or "Traceback" in result.output:
        return f"CLI exit {result.exit_code} with a traceback"
    return None


def work(job: tuple[int, int, int, int, str]) -> dict[str, object]:
    """Run `count` inputs from `seed`; return counts and crashes."""
    import fuzzing

    worker, count, seed, cli_every, crash_dir = job
    rng = random.Random(seed)
    counts: dict[str, int] = {}
    crashes: list[str] = []
    started = time.perf_counter()
    for index in range(count):
        fmt, data = fuzzing.random_input(rng)
        with tempfile.TemporaryDirectory() as folder:
            path = fuzzing.materialize(fmt, data, Path(folder))
            try:
                kind = fuzzing.outcome(path)
                if cli_every and index % cli_every == 0:
                    failure = _cli_ok(path)
                    if failure:
                        raise AssertionError(failure)
            except Exception:
                kind = "crash"
                name = Path(crash_dir) / f"crash-{worker}-{index}-{fmt.replace('/', '_')}"
                name.write_bytes(data)
                crashes.append(f"{name}: {traceback.format_exc(limit=-2).strip()[-400:]}")
        counts[kind] = counts.get(kind, 0) + 1
        if index and index % 1000 == 0:
            rate = index / (time.perf_counter() - started)
            print(
                f"worker {worker}: {index} inputs, {rate:.1f}/s, {len(crashes)} crashes",
                file=sys.stderr,
                flush=True,
            )
    return {"counts": counts, "crashes": crashes}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--cli-every", type=int, default=50, help="0: never through the CLI")
    parser.add_argument("--crash-dir", type=Path, default=Path("fuzz-crashes"))
    parser.add_argument("--json", type=Path, help="also save the figures here")
    args = parser.parse_args()
    args.crash_dir.mkdir(parents=True, exist_ok=True)
    share = [
        args.inputs // args.workers + (w < args.inputs % args.workers) for w in range(args.workers)
    ]
    jobs = [
        (w, n, args.seed * 1000 + w, args.cli_every, str(args.crash_dir))
        for w, n in enumerate(share)
    ]
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
        results = pool.map(work, jobs)
    seconds = time.perf_counter() - started
    counts: dict[str, int] = {}
    crashes: list[str] = []
    for result in results:
        for kind, n in result["counts"].items():  # type: ignore[attr-defined]
            counts[kind] = counts.get(kind, 0) + n
        crashes.extend(result["crashes"])  # type: ignore[arg-type]
    figures = {
        "inputs": args.inputs,
        "workers": args.workers,
        "seconds": round(seconds, 1),
        "inputs_per_second": round(args.inputs / seconds, 1),
        "outcomes": counts,
        "crashes": len(crashes),
    }
    for crash in crashes[:20]:
        print(crash, file=sys.stderr)
    print(json.dumps(figures))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
