"""A tiny Chrome DevTools Protocol client: open a page in headless Chromium, collect console
errors, evaluate JavaScript, take a screenshot. Used by the browser test and bench_report.py.

Debian's `chromium` package plus `websocket-client` (pure Python, under 1 MB installed) are
all it needs. playwright-python would also drive /usr/bin/chromium, but its wheel is 53 MB
(it bundles a Node.js driver) and brings greenlet and pyee; this client is ~150 lines.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
)


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Browser:
    """One headless Chromium with one page, driven over the flattened CDP session protocol."""

    def __init__(self, executable: str, *, width: int = 1400, height: int = 1000) -> None:
        import websocket

        self.profile = tempfile.mkdtemp(prefix="logscope-chromium-")
        self.process = subprocess.Popen(
            [
                executable,
                *FLAGS,
                "--remote-debugging-port=0",
                f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}",
                "--hide-scrollbars",
                "--disable-dev-shm-usage",  # containers often have a 64 MB /dev/shm
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or len(port_file.read_text().splitlines()) < 2:
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.close()
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        self.socket = websocket.create_connection(
            f"ws://127.0.0.1:{port}{path}", timeout=60, suppress_origin=True
        )
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []
        # the page Chromium opened itself: a page made with Target.createTarget stays a
        # background tab, where IntersectionObserver and animation frames never fire
        pages = [t for t in self.send("Target.getTargets")["targetInfos"] if t["type"] == "page"]
        target = pages[0]["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log"):
            self.send(f"{domain}.enable", session=True)
        self.send("Page.bringToFront", session=True)

    def send(
        self, method: str, params: dict[str, Any] | None = None, *, session: bool = False
    ) -> dict[str, Any]:
        """Send one command and wait for its answer; events that arrive meanwhile are kept."""
        ident = next(self.ids)
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        self.socket.send(json.dumps(message))
        while True:
            reply = json.loads(self.socket.recv())
            if reply.get("id") == ident:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            if "method" in reply:
                self.events.append(reply)

    def before_load(self, script: str) -> None:
        """Run `script` in every document this page opens, before the page's own scripts."""
        self.send("Page.addScriptToEvaluateOnNewDocument", {"source": script}, session=True)

    def open(self, url: str) -> None:
        self.send("Page.navigate", {"url": url}, session=True)
        self.wait_for("document.readyState === 'complete'")

    def evaluate(self, expression: str) -> Any:
        result = self.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30) -> float:
        """Poll until `expression` is truthy; seconds waited."""
        start = time.monotonic()
        while not self.evaluate(expression):
            if time.monotonic() - start > timeout:
                raise TimeoutError(f"still false after {timeout}s: {expression}")
            time.sleep(0.02)
        return time.monotonic() - start

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and browser log errors (CSP violations...)."""
        found = []
        for event in self.events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append(" ".join(str(a.get("value", a)) for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                found.append(str(details.get("exception", {}).get("description", details)))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                found.append(params["entry"].get("text", ""))
        return found

    def screenshot(self, path: Path, *, clip: dict[str, float] | None = None) -> None:
        """The viewport, or a region of the page (`clip`: x, y, width, height in CSS px)."""
        params: dict[str, Any] = {"format": "png"}
        if clip is not None:
            params.update(clip={**clip, "scale": 1}, captureBeyondViewport=True)
        data = self.send("Page.captureScreenshot", params, session=True)["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        socket = getattr(self, "socket", None)
        if socket is not None:
            socket.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def file_url(path: Path) -> str:
    return path.resolve().as_uri()


if __name__ == "__main__":  # python tests/report/chromium.py page.html shot.png
    import sys

    executable = find_chromium() or os.environ.get("CHROMIUM", "chromium")
    with Browser(executable) as browser:
        browser.open(file_url(Path(sys.argv[1])))
        waited = browser.wait_for("document.querySelectorAll('.js-plotly-plot').length > 0")
        print(f"first plot after {waited:.2f}s; errors: {browser.errors()}")
        if len(sys.argv) > 2:
            browser.screenshot(Path(sys.argv[2]))
