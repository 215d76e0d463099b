"""The HTML report in a real headless Chromium (Debian's `chromium`), opened from a file:
no console errors, the plots render with data, the XSS payloads stay text, a screenshot.

In CI (CI=true) a missing Chromium is a failure; locally the test skips without it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from chromium import Browser, file_url, find_chromium
from html_support import XSS, hostile_run, page

ROOT = Path(__file__).resolve().parent.parent.parent
# window.alert is replaced before the page's scripts run: any call means injected script ran
TRAP = "window.__alerts = []; window.alert = function (m) { window.__alerts.push(String(m)); };"
DRAWN = "document.querySelectorAll('#plots > .grid .js-plotly-plot').length"
EXPECTED = "document.querySelectorAll('#plots > .grid div.plot').length"


@pytest.fixture(scope="module")
def browser():  # type: ignore[no-untyped-def]
    executable = find_chromium()
    if executable is None or not _has_websocket():
        reason = "needs the chromium package and websocket-client (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI: {reason}")
        pytest.skip(reason)
    with Browser(executable, width=1400, height=1000) as opened:
        opened.before_load(TRAP)
        yield opened


def _has_websocket() -> bool:
    try:
        import websocket  # noqa: F401
    except ImportError:
        return False
    return True


def test_report_renders_in_chromium_without_errors(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    report = tmp_path / "report.html"
    runs = [ROOT / "sample_logs" / "kto_diverging", hostile_run(tmp_path / "hostile")]
    report.write_text(page(runs))
    browser.open(file_url(report))
    browser.wait_for(f"{DRAWN} > 0 && {DRAWN} === {EXPECTED}")
    # every covered plot drew its lines with data, and its threshold lines
    lines = browser.evaluate(
        "Array.from(document.querySelectorAll('#plots > .grid .js-plotly-plot'))"
        ".map(p => Array.from(p.querySelectorAll('path.js-line'))"
        ".filter(l => (l.getAttribute('d') || '').split(/[ML]/).length > 3).length)"
    )
    assert lines and all(n >= 1 for n in lines), lines
    assert browser.evaluate("document.querySelectorAll('.js-plotly-plot .shapelayer path').length")
    # a finding's link scrolls to its plot
    browser.evaluate("document.querySelector('tr.finding a').click()")
    target = browser.evaluate("location.hash")
    assert target.startswith("#plot-")
    assert browser.evaluate(f"!!document.querySelector('{target} .js-plotly-plot')")
    browser.screenshot(tmp_path / "findings.png")
    # the collapsed section draws when opened; the hostile metric names show as text
    browser.evaluate("document.getElementById('other-metrics').open = true")
    browser.wait_for(
        "document.querySelectorAll('#other-metrics .js-plotly-plot').length === "
        "document.querySelectorAll('#other-metrics div.plot').length"
    )
    titles = browser.evaluate(
        "Array.from(document.querySelectorAll('.gtitle')).map(t => t.textContent)"
    )
    assert XSS in titles
    assert browser.evaluate("window.__alerts") == []
    assert browser.evaluate("document.querySelectorAll('img, svg[onload]').length") == 0
    assert browser.errors() == []
    shot = tmp_path / "report.png"
    browser.evaluate("document.getElementById('plots').scrollIntoView()")
    browser.screenshot(shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
    saved = os.environ.get("LOGSCOPE_SCREENSHOTS")
    if saved:
        Path(saved).mkdir(parents=True, exist_ok=True)
        (Path(saved) / "report.png").write_bytes(shot.read_bytes())
