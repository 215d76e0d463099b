"""Benchmark ``logscope check`` against what users write today and against the polars floor.

Contenders (each run in its own fresh Python process, round-robin, ``--repeat`` times):

* ``logscope``  - ``python -m logscope check FILE --format json --fail-on never --pack kto``
* ``a``         - ``baseline_pandas.py``: ``json.loads`` per line + ``pd.DataFrame`` + thresholds
* ``b``         - ``floor_polars.py``: ``pl.read_ndjson(sanitised copy, infer_schema_length=None)``
                  plus a trivial reduction; ``b-default`` is the same with default schema
                  inference (``--only b`` runs both), reported with the columns it dropped.
* ``b-schema``  - the same parse told the file's exact schema (found untimed beforehand): the
                  floor of any reader built on Polars' parser, printed as a share of (b) next
                  to the bare interpreter + ``import polars`` (``bare``).
* ``bare``      - ``python -c "import polars"``: what every contender pays before reading.

Wall time is measured around the whole process (interpreter start-up and imports included),
because that is what a user waits for. Scripts (a) and (b) also report their in-process time.
CPU time (user + system of the process, every thread) is reported too: on a shared machine it
varies far less than wall time. ``--split`` adds check_split.py's in-process CPU split.

Peak memory: every run goes through ``MEASURE``, a tiny wrapper (``python -I -S``, ~8 MB) that
``posix_spawn``s the contender and reaps it with ``os.wait4``, which returns the kernel's
resource usage for exactly that child; its ``ru_maxrss`` is the contender's peak resident set
(max'ed with its own reaped children). This is what ``/usr/bin/time -v`` reports, without
depending on GNU time being installed. The wrapper matters: on Linux a spawned child's
``ru_maxrss`` starts from the high-water RSS of the process that spawned it (vfork/fork + exec
carry the old mm's peak over), so spawning straight from this parent, which has read the file
and imported numpy, would inflate every peak. The wrapper's ~8 MB floor is below any Python
interpreter's own footprint. Each run is a fresh process, so peaks never mix across runs or
contenders (``RUSAGE_CHILDREN`` in this long-lived parent would be a max over all of them).
``ru_maxrss`` also counts resident file-backed pages, so a reader that mmaps the input is
charged for the pages it touches. Wall time is taken inside the wrapper around spawn + wait.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import make_jsonl

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
CONTENDERS = ("logscope", "a", "b", "b-default", "b-schema", "bare")
LABELS = {
    "logscope": "logscope check",
    "a": "(a) json.loads + pandas",
    "b": "(b) pl.read_ndjson, full inference",
    "b-default": "(b') pl.read_ndjson, default inference",
    "b-schema": "(b*) pl.read_ndjson told the exact schema (the parse floor)",
    "bare": "python -c 'import polars'",
}
# ratio_vs_b_issue19: issue 19 asks the whole check for <= 0.6x of (b) (on both files)
TARGETS = {
    "speedup_vs_a": 2.5,
    "ratio_vs_b": 1.5,
    "ratio_vs_b_issue19": 0.6,
    "rss_over_file": 2.0,
}
# Bare non-finite tokens in value position (after ':' '[' or ','), not followed by more word
# characters. Inside string values such a sequence would also be rewritten; logs don't have it.
NON_FINITE = re.compile(rb"([:\[,]\s*)(?:NaN|-?Infinity)(?=\s*[,}\]])")
MB = 1e6
# argv: RESULT_FILE CMD...; writes "seconds ru_maxrss returncode cpu_seconds". Import-light.
MEASURE = """\
import os, sys, time
out, cmd = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.posix_spawnp(cmd[0], cmd, os.environ)
_, status, usage = os.wait4(pid, 0)
elapsed = time.perf_counter() - start
with open(out, "w") as fh:
    cpu = usage.ru_utime + usage.ru_stime
    fh.write(f"{elapsed} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)} {cpu}")
"""


@dataclass
class Run:
    """One measured process run."""

    seconds: float
    peak_rss_mb: float
    returncode: int
    inner_seconds: float | None = None
    cpu_seconds: float | None = None  # user + system time of the process, all threads
    output: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def maxrss_mb(ru_maxrss: int) -> float:
    """``ru_maxrss`` is KiB on Linux, bytes on macOS."""
    return ru_maxrss / MB if sys.platform == "darwin" else ru_maxrss * 1024 / MB


def run_measured(cmd: list[str], timeout: float) -> Run:
    """Run ``cmd`` in a fresh process under the MEASURE wrapper; see module docstring."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r", suffix=".txt") as measured,
    ):
        wrapper = [sys.executable, "-I", "-S", "-c", MEASURE, measured.name, *cmd]
        # Own session, so a timeout kills the wrapper and the contender (one process group).
        proc = subprocess.Popen(
            wrapper, cwd=REPO_ROOT, stdout=out, stderr=err, start_new_session=True
        )
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        seconds, maxrss, returncode, cpu = measured.read().split() or ["nan", "0", "-9", "nan"]
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    run = Run(float(seconds), maxrss_mb(int(maxrss)), int(returncode), cpu_seconds=float(cpu))
    if run.returncode != 0:
        run.error = f"exit {run.returncode}: {stderr.strip()[-2000:]}"
        return run
    try:
        parsed = json.loads(stdout)
    except json.JSONDecodeError as exc:
        run.error = f"stdout is not JSON ({exc}); stderr: {stderr.strip()[-500:]}"
        return run
    if isinstance(parsed, dict):
        run.output = parsed
        inner = parsed.get("inner_seconds")
        run.inner_seconds = float(inner) if isinstance(inner, (int, float)) else None
    return run


def logscope_available() -> tuple[bool, str]:
    """Probe ``python -m logscope --help`` from the repo root (installed or source checkout)."""
    res = subprocess.run(
        [sys.executable, "-m", "logscope", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if res.returncode == 0:
        return True, ""
    last = res.stderr.strip().splitlines()[-1:] or [f"exit {res.returncode}"]
    return False, last[0]


def sanitised_copy(src: Path) -> Path:
    """Copy ``src`` with bare NaN/Infinity/-Infinity replaced by null (cached next to it)."""
    dst = src.with_name(f"{src.stem}.sanitised{src.suffix}")
    if dst.exists() and dst.stat().st_mtime >= src.stat().st_mtime:
        return dst
    tmp = dst.with_name(dst.name + ".tmp")
    with src.open("rb") as fin, tmp.open("wb") as fout:
        while True:
            lines = fin.readlines(64 * 1024 * 1024)  # whole lines only, ~64 MB at a time
            if not lines:
                break
            fout.write(NON_FINITE.sub(rb"\1null", b"".join(lines)))
    tmp.replace(dst)
    return dst


def warm_page_cache(*paths: Path) -> None:
    """Read files once so no contender pays for the cold disk read the others then skip."""
    for path in paths:
        with path.open("rb") as fh:
            while fh.read(16 * 1024 * 1024):
                pass


def exact_schema(sanitised: Path) -> Path:
    """The sanitised copy's schema as full inference finds it, saved next to it (untimed,
    cached) for the (b*) contender: {column: dtype name}."""
    dst = sanitised.with_name(f"{sanitised.stem}.schema.json")
    if dst.exists() and dst.stat().st_mtime >= sanitised.stat().st_mtime:
        return dst
    import polars as pl

    schema = pl.read_ndjson(sanitised, infer_schema_length=None).schema
    dst.write_text(json.dumps({name: str(dtype) for name, dtype in schema.items()}) + "\n")
    return dst


def commands(file: Path, sanitised: Path, schema: Path | None = None) -> dict[str, list[str]]:
    py = sys.executable
    floor = [py, str(BENCH_DIR / "floor_polars.py"), str(sanitised)]
    told = [*floor, "--schema", str(schema)] if schema else []
    # --pack kto: the synthetic log also carries rewards/accuracies (a DPO key), which would
    # stop auto-detection; forcing the pack evaluates the same thresholds as contender (a)
    check = ["check", str(file), "--format", "json", "--fail-on", "never", "--pack", "kto"]
    return {
        "logscope": [py, "-m", "logscope", *check],
        "a": [py, str(BENCH_DIR / "baseline_pandas.py"), str(file)],
        "b": floor,
        "b-default": [*floor, "--default-inference"],
        "b-schema": told,
        "bare": [py, "-c", 'import json, polars; print(json.dumps({"contender": "bare"}))'],
    }


def round_robin(
    cmds: dict[str, list[str]], names: list[str], repeat: int, timeout: float
) -> tuple[dict[str, list[Run]], dict[str, str]]:
    """Each contender `repeat` times, interleaved so drift (thermal, page cache, other jobs)
    hits everyone alike; a contender that fails once is dropped (no meaningful timing)."""
    runs: dict[str, list[Run]] = {name: [] for name in names}
    errors: dict[str, str] = {}
    for i in range(repeat):
        for name in list(runs):
            run = run_measured(cmds[name], timeout)
            print(
                f"[{i + 1}/{repeat}] {name:<18} {run.seconds:7.2f}s {run.peak_rss_mb:8.0f} MB"
                f"{'  ERROR ' + str(run.error)[:300] if run.error else ''}",
                file=sys.stderr,
            )
            if run.error:
                errors[name] = run.error
                del runs[name]
                continue
            runs[name].append(run)
    return runs, errors


def digests(runs: dict[str, list[Run]], same: Any) -> tuple[dict[str, Any], Any, list[str]]:
    """Each contender's result digest, the first one, and the contenders that differ."""
    found = {name: rs[0].output["digest"] for name, rs in runs.items() if rs}
    first = next(iter(found.values()), None)
    return found, first, [n for n, d in found.items() if first is not None and not same(d, first)]


def finish(lines: list[str], result: dict[str, Any], json_out: Path | None) -> int:
    """Append the digest verdict and failures to a report, print it, save the JSON; the exit
    status (1 on a failed contender or differing results). `result`: summary, digests, first,
    mismatched, errors, labels (contender -> label)."""
    mismatched, errors, labels = result["mismatched"], result["errors"], result["labels"]
    verdict = "identical digests (count, sum of values, sum of steps) across contenders"
    if mismatched:
        verdict = f"DIGEST MISMATCH: {mismatched} vs {result['first']}"
    lines.append(f"- values: {verdict}")
    lines += [f"- {labels.get(n, n)} FAILED: {e[:300]}" for n, e in errors.items()]
    print("\n".join(lines))
    if json_out:
        saved = {k: result[k] for k in ("summary", "digests", "errors")}
        json_out.write_text(json.dumps({"env": environment(), **saved}, indent=2) + "\n")
    return 1 if errors or mismatched else 0


def summarise(runs: list[Run]) -> dict[str, Any]:
    secs = [r.seconds for r in runs]
    inner = [r.inner_seconds for r in runs if r.inner_seconds is not None]
    cpu = [r.cpu_seconds for r in runs if r.cpu_seconds is not None]
    return {
        "median_s": statistics.median(secs),
        "min_s": min(secs),
        "max_s": max(secs),
        "median_cpu_s": statistics.median(cpu) if cpu else None,
        "min_cpu_s": min(cpu) if cpu else None,
        "max_cpu_s": max(cpu) if cpu else None,
        "median_inner_s": statistics.median(inner) if inner else None,
        "median_peak_rss_mb": statistics.median(r.peak_rss_mb for r in runs),
    }


def _load() -> str:
    """The load average: on a shared machine every wall time is read against it."""
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def _paired_ratio(mine: list[Run] | None, floor: list[Run] | None) -> float | None:
    """Median over rounds of logscope's time / (b)'s time in the same round: the runs are
    interleaved, so a round's two runs saw about the same load."""
    if not mine or not floor:
        return None
    return statistics.median(a.seconds / b.seconds for a, b in zip(mine, floor, strict=False))


def _cpu_ratio(mine: dict[str, Any] | None, floor: dict[str, Any] | None) -> float | None:
    """Median CPU time (user + system, all threads) of logscope over that of (b)."""
    if not mine or not floor or not mine["median_cpu_s"] or not floor["median_cpu_s"]:
        return None
    return float(mine["median_cpu_s"] / floor["median_cpu_s"])


def ratio_line(name: str, value: float | None, target: float, higher_is_better: bool) -> str:
    if value is None:
        return f"- {name}: n/a"
    ok = value >= target if higher_is_better else value <= target
    sign = ">=" if higher_is_better else "<="
    return f"- {name}: **{value:.2f}x** (target {sign} {target}x: {'PASS' if ok else 'FAIL'})"


def report(results: dict[str, Any]) -> str:
    """Markdown table plus target ratios and the schema-inference note."""
    file_mb = results["file"]["size_mb"]
    summary: dict[str, dict[str, Any]] = results["summary"]
    lines = [
        f"File: `{results['file']['path']}` ({results['file']['rows']} lines, {file_mb:.1f} MB), "
        f"{results['repeat']} run(s) per contender, {results['env']['cpu_count']} CPUs",
        "",
        f"Load average (1, 5, 15 min) before: {results['load'][0]}, after: {results['load'][1]}",
        "",
        "| contender | median s | min s | max s | CPU s (median, min-max) | in-process s "
        "| median peak RSS MB | file MB | RSS / file |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, s in summary.items():
        inner = f"{s['median_inner_s']:.2f}" if s["median_inner_s"] is not None else "-"
        cpu = (
            f"{s['median_cpu_s']:.2f} ({s['min_cpu_s']:.2f}-{s['max_cpu_s']:.2f})"
            if s["median_cpu_s"] is not None
            else "-"
        )
        rss = s["median_peak_rss_mb"]
        lines.append(
            f"| {LABELS[name]} | {s['median_s']:.2f} | {s['min_s']:.2f} | {s['max_s']:.2f} "
            f"| {cpu} | {inner} | {rss:.0f} | {file_mb:.0f} | {rss / file_mb:.2f} |"
        )
    r, t = results["ratios"], TARGETS
    issue19 = t["ratio_vs_b_issue19"]
    lines += [
        "",
        ratio_line("logscope speedup vs (a)", r["speedup_vs_a"], t["speedup_vs_a"], True),
        ratio_line("logscope time / (b)", r["ratio_vs_b"], t["ratio_vs_b"], False),
        ratio_line("issue 19: logscope time / (b), medians", r["ratio_vs_b"], issue19, False),
        ratio_line(
            "issue 19: logscope time / (b), median of each round's ratio (interleaved runs)",
            r["ratio_vs_b_paired"],
            issue19,
            False,
        ),
        ratio_line(
            "issue 19: logscope CPU time / (b) CPU time", r["ratio_vs_b_cpu"], issue19, False
        ),
        ratio_line("logscope peak RSS / file size", r["rss_over_file"], t["rss_over_file"], False),
    ]
    if r["a_over_b"] is not None:
        lines.append(f"- (a) time / (b) time (headroom of this stack): {r['a_over_b']:.2f}x")
    lines += floor_lines(r)
    dropped = results.get("default_inference_dropped")
    if dropped is not None:
        lines.append(
            f"- (b') default schema inference silently dropped {len(dropped)} of "
            f"{results['full_inference_columns']} columns: {', '.join(dropped) or '-'}"
        )
    if results.get("split"):
        lines += split_lines(results["split"])
    if results["logscope_skipped"]:
        lines.append(f"- logscope: {results['logscope_skipped']}")
    for name, error in results["errors"].items():
        lines.append(f"- {LABELS[name]} FAILED: {error}")
    return "\n".join(lines)


def floor_lines(r: dict[str, float | None]) -> list[str]:
    """What no Polars-based reader goes below, as a share of (b), from the same rounds."""
    lines = []
    if r.get("floor_over_b") is not None:
        cpu = r.get("floor_over_b_cpu")
        lines.append(
            f"- floor: (b*) the parse told the exact schema, whole process / (b): "
            f"**{r['floor_over_b']:.2f}x** wall (median of rounds)"
            + (f", {cpu:.2f}x CPU" if cpu is not None else "")
        )
    if r.get("bare_over_b") is not None:
        lines.append(
            f"- floor: interpreter + `import polars` alone / (b): {r['bare_over_b']:.2f}x wall"
        )
    return lines


def cpu_split(file: Path, sanitised: Path) -> dict[str, Any]:
    """check_split.py's in-process CPU split of one check, in a fresh process."""
    cmd = [sys.executable, str(BENCH_DIR / "check_split.py"), str(file), str(sanitised)]
    done = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": done.stderr.strip()[-500:]}
    parsed: dict[str, Any] = json.loads(done.stdout)
    return parsed


def split_lines(split: dict[str, Any]) -> list[str]:
    if "error" in split:
        return [f"- CPU split FAILED: {split['error']}"]
    parts = ", ".join(f"{name} {seconds:.2f}" for name, seconds in split["split"].items())
    total, floor = split["check_cpu_s"], split["floor_parse_cpu_s"]
    told = split.get("schema_parse_cpu_s")
    return [
        f"- in-process CPU s of one check: **{total:.2f}** ({parts}); in the same process "
        f"`pl.read_ndjson(sanitised, infer_schema_length=None)` + the max: {floor:.2f}"
        + (f"; the same told the exact schema: {told:.2f}" if told is not None else "")
    ]


def environment() -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for dist in ("polars", "pandas", "numpy", "logscope"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "versions": versions,
    }


def _without_sizes(argv: list[str]) -> list[str]:
    """The arguments minus `--sizes X` / `--sizes=X` (and --json, which would be overwritten)."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("--sizes", "--json"):
            skip = True
        elif not arg.startswith(("--sizes=", "--json=")):
            out.append(arg)
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="log to check; generated if missing")
    parser.add_argument("--steps", type=int, default=200_000, help="size when generating")
    parser.add_argument("--metrics", type=int, default=120, help="size when generating")
    parser.add_argument("--seed", type=int, default=0, help="seed when generating")
    parser.add_argument(
        "--sizes",
        help="comma list of STEPSxMETRICS (e.g. 100000x60,200000x120): one benchmark each",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per contender (median)")
    parser.add_argument(
        "--only",
        default="logscope,a,b",
        help="comma list of logscope,a,b,b-default,b-schema,bare (b adds b-default)",
    )
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per run")
    parser.add_argument("--json", type=Path, dest="json_out", help="also save results here")
    parser.add_argument(
        "--split",
        action="store_true",
        help="also print where logscope's CPU time goes, in-process (check_split.py)",
    )
    args = parser.parse_args(argv)
    only = {c.strip() for c in args.only.split(",") if c.strip()}
    if "b" in only:
        only.add("b-default")
    unknown = only - set(CONTENDERS)
    if unknown or args.repeat < 1:
        parser.error(f"bad --only {sorted(unknown)} or --repeat {args.repeat}")
    args.selected = [c for c in CONTENDERS if c in only]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.sizes:
        status = 0
        for size in args.sizes.split(","):
            steps, metrics = (int(x) for x in size.strip().lower().split("x"))
            rest = _without_sizes(argv if argv is not None else sys.argv[1:])
            print(f"\n## {steps} x {metrics}\n", flush=True)
            status |= main([*rest, "--steps", str(steps), "--metrics", str(metrics)])
        return status
    file = (args.file or make_jsonl.default_path(args.steps, args.metrics)).resolve()
    if not file.exists():
        print(f"generating {file} ({args.steps} x {args.metrics}) ...", file=sys.stderr)
        make_jsonl.generate(file, args.steps, args.metrics, args.seed)

    selected: list[str] = args.selected
    errors: dict[str, str] = {}
    skipped: str | None = None
    if "logscope" in selected:
        ok, why = logscope_available()
        if not ok:
            print(f"skipping logscope: `python -m logscope` is not importable ({why})")
            skipped = f"skipped, not importable ({why})"
            selected.remove("logscope")

    sanitised, schema = file, None
    if {"b", "b-default", "b-schema"} & set(selected):
        print("preparing sanitised copy for (b) (untimed) ...", file=sys.stderr)
        sanitised = sanitised_copy(file)
    if "b-schema" in selected:
        schema = exact_schema(sanitised)
    warm_page_cache(*{file, sanitised})
    with file.open("rb") as fh:
        rows = sum(1 for _ in fh)

    cmds = commands(file, sanitised, schema)
    load_before = _load()
    runs, failed = round_robin(cmds, selected, args.repeat, args.timeout)
    load_after = _load()
    errors.update(failed)

    summary = {name: summarise(rs) for name, rs in runs.items()}
    med = {name: s["median_s"] for name, s in summary.items()}
    file_mb = file.stat().st_size / MB
    ratios: dict[str, float | None] = {
        "speedup_vs_a": med["a"] / med["logscope"] if {"a", "logscope"} <= med.keys() else None,
        "ratio_vs_b": med["logscope"] / med["b"] if {"b", "logscope"} <= med.keys() else None,
        "ratio_vs_b_paired": _paired_ratio(runs.get("logscope"), runs.get("b")),
        "ratio_vs_b_cpu": _cpu_ratio(summary.get("logscope"), summary.get("b")),
        "rss_over_file": summary["logscope"]["median_peak_rss_mb"] / file_mb
        if "logscope" in summary
        else None,
        "a_over_b": med["a"] / med["b"] if {"a", "b"} <= med.keys() else None,
        "floor_over_b": _paired_ratio(runs.get("b-schema"), runs.get("b")),
        "floor_over_b_cpu": _cpu_ratio(summary.get("b-schema"), summary.get("b")),
        "bare_over_b": _paired_ratio(runs.get("bare"), runs.get("b")),
    }
    results: dict[str, Any] = {
        "env": environment(),
        "file": {"path": str(file), "size_mb": file_mb, "rows": rows, "sanitised": str(sanitised)},
        "repeat": args.repeat,
        "load": [load_before, load_after],
        "commands": {name: cmds[name] for name in runs},
        "summary": summary,
        "ratios": ratios,
        "targets": TARGETS,
        "errors": errors,
        "logscope_skipped": skipped,
    }
    if runs.get("b") and runs.get("b-default"):
        full = runs["b"][0].output.get("column_names", [])
        default = set(runs["b-default"][0].output.get("column_names", []))
        results["full_inference_columns"] = len(full)
        results["default_inference_dropped"] = [c for c in full if c not in default]
    for rs in runs.values():  # keep the saved JSON small: column lists are summarised above
        for r in rs:
            r.output.pop("column_names", None)
    results["runs"] = {name: [asdict(r) for r in rs] for name, rs in runs.items()}

    if args.split and "logscope" in runs:
        results["split"] = cpu_split(file, sanitised if sanitised != file else sanitised_copy(file))
    print(report(results))
    if args.json_out:
        args.json_out.parent.mkdir(parents=True, exist_ok=True)
        args.json_out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        print(f"\nsaved {args.json_out}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
