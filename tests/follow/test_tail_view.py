"""The `tail --follow` live view as a terminal of 80×24 or 120 columns shows it: every finding
keeps its severity, its whole rule id and its step; the message is what wraps or is cut."""

from __future__ import annotations

import io
import re

import polars as pl
from rich.console import Console

from logscope.follow import announce
from logscope.follow.buffer import Window
from logscope.follow.view import SEVERITY_WIDTH, LiveView, Screen, Status
from logscope.model import Finding, Severity

LONG_RULES = [
    "kto/margin-negative-after-warmup-for-many-steps",
    "common/grad-norm-above-threshold-after-warmup",
    "grpo/reward-std-zero-within-every-group-of-prompts",
    "common/loss-nonfinite",
]
MESSAGE = (
    "reward margin -0.296 below 0 after warmup from step {step} (worst -0.653 at step 39): "
    "rejected answers are preferred over chosen ones; check the labels and the beta"
)


def finding(rule: str, severity: Severity, step: int, message: str = MESSAGE) -> Finding:
    return Finding(
        rule=rule,
        severity=severity,
        metric="rewards/margins",
        step=step,
        last_step=step + 5,
        value=-0.296,
        message=message.format(step=step),
        advice="lower the learning rate",
        source="test",
    )


def window(steps: int = 60) -> Window:
    frame = pl.DataFrame(
        {
            "step": list(range(1, steps + 1)),
            "wall_time": [1_700_000_000.0 + s for s in range(steps)],
            "loss": [1.0 / s for s in range(1, steps + 1)],
            "grad_norm": [float(s % 7) for s in range(steps)],
            "rewards/margins": [0.01 * s for s in range(steps)],
            "learning_rate": [1e-5] * steps,
            "kl": [0.001 * s for s in range(steps)],
            "rewards/chosen/with/a/very/long/metric/name/from/a/sweep": [0.5] * steps,
        }
    )
    shown = Window()
    shown.add(frame)
    return shown


PATH = "/scratch/team/llm/alignment/runs/2026-12-01/sweep-beta/kto-7b-lr1e-5-beta0.1-seed3/"
KEYS = [
    "loss",
    "grad_norm",
    "rewards/margins",
    "learning_rate",
    "kl",
    "rewards/chosen/with/a/very/long/metric/name/from/a/sweep",
]


def draw(findings: list[Finding], width: int, height: int = 24, tb: bool = False) -> list[str]:
    """The screen's lines as a terminal of that size shows them."""
    status = Status(PATH)
    status.state = "following"
    status.tensorboard = tb
    console = Console(
        width=width, height=height, file=io.StringIO(), record=True, color_system=None
    )
    console.print(Screen(window(), findings, KEYS, status))
    return console.export_text().rstrip("\n").split("\n")


def many() -> list[Finding]:
    """Twelve findings, errors first as the tracker orders them, long rule ids."""
    levels = [Severity.ERROR] * 4 + [Severity.WARNING] * 4 + [Severity.INFO] * 4
    return [
        finding(f"{LONG_RULES[i % len(LONG_RULES)]}-{i}", level, 10 * (i + 1))
        for i, level in enumerate(levels)
    ]


def entry(lines: list[str], f: Finding) -> str | None:
    """The line that starts a finding: severity, then the rule, then its step."""
    pattern = rf"^{f.severity}\s+{re.escape(f.rule)}\s+step {f.step}\b"
    return next((line for line in lines if re.match(pattern, line)), None)


def test_80x24_fits_and_keeps_severity_rule_and_step_of_every_finding_shown() -> None:
    found = many()
    lines = draw(found, 80)
    assert len(lines) <= 23  # one line left for the cursor: nothing scrolls away
    assert all(len(line) <= 80 for line in lines)
    shown = [f for f in found if entry(lines, f) is not None]
    errors = [f for f in found if f.severity is Severity.ERROR]
    assert all(f in shown for f in errors)  # the worst come first
    hidden = len(found) - len(shown)
    if hidden:  # the rest are counted, never silently dropped
        assert any(line.startswith(f"… and {hidden} more (") for line in lines)
    assert lines[-1].startswith("… and") or entry(lines, found[-1]) is not None
    # a cut message ends with an ellipsis; the rule id never does
    for f in shown:
        line = entry(lines, f)
        assert line is not None and f.rule + "…" not in line
    assert any(line.startswith("loss ") for line in lines)  # key metrics stay in sight
    assert lines[0].startswith("…") and lines[0].endswith("kto-7b-lr1e-5-beta0.1-seed3/  following")
    assert lines[1].startswith("step 60  rows 60  last record ")


def test_120_columns_show_every_rule_id_whole_and_more_of_each_message() -> None:
    found = many()[:6]
    lines = draw(found, 120)
    assert all(len(line) <= 120 for line in lines)
    for f in found:
        line = entry(lines, f)
        assert line is not None, f.rule
        assert "reward margin -0.296 below 0" in line  # the message starts on the same line
    assert "kto/…" not in "\n".join(lines)


def test_a_few_findings_get_their_whole_message_wrapped() -> None:
    found = [finding("kto/margin-negative-after-warmup", Severity.ERROR, 21)]
    lines = draw(found, 80)
    start = next(i for i, line in enumerate(lines) if line.startswith("error "))
    column = lines[start].index("reward margin")
    text = " ".join(line[column:].strip() for line in lines[start:] if line[:column].isspace())
    text = lines[start][column:].strip() + " " + text
    assert text.strip() == found[0].message  # wrapped, nothing cut
    assert "…" not in "\n".join(lines[start:])


def folded(lines: list[str], start: int) -> str:
    """The rule id of the finding whose first line is `start`, its folded pieces joined."""
    pieces = [lines[start][SEVERITY_WIDTH + 2 :].split()[0]]
    for line in lines[start + 1 :]:
        if not line.startswith(" " * (SEVERITY_WIDTH + 2)) or line[SEVERITY_WIDTH + 2] == " ":
            break
        pieces.append(line.split()[0])
    return "".join(pieces)


def test_a_rule_id_wider_than_the_terminal_is_folded_not_cut() -> None:
    rule = "custom/" + "reward-std-collapsed-within-group-" * 3 + "end"  # 112 characters
    lines = draw([finding(rule, Severity.WARNING, 7)], 80)
    start = next(i for i, line in enumerate(lines) if line.startswith("warning "))
    assert folded(lines, start) == rule
    assert lines[start].rstrip().endswith("step 7")  # the step is on the first line
    assert lines[start + 2].startswith(" " * 11 + "reward margin -0.296")  # then the message


def test_narrow_terminal_puts_the_message_below_the_rule() -> None:
    rule = "kto/margin-negative-after-warmup-for-many-steps-in-a-row"
    lines = draw([finding(rule, Severity.ERROR, 21)], 80)
    first = next(i for i, line in enumerate(lines) if line.startswith("error "))
    assert re.match(rf"error\s+{re.escape(rule)}\s+step 21\s*$", lines[first])
    assert lines[first + 1].startswith(" " * 11 + "reward margin -0.296 below 0")


def test_no_findings_and_the_tensorboard_note() -> None:
    lines = draw([], 80, tb=True)
    assert "no findings" in lines
    assert lines[-1].startswith("TensorBoard: torch's SummaryWriter flushes every 120 s")


def test_a_tiny_terminal_still_names_the_worst_finding() -> None:
    found = many()
    lines = draw(found, 60, height=12)
    assert len(lines) <= 11 and all(len(line) <= 60 for line in lines)
    start = next(i for i, line in enumerate(lines) if line.startswith("error "))
    assert lines[start].rstrip().endswith("step 10")
    assert folded(lines, start) == found[0].rule  # folded onto two lines at 60 columns
    assert any(line.startswith("… and 11 more (3 error, 4 warning, 4 info)") for line in lines)


def test_hostile_rule_ids_and_messages_are_shown_escaped() -> None:
    bad = finding("x/\x1b[2Jrule", Severity.ERROR, 3, message="line\nbreak \x1b[31m{step}")
    text = "\n".join(draw([bad], 80))
    assert "\x1b" not in text and "x/\\x1b[2Jrule" in text and "line\\nbreak" in text


def test_the_banner_keeps_a_long_rule_id_whole_at_80_columns() -> None:
    rule = "grpo/" + "reward-std-collapsed-within-group-" * 2 + "end"
    console = Console(width=80, file=io.StringIO(), record=True, color_system=None)
    console.print(announce.banner(finding(rule, Severity.ERROR, 5), console.width))
    text = console.export_text()
    folded = "".join(line.strip("│ ").strip() for line in text.splitlines()[1:3])
    assert folded.startswith(rule)
    short = finding("kto/kl-high", Severity.WARNING, 5)
    console.print(announce.banner(short, console.width))
    assert "WARNING  kto/kl-high" in console.export_text()


def test_the_live_view_draws_the_screen() -> None:
    """LiveView hands rich's Live a Screen: on a recorded 80-column terminal the finding
    line carries severity, rule and step."""
    console = Console(width=80, height=24, file=io.StringIO(), record=True, force_terminal=True)
    view = LiveView(100, console)
    tracker = announce.Tracker()
    tracker.update([finding("common/loss-nonfinite", Severity.ERROR, 12)])
    status = Status("run/")
    view.update(window(), tracker, KEYS, status, force=True)
    view.stop()
    text = console.export_text()
    assert re.search(r"error\s+common/loss-nonfinite\s+step 12\s+reward margin", text)


def test_one_long_rule_id_folds_and_the_others_keep_their_message_inline() -> None:
    """A team's own 72-character rule id beside the packs' short ones: it folds in the rule
    column, and every finding still has its message on its own line at 80 columns."""
    outlier = "team/grad-norm-above-one-hundred-after-warmup-for-two-logged-steps-in-a-row"
    found = [finding(r, Severity.ERROR, 5) for r in ("kto/kl-high", "common/loss-rising")]
    found.append(finding(outlier, Severity.ERROR, 35))
    lines = draw(found, 80)
    for f in found[:2]:
        assert re.match(
            rf"error\s+{re.escape(f.rule)}\s+step 5\s+reward margin", entry_line(lines, f)
        )
    start = next(i for i, line in enumerate(lines) if outlier[:20] in line)
    assert re.search(r"step 35\s+reward margin -0.296", lines[start])
    assert folded(lines, start) == outlier
    column = lines[start].index("reward margin")
    text = " ".join(line[column:].strip() for line in lines[start:])
    assert text.endswith("…") and found[2].message.startswith(text[:-1].rstrip())  # cut, in order


def entry_line(lines: list[str], f: Finding) -> str:
    line = entry(lines, f)
    assert line is not None, f.rule
    return line
