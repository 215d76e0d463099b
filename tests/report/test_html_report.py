"""The HTML report's structure: findings link to their plots, guides and markers are drawn,
several runs share axes, large series are downsampled without losing spikes, and text from
logs never becomes markup or script."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pytest
from html_support import (
    HOSTILE_PACK,
    SCRIPT_BREAK,
    XSS,
    Outline,
    figures,
    hostile_run,
    page,
    without_plotly,
    write_jsonl,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logscope.report.downsample import minmax
from logscope.report.text import safe

ROOT = Path(__file__).resolve().parent.parent.parent
SAMPLES = ROOT / "sample_logs"
# every element the page itself writes; a metric name must never add one
ALLOWED_TAGS = {
    *("html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "span", "table"),
    *("tr", "th", "td", "code", "a", "ul", "li", "br", "section", "div", "figure"),
    *("figcaption", "details", "summary", "script", "label", "input", "output"),
}


@pytest.fixture(scope="module")
def diverging() -> str:
    return page([SAMPLES / "kto_diverging"])


def _by_title(text: str) -> dict[str, dict]:  # type: ignore[type-arg]
    return {f["layout"]["title"]["text"]: f for f in figures(text)}


def test_one_self_contained_page_with_plotly_once(diverging: str) -> None:
    assert diverging.startswith("<!DOCTYPE html>")
    assert diverging.count("<script") == 3  # figure data, plotly.js, the drawing script
    assert "src=" not in without_plotly(diverging).split("<body>")[1].split("<script")[0]
    assert "http://" not in without_plotly(diverging) and "https://" not in without_plotly(
        diverging
    )
    assert "Plotly.newPlot" in diverging and diverging.count("plotly.js v") == 1


def test_header_names_runs_sources_packs_and_status(tmp_path: Path) -> None:
    text = page([SAMPLES / "kto_diverging", hostile_run(tmp_path / "bad")])
    outline = Outline(text)
    assert "runs" in outline.ids and "findings" in outline.ids
    assert "logs/training_metrics.jsonl" in text and "common, kto" in text
    assert "<td class='status pass'>pass</td>" in text  # no --fail-on given: nothing fails
    assert "metrics.jsonl:21:" in text  # the ingest problem, with its line


def test_every_finding_is_a_row_that_links_to_its_plot(diverging: str) -> None:
    outline = Outline(diverging)
    assert len(outline.rows) == 9  # the diverging sample's findings
    severity, rule, metric, step, value, message, advice, source = outline.rows[0]
    assert (severity, rule, metric, step) == ("error", "common/loss-rising", "loss", "2–40")
    assert value == "0.643" and "loss rose" in message and "revert" in advice
    assert source.startswith("KTO Training Metrics Guide: ")  # cited by title (issue 16)
    assert len(outline.links) == 9
    plots = dict(outline.plots)
    titles = {f"plot-{i}": f["layout"]["title"]["text"] for i, f in enumerate(figures(diverging))}
    for row, link in zip(outline.rows, outline.links, strict=True):
        target = link.removeprefix("#")
        assert target in plots and plots[target] is False  # visible, not in the collapsed part
        assert titles[target] == row[2]  # the plot of the finding's metric


def test_rules_draw_thresholds_bands_and_finding_onsets(diverging: str) -> None:
    grad = _by_title(diverging)["grad_norm"]["layout"]
    lines = {s["y0"] for s in grad["shapes"] if s["type"] == "line" and s["yref"] == "y"}
    assert 100 in lines  # kto/grad-norm-high; 1000 is far above the data: an edge marker
    assert any("> 1000" in a["text"] for a in grad["annotations"])
    onsets = [s["x0"] for s in grad["shapes"] if s["type"] == "line" and s["yref"] == "paper"]
    assert 35 in onsets  # kto/grad-norm-high's onset (it fires at step 36)
    assert any("kto/grad-norm-high" in a["text"] for a in grad["annotations"])
    loss = _by_title(diverging)["loss"]["layout"]
    bands = [s for s in loss["shapes"] if s["type"] == "rect" and s["yref"] == "y"]
    assert {(b["y0"], b["y1"]) for b in bands} >= {(0.5, 0.6)}  # the Early stage target
    assert all(b["x1"] <= 40 for b in bands)  # cut at the run's last step
    margin = _by_title(diverging)["rewards/margins"]["layout"]
    # margin below -0.05 (under the ~0 band) only judged after step 20
    limit = [s for s in margin["shapes"] if s["yref"] == "y" and s["y0"] == s["y1"] == -0.05]
    assert limit and limit[0]["x0"] == 20


def test_remaining_metrics_sit_in_a_collapsed_section(diverging: str) -> None:
    outline = Outline(diverging)
    assert "other-metrics" in outline.ids
    hidden = [anchor for anchor, inside in outline.plots if inside]
    titles = [f["layout"]["title"]["text"] for f in figures(diverging)]
    hidden_titles = {titles[int(a.split("-")[1])] for a in hidden}
    assert "epoch" in hidden_titles and "loss" not in hidden_titles


def test_several_runs_share_axes_with_a_legend_per_run() -> None:
    text = page([SAMPLES / "kto_diverging", SAMPLES / "kto_healthy"])
    loss = _by_title(text)["loss"]
    names = [t["name"] for t in loss["data"]]
    assert any("kto_diverging" in n for n in names) and any("kto_healthy" in n for n in names)
    assert loss["layout"]["showlegend"] is True
    runs = [t for t in loss["data"] if "legendgroup" in t]  # not the onsets' hover markers
    # legend entries by short name (issue 18): the folder both runs share is left out
    assert {t["legendgroup"] for t in runs} == {"kto_diverging", "kto_healthy"}
    assert not any("sample_logs" in n for n in names)
    assert len({t["line"]["color"] for t in runs if "line" in t}) == 2
    assert len(figures(text)) == len(figures(page([SAMPLES / "kto_healthy"])))  # one per metric
    assert Outline(text).rows[0][0].endswith("kto_diverging")  # a run column


def test_resume_points_are_marked() -> None:
    text = page([SAMPLES / "verl_tensorboard"])
    layout = figures(text)[0]["layout"]
    assert any(s["x0"] == 41 and s["line"]["dash"] == "dot" for s in layout["shapes"])
    assert any(a["text"] == "resumed" and a["x"] == 41 for a in layout["annotations"])
    assert "resumed at step 41" in text


def test_e_steps_and_m_steps_are_distinguishable(tmp_path: Path) -> None:
    rows = [
        {
            "step": s,
            "rollout/buffer_reuse": 0 if s % 4 == 1 else 1,
            "rollout/parse_truncated_rate": 0.01 * s,
        }
        for s in range(1, 41)
    ]
    text = page([write_jsonl(tmp_path / "coord" / "metrics.jsonl", rows)])
    plot = _by_title(text)["rollout/parse_truncated_rate"]
    kinds = {t["name"].rsplit(" · ", 1)[-1]: t for t in plot["data"]}
    assert kinds["E-step"]["x"] == list(range(1, 41, 4))
    assert kinds["M-step"]["marker"]["symbol"] == "circle-open"
    assert len(kinds["M-step"]["x"]) == 30
    assert "rollout/buffer_reuse" not in _by_title(text)  # the filter key is not a plot


def test_non_finite_points_are_marked() -> None:
    text = page([SAMPLES / "sft_nan_truncated"])
    marked = [t for f in figures(text) for t in f["data"] if t["name"].endswith("non-finite")]
    assert marked and {"NaN"} <= {v for t in marked for v in t["text"]}


def test_minmax_keeps_spikes_and_order() -> None:
    rng = np.random.default_rng(1)
    steps = np.arange(200_000)
    values = rng.normal(size=steps.size)
    values[123_457] = 900.0
    values[7] = -900.0
    values[50_000] = np.nan
    x, y = minmax(steps, values, 2000)
    assert len(x) <= 2000 and np.all(np.diff(x) > 0)
    assert 900.0 in y and -900.0 in y and np.isfinite(y).all()
    assert dict(zip(x.tolist(), y.tolist(), strict=True))[123_457] == 900.0
    short_x, _ = minmax(steps[:50], values[:50], 2000)
    assert short_x.tolist() == list(range(50))  # under budget: every point


def test_minmax_line_reaches_the_last_step_of_a_flat_tail() -> None:
    steps = np.arange(10_000)
    flat_x, _ = minmax(steps, np.ones(10_000), 100)
    stepped_x, _ = minmax(steps, np.repeat([3.0, 2.0, 1.0], [4000, 4000, 2000]), 100)
    assert flat_x[-1] == stepped_x[-1] == 9_999 and len(flat_x) <= 100


def test_large_runs_are_downsampled_for_display_only(tmp_path: Path) -> None:
    steps = 20_000
    grad = np.ones(steps)
    grad[12_345] = 5_000.0
    rows = [{"step": s + 1, "grad_norm": float(g)} for s, g in enumerate(grad)]
    folder = tmp_path / "big"
    write_jsonl(folder / "metrics.jsonl", rows)
    text = page([folder], budget=500)
    trace = _by_title(text)["grad_norm"]["data"][0]
    assert len(trace["x"]) <= 500
    assert 5000.0 in trace["y"] and 12_346 in trace["x"]


def test_text_from_logs_is_escaped(tmp_path: Path) -> None:
    rules = tmp_path / "hostile.yaml"
    rules.write_text(HOSTILE_PACK)
    text = page([hostile_run(tmp_path / "run")], [rules])
    body = without_plotly(text)
    for payload in (XSS, SCRIPT_BREAK, "<script>alert(3)", "<a href=javascript", "<svg onload"):
        assert payload not in body
    assert body.count("</script>") == 2  # the data block and the drawing script, nothing else
    outline = Outline(text)
    assert "img" not in outline.tags and "b" not in outline.tags
    (row,) = outline.rows
    assert row[2] == XSS and "<script>alert(3)</script>" in row[5]  # shown as text
    titles = _by_title(text)
    assert "&lt;img src=x onerror=alert(1)&gt;" in titles  # plotly shows entities as text
    assert "&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in titles
    assert "Hostile &lt;b&gt;pack&lt;/b&gt; title" in body


def test_content_security_policy_allows_only_the_pages_own_scripts(diverging: str) -> None:
    head = diverging.split("</head>")[0]
    policy = head.split('Content-Security-Policy" content="')[1].split('"')[0]
    assert "default-src 'none'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert policy.count("'sha256-") == 2


def test_cli_report_and_check_html(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "r.html"
    result = cli(["report", SAMPLES / "kto_diverging", SAMPLES / "kto_healthy", "-o", out])
    assert out.exists() and len(Outline(out.read_text()).rows) == 9
    assert "wrote" in result.stderr
    checked = tmp_path / "c.html"
    cli(["check", SAMPLES / "kto_diverging", "-qq", "--html", checked], exit_code=1)
    assert "<td class='status fail'>fail</td>" in checked.read_text()
    assert "logscope report" in cli(["report", "--help"]).stdout
    assert "--html" in cli(["check", "--help"]).stdout
    only = tmp_path / "only.html"
    cli(["report", SAMPLES / "kto_diverging", "--select", "kto/kl-high", "-o", only])
    assert [row[1] for row in Outline(only.read_text()).rows] == ["kto/kl-high"]
    error = cli(["report", tmp_path / "missing", "-o", tmp_path / "x.html"], exit_code=2)
    assert "no such file" in error.stderr and not (tmp_path / "x.html").exists()


def test_figure_data_is_strict_json(diverging: str) -> None:
    raw = diverging.split('id="logscope-data">')[1].split("</script>")[0]
    json.loads(raw, parse_constant=lambda c: pytest.fail(f"bare {c} in figure JSON"))


def test_embedded_json_cannot_close_its_script_element() -> None:
    from logscope.report.html import _script_json

    hostile = {"title": "</script><!-- <script>alert(1)</script> & more"}
    raw = _script_json(hostile)
    assert "<" not in raw and ">" not in raw and "&" not in raw
    assert json.loads(raw) == hostile


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(names=st.lists(st.text(min_size=1, max_size=30), min_size=1, max_size=3, unique=True))
def test_any_metric_name_stays_text(tmp_path: Path, names: list[str]) -> None:
    folder = tmp_path / f"run{abs(hash(tuple(names)))}"
    keys = [n for n in names if n not in ("step", "wall_time")] or ["x"]
    write_jsonl(folder / "m.jsonl", [{"step": s, **{k: float(s) for k in keys}} for s in (1, 2)])
    text = page([folder])
    outline = Outline(text)
    assert set(outline.tags) <= ALLOWED_TAGS
    titles = set(_by_title(text))
    assert len(figures(text)) == len(keys)
    for key in keys:
        assert html.escape(safe(key), quote=False) in titles


def test_edge_case_runs_still_render(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    (empty).mkdir()
    (empty / "m.jsonl").write_text("")
    odd = write_jsonl(
        tmp_path / "odd" / "m.jsonl",
        [{"step": 1, "loss": float("nan"), "one": 1.0}, {"step": 2, "loss": float("nan")}],
    )
    text = page([empty / "m.jsonl", odd])
    assert "could not be read" in text or "no metric rows" in text
    loss = _by_title(text)["loss"]["data"]
    marked = [t["text"] for t in loss if t["name"].endswith("non-finite")]
    assert loss[0]["x"] == [] and marked == [["NaN", "NaN"]]
    assert _by_title(text)["one"]["data"][0]["x"] == [1]
