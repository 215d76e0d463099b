"""The reference documents the rule packs cite, by title (what a report shows) and by file
(what `logscope rules show` and `explain` add, for those who have the documents at hand)."""

from __future__ import annotations

# title -> file name in the reference set (../shared/reference/ of the project)
DOCUMENTS = {
    "ms-swift / CoordExp Training Metrics and Losses": "000_64627264cbe37e46.txt",
    "MaxEnt-GRPO Training Loop Metrics Module": "001_8903fc6dcefcfd00.txt",
    "Trinity-RFT Monitor Metrics Reference": "002_38e1108f02fd6433.txt",
    "KTO Training Metrics Guide": "003_503a8f4e22c4be84.txt",
    "TinyZero (veRL) W&B Metrics Reference": "004_5ccb4a6a8315ee29.txt",
}


def cited_files(source: str) -> list[str]:
    """The reference files a `source` text cites by title, in the order they appear."""
    found = [(source.find(title), file) for title, file in DOCUMENTS.items() if title in source]
    return [file for _, file in sorted(found)]
