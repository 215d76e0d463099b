"""The detection benchmark: generate the labelled scenarios, check each with logscope,
print recall / false alarms / delay / duplicates per family, format and pathology.

    python benchmarks/detection/run.py                 # every scenario (a few minutes)
    python benchmarks/detection/run.py --fast          # the regression subset
    python benchmarks/detection/run.py --json out.json # also save every outcome
    python benchmarks/detection/run.py --fast --update-expected   # rewrite expected.json

The work is in detect_bench.py (module names are prefixed so that tests importing them
never pick up sample_logs/families.py or another `generate`).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from detect_bench import main

if __name__ == "__main__":
    main()
