"""Benchmark logscope's start-up: `logscope --version` and `logscope check` on a small run.

Each command runs `--runs` times in a fresh process (after one warm-up run that also fills
the bytecode cache), in rounds: each round runs every command once, so all of them see the
same load. Printed: wall time and CPU time (user + system, from wait4) as median, min and
max, and the load average. CPU time is the steadier figure on a shared machine.

The floor is timed in the same rounds: `python -c pass`, `import polars`, `import polars,
numpy` and those plus Typer and Rich's console and table (what `check` cannot do without:
reading, the checks' arithmetic, the command line, the terminal report), the last also with
the garbage collector off (as `check` imports them); then what `check` costs above each.

Two ways of starting are measured:
- `script`: what `pip install` puts on PATH as `logscope` (a wrapper that imports
  `logscope.cli:main`, generated here the way pip writes it);
- `-m`: `python -m logscope` (runpy, then `logscope/__main__.py`).

An installed package has its bytecode compiled; a source checkout run with
PYTHONDONTWRITEBYTECODE=1 recompiles every logscope module on each start. So the benchmark
unsets PYTHONDONTWRITEBYTECODE and points PYTHONPYCACHEPREFIX at a temporary folder: the
bytecode cache is used as after an install, and nothing is written into the checkout.

Then the import-time profile of `check` (`python -X importtime`): the modules with the
largest cumulative import time, and the total by top-level package.

`--baseline DIR` (another checkout, e.g. `git worktree add /tmp/old main` or
`git archive REV | tar -x -C /tmp/old`) measures it too, each run interleaved with one of
this checkout, so both see the same load on a shared machine: before -> after.

    python benchmarks/bench_startup.py                 # ~1 minute on a quiet machine
    python benchmarks/bench_startup.py --runs 21 --top 40 --help-too
    python benchmarks/bench_startup.py --baseline /tmp/old --runs 15
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_logs" / "kto_healthy"  # the 145-step KTO run
SCRIPT = """import re
import sys
from logscope.cli import main
if __name__ == "__main__":
    sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])
    sys.exit(main())
"""
# the imports `check` cannot avoid, timed alone: the interpreter, Polars (reading), numpy
# (the checks' arithmetic), Typer and Rich's console and table (the command line, the report)
FLOOR = {
    "floor: python -c pass": "pass",
    "floor: import polars": "import polars",
    "floor: import polars, numpy": "import polars, numpy",
    "floor: + typer, rich table": "import polars, numpy, typer, rich.console, rich.table",
    # the same with the garbage collector off, as `check` imports them (cli/startup.py)
    "floor: the same, GC off": "import gc; gc.disable(); "
    "import polars, numpy, typer, rich.console, rich.table",
}
IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def environment(cache: Path, root: Path = ROOT) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPATH=str(root), PYTHONPYCACHEPREFIX=str(cache), NO_COLOR="1")
    env.update(COLUMNS="100")
    return env


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall and CPU seconds (user + system of the child) of one run, and its exit code."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        env=env,
        cwd=env["PYTHONPATH"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, process.returncode


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):6.3f} s (min {min(values):.3f}, max {max(values):.3f})"


Results = dict[str, tuple[list[float], list[float], set[int]]]


def measure(commands: dict[str, tuple[list[str], dict[str, dict[str, str]]]], runs: int) -> Results:
    """`runs` rounds; each round runs every command once in each of its environments, so all
    of them see the same load (after one warm-up run each: page cache, bytecode cache, the
    packs' cache). Printed and returned per name (`name [checkout]` with a baseline)."""
    jobs = [
        (f"{name} [{label}]" if len(envs) > 1 else name, command, env)
        for name, (command, envs) in commands.items()
        for label, env in envs.items()
    ]
    for _, command, env in jobs:
        timed(command, env)
    results: Results = {shown: ([], [], set()) for shown, _, _ in jobs}
    for _ in range(runs):
        for shown, command, env in jobs:
            wall, cpu, code = timed(command, env)
            results[shown][0].append(wall)
            results[shown][1].append(cpu)
            results[shown][2].add(code)
    for shown, (walls, cpus, codes) in results.items():
        print(f"{shown:34s} wall {spread(walls)}  cpu {spread(cpus)}  exit {sorted(codes)}")
    return results


def floor_summary(results: Results, check: str) -> None:
    """What `check` costs above each floor, in CPU and wall medians of the same rounds."""
    walls, cpus, _ = results[check]
    print(f"\n`{check}` above each floor (medians of the same interleaved rounds):")
    for name in FLOOR:
        floor_walls, floor_cpus, _ = results[name]
        extra_wall = statistics.median(walls) - statistics.median(floor_walls)
        extra_cpu = statistics.median(cpus) - statistics.median(floor_cpus)
        print(f"  {name:32s} {extra_wall:+7.3f} s wall  {extra_cpu:+7.3f} s cpu")


def import_profile(command: list[str], env: dict[str, str], top: int) -> None:
    """The `-X importtime` report of one run: largest cumulative times, and per package."""
    proc = subprocess.run(
        [command[0], "-X", "importtime", *command[1:]],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    rows = []
    for line in proc.stderr.splitlines():
        match = IMPORT_LINE.match(line)
        if match:
            rows.append((int(match[2]), int(match[1]), len(match[3]) // 2, match[4]))
    total = sum(own for _, own, _, _ in rows)
    print(f"\nimport-time profile of `{' '.join(command[1:])}`: {len(rows)} modules, ")
    print(f"{total / 1e6:.3f} s of imports (inflated by -X importtime itself)\n")
    print(f"{'cumulative':>11} {'self':>9}  module (indented by import depth)")
    for cumulative, own, depth, module in sorted(rows, reverse=True)[:top]:
        print(f"{cumulative / 1e3:9.1f}ms {own / 1e3:7.1f}ms  {'  ' * depth}{module}")
    packages: dict[str, int] = defaultdict(int)
    for _, own, _, module in rows:
        packages[module.split(".")[0]] += own
    print("\nself time by top-level package:")
    for package, own in sorted(packages.items(), key=lambda kv: -kv[1])[:15]:
        print(f"{own / 1e3:9.1f}ms  {package}")
    heavy = ("polars", "numpy", "scipy", "yaml", "plotly", "pydantic", "rich", "typer")
    loaded = {module.split(".")[0] for _, _, _, module in rows}
    print("\nloaded: " + ", ".join(m for m in heavy if m in loaded))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11, help="fresh processes per command")
    parser.add_argument("--top", type=int, default=30, help="modules in the import profile")
    parser.add_argument("--sample", type=Path, default=SAMPLE, help="the run to check")
    parser.add_argument("--help-too", dest="help", action="store_true", help="time --help")
    parser.add_argument("--baseline", type=Path, help="another checkout, measured interleaved")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="logscope-startup-") as tmp:
        cache = Path(tmp) / "pycache"
        script = Path(tmp) / "logscope"
        script.write_text(SCRIPT, encoding="utf-8")
        env = environment(cache)
        envs = {"this": env}
        if args.baseline is not None:
            envs = {"before": environment(cache, args.baseline.resolve()), "after": env}
        lines = sum(1 for path in args.sample.rglob("*.jsonl") for _ in path.open("rb"))
        print(
            f"python {sys.version.split()[0]}, {os.cpu_count()} cores, sample "
            f"{args.sample.relative_to(ROOT)} ({lines} lines), {args.runs} runs each"
        )
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
        starts = {"script": [sys.executable, str(script)], "-m": [sys.executable, "-m", "logscope"]}
        sample = str(args.sample.relative_to(ROOT))
        commands = {
            name: ([sys.executable, "-c", code], {"floor": env}) for name, code in FLOOR.items()
        }
        for how, start in starts.items():
            commands[f"{how} --version"] = ([*start, "--version"], envs)
            commands[f"{how} check"] = ([*start, "check", sample], envs)
        if args.help:
            commands["script --help"] = ([*starts["script"], "--help"], envs)
        results = measure(commands, args.runs)
        print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        floor_summary(results, "script check" + (" [after]" if len(envs) > 1 else ""))
        sample = str(args.sample.relative_to(ROOT))
        import_profile([*starts["script"], "check", sample], env, args.top)


if __name__ == "__main__":
    main()
