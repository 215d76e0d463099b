"""Runs in object storage: `logscope check s3://bucket/runs/x/` (gs://, hf://, any fsspec URL).

Every reader works on local files (SQLite stores and TensorBoard's record framing need
random access, and the readers are tuned for mmap-able files), so a URL is staged: the
prefix is listed once (paginated LIST calls, not a request per folder), the files that can
hold logs are fetched concurrently, each in one GET, into a private temporary folder with
the same layout, and read there. Model weights, optimizer states and media are never
fetched; their folders are still created (empty), so a `checkpoint-500/` is still seen as a
checkpoint. Nothing is ever written to the store. Reports name the URL, not the temporary
folder. Credentials come from where the store's own SDK looks (for S3: the AWS_* variables,
~/.aws, instance roles; AWS_ENDPOINT_URL for S3-compatible servers).

fsspec and the store's driver (s3fs, gcsfs, huggingface_hub) are the `logscope[cloud]`
extra, imported only when a URL is given.
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from logscope.errors import InputError

if TYPE_CHECKING:
    from logscope.run import Run

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# weights, optimizer and RNG states, media: never logs, often gigabytes
_NOT_LOGS = frozenset(
    {
        ".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf", ".onnx", ".h5", ".msgpack",
        ".npy", ".npz", ".arrow", ".pkl", ".distcp", ".png", ".jpg", ".jpeg", ".gif", ".webp",
        ".mp4", ".wav", ".mp3", ".tar", ".zip",
    }
)  # fmt: skip


def is_url(path: str | Path) -> bool:
    """A URL of a remote store (`file://` is local and read as a path)."""
    text = str(path)
    return bool(_URL.match(text)) and not text.startswith("file://")


def may_hold_logs(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() not in _NOT_LOGS


@dataclasses.dataclass(frozen=True)
class Staged:
    """A remote prefix copied to `local`; `url` is what the user typed (no trailing /)."""

    url: str
    local: Path
    files: int
    bytes: int


def filesystem(url: str) -> tuple[Any, str]:
    try:
        import fsspec
    except ImportError as exc:
        raise InputError(
            f"{url}: reading object storage needs fsspec and the store's driver: "
            "pip install 'logscope[cloud]'"
        ) from exc
    try:
        # a fresh client each time: fsspec caches one per set of arguments, which would keep
        # the credentials and endpoint of an earlier call in a long-lived process
        return fsspec.core.url_to_fs(url, skip_instance_cache=True)  # type: ignore[no-any-return]
    except (ImportError, ValueError) as exc:
        raise InputError(f"{url}: {exc}") from exc


def explain(url: str, exc: BaseException) -> InputError:
    """One clear line for what stores raise: missing bucket, denied access, no network."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, FileNotFoundError):
        return InputError(f"{url}: no such bucket or prefix ({text})")
    if isinstance(exc, PermissionError) or "AccessDenied" in text or "InvalidAccessKey" in text:
        return InputError(
            f"{url}: access denied ({text}); check the credentials the store's SDK finds "
            "(for S3: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws)"
        )
    return InputError(f"{url}: cannot read the store ({type(exc).__name__}: {text})")


def _listing(fs: Any, root: str, url: str) -> dict[str, int]:
    """Every object under `root` with its size (one recursive listing)."""
    try:
        if fs.isfile(root):
            return {root: int(fs.size(root) or 0)}
        found = fs.find(root, detail=True)
    except Exception as exc:  # the drivers raise OSError subclasses and their own errors
        raise explain(url, exc) from exc
    return {name: int(info.get("size") or 0) for name, info in found.items()}


@contextmanager
def staged(url: str) -> Iterator[Staged]:
    """The prefix (or object) at `url`, copied to a temporary folder for the readers."""
    url = url.rstrip("/")
    fs, root = filesystem(url)
    root = root.rstrip("/")
    objects = _listing(fs, root, url)
    if not objects:
        raise InputError(f"{url}: no such bucket or prefix, or nothing under it")
    with tempfile.TemporaryDirectory(prefix="logscope-") as tmp:
        base = Path(tmp) / "staged"
        single = list(objects) == [root]
        local_of = {
            name: base / PurePosixPath(name).name
            if single
            else base / PurePosixPath(name).relative_to(root)
            for name in objects
        }
        wanted = [name for name in objects if may_hold_logs(name)]
        for name in objects:
            local_of[name].parent.mkdir(parents=True, exist_ok=True)
        try:
            if wanted:
                fs.get(wanted, [str(local_of[n]) for n in wanted])
        except Exception as exc:
            raise explain(url, exc) from exc
        size = sum(objects[n] for n in wanted)
        yield Staged(url, base / PurePosixPath(root).name if single else base, len(wanted), size)


def relabel(run: Run, staged: Staged) -> Run:
    """The run as the user named it: URL paths in its name, sources, problems and notes."""
    local = str(staged.local if staged.local.is_dir() else staged.local.parent)
    url = staged.url if staged.local.is_dir() else staged.url.rsplit("/", 1)[0]

    def fix(text: str) -> str:
        return text.replace(local, url)

    run.path = fix(run.path)
    run.sources = [
        dataclasses.replace(
            s,
            path=fix(s.path),
            problems=tuple(dataclasses.replace(p, path=fix(p.path)) for p in s.problems),
            notes=tuple(fix(n) for n in s.notes),
        )
        for s in run.sources
    ]
    run.notes = [fix(n) for n in run.notes]
    if run.origins is not None:
        import polars as pl

        run.origins = run.origins.with_columns(
            pl.col("source").str.replace(local, url, literal=True)
        )
    return run
