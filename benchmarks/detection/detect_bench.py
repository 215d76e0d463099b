"""The detection benchmark (library part of run.py): generate the labelled scenarios,
check each with logscope, print recall / false alarms / delay / duplicates per family,
format and pathology.

    python benchmarks/detection/run.py                 # every scenario (a few minutes)
    python benchmarks/detection/run.py --fast          # the regression subset
    python benchmarks/detection/run.py --json out.json # also save every outcome
    python benchmarks/detection/run.py --fast --update-expected   # rewrite expected.json

Run from the repository root (logscope is imported from the working tree). Generated runs
go to a temporary folder (or --data DIR) and are never committed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
for _path in (str(HERE), str(ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from detect_generate import generate  # noqa: E402
from detect_score import Outcome, Summary, grouped, score, summarise  # noqa: E402

EXPECTED = HERE / "expected.json"
TARGETS = {"recall": 0.95, "fp_rate": 0.02, "median_delay": 2, "duplicate_rate": 0.0}


def evaluate(data: Path, *, fast: bool, long_runs: bool = True) -> list[Outcome]:
    labels = generate(data, fast_only=fast, long_runs=long_runs)
    return score(data, labels)


def _fmt(value: float | None, pct: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}" if pct else f"{value:g}"


def table(title: str, rows: dict[str, Summary]) -> str:
    head = (
        f"| {title} | broken | recall | healthy | FP rate | median delay | dated early "
        "| onset error | duplicate rate | exit agrees |"
    )
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, s in rows.items():
        lines.append(
            f"| {name} | {s.broken} | {_fmt(s.recall, True)} | {s.healthy} | "
            f"{_fmt(s.fp_rate, True)} | "
            f"{_fmt(s.median_delay)} | {s.early} | {_fmt(s.median_onset_error)} | "
            f"{_fmt(s.duplicate_rate, True)} | "
            f"{s.exit_agree}/{s.total} |"
        )
    return "\n".join(lines)


def _finding_line(f: dict[str, Any]) -> str:
    return f"{f['severity']} {f['rule']} [{f['metric']}] step {f['step']}: {f['message']}"


def report(outcomes: list[Outcome], *, details: bool = True) -> str:
    total = summarise(outcomes)
    parts = [
        "Detection accuracy (warning/error findings; info does not count)",
        "",
        table("all", {"all": total}),
        "",
        table("family", grouped(outcomes, "family")),
        "",
        table("format", grouped(outcomes, "format")),
        "",
        table("pathology", grouped(outcomes, "pathology")),
        "",
        "targets: recall >= 0.95, FP rate <= 0.02, median delay <= 2 logged points, no duplicates",
    ]
    if details:
        broken = [o for o in outcomes if o.errors]
        if broken:
            parts += ["", f"BENCHMARK ERRORS ({len(broken)}): runs not read as labelled"]
            parts += [f"  {o.id}: {'; '.join(o.errors)}" for o in broken]
        misses = [o for o in outcomes if o.status == "missed"]
        alarms = [o for o in outcomes if o.status == "false-alarm"]
        parts += ["", f"misses ({len(misses)}):"]
        for o in misses:
            seen = (
                "; ".join(_finding_line(f) for f in o.findings if f["severity"] != "info")
                or "no finding"
            )
            parts.append(f"  {o.id}: {seen}" + (f" [errors: {o.errors}]" if o.errors else ""))
        parts += ["", f"false alarms ({len(alarms)}):"]
        for o in alarms:
            for f in o.unexpected:
                parts.append(f"  {o.id}: {_finding_line(f)}")
        extra = [o for o in outcomes if not o.healthy and o.unexpected]
        parts += [
            "",
            f"unexpected findings on broken runs ({len(extra)} runs; not in the FP rate):",
        ]
        for o in extra:
            for f in o.unexpected:
                parts.append(f"  {o.id}: {_finding_line(f)}")
        late = [o for o in outcomes if o.delay is not None and (o.delay < 0 or o.delay > 2)]
        parts += ["", f"dated early or late ({len(late)}):"]
        for o in late:
            parts.append(f"  {o.id}: delay {o.delay} logged points")
        dups = [o for o in outcomes if o.duplicate]
        parts += ["", f"duplicates ({len(dups)}):"]
        for o in dups:
            parts.append(
                f"  {o.id}: "
                + ", ".join(sorted({f["rule"] + " [" + f["metric"] + "]" for f in o.matched}))
            )
    return "\n".join(parts) + "\n"


def expected_statuses(outcomes: list[Outcome]) -> dict[str, str]:
    return {o.id: o.status for o in sorted(outcomes, key=lambda o: o.id)}


def expected_delays(outcomes: list[Outcome]) -> dict[str, int]:
    """Delay (logged points) of each detected fast-subset case: a finding may come earlier
    than recorded, never later."""
    return {o.id: o.delay for o in sorted(outcomes, key=lambda o: o.id) if o.delay is not None}


def write_expected(outcomes: list[Outcome], path: Path = EXPECTED) -> None:
    document = {
        "about": (
            "Status of each fast-subset scenario under the current rules: detected / missed "
            "(broken runs), silent / false-alarm (healthy runs); and the delay (logged points "
            "from the labelled onset to the first matching finding) of each detected one. "
            "tests/benchmarks/test_detection.py fails when a detected case is missed, a silent "
            "one alarms, or a finding comes later than recorded. "
            "Regenerate: python benchmarks/detection/run.py --fast --update-expected"
        ),
        "cases": expected_statuses(outcomes),
        "delays": expected_delays(outcomes),
    }
    path.write_text(json.dumps(document, indent=1) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description="logscope detection benchmark")
    parser.add_argument("--fast", action="store_true", help="the regression subset only")
    parser.add_argument("--no-long", action="store_true", help="skip the 10,000+ step runs")
    parser.add_argument("--json", type=Path, help="write every outcome and summary here")
    parser.add_argument("--data", type=Path, help="generate into this folder (kept)")
    parser.add_argument(
        "--update-expected", action="store_true", help="rewrite expected.json (with --fast)"
    )
    parser.add_argument("--quiet", action="store_true", help="tables only, no lists")
    args = parser.parse_args()
    if args.update_expected and not args.fast:
        parser.error("--update-expected records the fast subset: add --fast")
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="logscope-detect-") as tmp:
        data = args.data or Path(tmp)
        outcomes = evaluate(data, fast=args.fast, long_runs=not args.no_long)
    sys.stdout.write(report(outcomes, details=not args.quiet))
    print(f"\n{len(outcomes)} scenarios in {time.perf_counter() - began:.1f} s")
    if args.json:
        document = {
            "summary": summarise(outcomes).as_dict(),
            "families": {k: v.as_dict() for k, v in grouped(outcomes, "family").items()},
            "formats": {k: v.as_dict() for k, v in grouped(outcomes, "format").items()},
            "pathologies": {k: v.as_dict() for k, v in grouped(outcomes, "pathology").items()},
            "outcomes": [{**asdict(o), "status": o.status} for o in outcomes],
        }
        args.json.write_text(json.dumps(document, indent=1, default=str))
    if args.update_expected:
        write_expected(outcomes)
        print(f"wrote {EXPECTED.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
