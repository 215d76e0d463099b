"""Helpers for the HTML report tests: build pages from runs, take them apart again."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from logscope.pipeline import check, load_packs
from logscope.report import Document, Layout, html
from logscope.rules.spec import Pack

XSS = "<img src=x onerror=alert(1)>"
SCRIPT_BREAK = "</script><script>alert(2)</script>"
HOSTILE_PACK = """\
pack: hostile
title: "Hostile <b>pack</b> title"
rules:
  - id: hostile/any-value
    severity: error
    metric: "<img src=x onerror=alert(1)>"
    check: threshold
    op: ">"
    value: 0.5
    message: "{metric} is {value} <script>alert(3)</script>"
    advice: "<a href=javascript:alert(4)>click</a>"
    source: "tests"
"""


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def hostile_run(folder: Path) -> Path:
    """A run whose metric names (and a source line) try to inject markup and script."""
    rows = [
        {"step": s, XSS: 0.1 * s, SCRIPT_BREAK: float(s), "loss": 1.0 / s} for s in range(1, 21)
    ]
    write_jsonl(folder / "metrics.jsonl", rows)
    with (folder / "metrics.jsonl").open("a") as handle:
        handle.write('{"step": 21, "<svg onload=alert(5)>": tru\n')  # a malformed last line
    return folder


@lru_cache(maxsize=4)
def _packs(rule_files: tuple[Path, ...]) -> list[Pack]:
    return load_packs(list(rule_files))


def page(paths: list[Path | str], rule_files: list[Path] = (), budget: int = 2000) -> str:  # type: ignore[assignment]
    packs = _packs(tuple(rule_files))
    result = check(paths, packs, rule_files=rule_files)
    doc = Document(reports=result.reports, fail_on=None, errors=result.errors, packs=packs)
    return html.render(doc, Layout(points=budget))


def figures(text: str) -> list[dict[str, Any]]:
    found = re.search(
        r'<script type="application/json" id="logscope-data">(.*?)</script>', text, re.S
    )
    assert found, "no figure data in the page"
    data: dict[str, Any] = json.loads(found.group(1))
    return [opened(f) for f in data["figures"]]


def opened(fig: dict[str, Any], scale: str | None = None) -> dict[str, Any]:
    """The figure as the page draws it on `scale` (default: the one it opens on): its
    layout with that scale's y axis, shapes and annotations, as the page's script does."""
    chosen = fig["scales"][scale or fig["scale"]]
    layout = {**fig["layout"], "shapes": chosen["shapes"], "annotations": chosen["annotations"]}
    layout["yaxis"] = {**fig["layout"]["yaxis"], **chosen["yaxis"]}
    return {**fig, "layout": layout}


def without_plotly(text: str) -> str:
    """The page minus the inline plotly.js bundle (its own source mentions onerror etc.)."""
    start = text.index("<script>")
    end = text.index("</script>", start)
    return text[:start] + text[end + len("</script>") :]


class Outline(HTMLParser):
    """Elements by id, finding rows with their links, figures and where they sit."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.links: list[str] = []
        self.rows: list[list[str]] = []
        self.plots: list[tuple[str, bool]] = []  # (figure id, inside <details>)
        self.tags: list[str] = []
        self._details = 0
        self._figure: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.append(tag)
        if values.get("id"):
            self.ids.append(str(values["id"]))
        if tag == "details":
            self._details += 1
        if tag == "figure":
            self.plots.append((str(values.get("id")), self._details > 0))
        if tag == "tr" and "finding" in (values.get("class") or ""):
            self._row = []
        if tag == "td" and self._row is not None:
            self._cell = []
        if tag == "a" and self._row is not None:
            self.links.append(str(values.get("href")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "details":
            self._details -= 1
        if tag == "td" and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        if tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
