"""Rebuild `trackio.db.gz` with the real trackio package (not needed to run the tests).

    python -m venv /tmp/tkv && /tmp/tkv/bin/pip install trackio
    cd tests/ingest/data && /tmp/tkv/bin/python make_trackio.py

One project database, `grpo-demo.db`, with two runs: `run-a` (steps 0-3 of GRPO-style keys,
`train/grad_norm` NaN, +inf, -inf, then 2.0; `eval/accuracy` at step 10; a config) and
`run-b` (one row with a text value). Produced with trackio 0.43.0, which stores orjson
bytes and writes non-finite floats as the strings "NaN" / "Infinity" / "-Infinity".
"""

from __future__ import annotations

import gzip
import os
import tempfile
from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["TRACKIO_DIR"] = scratch
        import trackio

        trackio.init(project="grpo-demo", name="run-a", config={"lr": 1e-6, "beta": 0.04})
        bad = [float("nan"), float("inf"), float("-inf"), 2.0]
        for step in range(4):
            trackio.log(
                {
                    "train/loss": 1.0 - step / 10,
                    "train/reward": step / 4,
                    "train/grad_norm": bad[step],
                }
            )
        trackio.log({"eval/accuracy": 0.5}, step=10)
        trackio.finish()
        trackio.init(project="grpo-demo", name="run-b")
        trackio.log({"train/loss": 3.0, "text": "hello"})
        trackio.finish()
        data = (Path(scratch) / "grpo-demo.db").read_bytes()
        (HERE / "trackio.db.gz").write_bytes(gzip.compress(data, 9, mtime=0))
        print("trackio", trackio.__version__)


if __name__ == "__main__":
    main()
