"""Contender (b): the floor of this stack, ``pl.read_ndjson`` on a pre-sanitised copy.

polars' NDJSON reader rejects the bare NaN/Infinity tokens trainers write, so bench_check.py
makes a sanitised copy (those tokens replaced with ``null``) once, outside the timing. This
script only reads it and does a trivial reduction over every float column, i.e. the least
work any polars-based checker must do. With ``--default-inference`` it uses polars' default
schema inference (first 100 lines), which silently drops keys that appear later (eval_*).
With ``--schema SCHEMA_JSON`` Polars is told the file's exact schema (written by
bench_check.py, untimed): the parse alone, the floor of any reader built on Polars' parser.

Usage: python benchmarks/floor_polars.py SANITISED_FILE [--default-inference | --schema FILE]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import polars as pl

DTYPES = {"Float64": pl.Float64, "Int64": pl.Int64, "String": pl.String, "Boolean": pl.Boolean}


def main(argv: list[str]) -> int:
    told = len(argv) == 3 and argv[1] == "--schema"
    if not (len(argv) == 1 or told or (len(argv) == 2 and argv[1] == "--default-inference")):
        print(__doc__, file=sys.stderr)
        return 2
    default_inference = len(argv) == 2
    schema = None
    if told:  # read before the clock starts: the schema is given, not found
        with Path(argv[2]).open(encoding="utf-8") as handle:
            schema = {name: DTYPES[dtype] for name, dtype in json.load(handle).items()}
    start = time.perf_counter()
    if default_inference:
        df = pl.read_ndjson(argv[0])
    elif schema is not None:
        df = pl.read_ndjson(argv[0], schema=schema)
    else:
        df = pl.read_ndjson(argv[0], infer_schema_length=None)
    reduced = df.select(pl.col(pl.Float64).max())
    result = {
        "contender": "b-default" if default_inference else "b-schema" if told else "b",
        "inner_seconds": time.perf_counter() - start,
        "rows": df.height,
        "columns": df.width,
        "column_names": df.columns,
        "float_columns_reduced": reduced.width,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
