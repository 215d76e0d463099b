"""Text logs as bytes: compressed copies (`metrics.jsonl.gz`) read as they are, a UTF-8 byte
order mark dropped, and every read bounded so a damaged or hostile file cannot fill memory.

gzip, bzip2 and xz come with Python and are read here; zstd is not (its readers say to
decompress first).
"""

from __future__ import annotations

import bz2
import lzma
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, cast

Log = Callable[[int | None, str], None]

BOM = b"\xef\xbb\xbf"
# decompressed suffixes that name a text log inside: metrics.jsonl.gz is a JSONL log
SUFFIXES = (".gz", ".bz2", ".xz")
MAX_TEXT_BYTES = 4 << 30  # a whole-file read (CSV, console log) refuses more than this
_PIECE = 1 << 20
# what a damaged compressed stream raises while it is read
DAMAGED = (OSError, EOFError, zlib.error, lzma.LZMAError)
_MAGIC = ((b"\x1f\x8b", "gzip"), (b"BZh", "bzip2"), (b"\xfd7zXZ\x00", "xz"))


def compression(head: bytes) -> str | None:
    """'gzip', 'bzip2' or 'xz' when `head` starts like such a file."""
    return next((kind for magic, kind in _MAGIC if head.startswith(magic)), None)


def inner_name(path: Path) -> Path:
    """`metrics.jsonl.gz` -> `metrics.jsonl`: the name that says what the log holds. A
    logrotate copy's number goes too (`metrics.jsonl.1`, `train.log.2.gz`)."""
    inner = path.with_suffix("") if path.suffix in SUFFIXES else path
    return inner.with_suffix("") if is_rotated(inner) else inner


def is_rotated(path: Path) -> bool:
    """A name logrotate gives an older copy: the log's own name plus `.1`, `.2`, ..."""
    suffix = path.suffix
    return len(suffix) > 1 and suffix[1:].isdigit() and "." in path.stem


def open_text(path: Path) -> BinaryIO:
    """The file's bytes, decompressed when compressed, after any UTF-8 byte order mark.
    Raises OSError when it cannot be opened."""
    with path.open("rb") as raw:
        kind = compression(raw.read(6))
    handle = _open(path, kind)
    try:
        if handle.peek(len(BOM))[: len(BOM)] == BOM:  # type: ignore[attr-defined]
            handle.read(len(BOM))
    except DAMAGED as error:
        handle.close()
        raise OSError(f"damaged compressed file ({error})") from error
    return handle


def read_text_bytes(path: Path, limit: int | None = None, log: Log | None = None) -> bytes:
    """Up to `limit` bytes of the (decompressed) text. Compressed data damaged or cut short
    (a live gzip writer) yields the text before the damage, said through `log`.
    ValueError when a whole read would exceed MAX_TEXT_BYTES, OSError when the file cannot
    be opened."""
    cap = MAX_TEXT_BYTES if limit is None else limit
    with open_text(path) as handle:
        data, error = read_some(handle, cap + (1 if limit is None else 0))
    if error and log:
        log(None, f"compressed data damaged or cut short ({error}); the text before it was read")
    if limit is None and len(data) > cap:
        raise ValueError(f"more than {cap >> 30} GiB of text; split it or check a part of it")
    return data


def read_some(handle: BinaryIO, size: int) -> tuple[bytes, str | None]:
    """Up to `size` bytes, in pieces, so damage late in a compressed stream keeps what came
    before it; (bytes, why the stream broke off or None)."""
    pieces: list[bytes] = []
    left = size
    while left > 0:
        try:
            piece = handle.read1(min(left, _PIECE))  # type: ignore[attr-defined]
        except DAMAGED as error:
            return b"".join(pieces), str(error) or type(error).__name__
        if not piece:
            break
        pieces.append(piece)
        left -= len(piece)
    return b"".join(pieces), None


def _open(path: Path, kind: str | None) -> BinaryIO:
    """The file opened by path, so closing the handle closes the file too."""
    if kind == "gzip":
        import gzip  # here: most logs are not compressed (bz2 and lzma come with Polars)

        return cast(BinaryIO, gzip.open(path, "rb"))
    if kind == "bzip2":
        return cast(BinaryIO, bz2.open(path, "rb"))
    if kind == "xz":
        return cast(BinaryIO, lzma.open(path, "rb"))
    return path.open("rb")
