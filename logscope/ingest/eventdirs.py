"""Where a run's TensorBoard event files sit, and the tag prefix each folder gives its series.

Shared by discovery (which folders are one run) and the TensorBoard reader (which prefix each
file's tags get), so it sits below both.
"""

from __future__ import annotations

import re
from pathlib import Path

# sub-folders whose event files are one split of the run above them (Keras, Lightning, HF)
SPLITS = frozenset(
    {"train", "training", "eval", "evaluation", "validation", "val", "valid", "test"}
)
# torch / Hugging Face default log dir: runs/<%b%d_%H-%M-%S>_<hostname><comment>
_SESSION = re.compile(r"^[A-Za-z]{3}\d{2}_\d{2}-\d{2}-\d{2}_")


def event_prefixes(root: Path, files: list[Path]) -> dict[Path, str]:
    """The tag prefix of each event file of one run, so that series stay apart.

    A file's prefix is its folder relative to the run: `train/`, `validation/`, or the
    `loss_train/` folder torch's add_scalars writes per key. Not part of it: everything up
    to a torch/HF session folder (`runs/Nov22_10-00-00_host/`, so a resumed HF run's two
    session folders share their tags), and leading folders all files share (`tensorboard_log/
    project/experiment/`), unless they are split names (train, eval, validation, ...).
    """
    base = root if root.is_dir() else root.parent
    folders: dict[Path, tuple[str, ...]] = {}
    for file in files:
        parts = file.parent.relative_to(base).parts
        sessions = [i for i, part in enumerate(parts) if _SESSION.match(part)]
        folders[file] = parts[sessions[-1] + 1 :] if sessions else parts
    shared = 0
    first = next(iter(folders.values()), ())
    while (
        shared < len(first)
        and first[shared] not in SPLITS
        and all(len(p) > shared and p[shared] == first[shared] for p in folders.values())
    ):
        shared += 1
    return {file: "".join(f"{part}/" for part in parts[shared:]) for file, parts in folders.items()}
