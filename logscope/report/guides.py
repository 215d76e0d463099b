"""What a rule draws on its metric's plot: threshold lines, expected-range bands, stage
targets; and the markers of findings (onset lines, bad stretches) and resumes.

Guides are drawn where the rule judges: from `after_step` to `before_step` when it has a
step window, across the plot otherwise. A stage table (check kind `stage`) applies by
absolute step and only to runs no longer than its `max_run_step` (the table was written for
one run length, see rules/kto.yaml); its bands are drawn only for runs it applies to, cut at
the longest such run's last step, so a 10^6-step run shows no bands crammed at x=0 but a
caption that says why.
"""

from __future__ import annotations

from typing import Any

from logscope.report.axes import Guide
from logscope.rules.pack import Rule

GUIDE_COLOR = "rgba(214, 39, 40, 0.55)"
EDGE_COLOR = "#b3261e"  # the value of a guide beyond the axis: text to read, not a line
BAND_FILL = "rgba(44, 160, 44, 0.10)"


def guides(rule: Rule, ends: list[int], text: Any) -> tuple[list[Guide], str | None]:
    """The rule's guides for runs whose last steps are `ends`, and a note when the rule
    draws nothing because it does not apply to these runs. `text` escapes log text."""
    p = rule.params
    last = max(ends, default=1)
    x0: float = rule.after_step if rule.after_step is not None else 0
    x1: float = rule.before_step if rule.before_step is not None else max(last, 1)
    windowed = rule.after_step is not None or rule.before_step is not None
    if rule.check == "threshold":
        label = f"{p.op} {p.value:g}"
        return [Guide(p.value, p.value, label, _hline(p.value, x0, x1, windowed, label))], None
    if rule.check == "range":
        if p.min is not None and p.max is not None:
            label = f"{p.min:g}–{p.max:g}"
            shape = _band(x0, x1, p.min, p.max, windowed, label)
            return [Guide(p.min, p.max, f"range {label}", shape)], None
        if p.min is not None:
            label = f"< {p.min:g}"
            return [Guide(p.min, p.min, label, _hline(p.min, x0, x1, windowed, label))], None
        label = f"> {p.max:g}"
        return [Guide(p.max, p.max, label, _hline(p.max, x0, x1, windowed, label))], None
    if rule.check == "stage":
        return _stages(rule, ends, text)
    return [], None


def _stages(rule: Rule, ends: list[int], text: Any) -> tuple[list[Guide], str | None]:
    limit = rule.params.max_run_step
    applies = [e for e in ends if limit is None or e <= limit]
    if not applies:
        why = (
            f"{text(rule.id)}: stage targets not drawn, they apply to runs of at most {limit} steps"
        )
        return [], why
    last = max(applies)
    found = []
    for stage in rule.params.stages:
        first, end = stage["steps"]
        if first > last:
            continue
        name = text(stage.get("name", ""))
        band = _band(first, min(end, last), stage["min"], stage["max"], True, name)
        label = f"{stage['min']:g}–{stage['max']:g}" + (f" ({name})" if name else "")
        found.append(Guide(stage["min"], stage["max"], label, band))
    return found, None


def _hline(y: float, x0: float, x1: float, windowed: bool, label: str) -> dict[str, Any]:
    shape = {"type": "line", "y0": y, "y1": y, "yref": "y", "layer": "below"}
    shape.update(_xspan(x0, x1, windowed))
    shape["line"] = {"color": GUIDE_COLOR, "width": 1.5, "dash": "dash"}
    shape["label"] = {
        "text": label,
        "textposition": "end",
        "font": {"size": 10, "color": GUIDE_COLOR},
    }
    return shape


def _band(x0: float, x1: float, y0: float, y1: float, windowed: bool, label: str) -> dict[str, Any]:
    shape = {"type": "rect", "y0": y0, "y1": y1, "yref": "y", "layer": "below"}
    shape.update(_xspan(x0, x1, windowed))
    shape.update(fillcolor=BAND_FILL, line={"width": 0})
    shape["label"] = {"text": label, "textposition": "top left", "font": {"size": 9}}
    return shape


def _xspan(x0: float, x1: float, windowed: bool) -> dict[str, Any]:
    if windowed:
        return {"xref": "x", "x0": x0, "x1": x1}
    return {"xref": "paper", "x0": 0, "x1": 1}


def vline(step: int, color: str, dash: str) -> dict[str, Any]:
    """A line across the plot's height at `step` (a finding's onset, a resume)."""
    shape = _full_height("line", step, step)
    shape["line"] = {"color": color, "width": 1.2, "dash": dash}
    return shape


def span(x0: int, x1: int, color: str) -> dict[str, Any]:
    """A faint box across the plot's height from `x0` to `x1` (a finding's bad stretch)."""
    shape = _full_height("rect", x0, x1)
    shape.update(fillcolor=color, opacity=0.07, line={"width": 0}, layer="below")
    return shape


def _full_height(kind: str, x0: int, x1: int) -> dict[str, Any]:
    return {"type": kind, "xref": "x", "yref": "paper", "x0": x0, "x1": x1, "y0": 0, "y1": 1}


def note(step: int, label: str, color: str) -> dict[str, Any]:
    """A label at the bottom of the plot (a resume point)."""
    return {
        "x": step,
        "xref": "x",
        "y": 0,
        "yref": "paper",
        "yanchor": "bottom",
        "text": label,
        "showarrow": False,
        "font": {"size": 10, "color": color},
        "xanchor": "left",
    }
