"""Regenerate docs/report.png: the HTML report of sample_logs/kto_diverging in headless
Chromium, its verdict, incident and first findings stacked over the first plots.

    python docs/screenshot.py        # needs chromium, websocket-client and pillow
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "report"))

from chromium import Browser, file_url, find_chromium  # noqa: E402

WIDTH = 1200
TOP = "document.querySelectorAll('tr.finding')[2].getBoundingClientRect().top + scrollY"
PLOTS = "document.querySelector('#plots h2').getBoundingClientRect().top + scrollY"


def main() -> None:
    work = Path(tempfile.mkdtemp())
    page = work / "report.html"
    subprocess.run(
        [sys.executable, "-m", "logscope", "report", "sample_logs/kto_diverging", "-o", page],
        cwd=ROOT,
        check=True,
    )
    executable = find_chromium()
    assert executable, "install chromium"
    with Browser(executable, width=WIDTH, height=1000) as browser:
        browser.open(file_url(page))
        browser.wait_for(
            "document.querySelectorAll('#plots > .grid .js-plotly-plot').length === "
            "document.querySelectorAll('#plots > .grid div.plot').length"
        )
        time.sleep(1)
        top, plots = browser.evaluate(TOP), browser.evaluate(PLOTS)
        browser.screenshot(work / "a.png", clip={"x": 0, "y": 0, "width": WIDTH, "height": top})
        browser.screenshot(
            work / "b.png", clip={"x": 0, "y": plots - 8, "width": WIDTH, "height": 790}
        )
        assert browser.errors() == []
    first, second = Image.open(work / "a.png"), Image.open(work / "b.png")
    gap = 14
    sheet = Image.new("RGB", (WIDTH, first.height + gap + second.height), "white")
    sheet.paste(first, (0, 0))
    sheet.paste(Image.new("RGB", (WIDTH, 2), (200, 200, 200)), (0, first.height + gap // 2))
    sheet.paste(second, (0, first.height + gap))
    out = ROOT / "docs" / "report.png"
    sheet.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(out, optimize=True)
    print(f"wrote {out} ({out.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
