"""Benchmark the HTML report on a large run: render time, file size, time to load in Chromium.

    python benchmarks/bench_report.py                  # 200000 x 120 (generated if missing)
    python benchmarks/bench_report.py --steps 20000 --metrics 60

Measures (1) `logscope report FILE -o OUT` as a user runs it (fresh process: read, check,
render, write), (2) the render step alone in-process, (3) the page's size, and (4) in
headless Chromium (Debian's `chromium`, driven over the DevTools protocol by
tests/report/chromium.py) the time from navigation to the load event, to the first plot
drawn, to every covered plot drawn, and to every plot of the collapsed section drawn once it
is opened. Needs the `test` extra (websocket-client) and the chromium package.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT / "tests" / "report"))
sys.path.insert(0, str(BENCH))

COVERED = "#plots > .grid"
ALL_DRAWN = (
    "document.querySelectorAll('{0} .js-plotly-plot').length > 0 && "
    "document.querySelectorAll('{0} .js-plotly-plot').length === "
    "document.querySelectorAll('{0} div.plot').length"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=None)
    parser.add_argument("--steps", type=int, default=200_000)
    parser.add_argument("--metrics", type=int, default=120)
    parser.add_argument("--points", type=int, default=2000, help="logscope report --points")
    parser.add_argument("--repeat", type=int, default=3, help="browser loads (median)")
    parser.add_argument(
        "--browser-only", action="store_true", help="reuse the pages of the last run"
    )
    args = parser.parse_args(argv)

    from make_jsonl import default_path, generate

    source = args.file or default_path(args.steps, args.metrics)
    if not source.exists():
        print(f"generating {source} ...", file=sys.stderr)
        generate(source, args.steps, args.metrics)
    out = BENCH / "data" / f"report_{source.stem}.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    command = [sys.executable, "-m", "logscope", "report", str(source), "-o", str(out)]
    sample = BENCH / "data" / "report_kto_diverging.html"
    if not args.browser_only:
        start = time.perf_counter()
        subprocess.run([*command, "--points", str(args.points)], check=True, env=env)
        cli_seconds = time.perf_counter() - start
        render_seconds, figures = _render_only(source, args.points)
        print(f"logscope report (whole process): {cli_seconds:.1f} s")
        print(f"render only (in-process):        {render_seconds:.2f} s for {figures} plots")
        print(f"page size:                       {out.stat().st_size / 1e6:.1f} MB")
        # the same browser measurement on the 40-step sample: what plotly.js alone costs
        subprocess.run(
            [*command[:4], str(ROOT / "sample_logs" / "kto_diverging"), "-o", str(sample)],
            check=True,
            env=env,
        )
    missing = [str(p) for p in (out, sample) if not p.exists()]
    if missing:
        raise SystemExit(f"no pages to load ({', '.join(missing)}): run without --browser-only")
    for name, path in ((source.name, out), ("sample_logs/kto_diverging", sample)):
        loads = [_browser_load(path) for _ in range(args.repeat)]
        print(f"chromium, {name} ({path.stat().st_size / 1e6:.1f} MB page):")
        for key in loads[0]:
            values = [load[key] for load in loads]
            print(f"  {key + ':':<29}{statistics.median(values):.2f} s (median of {len(values)})")
    return 0


def _render_only(source: Path, points: int) -> tuple[float, int]:
    from logscope.pipeline import check, load_packs
    from logscope.report import Document, Layout, html

    packs = load_packs()
    result = check([source], packs)
    start = time.perf_counter()
    doc = Document(reports=result.reports, fail_on=None, errors=result.errors, packs=packs)
    page = html.render(doc, Layout(points=points))
    return time.perf_counter() - start, page.count("<figure ")


def _browser_load(page: Path) -> dict[str, float]:
    from chromium import Browser, file_url, find_chromium

    executable = find_chromium()
    if executable is None:
        raise SystemExit("needs chromium: apt-get install chromium")
    with Browser(executable) as browser:
        browser.open("about:blank")
        start = time.perf_counter()
        browser.send("Page.navigate", {"url": file_url(page)}, session=True)
        browser.wait_for("document.readyState === 'complete'", timeout=120)
        loaded = time.perf_counter() - start
        # the paint entry can lag the load event by a frame in headless mode
        browser.wait_for("performance.getEntriesByName('first-contentful-paint').length > 0")
        paint = browser.evaluate(
            "performance.getEntriesByName('first-contentful-paint')[0].startTime / 1000"
        )
        browser.wait_for("document.querySelector('.js-plotly-plot') !== null", timeout=120)
        first = time.perf_counter() - start
        browser.wait_for(ALL_DRAWN.format(COVERED), timeout=300)
        covered = time.perf_counter() - start
        browser.evaluate("document.getElementById('other-metrics').open = true")
        opened = time.perf_counter()
        browser.wait_for(ALL_DRAWN.format("#other-metrics"), timeout=300)
        rest = time.perf_counter() - opened
        assert browser.errors() == [], browser.errors()
    return {
        "header and findings shown": paint,
        "load event": loaded,
        "first plot drawn": first,
        "all covered plots drawn": covered,
        "collapsed section drawn": rest,
    }


if __name__ == "__main__":
    raise SystemExit(main())
