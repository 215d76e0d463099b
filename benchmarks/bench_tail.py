"""Benchmark `logscope tail --follow`: latency, idle CPU, and memory over a long run.

Runs `python -m logscope tail FOLDER --follow --plain --every 1` (default poll settings)
as a subprocess against a JSONL log this script appends to, and measures:

1. memory: `--rows` rows of `--metrics` metrics appended in batches as fast as tail keeps
   up (a long run compressed: 200,000 rows is 55 hours of a run logging every second);
   tail's RSS (/proc/PID/status VmRSS) after each tenth, its CPU use meanwhile, and the lag
   between the last write and tail printing it.
2. latency, with the rule window now full: a line is appended at a random moment
   (0.3-1.3 s apart); the time until the `PROGRESS step=N` line for it is printed (printed
   after the rules ran on that row, as a finding banner would be). Reported: median, 95th
   percentile, max.
3. idle CPU: the run stops writing; the tail process's CPU time (utime + stime from
   /proc/PID/stat) over `--idle-seconds`, as % of one core.

`--kto` adds KTO metrics, so the kto pack's 20 rules (trend tests among them) run too.

`--poll-cost` measures only what one poll of a quiet file costs in-process (the stat,
the identity and truncation checks of follow/tailer.py): microseconds per poll, the
median of 5 rounds of 20,000 polls. At the slowest poll interval (4 polls a second) that
times 4 is the follower's idle cost per second.

Linux only (/proc). Writes only under a temporary folder.

    python benchmarks/bench_tail.py                      # ~3 minutes
    python benchmarks/bench_tail.py --rows 20000 --idle-seconds 10 --latency-lines 10
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")


class Tail:
    """The tail process and its stdout lines, each with its arrival time."""

    def __init__(self, folder: Path, *extra: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "COLUMNS": "200"}
        command = [sys.executable, "-m", "logscope", "tail", str(folder), "--follow"]
        command += ["--plain", "--every", "1", "-n", "1", *extra]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
        self.steps: dict[int, float] = {}
        self.ready = threading.Event()  # the -n 1 table: caught up on the existing rows
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.ready.set()
            found = re.match(r"PROGRESS step=(\d+) ", line)
            if found:
                with self.lock:
                    self.steps.setdefault(int(found.group(1)), time.time())

    def seen(self, step: int, timeout: float = 60.0) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if any(s >= step for s in self.steps):
                    return min(t for s, t in self.steps.items() if s >= step)
            time.sleep(0.005)
        raise RuntimeError(f"tail never showed step {step}")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


KTO = ("rewards/margins", "rewards/chosen", "rewards/rejected", "kl")


def line(step: int, metrics: int, rng: random.Random, kto: bool = False) -> str:
    record: dict[str, Any] = {"step": step, "wall_time": time.time()}
    record["loss"] = 2.0 / (1 + step / 1000) + rng.random() * 0.01
    record["grad_norm"] = 1.0 + rng.random()
    record["learning_rate"] = 1e-5
    extra = KTO if kto else ()
    for name in extra:  # the kto pack applies: 20 more rules, trend tests among them
        record[name] = 0.5 + step / 1e5 + rng.random() * 0.01
    for k in range(metrics - 3 - len(extra)):
        record[f"train/metric_{k:03d}"] = rng.random()
    return json.dumps(record) + "\n"


def append(path: Path, text: str) -> float:
    with path.open("a") as handle:
        handle.write(text)
        handle.flush()
    return time.time()


def bench(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(0)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "metrics.jsonl"
        append(log, "".join(line(s, args.metrics, rng, args.kto) for s in range(1, 11)))
        tail = Tail(Path(folder))
        try:
            if not tail.ready.wait(60):
                raise RuntimeError("tail did not start")
            results["rss_start_mb"] = round(tail.rss_mb(), 1)
            step = 10
            samples = []
            batch = max(1, args.rows // 200)
            started, cpu = time.monotonic(), tail.cpu_seconds()
            target = step + args.rows
            while step < target:
                count = min(batch, target - step)
                text = "".join(
                    line(step + i, args.metrics, rng, args.kto) for i in range(1, count + 1)
                )
                step += count
                written = append(log, text)
                if (target - step) % (args.rows // 10) < batch or step == target:
                    tail.seen(step)
                    samples.append((step, round(tail.rss_mb(), 1)))
                time.sleep(0.01)
            lag = tail.seen(step) - written
            results["pack"] = "common+kto" if args.kto else "common"
            results["long_run"] = {
                "rows": args.rows,
                "metrics": args.metrics,
                "file_mb": round(log.stat().st_size / 1e6, 1),
                "seconds": round(time.monotonic() - started, 1),
                "rss_mb_by_step": samples,
                "lag_after_last_write_s": round(lag, 3),
                "cpu_percent": round(
                    100 * (tail.cpu_seconds() - cpu) / (time.monotonic() - started), 1
                ),
            }
            delays = []
            for _ in range(args.latency_lines):
                time.sleep(rng.uniform(0.3, 1.3))
                step += 1
                written = append(log, line(step, args.metrics, rng, args.kto))
                delays.append(tail.seen(step) - written)
            delays.sort()
            results["latency_s"] = {
                "median": round(statistics.median(delays), 3),
                "p95": round(delays[int(0.95 * (len(delays) - 1))], 3),
                "max": round(delays[-1], 3),
                "lines": len(delays),
            }
            time.sleep(2.0)  # back-off reaches its slowest poll
            before, started = tail.cpu_seconds(), time.monotonic()
            time.sleep(args.idle_seconds)
            used = tail.cpu_seconds() - before
            results["idle_cpu_percent"] = round(100 * used / (time.monotonic() - started), 2)
            results["idle_seconds"] = args.idle_seconds
        finally:
            tail.stop()
    return results


def poll_cost() -> dict[str, Any]:
    """Microseconds per poll of a JSONL file that does not change."""
    sys.path.insert(0, str(ROOT))
    from logscope.follow.sources import JsonlSource

    rounds: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "metrics.jsonl"
        path.write_text("".join(json.dumps({"step": i, "loss": 1.0}) + "\n" for i in range(1000)))
        with JsonlSource(path, "metrics.jsonl") as source:
            source.poll()
            for _ in range(5):
                started = time.perf_counter()
                for _ in range(20_000):
                    source.poll()
                rounds.append((time.perf_counter() - started) / 20_000 * 1e6)
    return {
        "idle_poll_us_median": round(statistics.median(rounds), 1),
        "idle_poll_us_min": round(min(rounds), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--metrics", type=int, default=40)
    parser.add_argument("--latency-lines", type=int, default=30)
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    parser.add_argument("--kto", action="store_true", help="log KTO metrics: kto pack applies")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--poll-cost", action="store_true", help="only the in-process poll cost")
    args = parser.parse_args()
    results = poll_cost() if args.poll_cost else bench(args)
    results["cpu_count"] = os.cpu_count()
    results["python"] = sys.version.split()[0]
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
