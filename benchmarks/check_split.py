"""Where the CPU time of one `logscope check` of a JSONL file goes, in-process.

Runs `logscope check FILE --format json --fail-on never --pack kto` through the CLI's own
entry point, with the reader and the rule engine wrapped in timers, and then, in the same
process, the floor (b) (`pl.read_ndjson(SANITISED, infer_schema_length=None)`) for scale,
and the same parse told the schema (b*), which no Polars-based reader can go below.
Times are CPU seconds of the whole process (user + system, every thread), so Polars' worker
threads count: on a shared machine they vary far less than wall times.

Usage: python benchmarks/check_split.py FILE SANITISED   (prints one JSON object)
"""

from __future__ import annotations

import contextlib
import io
import json
import resource
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(spent: dict[str, float], name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = cpu()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + cpu() - start

    return wrapper


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    file, sanitised = argv
    spent: dict[str, float] = {"interpreter start": cpu()}
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's logscope
    start = cpu()
    import polars as pl

    spent["import polars"] = cpu() - start
    start = cpu()
    from logscope.cli import main as cli
    from logscope.ingest import jsonl
    from logscope.rules import engine

    spent["import logscope"] = cpu() - start
    jsonl.read = timed(spent, "read the JSONL file", jsonl.read)  # type: ignore[assignment]
    engine.evaluate = timed(spent, "evaluate the rules", engine.evaluate)  # type: ignore[assignment]
    start = cpu()
    argv_was = sys.argv
    sys.argv = [
        "logscope",
        "check",
        file,
        "--format",
        "json",
        "--fail-on",
        "never",
        "--pack",
        "kto",
    ]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        cli()
    sys.argv = argv_was
    check = cpu() - start
    spent["rest of check (lazy imports, packs, run, report)"] = (
        check - spent["read the JSONL file"] - spent["evaluate the rules"]
    )
    total = cpu()
    start = cpu()
    frame = pl.read_ndjson(sanitised, infer_schema_length=None)
    frame.select(pl.col(pl.Float64).max())
    floor = cpu() - start
    schema = frame.schema
    del frame
    start = cpu()
    told = pl.read_ndjson(sanitised, schema=schema)
    told.select(pl.col(pl.Float64).max())
    parse = cpu() - start
    print(
        json.dumps(
            {
                "check_cpu_s": total,
                "split": spent,
                "floor_parse_cpu_s": floor,
                "schema_parse_cpu_s": parse,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
