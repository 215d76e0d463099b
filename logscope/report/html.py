"""The HTML report: one self-contained page (plotly.js inline, no network) per check.

The verdict per run, the runs (short names, full paths on hover), ingest problems and reader
notes apart, the findings table with a link from each finding to its plot, the plots of the
metrics the rules cover grouped by pack, and the remaining metrics in a collapsed section
(html_sections.py). plotly.js is embedded once; figures travel as one JSON document and are
drawn when they scroll into view, so a 120-metric run opens fast. The page's one script also
runs the smoothing slider and the per-plot log-scale toggles (plots.py, axes.py).

Everything that comes from a log is untrusted: text is HTML-escaped, the JSON is embedded
with `<`, `>` and `&` as \\u escapes (no `</script>` can end it), and a Content-Security-
Policy allows only this page's own scripts by hash, so even a missed escape cannot run.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from logscope.report import Document, Layout, html_sections
from logscope.report.json import run_status
from logscope.report.names import short_names
from logscope.report.plots import OTHER_GROUP, figure, plan
from logscope.report.text import html_text as _esc
from logscope.version import __version__

if TYPE_CHECKING:
    from logscope.model import Severity
    from logscope.outcome import RunReport


_DRAW = """(function () {
  var data = JSON.parse(document.getElementById("logscope-data").textContent);
  var config = {displaylogo: false, responsive: true};
  var alpha = 0;  // smoothing weight, 0: off
  function figureOf(el) { return data.figures[+el.getAttribute("data-index")]; }
  function layoutOf(fig) {
    var scale = fig.scales[fig.scale], layout = Object.assign({}, fig.layout);
    layout.yaxis = Object.assign({}, fig.layout.yaxis, scale.yaxis);
    layout.shapes = scale.shapes;
    layout.annotations = scale.annotations;
    return layout;
  }
  // TensorBoard's debiased EMA; a bucket of n downsampled points weighs alpha^n
  function ema(y, n, a) {
    var out = new Array(y.length), last = 0, seen = 0;
    for (var i = 0; i < y.length; i++) {
      var k = n ? n[i] : 1, w = Math.pow(a, k);
      last = last * w + (1 - w) * y[i];
      seen += k;
      out[i] = last / (1 - Math.pow(a, seen));
    }
    return out;
  }
  function smooth(el) {
    var fig = figureOf(el);
    if (!fig.smooth.length) return;
    var on = alpha > 0, xs = [], ys = [], shown = [], lines = [], raws = [], faded = [];
    fig.smooth.forEach(function (s) {
      var source = s.x ? s : fig.data[s.raw];
      xs.push(on ? source.x : []);
      ys.push(on ? ema(source.y, s.n, alpha) : []);
      shown.push(on);
      lines.push(s.line);
      raws.push(s.raw);
      faded.push(on ? 0.3 : 1);
    });
    Plotly.restyle(el, {x: xs, y: ys, visible: shown}, lines);
    Plotly.restyle(el, {opacity: faded}, raws);
  }
  function draw(el) {
    if (el.getAttribute("data-drawn")) return;
    el.setAttribute("data-drawn", "1");
    var fig = figureOf(el);
    Plotly.newPlot(el, fig.data, layoutOf(fig), config);
    if (alpha > 0) smooth(el);
  }
  // plots in view first, then the rest one per task so the page stays responsive;
  // the collapsed section's plots only once it is opened
  var queue = [];
  function pump() {
    var el = queue.shift();
    while (el && el.getAttribute("data-drawn")) el = queue.shift();
    if (!el) return;
    draw(el);
    setTimeout(pump, 0);
  }
  function enqueue(els) { queue.push.apply(queue, els); setTimeout(pump, 0); }
  var seen = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
    entries.forEach(function (e) {
      if (e.isIntersecting) { seen.unobserve(e.target); draw(e.target); }
    });
  }, {rootMargin: "200px"}) : null;
  document.querySelectorAll("div.plot[data-index]").forEach(function (el) {
    if (seen) seen.observe(el);
  });
  enqueue(Array.prototype.slice.call(
    document.querySelectorAll("#plots > .grid div.plot[data-index]")));
  document.querySelectorAll("#plots details").forEach(function (box) {
    box.addEventListener("toggle", function () {
      if (box.open) enqueue(Array.prototype.slice.call(box.querySelectorAll("div.plot")));
    });
  });
  var slider = document.getElementById("smoothing");
  var shown = document.getElementById("smoothing-value");
  if (slider) slider.addEventListener("input", function () {
    alpha = Math.min(Math.max(+slider.value || 0, 0), 0.999);
    shown.textContent = alpha > 0 ? alpha.toFixed(2) : "off";
    document.querySelectorAll("div.plot[data-drawn]").forEach(smooth);
  });
  document.querySelectorAll("input.logscale").forEach(function (box) {
    box.addEventListener("change", function () {
      var index = box.getAttribute("data-index");
      var el = document.querySelector("div.plot[data-index='" + index + "']");
      var fig = figureOf(el);
      fig.scale = box.checked ? "log" : "linear";
      if (!el.getAttribute("data-drawn")) return;
      var scale = fig.scales[fig.scale], axis = scale.yaxis;
      Plotly.relayout(el, {"yaxis.type": axis.type, "yaxis.autorange": axis.autorange,
        "yaxis.range": axis.range, shapes: scale.shapes, annotations: scale.annotations});
    });
  });
})();"""

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1400px;
padding:0 20px 40px;color:#222}
h1{font-size:22px;margin:18px 0 6px}h2{font-size:18px;margin:28px 0 8px;
border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;
padding:4px 8px;border-bottom:1px solid #eee}th{font-weight:600;color:#555;font-size:12px}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.sev{font-weight:700;text-transform:uppercase;font-size:12px}
.status{font-weight:700;text-transform:uppercase}.status.pass{color:#2a7d2a}
.status.fail,.status.error{color:#c62828}
.advice{color:#555}.source{color:#777;font-size:12px}.muted{color:#777}
td.text,td.advice,td.source{overflow-wrap:anywhere;min-width:6em}
.wide{overflow-x:auto}
code{font-family:ui-monospace,monospace;font-size:12px;overflow-wrap:anywhere}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:12px}
figure{margin:0;border:1px solid #e3e3e3;border-radius:4px;padding:4px}
figure:target{outline:3px solid #e07b00}figcaption{font-size:12px;color:#666;padding:2px 6px}
div.plot{min-height:200px}details>summary{cursor:pointer;font-size:18px;margin:28px 0 8px}
ul.problems{margin:4px 0;padding-left:18px;color:#8a4b00}td.id{white-space:nowrap}
.verdict{margin:10px 0;padding:8px 12px;border-left:5px solid #999;background:#fafafa}
.verdict.stop{border-color:#c62828}.verdict.watch{border-color:#e07b00}
.verdict.healthy{border-color:#2a7d2a}.word{font-weight:700}.word.stop{color:#c62828}
.word.watch{color:#b35c00}.word.healthy{color:#2a7d2a}.action{font-weight:600}
.incident{margin:6px 0 0 0}.incident ul{margin:2px 0;padding-left:22px}
.run{font-family:ui-monospace,monospace;font-size:12px;white-space:nowrap}
ul.notes{margin:4px 0;padding-left:18px;color:#555}p.of-run{margin:8px 0 0}
.controls{position:sticky;top:0;z-index:5;background:#fff;padding:8px 0;margin-top:20px;
border-bottom:1px solid #ddd;font-size:13px}.controls input{vertical-align:middle;width:220px}
.controls output{display:inline-block;min-width:2.5em;font-variant-numeric:tabular-nums}
label.log{float:right;margin-left:12px;white-space:nowrap;cursor:pointer}
"""


def render(doc: Document, layout: Layout) -> str:
    """The whole page as one string. `doc.packs` are the packs the reports were checked
    with (their rules give the threshold lines); `layout.points` caps points per line."""
    reports, fail_on, budget = list(doc.reports), doc.fail_on, layout.points
    packs = list(doc.packs)
    names = short_names([r.run for r in reports])
    plots = plan(reports, packs)
    anchors = {p.metric: p.anchor for p in plots}
    figures = [
        figure(p, reports, budget if p.group != OTHER_GROUP else max(budget // 2, 2), names)
        for p in plots
    ]
    payload = _script_json({"figures": figures})
    plotly_js, plotly_hash = _plotly()
    policy = "; ".join(
        (
            "default-src 'none'",
            f"script-src {plotly_hash} {_sha256(_DRAW)}",
            "style-src 'unsafe-inline'",
            "img-src data:",
            "font-src data:",
        )
    )
    shown = [n.short for n in names]
    title = "logscope report: " + ", ".join(shown[:3])
    if len(shown) > 3:
        title += f" and {len(shown) - 3} more"
    body = [
        f"<h1>logscope report</h1><p>{_summary(reports, fail_on)} "
        f"<span class=muted>· logscope {_esc(__version__)}</span></p>",
        html_sections.verdicts(reports, names),
        html_sections.runs(reports, names, fail_on),
        html_sections.errors(list(doc.errors)),
        html_sections.problems(reports, names),
        html_sections.notes(reports, names),
        html_sections.findings(reports, names, anchors),
        html_sections.plots(plots, figures, packs),
    ]
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{_esc(title)}</title><style>{_STYLE}</style></head><body>\n"
        + "\n".join(body)
        + f'\n<script type="application/json" id="logscope-data">{payload}</script>\n'
        + f"<script>{plotly_js}</script>\n<script>{_DRAW}</script>\n</body></html>\n"
    )


def _summary(reports: list[RunReport], fail_on: Severity | None) -> str:
    """`2 runs: 1 fail, 1 pass · 12 findings (4 error, 4 warning, 4 info)`."""
    statuses = Counter(run_status(r, fail_on) for r in reports)
    severities = Counter(str(f.severity) for r in reports for f in r.findings)
    runs = ", ".join(f"<span class='status {s}'>{n} {s}</span>" for s, n in statuses.items())
    total = sum(severities.values())
    counts = ", ".join(
        f"{severities[s]} {s}" for s in ("error", "warning", "info") if severities[s]
    )
    found = f"{total} finding{'s' * (total != 1)}" + (f" ({counts})" if counts else "")
    return f"{len(reports)} run{'s' * (len(reports) != 1)}: {runs} · {found}"


def _script_json(document: Any) -> str:
    """JSON that cannot close its <script> element: <, > and & only occur inside strings,
    where \\u escapes mean the same characters to JSON.parse."""
    raw = json.dumps(document, separators=(",", ":"), allow_nan=False)
    return raw.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@lru_cache(maxsize=1)
def _plotly() -> tuple[str, str]:
    """plotly.js (4.8 MB, read once per process) and its CSP hash."""
    from plotly.offline import get_plotlyjs  # only when HTML is asked for

    script: str = get_plotlyjs()
    return script, _sha256(script)


def _sha256(script: str) -> str:
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"
