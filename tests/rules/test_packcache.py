"""The built-in packs' parsed-form cache: the same packs as parsing, rebuilt on any change,
never an error, only in the user's cache folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from logscope.errors import RulePackError
from logscope.rules import packcache
from logscope.rules.load import builtin_dir, load_builtin, load_files


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("LOGSCOPE_CACHE_DIR", str(folder))
    monkeypatch.delenv("LOGSCOPE_NO_CACHE", raising=False)
    return folder


@pytest.fixture
def packs(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "packs"
    shutil.copytree(builtin_dir(), folder)
    return sorted(p for p in folder.glob("*.yaml") if not p.name.endswith(".test.yaml"))


class Counting:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, files: list[Path]):  # type: ignore[no-untyped-def]
        self.calls += 1
        return load_files(files)


def test_cached_packs_equal_parsed_ones_and_skip_parsing(cache: Path) -> None:
    fresh = load_files(
        sorted(p for p in builtin_dir().glob("*.yaml") if not p.name.endswith(".test.yaml"))
    )
    assert load_builtin() == fresh  # parsed, then written
    assert len(list(cache.glob("packs-*.pickle"))) == 1
    assert load_builtin() == fresh  # read back


def test_an_edited_pack_is_parsed_again(cache: Path, packs: list[Path]) -> None:
    build = Counting()
    first = packcache.cached(packs, build)
    assert packcache.cached(packs, build) == first and build.calls == 1
    kto = next(p for p in packs if p.name == "kto.yaml")
    kto.write_text(kto.read_text().replace("title:", "title: Edited", 1))
    edited = packcache.cached(packs, build)
    assert build.calls == 2
    assert next(p for p in edited if p.name == "kto").title.startswith("Edited")


def test_a_corrupt_cache_file_is_rebuilt(cache: Path, packs: list[Path]) -> None:
    build = Counting()
    first = packcache.cached(packs, build)
    (cached_file,) = cache.glob("packs-*.pickle")
    cached_file.write_bytes(b"\x80\x05not a pickle")
    assert packcache.cached(packs, build) == first and build.calls == 2
    assert packcache.cached(packs, build) == first and build.calls == 2  # replaced


def test_a_broken_pack_is_an_error_every_time_and_never_cached(
    cache: Path, packs: list[Path]
) -> None:
    packs[0].write_text("pack: [unclosed\n")
    for _ in range(2):
        with pytest.raises(RulePackError, match="invalid YAML"):
            packcache.cached(packs, load_files)
    assert not list(cache.glob("packs-*.pickle"))


def test_no_cache_when_turned_off_or_unwritable(
    cache: Path, packs: list[Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    build = Counting()
    monkeypatch.setenv("LOGSCOPE_NO_CACHE", "1")
    packcache.cached(packs, build)
    packcache.cached(packs, build)
    assert build.calls == 2 and not cache.exists()
    monkeypatch.delenv("LOGSCOPE_NO_CACHE")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("LOGSCOPE_CACHE_DIR", str(blocker / "cache"))  # cannot be created
    assert packcache.cached(packs, build) == load_files(packs) and build.calls == 3


def test_old_cache_files_are_pruned(cache: Path, packs: list[Path]) -> None:
    cache.mkdir()
    for n in range(12):
        (cache / f"packs-old{n}.pickle").write_bytes(b"")
    packcache.cached(packs, load_files)
    assert len(list(cache.glob("packs-*.pickle"))) == 8
