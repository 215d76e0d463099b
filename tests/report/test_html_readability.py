"""What a reader of the HTML report notices (issue 18): axes fitted to the data with far
thresholds as edge markers, log scale for heavy tails, smoothing data, onset labels that do
not overlap, short run names, problems apart from notes, stage bands only where they apply,
and a 10^6-step run that stays small."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from html_support import figures, hostile_run, opened, page, without_plotly, write_jsonl

from logscope.report import axes, labels
from logscope.report.downsample import bucket_means, minmax, spread

ROOT = Path(__file__).resolve().parent.parent.parent
SAMPLES = ROOT / "sample_logs"


@pytest.fixture(scope="module")
def diverging() -> str:
    return page([SAMPLES / "kto_diverging"])


def _plots(text: str) -> dict[str, dict]:  # type: ignore[type-arg]
    return {f["layout"]["title"]["text"]: f for f in figures(text)}


def _marker(layout: dict, edge: str) -> str | None:  # type: ignore[type-arg]
    found = [a["text"] for a in layout["annotations"] if a.get("name") == f"edge-{edge}"]
    return found[0] if found else None


def _section(text: str, anchor: str) -> str:
    """The HTML from the heading with id `anchor` up to the next heading."""
    start = text.index(f"<h2 id={anchor}>")
    end = text.find("<h2", start + 1)
    return text[start : end if end > 0 else None]


def test_a_far_threshold_is_an_edge_marker_not_a_stretched_axis(diverging: str) -> None:
    grad = _plots(diverging)["grad_norm"]["layout"]  # data 8-180, thresholds 100 and 1000
    low, high = grad["yaxis"]["range"]
    assert -20 < low < 8 and 180 < high < 250
    lines = [s["y0"] for s in grad["shapes"] if s["type"] == "line" and s["yref"] == "y"]
    assert 100 in lines and 1000 not in lines  # the near one drawn, the far one not
    top = _marker(grad, "above")
    assert top is not None and "1000" in top and top.endswith("↑")
    margins = _plots(diverging)["rewards/margins"]["layout"]  # data -0.65...0, limit 5
    assert margins["yaxis"]["range"][1] < 1
    assert "> 5 ↑" in (_marker(margins, "above") or "")
    loss = _plots(diverging)["loss"]["layout"]  # data 0.64-0.97, kto/loss-drops-too-fast
    assert loss["yaxis"]["range"][0] > 0.4
    assert "0.1 ↓" in (_marker(loss, "below") or "")


def test_a_guide_just_past_the_data_widens_the_axis() -> None:
    near = axes.Guide(200, 200, "> 200", {})
    far = axes.Guide(1000, 1000, "> 1000", {})
    fitted = axes.fit(8, 180, [near, far], log=False)
    assert fitted.range is not None and fitted.range[1] > 200 > 180
    assert fitted.above == ["> 1000"] and fitted.drawn == [{}]
    flat = axes.fit(0, 0, [axes.Guide(0.001, 0.001, "< 0.001", {})], log=False)
    assert flat.range is not None and flat.range[0] < 0 < 0.001 < flat.range[1]


def test_heavy_tails_open_on_a_log_axis_and_signed_data_offers_none(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    grad = np.exp(rng.normal(0.5, 0.4, 300))
    grad[[150, 151]] = [4000.0, 2500.0]  # four decades: heavy-tailed
    rows = [
        {"step": s + 1, "grad_norm": float(g), "rewards/margins": 0.01 * s - 1}
        for s, g in enumerate(grad)
    ]
    text = page([write_jsonl(tmp_path / "run" / "metrics.jsonl", rows)])
    raw = {f["layout"]["title"]["text"]: f for f in _raw_figures(text)}
    grad_fig = raw["grad_norm"]
    assert grad_fig["scale"] == "log" and set(grad_fig["scales"]) == {"linear", "log"}
    low, high = grad_fig["scales"]["log"]["yaxis"]["range"]  # log10 units
    assert low <= math.log10(grad.min()) and high >= math.log10(4000.0)
    assert high < math.log10(4000.0) + 1  # fitted, not stretched to a far guide
    assert grad_fig["scales"]["log"]["yaxis"]["type"] == "log"
    assert opened(grad_fig)["layout"]["yaxis"]["type"] == "log"
    margins = raw["rewards/margins"]
    assert margins["scale"] == "linear" and "log" not in margins["scales"]
    index = list(raw).index("grad_norm")
    assert f"data-index={index} checked> log scale" in text  # the toggle, on
    assert text.count("class=logscale") == 1  # none for the signed metric


def test_onset_labels_of_nearby_findings_sit_apart(diverging: str) -> None:
    grad = _plots(diverging)["grad_norm"]["layout"]  # onsets at steps 28 and 35
    onsets = [a for a in grad["annotations"] if str(a.get("name", "")).startswith("onset")]
    assert len(onsets) == 2 and onsets[0]["yshift"] != onsets[1]["yshift"]
    assert grad["margin"]["t"] >= 34 + 2 * labels.ROW  # the rows have room above the plot


def test_stacked_labels_never_overlap_and_the_rest_go_to_hover() -> None:
    onsets = [labels.Onset(500_000 + i, f"pack/rule-number-{i}", "#d62728") for i in range(9)]
    corner = labels.Onset(0, "> 1000 ↑", "#999")
    stacked = labels.stack(onsets, 0, 1_000_000, corner=corner)
    assert stacked.rows == labels.MAX_ROWS and stacked.hidden == 9 - labels.MAX_ROWS
    taken: dict[int, list[tuple[float, float]]] = {}
    for note in stacked.annotations:
        if note["name"] == "edge-above":
            continue
        row = note["yshift"] // labels.ROW
        at = (note["x"]) / 1_000_000 * labels.WIDTH
        wide = len(note["text"]) * labels.CHAR
        span = (at, at + wide) if note["xanchor"] == "left" else (at - wide, at)
        for other in taken.get(row, []):
            assert span[1] <= other[0] or span[0] >= other[1], (span, other)
        taken.setdefault(row, []).append(span)
    assert len(taken) == labels.MAX_ROWS  # one label per row: they all start at one place


def test_every_onset_has_a_hover_marker(diverging: str) -> None:
    grad = _plots(diverging)["grad_norm"]
    (markers,) = [t for t in grad["data"] if t["name"] == "finding onsets"]
    assert markers["x"] == [28, 35] and markers["yaxis"] == "y2"
    assert "kto/grad-norm-high (warning)" in markers["hovertext"][1]


def test_runs_are_named_short_with_the_full_path_on_hover() -> None:
    text = page([SAMPLES / "kto_diverging", SAMPLES / "kto_healthy"])
    cells = re.findall(r"<td class=run title='([^']*)'>([^<]*)</td>", _section(text, "runs"))
    assert [shown for _, shown in cells] == ["kto_diverging", "kto_healthy"]
    assert cells[0][0] == str(SAMPLES / "kto_diverging")
    assert ".run{" in text and "white-space:nowrap" in text.split(".run{")[1].split("}")[0]


def test_tracker_runs_are_named_by_their_run_name(tmp_path: Path) -> None:
    export = page([SAMPLES / "trl_grpo_wandb_export"])
    shown = re.findall(r"<td class=run title='([^']*)'>([^<]*)</td>", _section(export, "runs"))
    assert [name for _, name in shown] == ["grpo-lr1e-6", "grpo-lr1e-5-collapsed"]
    assert all(".csv [grpo-" in title for title, _ in shown)  # the export's path on hover
    offline = page([SAMPLES / "verl_wandb"])
    assert re.search(r"<td class=run title='[^']*offline-run-[^']*'>qwen2.5-3b-grpo</td>", offline)
    for rid, name in (
        ("a1b2c3d4e5f60718293a4b5c6d7e8f90", "ppo-lr1e-6"),
        ("0f9e8d7c6b5a49382716051423324150", "ppo-lr5e-7"),
    ):
        run = tmp_path / "mlruns" / "0" / rid
        (run / "metrics").mkdir(parents=True)
        (run / "meta.yaml").write_text(
            f"run_id: {rid}\nrun_name: {name}\nexperiment_id: '0'\nstatus: 3\n"
            "lifecycle_stage: active\n"
        )
        (run / "metrics" / "loss").write_text(
            "".join(f"{9 + s} {1 / s} {s}\n" for s in range(1, 30))
        )
    (tmp_path / "mlruns" / "0" / "meta.yaml").write_text("experiment_id: '0'\nname: Default\n")
    mlflow = page([tmp_path / "mlruns"])
    found = re.findall(r"<td class=run title='([^']*)'>([^<]*)</td>", _section(mlflow, "runs"))
    assert sorted(name for _, name in found) == ["ppo-lr1e-6", "ppo-lr5e-7"]
    assert all("run id " in title and len(title.split("run id ")[1]) == 32 for title, _ in found)
    loss = _plots(mlflow)["loss"]
    assert {t["name"] for t in loss["data"] if t.get("showlegend", True)} == {
        "ppo-lr1e-6",
        "ppo-lr5e-7",
    }


def test_runs_with_one_tracker_name_stay_distinct(tmp_path: Path) -> None:
    from logscope.report.names import middle_cut, short_names
    from logscope.run import Run

    empty = pl.DataFrame({"step": [1]})
    runs = [
        Run(f"sweeps/{lr}/wandb/run-1", empty, meta={"wandb.name": "grpo"}) for lr in ("a", "b")
    ]
    assert [n.short for n in short_names(runs)] == ["grpo (a/wandb/run-1)", "grpo (b/wandb/run-1)"]
    one = short_names([Run("runs/kto-7b/logs/metrics.jsonl", empty)])
    assert one[0].short == "logs/metrics.jsonl"
    cut = middle_cut("a" * 30 + "-lr1e-6-seed3", 30)
    assert len(cut) == 30 and "…" in cut and cut.endswith("lr1e-6-seed3")


def test_notes_and_problems_are_separate_sections(tmp_path: Path) -> None:
    text = page([SAMPLES / "trl_grpo_wandb_export", hostile_run(tmp_path / "bad")])
    problems, notes = _section(text, "problems"), _section(text, "notes")
    assert "Ingest problems: lines or records that could not be read" in problems
    assert "Reader notes: expected or informational" in notes
    assert "metrics.jsonl:21:" in problems and "metrics.jsonl:21:" not in notes
    assert "__MIN/__MAX columns" in notes and "__MIN/__MAX" not in problems
    runs = _section(text, "runs")
    assert "<th>ingest problems</th><th>reader notes</th>" in runs


def test_every_section_title_says_what_it_holds(diverging: str) -> None:
    titles = [re.sub("<[^>]+>", "", t) for t in re.findall(r"<h2[^>]*>(.*?)</h2>", diverging)]
    assert titles[:5] == [
        "Verdict per run: stop, watch or healthy, and why",
        "Runs checked: steps, sources read and rule packs applied",
        "Ingest problems: lines or records that could not be read (0)",
        "Reader notes: expected or informational, no data lost (0)",
        "Findings: the rules that fired, most severe first (9)",
    ]
    assert titles[5] == "Plots: metrics the kto rules check (KTO preference training, 6 plots)"
    assert "Plots: other metrics (4), logged but checked by no rule" in diverging


def test_stage_bands_only_where_the_table_applies(tmp_path: Path) -> None:
    steps = 400  # the KTO table is for a 145-step run; applied up to 300 steps
    rows = [
        {"step": s, "loss": 0.7 - 0.0005 * s, "rewards/margins": 0.003 * s, "kl": 0.1}
        for s in range(1, steps + 1)
    ]
    text = page([write_jsonl(tmp_path / "long" / "metrics.jsonl", rows)])
    for metric in ("loss", "rewards/margins"):
        fig = _plots(text)[metric]
        bands = [s for s in fig["layout"]["shapes"] if s["type"] == "rect" and s["yref"] == "y"]
        assert bands == []  # not crammed at the start of the run
        assert any("stage targets not drawn" in c and "300" in c for c in fig["captions"])
    short = _plots(page([SAMPLES / "kto_healthy"]))["loss"]["layout"]  # 145 steps
    bands = [s for s in short["shapes"] if s["type"] == "rect" and s["yref"] == "y"]
    assert [(b["x0"], b["x1"]) for b in bands] == [(1, 10), (11, 50), (51, 100), (101, 145)]


def test_a_million_step_run_stays_small_and_keeps_what_matters() -> None:
    from logscope.pipeline import load_packs
    from logscope.report import Document, Layout, html
    from logscope.rules import engine
    from logscope.run import Run

    n = 1_000_000
    rng = np.random.default_rng(0)
    grad = np.exp(rng.normal(0.5, 0.3, n))
    grad[654_321] = 5e4
    grad[[100_000, 500_000, 900_000]] = np.nan
    loss = 0.7 - 0.2 * np.arange(n) / n + rng.normal(0, 0.01, n)
    frame = pl.DataFrame(
        {
            "step": np.arange(1, n + 1),
            "wall_time": np.full(n, np.nan),
            "grad_norm": grad,
            "loss": loss,
        }
    )
    run = Run("runs/long", frame)
    packs = load_packs([])
    report = engine.evaluate(run, engine.applicable(run, packs, set()))
    text = html.render(Document(reports=[report], fail_on=None, packs=packs), Layout())
    data = text.split('id="logscope-data">')[1].split("</script>")[0]
    assert len(data) < 400_000  # the figures: a few hundred KB, not 10^6 points each
    plot = {f["layout"]["title"]["text"]: f for f in _raw_figures(text)}["grad_norm"]
    line = plot["data"][0]
    assert len(line["x"]) <= 2000 + 10 and 50_000.0 in line["y"]  # the spike survives
    finding_steps = {f.onset or f.step for f in report.findings if f.metric == "grad_norm"}
    assert finding_steps and finding_steps <= set(line["x"]) | {100_001, 500_001, 900_001}
    (bad,) = [t for t in plot["data"] if t["name"].endswith("non-finite")]
    assert bad["x"] == [100_001, 500_001, 900_001] and bad["text"] == ["NaN"] * 3
    assert plot["scale"] == "log"  # 1 to 50,000
    smooth = plot["smooth"][0]
    assert sum(smooth["n"]) == n - 3 and len(smooth["x"]) <= 1001
    assert "http://" not in without_plotly(text) and "https://" not in without_plotly(text)


def test_downsampling_helpers() -> None:
    steps = np.arange(1, 10_001)
    values = np.sin(steps / 50.0)
    values[7] = np.nan
    x, _ = minmax(steps, values, 100, keep=np.array([4321, 8]))
    assert 4321 in x and 8 not in x  # a NaN step has no point on the line
    means = bucket_means(steps, values, 100)
    assert means is not None
    ends, mean, count = means
    assert count.sum() == 9999 and len(ends) <= 51 and ends[-1] == 10_000
    assert mean[0] == pytest.approx(np.nanmean(values[: count[0] + 1]))
    assert bucket_means(steps[:50], values[:50], 100) is None  # drawn whole: smooth that
    thinned = spread(np.arange(0, 100_000, 7), 100_000, 10)
    assert 5 <= len(thinned) <= 10 and thinned[0] == 0 and thinned[-1] > 80_000


def _raw_figures(text: str) -> list[dict]:  # type: ignore[type-arg]
    raw = text.split('id="logscope-data">')[1].split("</script>")[0]
    return list(json.loads(raw)["figures"])
