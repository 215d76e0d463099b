"""Regenerate the HTML report screenshots in docs/, taken in headless Chromium:

docs/report.png        one run: sample_logs/kto_diverging
docs/report-sweep.png  a two-run sweep: sample_logs/trl_grpo_wandb_export (W&B run names)
docs/report-long.png   a 10^6-step KTO run written by `long_run` below into a temporary
                       folder (190 MB of JSONL, never committed), smoothing at 0.9

python docs/screenshot.py             # needs chromium, websocket-client and pillow
python docs/screenshot.py --keep DIR  # also keep the pages and the generated run in DIR
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "report"))

from chromium import Browser, file_url, find_chromium  # noqa: E402

WIDTH = 1200
TOP = "document.querySelector('{}').getBoundingClientRect().top + scrollY"
BOTTOM = "document.querySelector('{}').getBoundingClientRect().bottom + scrollY"
DRAWN = (
    "document.querySelectorAll('#plots > .grid .js-plotly-plot').length === "
    "document.querySelectorAll('#plots > .grid div.plot').length"
)
SMOOTH = (
    "var s = document.getElementById('smoothing'); s.value = '{}';"
    "s.dispatchEvent(new Event('input'));"
)


def long_run(folder: Path, steps: int = 1_000_000, seed: int = 7) -> Path:
    """A KTO run that trains well for 70% of its steps, then diverges: loss and KL climb,
    the margin falls below zero, grad norms grow and spike, a few NaN/Inf appear."""
    rng = np.random.default_rng(seed)
    step = np.arange(1, steps + 1)
    t = step / steps
    turn = 0.7
    bad = np.clip((t - turn) / (1 - turn), 0, None)
    good = np.minimum(t / turn, 1)
    loss = 0.45 + 0.24 * np.exp(-step / 30) - 0.08 * good + 0.55 * bad**1.5
    loss += rng.normal(0, 0.015, steps)
    grad = np.exp(rng.normal(0.6, 0.3, steps)) * (1 + 40 * bad**2)
    spikes = rng.choice(steps, 30, replace=False)
    grad[spikes] *= rng.uniform(20, 120, 30)
    margin = 0.2 + 0.6 * (1 - np.exp(-step / 200)) + 0.6 * good - 2.4 * bad
    margin += rng.normal(0, 0.04, steps)
    chosen = 0.6 * margin + rng.normal(0, 0.03, steps)
    kl = 0.03 + 0.3 * good + 3 * bad**2 + np.abs(rng.normal(0, 0.01, steps))
    columns = {
        "loss": loss,
        "grad_norm": grad,
        "learning_rate": 5e-7 * np.minimum(step / 2000, 1) * (1 - 0.9 * t),
        "rewards/chosen": chosen,
        "rewards/rejected": chosen - margin,
        "rewards/margins": margin,
        "kl": kl,
    }
    broken = np.array([851_234, 851_235, 903_000, 990_001]) - 1
    loss[broken] = np.nan
    grad[broken[:2]] = np.inf
    line = np.char.add('{"step": ', step.astype(str))
    for key, values in columns.items():
        text = np.char.mod("%.6g", values)
        text = np.where(np.isnan(values), '"NaN"', np.where(np.isinf(values), '"Infinity"', text))
        line = np.char.add(line, np.char.add(f', "{key}": ', text))
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "metrics.jsonl"
    out.write_text("}\n".join(line.tolist()) + "}\n")
    return out


def report(runs: list[str], page: Path, cwd: Path = ROOT) -> Path:
    """`logscope report RUNS -o PAGE` run in `cwd`, so the page names runs as given."""
    command = [sys.executable, "-m", "logscope", "report", *runs, "-o", str(page)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(command, cwd=cwd, check=True, env=env)
    return page


def shoot(
    browser: Browser,
    page: Path,
    out: Path,
    parts: list[tuple[str, str | float]],
    script: str = "",
) -> None:
    """Stack regions of the page (top selector, bottom selector or height in px) in one PNG."""
    browser.open(file_url(page))
    browser.wait_for(DRAWN, timeout=120)
    if script:
        browser.evaluate(script)
    time.sleep(1)
    shots = []
    for number, (top, bottom) in enumerate(parts):
        y = float(browser.evaluate(TOP.format(top)))
        if isinstance(bottom, str):
            height = float(browser.evaluate(BOTTOM.format(bottom))) - y
        else:
            height = bottom
        path = out.with_suffix(f".{number}.png")
        browser.screenshot(path, clip={"x": 0, "y": y - 8, "width": WIDTH, "height": height + 12})
        shots.append(Image.open(path))
    assert browser.errors() == [], browser.errors()
    gap = 14
    sheet = Image.new(
        "RGB", (WIDTH, sum(s.height for s in shots) + gap * (len(shots) - 1)), "white"
    )
    y = 0
    for number, shot in enumerate(shots):
        if number:
            sheet.paste(Image.new("RGB", (WIDTH, 2), (200, 200, 200)), (0, y - gap // 2 - 1))
        sheet.paste(shot, (0, y))
        y += shot.height + gap
    sheet.quantize(colors=96, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)
    for number in range(len(parts)):
        out.with_suffix(f".{number}.png").unlink()
    print(f"wrote {out} ({out.stat().st_size // 1024} KB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, default=None, help="keep pages and data here")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp())
    work.mkdir(parents=True, exist_ok=True)
    executable = find_chromium()
    assert executable, "install chromium"
    docs = ROOT / "docs"
    single = report(["sample_logs/kto_diverging"], work / "single.html")
    sweep = report(["sample_logs/trl_grpo_wandb_export"], work / "sweep.html")
    print("writing a 10^6-step run ...", file=sys.stderr)
    long_run(work / "long_run")
    long = report(["long_run"], work / "long.html", cwd=work)
    with Browser(executable, width=WIDTH, height=1000) as browser:
        shoot(
            browser,
            single,
            docs / "report.png",
            [("h1", "tr.finding:nth-of-type(4)"), ("#plots h2", 760)],
        )
        shoot(browser, sweep, docs / "report-sweep.png", [("h1", "#plots > .grid")])
        shoot(
            browser,
            long,
            docs / "report-long.png",
            [("h1", "table.runs"), (".controls", "#plots > .grid")],
            SMOOTH.format("0.9"),
        )


if __name__ == "__main__":
    main()
