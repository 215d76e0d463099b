"""A valid rule (pack `my`, rule my/loss-high, message on line 9 of a pack file that starts
`pack: my` / `rules:`) for tests that break one part of it and check the place named."""

GOOD_RULE = """\
  - id: my/loss-high
    severity: error
    metric: loss
    check: threshold
    op: ">"
    value: 3
    message: "{metric} is {value:.2f} at step {step}"
    advice: "lower the learning rate"
    source: "my notes"
"""
