"""The HTML report: one self-contained page (plotly.js inline, no network) per check.

Header (runs, sources, packs, status, ingest problems), the findings table with a link from
each finding to its plot, the plots of the metrics the rules cover grouped by pack, and the
remaining metrics in a collapsed section. plotly.js is embedded once; figures travel as one
JSON document and are drawn when they scroll into view, so a 120-metric run opens fast.

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

from logscope import __version__
from logscope.report import Document, Layout
from logscope.report.json import run_status
from logscope.report.plots import OTHER_GROUP, SEVERITY_COLOR, Plot, figure, plan
from logscope.report.text import html_text as _esc

if TYPE_CHECKING:
    from logscope.model import Finding, Severity
    from logscope.outcome import RunReport


_DRAW = """(function () {
  var data = JSON.parse(document.getElementById("logscope-data").textContent);
  var config = {displaylogo: false, responsive: true};
  function draw(el) {
    if (el.getAttribute("data-drawn")) return;
    el.setAttribute("data-drawn", "1");
    var fig = data.figures[+el.getAttribute("data-index")];
    Plotly.newPlot(el, fig.data, fig.layout, config);
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
code{font-family:ui-monospace,monospace;font-size:12px;overflow-wrap:anywhere}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:12px}
figure{margin:0;border:1px solid #e3e3e3;border-radius:4px;padding:4px}
figure:target{outline:3px solid #e07b00}figcaption{font-size:12px;color:#666;padding:2px 6px}
div.plot{height:320px}details>summary{cursor:pointer;font-size:18px;margin:28px 0 8px}
ul.problems{margin:4px 0;padding-left:18px;color:#8a4b00}td.id{white-space:nowrap}
.verdict{margin:10px 0;padding:8px 12px;border-left:5px solid #999;background:#fafafa}
.verdict.stop{border-color:#c62828}.verdict.watch{border-color:#e07b00}
.verdict.healthy{border-color:#2a7d2a}.word{font-weight:700}.word.stop{color:#c62828}
.word.watch{color:#b35c00}.word.healthy{color:#2a7d2a}.action{font-weight:600}
.incident{margin:6px 0 0 0}.incident ul{margin:2px 0;padding-left:22px}
"""


def render(doc: Document, layout: Layout) -> str:
    """The whole page as one string. `doc.packs` are the packs the reports were checked
    with (their rules give the threshold lines); `layout.points` caps points per line."""
    reports, fail_on, budget = list(doc.reports), doc.fail_on, layout.points
    packs = list(doc.packs)
    plots = plan(reports, packs)
    anchors = {p.metric: p.anchor for p in plots}
    figures = [
        figure(p, reports, budget if p.group != OTHER_GROUP else max(budget // 2, 2)) for p in plots
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
    names = [r.run.path for r in reports]
    title = "logscope report: " + ", ".join(names[:3])
    if len(names) > 3:
        title += f" and {len(names) - 3} more"
    body = [
        f"<h1>logscope report</h1><p>{_summary(reports, fail_on)} "
        f"<span class=muted>· logscope {_esc(__version__)}</span></p>",
        _verdicts(reports),
        _runs(reports, fail_on),
        _errors(list(doc.errors)),
        _findings(reports, anchors),
        _plots(plots),
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


def _runs(reports: list[RunReport], fail_on: Severity | None) -> str:
    rows = []
    for report in reports:
        run = report.run
        status = run_status(report, fail_on)
        steps = run.steps
        span = (
            f"{steps['first']}–{steps['last']} ({steps['count']} logged)"
            if steps["count"]
            else "none"
        )
        sources = "<br>".join(
            f"<code>{_esc(s.path)}</code> "
            f"<span class=muted>({_esc(s.format)}, {s.rows} rows)</span>"
            for s in run.sources
        )
        problems = [str(p) for p in run.problems] + list(run.notes)
        problems += [f"{s.path}: {note}" for s in run.sources for note in s.notes]
        problems += [
            f"resumed at step {r.step} (after step {r.previous_step})" for r in run.resumes
        ]
        listed = "".join(f"<li>{_esc(p)}</li>" for p in problems[:50])
        if len(problems) > 50:
            listed += f"<li>… and {len(problems) - 50} more</li>"
        rows.append(
            f"<tr><td><code>{_esc(run.path)}</code></td>"
            f"<td class='status {status}'>{status}</td><td>{_esc(span)}</td>"
            f"<td class=num>{len(run.metrics)}</td><td>{_esc(', '.join(report.packs))}</td>"
            f"<td>{sources}</td><td class=num>{len(report.findings)}</td>"
            f"<td>{f'<ul class=problems>{listed}</ul>' if listed else '—'}</td></tr>"
        )
    head = "".join(
        f"<th>{h}</th>"
        for h in (
            "run",
            "status",
            "steps",
            "metrics",
            "packs",
            "sources read",
            "findings",
            "ingest problems",
        )
    )
    return f"<h2 id=runs>Runs</h2><table class=runs><tr>{head}</tr>{''.join(rows)}</table>"


def _errors(errors: list[str]) -> str:
    if not errors:
        return ""
    items = "".join(f"<li>{_esc(e)}</li>" for e in errors)
    return f"<h2 id=errors>Inputs that could not be read</h2><ul class=problems>{items}</ul>"


def _findings(reports: list[RunReport], anchors: dict[str, str]) -> str:
    many = len(reports) > 1
    rows: list[str] = []
    for report in reports:
        rows.extend(_finding_row(report, f, anchors, many) for f in report.findings)
    if not rows:
        return "<h2 id=findings>Findings</h2><p>No rule fired.</p>"
    columns = ["severity", "rule", "metric", "step", "value", "message", "advice", "source"]
    head = "".join(f"<th>{c}</th>" for c in (["run", *columns] if many else columns))
    return (
        f"<h2 id=findings>Findings ({len(rows)})</h2>"
        f"<table class=findings><tr>{head}</tr>{''.join(rows)}</table>"
    )


def _finding_row(report: RunReport, f: Finding, anchors: dict[str, str], many: bool) -> str:
    first = f.onset if f.onset is not None else f.step  # the bad stretch, from its onset
    steps = "" if first is None else str(first)
    if f.last_step is not None and first is not None and f.last_step != first:
        steps += f"–{f.last_step}"
    value = "" if f.value is None else f"{f.value:.4g}"
    color = SEVERITY_COLOR[f.severity]
    anchor = anchors.get(f.metric)
    metric = f"<code>{_esc(f.metric)}</code>"
    if anchor:
        metric = f'<a href="#{anchor}">{metric}</a>'
    cells = [
        f'<td class=sev style="color:{color}">{_esc(f.severity)}</td>',
        f"<td class=id><code>{_esc(f.rule)}</code></td>",
        f"<td class=id>{metric}</td>",
        f"<td class=num>{_esc(steps)}</td>",
        f"<td class=num>{_esc(value)}</td>",
        f"<td>{_esc(f.message)}</td>",
        f"<td class=advice>{_esc(f.advice)}</td>",
        f"<td class=source>{_esc(f.source)}</td>",
    ]
    if many:
        cells.insert(0, f"<td><code>{_esc(report.run.path)}</code></td>")
    return f"<tr class='finding {_esc(f.severity)}'>{''.join(cells)}</tr>"


def _plots(plots: list[Plot]) -> str:
    parts = []
    covered = [p for p in plots if p.group != OTHER_GROUP]
    for group in dict.fromkeys(p.group for p in covered):
        members = [p for p in covered if p.group == group]
        parts.append(f"<h2>{_esc(group)}</h2><div class=grid>{_boxes(members)}</div>")
    rest = [p for p in plots if p.group == OTHER_GROUP]
    if rest:
        parts.append(
            f"<details id=other-metrics><summary>{OTHER_GROUP} ({len(rest)}), not covered "
            f"by a rule</summary><div class=grid>{_boxes(rest)}</div></details>"
        )
    return "<section id=plots>" + "\n".join(parts) + "</section>"


def _boxes(plots: list[Plot]) -> str:
    boxes = []
    for plot in plots:
        rules = ", ".join(r.id for r in plot.rules)
        caption = f"rules: {_esc(rules)}" if rules else "no rule covers this metric"
        boxes.append(
            f"<figure id={plot.anchor}><div class=plot data-index={plot.index}></div>"
            f"<figcaption>{caption}</figcaption></figure>"
        )
    return "".join(boxes)


def _verdicts(reports: list[RunReport]) -> str:
    """Per run, first: the verdict line and its incidents (cause, symptoms, worst, action)."""
    from logscope.incidents import assess
    from logscope.report.verdict import steps_text, symptom_text, worst_text

    parts = []
    for report in reports:
        assessment = assess(report)
        verdict = assessment.verdict
        blocks = [
            f"<div class='verdict {verdict.status}'><span class='word {verdict.status}'>"
            f"{verdict.status.upper()}</span> <code>{_esc(report.run.path)}</code> "
            f"{_esc(verdict.reason)}. <span class=action>{_esc(verdict.action)}</span>"
        ]
        for number, incident in enumerate(assessment.incidents, 1):
            symptoms = "".join(f"<li>{_esc(symptom_text(f))}</li>" for f in incident.symptoms)
            color = SEVERITY_COLOR[incident.severity]
            blocks.append(
                f"<div class=incident><span class=sev style='color:{color}'>"
                f"incident {number} · {_esc(incident.severity)}</span> "
                f"{_esc(steps_text(incident))}: {_esc(incident.summary)}<br>"
                f"<span class=muted>likely cause:</span> {_esc(incident.cause.message)}<br>"
                f"<span class=muted>symptoms in order:</span><ul>{symptoms}</ul>"
                f"<span class=muted>worst:</span> {_esc(worst_text(incident))}<br>"
                f"<span class=muted>action:</span> "
                f"<span class=action>{_esc(incident.action)}</span></div>"
            )
        parts.append("".join(blocks) + "</div>")
    return "<h2 id=verdict>Verdict</h2>" + "".join(parts)
