"""A training run stand-in for the `tail --follow` tests, run as a separate process.

`python tail_writer.py FOLDER PLAN.json` performs the plan's steps in order:
  {"append": "m.jsonl", "text": "..."}         append text (flushed at once)
  {"events": "events.out.tfevents.X", "steps": [[step, {"loss": 1.0}], ...], "split": 0.4}
      append TensorBoard records; with split, the first part of the bytes, a pause, the rest
  {"truncate": "m.jsonl"}                      truncate to zero bytes
  {"sleep": 0.2}
A step with "mark" prints `MARK <name> <time.time()>` once done, so the test knows when
the bytes hit the file.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "sample_logs"))

import eventwriter as tw


def events(steps: list[list[object]]) -> bytes:
    out = b""
    for step, values in steps:
        assert isinstance(step, int) and isinstance(values, dict)
        summary = tw.summary(*(tw.simple_value(k, float(v)) for k, v in values.items()))
        out += tw.record(tw.event(wall_time=time.time(), step=step, summary=summary))
    return out


def append(path: Path, data: bytes) -> None:
    with path.open("ab") as handle:
        handle.write(data)
        handle.flush()


def main() -> None:
    folder, plan = Path(sys.argv[1]), json.loads(Path(sys.argv[2]).read_text())
    for step in plan:
        if "append" in step:
            append(folder / step["append"], step["text"].encode())
        elif "events" in step:
            path = folder / step["events"]
            data = events(step["steps"])
            if not path.exists():
                data = (
                    tw.record(tw.event(wall_time=time.time(), file_version="brain.Event:2")) + data
                )
            cut = int(len(data) * step.get("split", 1.0))
            append(path, data[:cut])
            if cut < len(data):
                time.sleep(step.get("pause", 0.5))
                append(path, data[cut:])
        elif "truncate" in step:
            (folder / step["truncate"]).write_bytes(b"")
        elif "sleep" in step:
            time.sleep(step["sleep"])
        if "mark" in step:
            print(f"MARK {step['mark']} {time.time()}", flush=True)


if __name__ == "__main__":
    main()
